//! The job queue on the `jobs` table, shared by every replica.
//!
//! Promises, each kept by the database rather than by a single process:
//! a job is leased to one worker at a time, and a killed worker's lease
//! expires so another takes the job over (`reclaim_expired`); failures are
//! retried with capped exponential back-off up to `max_attempts`; a
//! repository has at most one queued and one running scan (the partial
//! unique indexes `ux_jobs_one_queued_scan` and `ux_jobs_one_running_scan`),
//! and a newer scan request for a repository that already has one queued is
//! coalesced into it.
//!
//! Every function takes `now` instead of reading the clock, so callers (and
//! tests) decide what time it is. Timestamps are compared in SQL; on SQLite
//! they are RFC 3339 text written by sqlx from UTC values truncated to
//! microseconds, a format whose byte order is its time order ('+' sorts
//! before '.' and the digits), so `<=` on the text is `<=` on instants.
//!
//! Lease holders are fenced by (`locked_by`, `attempts`): a worker that lost
//! its lease and later got the same job again cannot finish the new attempt
//! with the result of the old one.
//!
//! Depends on `crate::db` and the scan payload type only.

mod lease;

pub use lease::{FailOutcome, RETRY_BASE, RETRY_CAP, backoff, complete, fail, reclaim_expired, renew};

use crate::db::db_time;
use crate::db::entities::jobs::{self, JobKind, JobStatus};
use crate::jobs::scan_request::ScanRequest;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend, DbErr, EntityTrait, SqlErr, Statement,
    TransactionSession, TransactionTrait, Value,
};

use std::time::Duration;

/// Attempts given to a job unless its kind says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 3;
/// A digest waits out an SMTP outage: with the back-off doubling from 30 s
/// up to an hour, ten attempts span about three hours.
pub const DIGEST_MAX_ATTEMPTS: i32 = 10;
/// A write that loses a race on a unique index is tried again this often;
/// each retry sees the winner, so more than one or two means a bug.
const CONFLICT_RETRIES: u32 = 5;

/// Everything that can go wrong in a queue operation.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The database failed or is unreachable.
    #[error("job queue database error: {0}")]
    Db(#[from] DbErr),
    /// The job is no longer leased to this worker: the lease expired and was
    /// reclaimed, or the job was already completed or failed. The worker must
    /// drop the job without writing its result.
    #[error("job {job_id} is no longer leased to worker {worker_id}")]
    LeaseLost {
        /// The job.
        job_id: i32,
        /// The worker that tried to act on it.
        worker_id: String,
    },
    /// Scans need a repository and are coalesced: use `enqueue_scan`.
    #[error("scan jobs are enqueued with enqueue_scan")]
    ScanNeedsRepository,
    /// A duration too large to add to a timestamp.
    #[error("duration {0:?} is out of range")]
    DurationOutOfRange(Duration),
    /// A payload could not be (de)serialised.
    #[error("job payload is invalid: {0}")]
    Payload(#[from] serde_json::Error),
    /// A write kept colliding with concurrent writers on a unique index.
    #[error("job {what} kept conflicting with concurrent writers")]
    Contended {
        /// The operation that gave up.
        what: &'static str,
    },
}

/// The outcome of `enqueue_scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    /// The queued job that will carry out the request.
    pub job_id: i32,
    /// True when the request was folded into an already queued job.
    pub coalesced: bool,
}

/// A job leased to a worker by `claim`; the proof of the lease that
/// `renew`, `complete` and `fail` check.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    /// The job.
    pub id: i32,
    /// What to do.
    pub kind: JobKind,
    /// The repository of a scan.
    pub repository_id: Option<i32>,
    /// Kind-specific arguments.
    pub payload: Option<serde_json::Value>,
    /// Which attempt this is, from 1; the fencing token of the lease.
    pub attempt: i32,
    /// Attempts allowed in all.
    pub max_attempts: i32,
    /// The worker holding the lease.
    pub worker_id: String,
    /// When the lease ends unless renewed.
    pub lease_expires_at: DateTime<Utc>,
}

impl ClaimedJob {
    /// The scan request of a scan job.
    ///
    /// # Errors
    /// When the payload is not a scan request.
    pub fn scan_request(&self) -> Result<Option<ScanRequest>, QueueError> {
        Ok(self.payload.clone().map(serde_json::from_value).transpose()?)
    }
}

