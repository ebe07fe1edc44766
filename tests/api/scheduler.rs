//! Scheduled jobs: each slot runs in exactly one replica, a slot missed
//! while down runs once at start, the cron actually fires, and retention
//! only prunes what is old and finished.

use crate::helpers::*;
use crate::on_both_databases;
use chrono::{Duration, TimeZone, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, Set, Statement};
use shipshape::config::Settings;
use shipshape::db::entities::repositories;
use shipshape::jobs::{periodic, queue};
use shipshape::scheduler::{Task, catch_up, claim};
use std::sync::Arc;

async fn setup(backend: Backend) -> (TestDb, DatabaseConnection) {
    let tdb = TestDb::new(backend).await;
    let db = tdb.connect().await;
    Migrator::up(&db, None).await.unwrap();
    (tdb, db)
}

/// A repository; names starting with "old" are archived.
async fn add_repo(db: &DatabaseConnection, name: &str) -> i32 {
    let id = add_repository(db, name, &format!("https://git.example.com/acme/{name}.git")).await;
    if name.starts_with("old") {
        let mut repo: repositories::ActiveModel =
            repositories::Entity::find_by_id(id).one(db).await.unwrap().unwrap().into();
        repo.archived = Set(true);
        repo.update(db).await.unwrap();
    }
    id
}

