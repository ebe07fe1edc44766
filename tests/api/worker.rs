//! The worker end to end on real git repositories: a queued scan is checked
//! out, analysed and recorded; a vanished remote and an oversized tree are
//! retried, then recorded as failed scans with their reason.

use crate::helpers::*;
use crate::on_both_databases;
use chrono::Utc;
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use shipshape::db::entities::repositories;
use shipshape::db::entities::scans::{self, ScanStatus};
use shipshape::jobs::queue::{self, FailOutcome};
use shipshape::jobs::scan_request::{ScanRequest, ScanTrigger};
use shipshape::jobs::worker::{JobOutcome, run_once};
use shipshape_testkit::{Commit, GitRepo};
use std::time::Duration;

async fn request(db: &DatabaseConnection, repo: i32) {
    let req = ScanRequest { trigger: ScanTrigger::Manual, commit_sha: None, requested_by: Some("test".into()) };
    queue::enqueue_scan(db, repo, &req, Utc::now()).await.unwrap();
}

/// Makes every backing-off job due now, instead of waiting minutes.
async fn fast_forward(db: &DatabaseConnection) {
    let past = Utc::now() - chrono::Duration::hours(1);
    db.execute(
        &Query::update().table("jobs").value("run_after", past).and_where(Expr::col("status").eq("queued")).to_owned(),
    )
    .await
    .unwrap();
}

/// The first scan recorded, waiting up to 30 s for the background worker.
async fn first_scan(db: &DatabaseConnection) -> scans::Model {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = scans::Entity::find().one(db).await.unwrap() {
            return s;
        }
        assert!(std::time::Instant::now() < deadline, "no scan recorded within 30 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn setup(backend: Backend) -> (TestDb, DatabaseConnection) {
    let tdb = TestDb::new(backend).await;
    let db = tdb.connect().await;
    Migrator::up(&db, None).await.unwrap();
    (tdb, db)
}

on_both_databases! {
    async fn a_queued_scan_is_checked_out_analysed_and_recorded(backend) {
        let (tdb, db) = setup(backend).await;
        let remote = GitRepo::with_files(&[("requirements.txt", "fastapi==0.115.0\n"), ("app/main.py", "from fastapi import FastAPI\napp = FastAPI(debug=True)\n")]);
        let repo = add_repository(&db, "api", &remote.url()).await;
        let cfg = worker_config(tdb.dir.path(), 1000);
        request(&db, repo).await;
        let first = run_once(&db, &cfg).await.unwrap().expect("a job ran");
        let JobOutcome::Scanned { commit, .. } = first else { panic!("{first:?}") };
        assert_eq!(commit, remote.head());
        assert!(run_once(&db, &cfg).await.unwrap().is_none(), "the queue is empty");

        remote.write("app/main.py", "from fastapi import FastAPI\napp = FastAPI()\n");
        let second_sha = remote.commit(Commit::new("debug off"));
        request(&db, repo).await;
        let second = run_once(&db, &cfg).await.unwrap().expect("a job ran");
        assert!(matches!(&second, JobOutcome::Scanned { commit, .. } if *commit == second_sha), "{second:?}");

        let rows = scans::Entity::find().filter(scans::Column::RepositoryId.eq(repo)).order_by_asc(scans::Column::Id).all(&db).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|s| s.status == ScanStatus::Succeeded && s.trigger == "manual"));
        assert_eq!(rows[1].commit_sha.as_deref(), Some(second_sha.as_str()));
        let counts = queue::counts(&db).await.unwrap();
        assert_eq!((counts.succeeded, counts.queued, counts.running), (2, 0, 0));
        let row = repositories::Entity::find_by_id(repo).one(&db).await.unwrap().unwrap();
        assert_eq!(row.last_scan_id, Some(rows[1].id));
    }

    async fn a_vanished_remote_is_retried_then_recorded_as_a_failed_scan(backend) {
        let (tdb, db) = setup(backend).await;
        let remote = GitRepo::with_files(&[("a.txt", "a\n")]);
        let repo = add_repository(&db, "api", &remote.url()).await;
        drop(remote);
        let cfg = worker_config(tdb.dir.path(), 1000);
        request(&db, repo).await;
        let mut outcomes = Vec::new();
        while let Some(out) = run_once(&db, &cfg).await.unwrap() {
            let JobOutcome::Failed { error, outcome } = out else { panic!("a vanished remote cannot scan") };
            assert!(error.contains("unreachable or no longer exists"), "{error}");
            outcomes.push(outcome);
            fast_forward(&db).await;
        }
        assert_eq!(outcomes.len(), 3, "three attempts: {outcomes:?}");
        assert_eq!(outcomes.last(), Some(&FailOutcome::Failed));
        let failed = scans::Entity::find().filter(scans::Column::RepositoryId.eq(repo)).all(&db).await.unwrap();
        assert_eq!(failed.len(), 1, "one failed scan row, not one per attempt");
        assert_eq!(failed[0].status, ScanStatus::Failed);
        assert!(failed[0].error.as_deref().unwrap().contains("no longer exists"));
        assert_eq!(queue::counts(&db).await.unwrap().failed, 1);
    }

    async fn an_over_limit_repository_fails_with_a_clear_error(backend) {
        let (tdb, db) = setup(backend).await;
        let remote = GitRepo::with_files(&[("a.txt", "a\n"), ("b.txt", "b\n"), ("c.txt", "c\n")]);
        let repo = add_repository(&db, "api", &remote.url()).await;
        let cfg = worker_config(tdb.dir.path(), 2);
        request(&db, repo).await;
        let out = run_once(&db, &cfg).await.unwrap().expect("a job ran");
        let JobOutcome::Failed { error, .. } = out else { panic!("{out:?}") };
        assert_eq!(error, format!("the repository has too many files: 3 at {} (limit 2)", remote.head()));
    }
}

