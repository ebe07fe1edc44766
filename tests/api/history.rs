//! Finding history: a fixture repository walked through commits that
//! introduce, fix, reintroduce, move, suppress and unsuppress a problem,
//! scanned and recorded after each commit, on both databases.

use crate::helpers::*;
use crate::on_both_databases;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use shipshape::db::entities::finding_events::{self, EventKind};
use shipshape::db::entities::findings::{self, FindingState};
use shipshape::db::entities::scans;
use shipshape::store::{ScanMeta, record_success};
use shipshape_analysis::{Options, analyze};
use shipshape_testkit::{Commit, GitRepo};

pub(crate) const REQS: &str = "fastapi==0.115.0\nuvicorn==0.30.0\n";
pub(crate) const WILDCARD: &str = "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=[\"*\"])\n";
pub(crate) const FROM_ENV: &str = "import os\nfrom fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=os.environ[\"ORIGINS\"].split(\",\"))\n";

/// Commits, scans the work tree as of that commit and records the scan
/// (of the repository with id `repository_id`).
pub(crate) async fn commit_and_scan(
    db: &DatabaseConnection,
    repository_id: i32,
    repo: &GitRepo,
    message: &str,
    date: &str,
) -> shipshape::store::Recorded {
    let sha = repo.commit(Commit::new(message).at(date));
    let when = chrono::DateTime::parse_from_rfc3339(date).unwrap().with_timezone(&chrono::Utc);
    let report =
        analyze(repo.path(), &Options { today: when.date_naive(), github: None, ..Default::default() }).unwrap();
    let meta = ScanMeta {
        repository_id,
        commit_sha: Some(&sha),
        trigger: "demo",
        queued_at: when,
        started_at: when,
        finished_at: when,
        github_api_calls: None,
    };
    record_success(db, &meta, &report).await.expect("scan recorded")
}

async fn timeline(db: &DatabaseConnection, check: &str) -> Vec<(EventKind, Option<String>)> {
    let finding =
        findings::Entity::find().filter(findings::Column::CheckId.eq(check)).one(db).await.unwrap().expect("finding");
    finding_events::Entity::find()
        .filter(finding_events::Column::FindingId.eq(finding.id))
        .order_by_asc(finding_events::Column::Id)
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.path))
        .collect()
}

on_both_databases! {
    async fn a_findings_timeline_follows_introduce_fix_reintroduce_move_and_suppress(backend) {
        let tdb = TestDb::new(backend).await;
        let db = tdb.connect().await;
        Migrator::up(&db, None).await.unwrap();
        add_repository(&db, "api", "file:///acme/api").await;
        let repo = GitRepo::new();
        // .env.example documents ORIGINS, so reading it later opens no other finding.
        repo.write_all(&[("requirements.txt", REQS), ("app/main.py", WILDCARD), (".env.example", "ORIGINS=https://app.example.com\n")]);
        let first = commit_and_scan(&db, 1, &repo, "first version", "2026-06-01T10:00:00Z").await;
        assert!(first.opened >= 2, "cors-wildcard and tests-missing at least: {first:?}");

        repo.write("app/main.py", FROM_ENV);
        let fixed = commit_and_scan(&db, 1, &repo, "origins from env", "2026-07-01T10:00:00Z").await;
        assert_eq!((fixed.fixed, fixed.opened), (1, 0), "{fixed:?}");

        repo.write("app/main.py", WILDCARD);
        let back = commit_and_scan(&db, 1, &repo, "oops, wildcard again", "2026-08-01T10:00:00Z").await;
        assert_eq!((back.reopened, back.opened), (1, 0), "{back:?}");

        repo.rename("app/main.py", "app/server.py");
        let moved = commit_and_scan(&db, 1, &repo, "rename", "2026-09-01T10:00:00Z").await;
        // Every finding of the renamed file moves with it (wildcard CORS and the exposed API docs):
        // nothing is recorded as fixed and reopened elsewhere.
        assert_eq!((moved.moved, moved.opened, moved.fixed), (2, 0, 0), "{moved:?}");

        let quiet = commit_and_scan(&db, 1, &repo, "nothing changes", "2026-09-15T10:00:00Z").await;
        assert_eq!((quiet.opened, quiet.fixed, quiet.reopened, quiet.moved), (0, 0, 0, 0));

        let ignored = WILDCARD.replace("app.add_middleware(", "# shipshape: ignore[cors-wildcard] internal admin API\napp.add_middleware(");
        repo.write("app/server.py", &ignored);
        let suppressed = commit_and_scan(&db, 1, &repo, "accept the risk", "2026-10-01T10:00:00Z").await;
        assert_eq!(suppressed.suppressed, 1, "{suppressed:?}");
        repo.write("app/server.py", WILDCARD);
        let unsuppressed = commit_and_scan(&db, 1, &repo, "risk no longer accepted", "2026-11-01T10:00:00Z").await;
        assert_eq!(unsuppressed.unsuppressed, 1, "{unsuppressed:?}");

        let main = Some("app/main.py".to_string());
        let server = Some("app/server.py".to_string());
        assert_eq!(
            timeline(&db, "cors-wildcard").await,
            vec![
                (EventKind::Opened, main.clone()),
                (EventKind::Fixed, main.clone()),
                (EventKind::Reopened, main),
                (EventKind::Moved, server.clone()),
                (EventKind::Suppressed, server.clone()),
                (EventKind::Unsuppressed, server),
            ]
        );
        // A problem that never changes has one event however many scans saw it.
        assert_eq!(timeline(&db, "tests-missing").await, vec![(EventKind::Opened, None)]);
        let cors = findings::Entity::find().filter(findings::Column::CheckId.eq("cors-wildcard")).one(&db).await.unwrap().unwrap();
        assert_eq!((cors.state, cors.path.as_deref()), (FindingState::Open, Some("app/server.py")));
        assert_eq!(scans::Entity::find().count(&db).await.unwrap(), 7);
        let events = finding_events::Entity::find().count(&db).await.unwrap();
        let findings_count = findings::Entity::find().count(&db).await.unwrap();
        assert!(events < findings_count + 10, "history grows with changes, not scans: {events} events for {findings_count} findings over 7 scans");
        let repo_row = db
            .query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), "SELECT last_scan_id, level FROM repositories WHERE id = 1"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(repo_row.try_get::<i32>("", "last_scan_id").unwrap(), unsuppressed.scan_id);
        assert_eq!(repo_row.try_get::<String>("", "level").unwrap(), "not-ready");
    }

    async fn a_scan_is_recorded_whole_or_not_at_all(backend) {
        let tdb = TestDb::new(backend).await;
        let db = tdb.connect().await;
        Migrator::up(&db, None).await.unwrap();
        add_repository(&db, "api", "file:///acme/api").await;
        let repo = GitRepo::with_files(&[("requirements.txt", REQS), ("app/main.py", WILDCARD)]);
        let report = analyze(repo.path(), &Options::default()).unwrap();
        // Sabotage the last write of the transaction: the events table is gone.
        db.execute_unprepared("DROP TABLE finding_events").await.unwrap();
        let now = chrono::Utc::now();
        let meta = ScanMeta { repository_id: 1, commit_sha: None, trigger: "manual", queued_at: now, started_at: now, finished_at: now, github_api_calls: None };
        let err = record_success(&db, &meta, &report).await.unwrap_err();
        assert!(err.to_string().contains("database error"), "{err}");
        assert_eq!(scans::Entity::find().count(&db).await.unwrap(), 0, "no scan row left behind");
        assert_eq!(findings::Entity::find().count(&db).await.unwrap(), 0, "no finding left behind");
    }
}
