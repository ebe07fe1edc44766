//! `shipshape demo`: sample repositories with months of history, every
//! commit scanned and recorded, on both databases; running it again starts
//! over without duplicating anything.

use crate::helpers::*;
use crate::on_both_databases;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use std::process::Command;

fn demo(db: &TestDb) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_shipshape"))
        .current_dir(db.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .args(["demo", "--no-serve"])
        .output()
        .expect("run shipshape demo");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "demo failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    stdout
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// Event kinds of the findings of `check` in demo repository `repo`, oldest first.
async fn events(db: &DatabaseConnection, repo: &str, check: &str) -> Vec<String> {
    let sql = format!(
        "SELECT e.kind AS kind FROM finding_events e JOIN findings f ON f.id = e.finding_id \
         JOIN repositories r ON r.id = f.repository_id \
         WHERE r.name = '{repo}' AND f.check_id = '{check}' ORDER BY e.created_at, e.id"
    );
    let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
    rows.iter().map(|r| r.try_get::<String>("", "kind").unwrap()).collect()
}

on_both_databases! {
    async fn demo_builds_scans_and_records_months_of_history(backend) {
        let tdb = TestDb::new(backend).await;
        let out = demo(&tdb);
        for name in ["payments-api", "ml-inference", "shop-admin", "notify-worker", "inventory-api"] {
            assert!(out.contains(name), "{name} missing from the summary:\n{out}");
        }
        assert!(out.contains("5 repositories, 24 scans"), "{out}");
        let db = tdb.connect().await;
        assert_eq!(count(&db, "SELECT COUNT(*) FROM repositories WHERE owner = 'demo'").await, 5);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM scans WHERE status = 'succeeded'").await, 24);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM (SELECT DISTINCT repository_id, queued_at FROM scans) t").await, 24, "scans carry their commit dates");
        // The committed .env was caught, then fixed a week later.
        assert_eq!(events(&db, "payments-api", "env-file-committed").await, vec!["opened", "fixed"]);
        // DEBUG = True was fixed, then came back in the "quick debugging on production" commit.
        assert_eq!(events(&db, "shop-admin", "debug-enabled").await, vec!["opened", "fixed", "reopened"]);
        // Moving app.py into a package keeps the findings' history.
        let moved = count(&db, "SELECT COUNT(*) FROM finding_events e JOIN findings f ON f.id = e.finding_id \
                                JOIN repositories r ON r.id = f.repository_id WHERE r.name = 'notify-worker' AND e.kind = 'moved'").await;
        assert!(moved >= 1, "no moved event in notify-worker");

        // Again: the demo starts over instead of piling up.
        demo(&tdb);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM repositories WHERE owner = 'demo'").await, 5);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM scans").await, 24);
    }
}
