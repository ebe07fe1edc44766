//! The database goes away while a worker scans: the worker reports a clear
//! error instead of dying, nothing of the scan is half-written, and once the
//! database is back the job's lease runs out and it is scanned again.
//!
//! Postgres only: there the server can cut every connection of one database
//! and refuse new ones (`pg_terminate_backend`, `ALLOW_CONNECTIONS false`),
//! the way a failover or a restart looks to the application. The scan is
//! held mid-flight deterministically by a fake GitHub whose branch request
//! takes a second: checked out, waiting for the API, not yet recorded.

use crate::helpers::*;
use sea_orm::{ConnectionTrait, Database, EntityTrait, PaginatorTrait};
use shipshape::config::{GithubAuth, GithubSource, Secret};
use shipshape::db::entities::jobs::{self, JobStatus};
use shipshape::db::entities::{check_results, scans};
use shipshape::github::Github;
use shipshape::jobs::worker::{JobOutcome, WorkerConfig, run_once};
use shipshape_testkit::GitRepo;
use shipshape_testkit::fake_github::{FakeGithub, FakeRepo};
use std::time::Duration;

async fn set_outage(admin: &sea_orm::DatabaseConnection, name: &str, down: bool) {
    let allow = if down { "false" } else { "true" };
    admin.execute_unprepared(&format!("ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {allow}")).await.unwrap();
    if down {
        admin
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            ))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_database_going_away_mid_scan_loses_no_job_and_writes_nothing_half() {
    let test_db = TestDb::new(Backend::Postgres).await;
    let name = url::Url::parse(&test_db.url).unwrap().path().trim_start_matches('/').to_string();
    let admin_url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.to_string());
    let admin = Database::connect(&admin_url).await.unwrap();
    let db = test_db.connect().await;
    shipshape::db::migrate_up(&db).await.unwrap();

    let source = GitRepo::with_files(&[("README.md", "# svc\n")]);
    let fake = FakeGithub::start(100);
    fake.add_org("acme");
    fake.put_repo(FakeRepo { clone_url: Some(source.url()), ..FakeRepo::new(1, "acme", "svc") });
    let mut settings = test_settings(&test_db);
    settings.github.api_url = fake.url.parse().unwrap();
    settings.github.auth = GithubAuth::Token(Secret::from(uuid::Uuid::new_v4().to_string()));
    let org = GithubSource {
        org: Some("acme".into()),
        user: None,
        include: vec![],
        exclude: vec![],
        forks: false,
        archived: true,
        team: None,
    };
    let github = Github::new(&settings.github).unwrap();
    shipshape::github::discovery::discover(&db, &github, &org).await.unwrap();
    assert_eq!(jobs::Entity::find().count(&db).await.unwrap(), 1, "a first scan is queued");

    let lease = Duration::from_secs(2);
    let cfg = WorkerConfig { lease, github: Some(github), ..worker_config(&test_db.dir.path().join("cache"), 1000) };
    fake.delay_branches(Duration::from_secs(1));
    let worker = {
        let (db, cfg) = (db.clone(), cfg.clone());
        tokio::spawn(async move { run_once(&db, &cfg).await })
    };
    // Wait until the job is claimed, then pull the plug while GitHub answers slowly.
    let probe = test_db.connect().await;
    for _ in 0..200 {
        let job = jobs::Entity::find().one(&probe).await.unwrap().unwrap();
        if job.status == JobStatus::Running {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    probe.close().await.ok();
    set_outage(&admin, &name, true).await;
    let err = worker.await.unwrap().expect_err("the worker cannot report to a database that is gone");
    let shown = err.to_string();
    assert!(shown.contains("database") || shown.contains("connection"), "a clear error: {shown}");

    fake.delay_branches(Duration::ZERO);
    set_outage(&admin, &name, false).await;
    assert_eq!(scans::Entity::find().count(&db).await.unwrap(), 0, "no scan row from the interrupted attempt");
    assert_eq!(check_results::Entity::find().count(&db).await.unwrap(), 0, "no results either");
    let job = jobs::Entity::find().one(&db).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Running, "the job is still leased to the worker that lost the database");

    // The lease runs out; the job returns to the queue and is scanned.
    tokio::time::sleep(lease + Duration::from_millis(200)).await;
    let outcome = run_once(&db, &cfg).await.expect("the database is back");
    assert!(matches!(outcome, Some(JobOutcome::Scanned { .. })), "{outcome:?}");
    let job = jobs::Entity::find().one(&db).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Succeeded);
    let all = scans::Entity::find().all(&db).await.unwrap();
    assert_eq!(all.len(), 1, "exactly one scan recorded");
    assert!(check_results::Entity::find().count(&db).await.unwrap() > 0);
    admin.close().await.ok();
}