fn settings(cron: &str) -> Settings {
    Settings::build(None, &[], &NoEnv, |f| f.merge(("scheduler.scan_all", cron.to_string()))).unwrap()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row =
        db.query_one_raw(Statement::from_string(db.get_database_backend(), sql.to_string())).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

on_both_databases! {
    async fn a_slot_is_claimed_by_exactly_one_replica(backend) {
        let (_tdb, db) = setup(backend).await;
        let slot = Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap();
        let (a, b) = tokio::join!(claim(&db, "scan_all", slot, "replica-a"), claim(&db, "scan_all", slot, "replica-b"));
        assert_eq!([a.unwrap(), b.unwrap()].iter().filter(|won| **won).count(), 1);
        assert!(claim(&db, "scan_all", slot + Duration::days(1), "replica-b").await.unwrap(), "the next slot is free");
    }

    async fn replicas_firing_a_few_milliseconds_apart_claim_the_slot_once(backend) {
        let (_tdb, db) = setup(backend).await;
        let s = settings("0 0 3 * * *");
        let tick = Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap();
        let (a, b) = (tick + Duration::milliseconds(3), tick + Duration::milliseconds(740));
        let slot = |at| shipshape::scheduler::slot_at(&s.scheduler.scan_all, at).unwrap();
        assert_eq!(slot(a), tick);
        assert_eq!(slot(b), tick);
        assert!(claim(&db, "scan_all", slot(a), "replica-a").await.unwrap());
        assert!(!claim(&db, "scan_all", slot(b), "replica-b").await.unwrap(), "the same slot, already claimed");
    }

    async fn a_missed_slot_runs_once_at_start_not_once_per_missed_tick(backend) {
        let (_tdb, db) = setup(backend).await;
        add_repo(&db, "api").await;
        add_repo(&db, "web").await;
        add_repo(&db, "old-portal").await;
        let s = settings("0 0 3 * * *");
        let monday = Utc.with_ymd_and_hms(2026, 11, 16, 9, 0, 0).unwrap();
        // First start: the 03:00 slot of that day has not run: it runs now, for active repos only.
        assert_eq!(catch_up(&db, &s, "a", monday).await.unwrap(), vec![Task::ScanAll, Task::Retention, Task::Digest]);
        assert_eq!(queue::counts(&db).await.unwrap().queued, 2, "archived repositories are not scanned");
        // A restart the same day: nothing to catch up.
        assert!(catch_up(&db, &s, "a", monday + Duration::hours(2)).await.unwrap().is_empty());
        // Down for three nights: one catch-up run, not three.
        let thursday = monday + Duration::days(3);
        // The weekly digest's Monday slot ran already.
        assert_eq!(catch_up(&db, &s, "b", thursday).await.unwrap(), vec![Task::ScanAll, Task::Retention]);
        assert_eq!(count(&db, "SELECT COUNT(*) FROM schedule_runs WHERE job = 'scan_all'").await, 2);
        assert_eq!(queue::counts(&db).await.unwrap().queued, 2, "scans already queued are coalesced");
    }

    async fn retention_prunes_old_finished_jobs_and_deliveries_only(backend) {
        let (_tdb, db) = setup(backend).await;
        let repo = add_repo(&db, "api").await;
        let now = Utc::now();
        let old = shipshape::db::db_time(now - Duration::days(100));
        let recent = shipshape::db::db_time(now - Duration::days(5));
        for (status, at, kind) in [("succeeded", old, "retention"), ("failed", old, "discover"), ("succeeded", recent, "digest"), ("queued", old, "scan")] {
            let sql = sea_orm::sea_query::Query::insert()
                .into_table("jobs")
                .columns(["kind", "repository_id", "status", "priority", "attempts", "max_attempts", "run_after", "created_at", "updated_at"])
                .values_panic([kind.into(), (if kind == "scan" { Some(repo) } else { None }).into(), status.into(), 0.into(), 0.into(), 3.into(), at.into(), at.into(), at.into()])
                .to_owned();
            db.execute(&sql).await.unwrap();
        }
        let deleted = periodic::retention(&db, now, 90).await.unwrap();
        assert_eq!(deleted, 2, "the two old finished jobs");
        assert_eq!(count(&db, "SELECT COUNT(*) FROM jobs").await, 2, "recent and queued jobs stay");
    }
}

/// The real scheduler fires on its cron: a scan_all every second queues a scan.
#[tokio::test]
async fn the_cron_fires_and_queues_scans() {
    let (_tdb, db) = setup(Backend::Sqlite).await;
    add_repo(&db, "api").await;
    // Catch-up at start would queue the scan at once; skip it by claiming every recent slot first.
    let s = Arc::new(settings("*/1 * * * * *"));
    let now = Utc::now();
    for back in 0..3 {
        let slot = shipshape::scheduler::slot_at(&s.scheduler.scan_all, now + Duration::seconds(back)).unwrap();
        let _ = claim(&db, "scan_all", slot, "setup").await.unwrap();
    }
    let slot = shipshape::scheduler::slot_at(&s.scheduler.retention, now).unwrap();
    let _ = claim(&db, "retention", slot, "setup").await.unwrap();
    let scheduler = shipshape::scheduler::start(db.clone(), s, "test".into()).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while queue::counts(&db).await.unwrap().queued == 0 {
        assert!(std::time::Instant::now() < deadline, "the cron never fired");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    scheduler.shutdown().await;
    assert!(count(&db, "SELECT COUNT(*) FROM schedule_runs WHERE claimed_by = 'test'").await >= 1);
}

/// A scan_all every second whose run blocks on the repositories table (held
/// by `LOCK TABLE` in the returned transaction) once a slot is claimed; no
/// scan is queued when it returns.
async fn scheduler_stuck_in_a_claimed_slot(
    db: &DatabaseConnection,
    by: &str,
    grace_secs: u64,
) -> (shipshape::scheduler::Scheduler, sea_orm::DatabaseTransaction, Arc<Settings>) {
    use sea_orm::TransactionTrait;
    let s = Arc::new(
        Settings::build(None, &[], &NoEnv, |f| {
            f.merge(("scheduler.scan_all", "*/1 * * * * *")).merge(("server.shutdown_timeout_secs", grace_secs))
        })
        .unwrap(),
    );
    let scheduler = shipshape::scheduler::start(db.clone(), s.clone(), by.into()).await.unwrap();
    let claimed =
        |by: &str| format!("SELECT COUNT(*) FROM schedule_runs WHERE job = 'scan_all' AND claimed_by = '{by}'");
    let before = count(db, &claimed(by)).await;
    let blocker = db.begin().await.unwrap();
    blocker.execute_unprepared("LOCK TABLE repositories IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count(db, &claimed(by)).await == before {
        assert!(std::time::Instant::now() < deadline, "no slot claimed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Runs that read the table before the lock have queued their scan by now.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    db.execute_unprepared("DELETE FROM jobs").await.unwrap();
    (scheduler, blocker, s)
}

/// A slot claimed right before shutdown is not lost: a run that ends within
/// the grace period completes; one that does not is stopped and its claim
/// released, and another replica's scheduler then runs that slot.
#[tokio::test]
async fn a_slot_claimed_at_shutdown_is_completed_or_released_for_another_replica() {
    let (_tdb, db) = setup(Backend::Postgres).await;
    add_repo(&db, "api").await;
    let job_of = "SELECT COUNT(*) FROM jobs WHERE kind = 'scan' AND status = 'queued'";

    // Cut off: the run is still blocked when the 1 s grace ends.
    let (scheduler, blocker, s) = scheduler_stuck_in_a_claimed_slot(&db, "a", 1).await;
    let started = std::time::Instant::now();
    let released = scheduler.shutdown().await;
    let took = started.elapsed();
    blocker.rollback().await.unwrap();
    assert!(took < std::time::Duration::from_secs(5), "shutdown waited {took:?}, not the 1 s grace");
    assert!(!released.is_empty(), "the blocked run was cut off, so its slot must be released");
    for (task, slot) in &released {
        assert_eq!(*task, Task::ScanAll);
        let sql =
            format!("SELECT COUNT(*) FROM schedule_runs WHERE job = 'scan_all' AND slot = '{}'", slot.to_rfc3339());
        assert_eq!(count(&db, &sql).await, 0, "slot {slot} still claimed");
    }
    // Another replica takes the released slot over and runs it.
    let (_, slot) = released[0];
    assert_eq!(catch_up(&db, &s, "b", slot).await.unwrap(), vec![Task::ScanAll]);
    assert_eq!(count(&db, job_of).await, 1, "replica b ran the released slot");

    // Completed: the table is free again within the 10 s grace.
    let (scheduler, blocker, _) = scheduler_stuck_in_a_claimed_slot(&db, "c", 10).await;
    let stopping = tokio::spawn(scheduler.shutdown());
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!stopping.is_finished(), "shutdown must wait for the run in flight");
    blocker.rollback().await.unwrap();
    let released = stopping.await.unwrap();
    assert!(released.is_empty(), "nothing cut off: {released:?}");
    assert_eq!(count(&db, job_of).await, 1, "the run claimed before shutdown completed and queued its scan");
}
