//! The job queue on real databases: concurrent workers, leases, retries
//! with back-off, coalescing, and one running scan per repository. Time is
//! passed in, never slept through.

use crate::helpers::*;
use crate::on_both_databases;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use migration::{Migrator, MigratorTrait};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use shipshape::db::entities::jobs::{self, JobKind, JobStatus};
use shipshape::jobs::queue::{self, ClaimedJob, FailOutcome, QueueCounts, QueueError};
use shipshape::jobs::scan_request::{ScanRequest, ScanTrigger};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const LEASE: Duration = Duration::from_secs(60);

/// Seconds after a fixed start; the queue's clock in these tests.
fn at(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0).unwrap() + TimeDelta::seconds(secs)
}

async fn migrated(backend: Backend) -> (TestDb, DatabaseConnection) {
    let tdb = TestDb::new(backend).await;
    let db = tdb.connect().await;
    Migrator::up(&db, None).await.expect("migrations apply");
    (tdb, db)
}

async fn repo(db: &DatabaseConnection, name: &str) -> i32 {
    add_repository(db, name, &format!("file:///srv/git/{name}.git")).await
}

fn push(sha: &str) -> ScanRequest {
    ScanRequest { trigger: ScanTrigger::Webhook, commit_sha: Some(sha.into()), requested_by: None }
}

async fn job(db: &DatabaseConnection, id: i32) -> jobs::Model {
    jobs::Entity::find_by_id(id).one(db).await.unwrap().expect("job exists")
}

/// (status, commit sha of the payload) of every scan job of a repository, by id.
async fn scans_of(db: &DatabaseConnection, repository_id: i32) -> Vec<(JobStatus, String)> {
    let rows = jobs::Entity::find()
        .filter(jobs::Column::RepositoryId.eq(repository_id))
        .order_by_asc(jobs::Column::Id)
        .all(db)
        .await
        .unwrap();
    rows.into_iter().map(|j| (j.status, j.payload.unwrap()["commit_sha"].as_str().unwrap().to_string())).collect()
}

async fn claim(db: &DatabaseConnection, worker: &str, now: DateTime<Utc>) -> Option<ClaimedJob> {
    queue::claim(db, worker, LEASE, now).await.expect("claim")
}

/// Claims and completes jobs until none is due, recording every claim.
async fn drain(db: DatabaseConnection, worker: &'static str, claims: Arc<Mutex<Vec<(i32, &'static str)>>>) {
    while let Some(job) = claim(&db, worker, at(0)).await {
        claims.lock().unwrap().push((job.id, worker));
        // A moment of "work" lets the other worker in between the claim and the result.
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        queue::complete(&db, &job, at(1)).await.expect("the lease holder completes");
    }
}