/// `serve` runs the worker: a scan requested while the server runs is
/// picked up and recorded without anyone calling the worker by hand.
#[tokio::test]
async fn the_server_runs_queued_scans_in_the_background() {
    let tdb = TestDb::new(Backend::Sqlite).await;
    let url = tdb.url.clone();
    let data_dir = tdb.dir.path().join("data");
    let settings = shipshape::config::Settings::build(None, &[], &NoEnv, |f| {
        f.merge(("server.bind", "127.0.0.1:0"))
            .merge(("server.workers", 1))
            .merge(("database.url", url))
            .merge(("data_dir", data_dir.display().to_string()))
            .merge(("worker.idle_secs", 1))
            .merge(("scheduler.enabled", false))
    })
    .unwrap();
    let app = shipshape::startup::Application::build(settings).await.unwrap();
    let db = app.db.clone();
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let remote = GitRepo::with_files(&[("README.md", "# x\n")]);
    let repo = add_repository(&db, "api", &remote.url()).await;
    request(&db, repo).await;
    let scan = first_scan(&db).await;
    assert_eq!((scan.status, scan.commit_sha.as_deref()), (ScanStatus::Succeeded, Some(remote.head().as_str())));
    handle.stop(true).await;
    tokio::time::timeout(Duration::from_secs(10), server).await.expect("server and worker stop").unwrap().unwrap();
}

/// Repositories listed in the configuration are tracked at start and get a
/// first scan without anyone asking; a restart does not duplicate them.
#[tokio::test]
async fn configured_repositories_are_tracked_and_scanned_at_start() {
    let tdb = TestDb::new(Backend::Sqlite).await;
    let remote = GitRepo::new();
    remote.git(&["checkout", "-q", "-b", "trunk"]);
    remote.write("README.md", "# billing\n");
    remote.commit(Commit::new("first"));
    let build = || {
        let (url, data_dir, remote_url) = (tdb.url.clone(), tdb.dir.path().join("data"), remote.url());
        let file =
            format!("[[repositories]]\nurl = \"{remote_url}\"\nname = \"payments/billing\"\nteam = \"payments\"\n");
        shipshape::config::Settings::build(Some(("test.toml".into(), file)), &[], &NoEnv, |f| {
            f.merge(("server.bind", "127.0.0.1:0"))
                .merge(("server.workers", 1))
                .merge(("database.url", url))
                .merge(("data_dir", data_dir.display().to_string()))
                .merge(("worker.idle_secs", 1))
                .merge(("scheduler.enabled", false))
        })
        .unwrap()
    };
    let app = shipshape::startup::Application::build(build()).await.unwrap();
    let db = app.db.clone();
    let handle = app.handle();
    let server = tokio::spawn(app.run_until_stopped());
    let scan = first_scan(&db).await;
    assert_eq!(
        (scan.status, scan.commit_sha.as_deref()),
        (ScanStatus::Succeeded, Some(remote.head().as_str())),
        "{scan:?}"
    );
    handle.stop(true).await;
    server.await.unwrap().unwrap();

    let again = shipshape::startup::Application::build(build()).await.unwrap();
    let repos = repositories::Entity::find().all(&again.db).await.unwrap();
    assert_eq!(repos.len(), 1, "restart does not duplicate");
    assert_eq!((repos[0].owner.as_str(), repos[0].name.as_str()), ("payments", "billing"));
    assert!(repos[0].team_id.is_some(), "the team named in the config is created and assigned");
    assert_eq!(
        queue::counts(&again.db).await.unwrap().queued,
        0,
        "an already scanned repository is not queued again at start"
    );
}