/// Jobs per status, for the admin page and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueCounts {
    /// Waiting to run (including those backing off).
    pub queued: u64,
    /// Leased to a worker.
    pub running: u64,
    /// Gave up.
    pub failed: u64,
    /// Done.
    pub succeeded: u64,
}

/// Queues a scan of a repository, or folds the request into the scan already
/// queued for it (its payload becomes this request, its priority the higher
/// of the two).
///
/// The insert relies on `ux_jobs_one_queued_scan` with `ON CONFLICT DO
/// NOTHING`, so two concurrent requests never make two jobs. When the insert
/// yields to an existing job, that job is updated; if it was claimed in the
/// meantime there is no queued job any more and the insert is tried again.
/// A queued job that is backing off after a failure keeps its schedule and
/// its attempt count.
///
/// # Errors
/// Database errors, including an unknown repository (foreign key).
pub async fn enqueue_scan<C: ConnectionTrait>(
    db: &C,
    repository_id: i32,
    request: &ScanRequest,
    now: DateTime<Utc>,
) -> Result<Enqueued, QueueError> {
    let now = db_time(now);
    let payload = serde_json::to_value(request)?;
    let priority = request.trigger.priority();
    for _ in 0..CONFLICT_RETRIES {
        let insert = "INSERT INTO jobs (kind, repository_id, payload, status, priority, attempts, max_attempts, \
                      run_after, created_at, updated_at) \
                      VALUES ('scan', $1, $2, 'queued', $3, 0, $4, $5, $5, $5) \
                      ON CONFLICT (repository_id) WHERE kind = 'scan' AND status = 'queued' DO NOTHING RETURNING id";
        let values = vec![
            repository_id.into(),
            payload.clone().into(),
            priority.into(),
            DEFAULT_MAX_ATTEMPTS.into(),
            now.into(),
        ];
        if let Some(row) = db.query_one_raw(stmt(db, insert, values)).await? {
            return Ok(Enqueued { job_id: row.try_get("", "id")?, coalesced: false });
        }
        let update = "UPDATE jobs SET payload = $2, priority = CASE WHEN priority < $3 THEN $3 ELSE priority END, \
                      updated_at = $4 WHERE repository_id = $1 AND kind = 'scan' AND status = 'queued' RETURNING id";
        let values = vec![repository_id.into(), payload.clone().into(), priority.into(), now.into()];
        if let Some(row) = db.query_one_raw(stmt(db, update, values)).await? {
            return Ok(Enqueued { job_id: row.try_get("", "id")?, coalesced: true });
        }
    }
    Err(QueueError::Contended { what: "enqueue" })
}

