//! The same migrations must give SQLite and Postgres the same schema, and
//! must roll back cleanly.

use crate::helpers::*;
use crate::on_both_databases;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::collections::BTreeSet;

const EXPECTED_TABLES: &[&str] = &[
    "api_tokens",
    "audit_log",
    "campaigns",
    "category_scores",
    "check_results",
    "digest_deliveries",
    "digest_recipients",
    "digest_runs",
    "discovery_runs",
    "finding_events",
    "findings",
    "github_pages",
    "jobs",
    "notification_deliveries",
    "repositories",
    "scan_reports",
    "scans",
    "schedule_runs",
    "suppressions",
    "teams",
    "users",
    "waivers",
    "webhook_deliveries",
];

/// (table, column, nullable) for every application table.
async fn columns(db: &DatabaseConnection, backend: Backend) -> BTreeSet<(String, String, bool)> {
    let sql = match backend {
        Backend::Postgres => "SELECT table_name AS t, column_name AS c, (is_nullable = 'YES') AS n \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'seaql_migrations'"
            .to_string(),
        Backend::Sqlite => "SELECT m.name AS t, p.name AS c, (p.\"notnull\" = 0 AND p.pk = 0) AS n \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'seaql_migrations'"
            .to_string(),
    };
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("introspect");
    rows.iter()
        .map(|r| {
            (
                r.try_get::<String>("", "t").unwrap(),
                r.try_get::<String>("", "c").unwrap(),
                r.try_get::<bool>("", "n").unwrap(),
            )
        })
        .collect()
}

/// Names of the indexes created by the migrations (not the automatic ones).
async fn indexes(db: &DatabaseConnection, backend: Backend) -> BTreeSet<String> {
    let sql = match backend {
        Backend::Postgres => {
            "SELECT indexname AS i FROM pg_indexes WHERE schemaname = 'public' \
             AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'"
        }
        Backend::Sqlite => "SELECT name AS i FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
    };
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("introspect");
    rows.iter().map(|r| r.try_get::<String>("", "i").unwrap()).collect()
}

#[tokio::test]
async fn sqlite_and_postgres_get_the_same_schema() {
    let lite = TestDb::new(Backend::Sqlite).await;
    let pg = TestDb::new(Backend::Postgres).await;
    let (lite_db, pg_db) = (lite.connect().await, pg.connect().await);
    Migrator::up(&lite_db, None).await.unwrap();
    Migrator::up(&pg_db, None).await.unwrap();
    let (a, b) = (columns(&lite_db, Backend::Sqlite).await, columns(&pg_db, Backend::Postgres).await);
    assert!(a.len() > 100, "expected the whole data model, got {} columns", a.len());
    let only_lite: Vec<_> = a.difference(&b).collect();
    let only_pg: Vec<_> = b.difference(&a).collect();
    assert!(only_lite.is_empty() && only_pg.is_empty(), "only in SQLite: {only_lite:?}\nonly in Postgres: {only_pg:?}");
    let tables: BTreeSet<&str> = a.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(tables.into_iter().collect::<Vec<_>>(), EXPECTED_TABLES);
    let (ia, ib) = (indexes(&lite_db, Backend::Sqlite).await, indexes(&pg_db, Backend::Postgres).await);
    assert_eq!(ia, ib);
    for needed in [
        "ix_scans_repository_time",
        "ix_findings_repository_state",
        "ix_finding_events_finding_time",
        "ux_findings_repository_fingerprint",
        "ux_jobs_one_queued_scan",
    ] {
        assert!(ia.contains(needed), "missing index {needed}");
    }
}

on_both_databases! {
    async fn down_migrations_remove_everything_and_up_restores_it(backend) {
        let tdb = TestDb::new(backend).await;
        let db = tdb.connect().await;
        Migrator::up(&db, None).await.unwrap();
        Migrator::down(&db, None).await.unwrap();
        assert!(columns(&db, backend).await.is_empty(), "tables left after down");
        Migrator::up(&db, None).await.unwrap();
        assert_eq!(Migrator::get_pending_migrations(&db).await.unwrap().len(), 0);
    }

    async fn the_database_rejects_invalid_states_and_a_second_queued_scan(backend) {
        let tdb = TestDb::new(backend).await;
        let db = tdb.connect().await;
        Migrator::up(&db, None).await.unwrap();
        let exec = |sql: &str| {
            let db = db.clone();
            let sql = sql.to_string();
            async move { db.execute_unprepared(&sql).await }
        };
        exec("INSERT INTO repositories (provider, owner, name, clone_url, default_branch, archived, enabled, created_at, updated_at) \
              VALUES ('git', 'acme', 'api', 'file:///x', 'main', false, true, '2026-11-22T00:00:00Z', '2026-11-22T00:00:00Z')").await.unwrap();
        let job = |status: &str| format!(
            "INSERT INTO jobs (kind, repository_id, status, priority, attempts, max_attempts, run_after, created_at, updated_at) \
             VALUES ('scan', 1, '{status}', 0, 0, 3, '2026-11-22T00:00:00Z', '2026-11-22T00:00:00Z', '2026-11-22T00:00:00Z')");
        exec(&job("queued")).await.unwrap();
        assert!(exec(&job("queued")).await.is_err(), "a second queued scan for one repository must be refused");
        exec(&job("running")).await.unwrap();
        assert!(exec(&job("running")).await.is_err(), "a second running scan must be refused");
        assert!(exec(&job("bogus")).await.is_err(), "an unknown status must be refused");
    }
}