/// The checkout cache's disk fills up (a 4 MiB tmpfs stands in for the
/// volume): the repository that does not fit fails with a clear reason and
/// leaves nothing behind, and the next repository still scans.
#[tokio::test]
async fn a_full_checkout_disk_fails_that_scan_clearly_and_others_go_on() {
    let (tdb, db) = setup(Backend::Postgres).await;
    let cache = tdb.dir.path().join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    let mount = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&cache)
        .output()
        .expect("run mount");
    assert!(mount.status.success(), "mounting a small tmpfs needs root: {}", String::from_utf8_lossy(&mount.stderr));
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(cache.clone());

    // 6 MiB that git cannot compress: more than the disk holds.
    let mut noise = vec![0u8; 6 * 1024 * 1024];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let big = GitRepo::new();
    big.write("assets/blob.bin", &noise);
    big.commit(Commit::new("a big asset"));
    let small = GitRepo::with_files(&[("README.md", "# small\n")]);
    let big_id = add_repository(&db, "big", &big.url()).await;
    let small_id = add_repository(&db, "small", &small.url()).await;
    let cfg = worker_config(&cache, 1000);

    request(&db, big_id).await;
    let out = run_once(&db, &cfg).await.unwrap().expect("a job ran");
    let JobOutcome::Failed { error, .. } = out else { panic!("{out:?}") };
    assert!(error.starts_with("the checkout cache is full"), "{error}");
    assert!(error.contains("No space left on device"), "the cause is kept: {error}");
    let left: Vec<_> = std::fs::read_dir(cache.join("checkouts")).map(|d| d.flatten().collect()).unwrap_or_default();
    assert!(left.is_empty(), "the partial clone is removed: {left:?}");

    request(&db, small_id).await;
    let out = run_once(&db, &cfg).await.unwrap().expect("a job ran");
    assert!(matches!(out, JobOutcome::Scanned { .. }), "the next repository still scans: {out:?}");
}

on_both_databases! {
    async fn a_repository_without_a_team_takes_the_one_codeowners_names(backend) {
        let app = spawn_app(backend).await;
        let owned = GitRepo::new();
        owned.write_all(&[
            ("app.py", "print('hi')\n"),
            (".github/CODEOWNERS", "# whole tree\n* @acme/platform @alice\n/docs/ @acme/writers\n"),
        ]);
        owned.commit(Commit::new("first"));
        let configured = GitRepo::new();
        configured.write_all(&[("app.py", "print('hi')\n"), ("CODEOWNERS", "* @acme/platform\n")]);
        configured.commit(Commit::new("first"));
        let a = add_repository(&app.db, "owned", &owned.url()).await;
        let b = add_repository(&app.db, "configured", &configured.url()).await;
        let payments = shipshape::sources::team_id(&app.db, "payments").await.unwrap();
        let mut row: repositories::ActiveModel = repositories::Entity::find_by_id(b).one(&app.db).await.unwrap().unwrap().into();
        row.team_id = sea_orm::Set(Some(payments));
        sea_orm::ActiveModelTrait::update(row, &app.db).await.unwrap();
        let cfg = worker_config(&app.test_db.dir.path().join("cache"), 1000);
        for repo in [a, b] {
            request(&app.db, repo).await;
            run_once(&app.db, &cfg).await.unwrap().expect("a scan ran");
        }
        let db = &app.db;
        let team_of = |id| async move {
            let team = repositories::Entity::find_by_id(id).one(db).await.unwrap().unwrap().team_id.unwrap();
            shipshape::db::entities::teams::Entity::find_by_id(team).one(db).await.unwrap().unwrap().slug
        };
        assert_eq!(team_of(a).await, "platform", "from the CODEOWNERS rule covering the whole tree");
        assert_eq!(team_of(b).await, "payments", "a configured team wins");
        let teams = app.get("/teams").await.text().await.unwrap();
        assert!(teams.contains("platform"), "the teams page rolls it up");
        app.stop().await;
    }
}