/// Queues a job that is not a scan (discovery, digest, retention). These are
/// neither coalesced nor tied to a repository.
///
/// # Errors
/// `ScanNeedsRepository` for `JobKind::Scan`; database errors.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    kind: JobKind,
    payload: Option<serde_json::Value>,
    now: DateTime<Utc>,
) -> Result<i32, QueueError> {
    if kind == JobKind::Scan {
        return Err(QueueError::ScanNeedsRepository);
    }
    let now = db_time(now);
    let job = jobs::ActiveModel {
        kind: Set(kind),
        repository_id: Set(None),
        payload: Set(payload),
        status: Set(JobStatus::Queued),
        priority: Set(0),
        attempts: Set(0),
        max_attempts: Set(if kind == JobKind::Digest { DIGEST_MAX_ATTEMPTS } else { DEFAULT_MAX_ATTEMPTS }),
        run_after: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    Ok(job.insert(db).await?.id)
}

/// The due job to claim next: highest priority, then longest due, never a
/// scan of a repository whose scan is already running. `$1` is `now`.
const NEXT_DUE: &str = "FROM jobs j WHERE j.status = 'queued' AND j.run_after <= $1 \
     AND NOT (j.kind = 'scan' AND EXISTS (SELECT 1 FROM jobs r WHERE r.kind = 'scan' \
     AND r.status = 'running' AND r.repository_id = j.repository_id)) \
     ORDER BY j.priority DESC, j.run_after, j.id LIMIT 1";

/// Leases the next due job to `worker_id` until `now + lease`, counting the
/// attempt; `None` when nothing is due.
///
/// # Errors
/// Database errors; `DurationOutOfRange` for an absurd lease.
pub async fn claim<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    worker_id: &str,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<Option<ClaimedJob>, QueueError> {
    let now = db_time(now);
    let expires = after(now, lease)?;
    let set = "SET status = 'running', attempts = attempts + 1, locked_by = $2, lease_expires_at = $3, updated_at = $1";
    let values = || vec![now.into(), worker_id.into(), expires.into()];
    for _ in 0..CONFLICT_RETRIES {
        let claimed = match db.get_database_backend() {
            // Many workers, many writers: lock one candidate row and skip rows
            // other workers hold, so they never wait on each other and never
            // get the same job. In READ COMMITTED the lock re-checks the row,
            // so a job claimed by a transaction that committed meanwhile no
            // longer matches `status = 'queued'` and the next one is taken.
            DbBackend::Postgres => {
                let txn = db.begin().await?;
                let select = format!("SELECT j.id {NEXT_DUE} FOR UPDATE OF j SKIP LOCKED");
                let picked = txn.query_one_raw(stmt(db, &select, vec![now.into()])).await?;
                let claimed = match picked {
                    None => Ok(None),
                    Some(row) => {
                        let id: i32 = row.try_get("", "id")?;
                        let mut v = values();
                        v.push(id.into());
                        let update = format!("UPDATE jobs {set} WHERE id = $4 RETURNING *");
                        jobs::Entity::find().from_raw_sql(stmt(db, &update, v)).one(&txn).await
                    }
                };
                match claimed {
                    Ok(job) => txn.commit().await.map(|()| job),
                    Err(e) => Err(e), // dropping `txn` rolls it back
                }
            }
            // SQLite has one writer at a time, and a write statement takes the
            // write lock before it reads anything, waiting for it up to
            // busy_timeout (sqlx sets 5 s on every pooled connection).
            // So choosing the job in the subquery and leasing it happen in one
            // statement that no other writer can interleave with: two workers
            // cannot pick the same row. `status = 'queued'` is re-stated for
            // clarity; it cannot fail under that lock.
            _ => {
                let update =
                    format!("UPDATE jobs {set} WHERE id = (SELECT j.id {NEXT_DUE}) AND status = 'queued' RETURNING *");
                jobs::Entity::find().from_raw_sql(stmt(db, &update, values())).one(db).await
            }
        };
        match claimed {
            // Unreachable by design (only the locked queued row could become the
            // repository's running scan), but the index is the final word:
            // if it objects, look again rather than fail the worker.
            Err(e) if is_unique_violation(&e) => continue,
            other => return Ok(other?.map(|job| claimed_job(job, worker_id, expires))),
        }
    }
    Err(QueueError::Contended { what: "claim" })
}

/// Counts jobs per status.
///
/// # Errors
/// Database errors.
pub async fn counts<C: ConnectionTrait>(db: &C) -> Result<QueueCounts, QueueError> {
    let sql = "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status";
    let mut counts = QueueCounts::default();
    for row in db.query_all_raw(stmt(db, sql, vec![])).await? {
        let n = u64::try_from(row.try_get::<i64>("", "n")?).unwrap_or(0);
        match row.try_get::<String>("", "status")?.as_str() {
            "queued" => counts.queued = n,
            "running" => counts.running = n,
            "failed" => counts.failed = n,
            "succeeded" => counts.succeeded = n,
            _ => {}
        }
    }
    Ok(counts)
}

fn stmt<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

fn after(now: DateTime<Utc>, d: Duration) -> Result<DateTime<Utc>, QueueError> {
    TimeDelta::from_std(d)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .map(db_time)
        .ok_or(QueueError::DurationOutOfRange(d))
}

fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

fn claimed_job(job: jobs::Model, worker_id: &str, expires: DateTime<Utc>) -> ClaimedJob {
    ClaimedJob {
        id: job.id,
        kind: job.kind,
        repository_id: job.repository_id,
        payload: job.payload,
        attempt: job.attempts,
        max_attempts: job.max_attempts,
        worker_id: worker_id.to_string(),
        lease_expires_at: expires,
    }
}