on_both_databases! {
    async fn two_workers_run_every_job_exactly_once(backend) {
        let (tdb, db) = migrated(backend).await;
        let mut expected = Vec::new();
        for i in 0..50 {
            let repo = repo(&db, &format!("svc-{i:02}")).await;
            expected.push(queue::enqueue_scan(&db, repo, &push("aaaa"), at(0)).await.unwrap().job_id);
        }
        for kind in [JobKind::Discover, JobKind::Digest, JobKind::Retention].repeat(4) {
            expected.push(queue::enqueue(&db, kind, None, at(0)).await.unwrap());
        }

        // Each worker has its own pool, as separate replicas would; their
        // statements are in flight at the same time on the database.
        let claims = Arc::new(Mutex::new(Vec::new()));
        // Both pools are connected before either worker starts, so one cannot
        // drain the queue while the other is still connecting.
        let (pool_a, pool_b) = (tdb.connect().await, tdb.connect().await);
        let a = tokio::spawn(drain(pool_a, "worker-a", claims.clone()));
        let b = tokio::spawn(drain(pool_b, "worker-b", claims.clone()));
        a.await.unwrap();
        b.await.unwrap();

        let claims = claims.lock().unwrap().clone();
        let mut seen: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
        for (id, worker) in &claims {
            seen.entry(*id).or_default().push(worker);
        }
        let twice: Vec<_> = seen.iter().filter(|(_, w)| w.len() > 1).collect();
        assert!(twice.is_empty(), "jobs claimed more than once: {twice:?}");
        expected.sort_unstable();
        assert_eq!(seen.keys().copied().collect::<Vec<_>>(), expected, "every job claimed, none lost");
        for worker in ["worker-a", "worker-b"] {
            assert!(claims.iter().any(|(_, w)| *w == worker), "{worker} claimed nothing: the test ran no race");
        }
        let counts = queue::counts(&db).await.unwrap();
        assert_eq!(counts, QueueCounts { succeeded: 62, ..QueueCounts::default() });
    }

    async fn an_expired_lease_is_reclaimed_and_the_late_complete_is_refused(backend) {
        let (_tdb, db) = migrated(backend).await;
        let repo = repo(&db, "api").await;
        let id = queue::enqueue_scan(&db, repo, &push("aaaa"), at(0)).await.unwrap().job_id;
        let first = claim(&db, "worker-a", at(0)).await.expect("due job");
        assert_eq!((first.id, first.attempt), (id, 1));

        // A renewed lease is not reclaimed.
        assert_eq!(queue::reclaim_expired(&db, at(59)).await.unwrap(), 0);
        assert_eq!(queue::renew(&db, &first, LEASE, at(50)).await.unwrap(), at(110));
        assert_eq!(queue::reclaim_expired(&db, at(100)).await.unwrap(), 0);
        assert!(claim(&db, "worker-b", at(100)).await.is_none(), "a leased job is not claimable");

        // worker-a goes silent; its lease runs out.
        assert_eq!(queue::reclaim_expired(&db, at(111)).await.unwrap(), 1);
        let row = job(&db, id).await;
        assert_eq!((row.status, row.locked_by), (JobStatus::Queued, None));
        assert_eq!(row.last_error.as_deref(), Some("lease expired on worker worker-a"));

        let second = claim(&db, "worker-b", at(112)).await.expect("the reclaimed job is claimable");
        assert_eq!((second.id, second.attempt, second.worker_id.as_str()), (id, 2, "worker-b"));
        let late = queue::complete(&db, &first, at(113)).await;
        assert!(matches!(late, Err(QueueError::LeaseLost { job_id, .. }) if job_id == id), "{late:?}");
        assert!(matches!(queue::renew(&db, &first, LEASE, at(113)).await, Err(QueueError::LeaseLost { .. })));
        assert!(matches!(queue::fail(&db, &first, "late", at(113)).await, Err(QueueError::LeaseLost { .. })));
        assert_eq!(job(&db, id).await.locked_by.as_deref(), Some("worker-b"), "the late worker changed nothing");

        queue::complete(&db, &second, at(114)).await.unwrap();
        let row = job(&db, id).await;
        assert_eq!((row.status, row.attempts, row.finished_at), (JobStatus::Succeeded, 2, Some(at(114))));
        assert!(matches!(queue::complete(&db, &second, at(115)).await, Err(QueueError::LeaseLost { .. })));
    }

    async fn the_same_worker_cannot_finish_a_new_attempt_with_an_old_lease(backend) {
        let (_tdb, db) = migrated(backend).await;
        let id = queue::enqueue(&db, JobKind::Discover, None, at(0)).await.unwrap();
        let old = claim(&db, "worker-a", at(0)).await.unwrap();
        assert_eq!(queue::reclaim_expired(&db, at(61)).await.unwrap(), 1);
        let new = claim(&db, "worker-a", at(62)).await.unwrap();
        assert_eq!((new.id, new.attempt), (id, 2));
        assert!(matches!(queue::complete(&db, &old, at(63)).await, Err(QueueError::LeaseLost { .. })));
        queue::complete(&db, &new, at(63)).await.unwrap();
    }

    async fn a_failing_job_backs_off_then_fails_with_its_error(backend) {
        let (_tdb, db) = migrated(backend).await;
        let repo = repo(&db, "api").await;
        let id = queue::enqueue_scan(&db, repo, &push("aaaa"), at(0)).await.unwrap().job_id;
        assert_eq!(job(&db, id).await.max_attempts, 3);

        let mut now = at(0);
        for attempt in 1..=2 {
            let running = claim(&db, "worker-a", now).await.expect("due job");
            assert_eq!(running.attempt, attempt);
            let outcome = queue::fail(&db, &running, &format!("clone failed #{attempt}"), now).await.unwrap();
            let delay = TimeDelta::from_std(queue::backoff(attempt)).unwrap();
            assert_eq!(delay, TimeDelta::seconds(30 << (attempt - 1)), "base * 2^(attempts-1)");
            assert_eq!(outcome, FailOutcome::Retrying { run_after: now + delay });
            let row = job(&db, id).await;
            assert_eq!((row.status, row.run_after), (JobStatus::Queued, now + delay));
            assert_eq!(row.last_error, Some(format!("clone failed #{attempt}")));
            assert!(claim(&db, "worker-b", now + delay - TimeDelta::seconds(1)).await.is_none(), "claimed while backing off");
            now += delay;
        }
        assert_eq!(queue::backoff(12), queue::RETRY_CAP, "the back-off is capped");
        let last = claim(&db, "worker-b", now).await.expect("due after the back-off");
        assert_eq!(last.attempt, 3);
        assert_eq!(queue::fail(&db, &last, "clone failed #3", now).await.unwrap(), FailOutcome::Failed);

        let row = job(&db, id).await;
        assert_eq!((row.status, row.attempts, row.finished_at), (JobStatus::Failed, 3, Some(now)));
        assert_eq!(row.last_error.as_deref(), Some("clone failed #3"));
        assert_eq!(row.locked_by, None);
        assert!(claim(&db, "worker-a", at(86_400)).await.is_none(), "a failed job is never claimed again");
        assert_eq!(queue::counts(&db).await.unwrap(), QueueCounts { failed: 1, ..QueueCounts::default() });
    }

    async fn an_expired_lease_on_the_last_attempt_fails_the_job(backend) {
        let (_tdb, db) = migrated(backend).await;
        let id = queue::enqueue(&db, JobKind::Discover, None, at(0)).await.unwrap();
        let mut now = at(0);
        for attempt in 1..=3 {
            let running = claim(&db, "worker-a", now).await.expect("due job");
            assert_eq!(running.attempt, attempt);
            now += TimeDelta::seconds(61);
            assert_eq!(queue::reclaim_expired(&db, now).await.unwrap(), 1);
        }
        let row = job(&db, id).await;
        assert_eq!((row.status, row.finished_at), (JobStatus::Failed, Some(now)));
        assert_eq!(row.last_error.as_deref(), Some("lease expired on worker worker-a"));
    }

    async fn repeated_scan_requests_coalesce_into_one_queued_job(backend) {
        let (tdb, db) = migrated(backend).await;
        let repo = repo(&db, "api").await;
        let mut ids = Vec::new();
        for i in 0..10 {
            let enqueued = queue::enqueue_scan(&db, repo, &push(&format!("sha-{i}")), at(i)).await.unwrap();
            assert_eq!(enqueued.coalesced, i > 0, "request {i}");
            ids.push(enqueued.job_id);
        }
        ids.dedup();
        assert_eq!(ids.len(), 1, "one job for ten requests");
        assert_eq!(scans_of(&db, repo).await, [(JobStatus::Queued, "sha-9".to_string())], "the newest request wins");

        // While a scan runs, a new request queues exactly one follow-up.
        let running = claim(&db, "worker-a", at(10)).await.unwrap();
        assert_eq!(running.scan_request().unwrap().unwrap().commit_sha.as_deref(), Some("sha-9"));
        let follow_up = queue::enqueue_scan(&db, repo, &push("sha-10"), at(11)).await.unwrap();
        assert!(!follow_up.coalesced);

        // Concurrent requests from two pools race on the partial unique index.
        let (p1, p2) = (tdb.connect().await, tdb.connect().await);
        let mut tasks = Vec::new();
        for i in 11..31 {
            let db = if i % 2 == 0 { p1.clone() } else { p2.clone() };
            tasks.push(tokio::spawn(async move {
                queue::enqueue_scan(&db, repo, &push(&format!("sha-{i}")), at(12)).await.unwrap()
            }));
        }
        for task in tasks {
            let enqueued = task.await.unwrap();
            assert_eq!(enqueued, queue::Enqueued { job_id: follow_up.job_id, coalesced: true });
        }
        let scans = scans_of(&db, repo).await;
        assert_eq!(scans.len(), 2, "one running and one queued: {scans:?}");
        assert_eq!(scans[0], (JobStatus::Running, "sha-9".to_string()));
        assert_eq!(scans[1].0, JobStatus::Queued);
        assert_eq!(queue::counts(&db).await.unwrap(), QueueCounts { queued: 1, running: 1, ..QueueCounts::default() });
    }

    async fn a_second_scan_of_a_repository_is_not_claimed_while_one_runs(backend) {
        let (_tdb, db) = migrated(backend).await;
        let (api, web) = (repo(&db, "api").await, repo(&db, "web").await);
        let manual = ScanRequest { trigger: ScanTrigger::Manual, commit_sha: None, requested_by: Some("lead".into()) };
        queue::enqueue_scan(&db, api, &manual, at(0)).await.unwrap();
        let first = claim(&db, "worker-a", at(0)).await.unwrap();
        assert_eq!(first.repository_id, Some(api));

        // The follow-up has the higher priority, yet only the other repository's scan is taken.
        let follow_up = queue::enqueue_scan(&db, api, &manual, at(1)).await.unwrap();
        let schedule = ScanRequest { trigger: ScanTrigger::Schedule, commit_sha: None, requested_by: None };
        queue::enqueue_scan(&db, web, &schedule, at(2)).await.unwrap();
        let other = claim(&db, "worker-b", at(3)).await.unwrap();
        assert_eq!(other.repository_id, Some(web));
        assert!(claim(&db, "worker-b", at(4)).await.is_none(), "a second running scan of api was claimed");

        queue::complete(&db, &first, at(5)).await.unwrap();
        let next = claim(&db, "worker-b", at(6)).await.expect("claimable once the first scan finished");
        assert_eq!((next.id, next.repository_id), (follow_up.job_id, Some(api)));
    }

    async fn an_abandoned_scan_yields_to_the_newer_queued_request(backend) {
        let (_tdb, db) = migrated(backend).await;
        let repo = repo(&db, "api").await;
        let old = queue::enqueue_scan(&db, repo, &push("old"), at(0)).await.unwrap().job_id;
        let running = claim(&db, "worker-a", at(0)).await.unwrap();
        let newer = queue::enqueue_scan(&db, repo, &push("new"), at(1)).await.unwrap().job_id;

        // Requeueing the old scan would make two queued scans; the newer one
        // covers it, so the old one ends, with its reason kept.
        assert_eq!(queue::fail(&db, &running, "checkout timed out", at(2)).await.unwrap(), FailOutcome::Superseded);
        assert_eq!(scans_of(&db, repo).await, [(JobStatus::Failed, "old".into()), (JobStatus::Queued, "new".into())]);
        assert_eq!(job(&db, old).await.last_error.as_deref(), Some("checkout timed out"));

        // The same holds when the worker dies instead of failing.
        let running = claim(&db, "worker-a", at(3)).await.unwrap();
        assert_eq!(running.id, newer);
        queue::enqueue_scan(&db, repo, &push("newest"), at(4)).await.unwrap();
        assert_eq!(queue::reclaim_expired(&db, at(64)).await.unwrap(), 1);
        let statuses: Vec<_> = scans_of(&db, repo).await.into_iter().map(|(s, _)| s).collect();
        assert_eq!(statuses, [JobStatus::Failed, JobStatus::Failed, JobStatus::Queued]);
        assert_eq!(claim(&db, "worker-b", at(65)).await.unwrap().scan_request().unwrap().unwrap().commit_sha.as_deref(), Some("newest"));
    }
}
