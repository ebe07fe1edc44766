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
//! Depends on `crate::db` only.

use crate::db::db_time;
use crate::db::entities::jobs::{self, JobKind, JobStatus};
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbBackend, DbErr, EntityTrait, SqlErr, Statement,
    TransactionSession, TransactionTrait, Value,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Delay before the first retry; doubles with every further attempt.
pub const RETRY_BASE: Duration = Duration::from_secs(30);
/// Longest delay between two attempts.
pub const RETRY_CAP: Duration = Duration::from_secs(60 * 60);
/// Attempts given to a job unless its kind says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 3;
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

/// Why a scan was requested; also the scan row's `trigger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanTrigger {
    /// The nightly cron.
    Schedule,
    /// A GitHub push.
    Webhook,
    /// The Rescan button.
    Manual,
    /// The JSON API.
    Api,
    /// Seeding the demo.
    Demo,
}

impl ScanTrigger {
    /// A person waiting on a page beats a push, which beats the nightly run.
    pub fn priority(self) -> i32 {
        match self {
            ScanTrigger::Manual | ScanTrigger::Api => 20,
            ScanTrigger::Webhook => 10,
            ScanTrigger::Schedule | ScanTrigger::Demo => 0,
        }
    }
}

/// The payload of a scan job: the newest request wins when requests coalesce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRequest {
    /// What asked for the scan.
    pub trigger: ScanTrigger,
    /// The commit to scan; `None` means the head of the default branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_sha: Option<String>,
    /// Who asked (a login, a webhook delivery id), for the scan history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
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

/// What `fail` did with the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Queued again; not claimable before `run_after`.
    Retrying {
        /// When the next attempt may start.
        run_after: DateTime<Utc>,
    },
    /// Attempts exhausted: the job is `failed` with the error kept.
    Failed,
    /// Not retried because a newer scan of the repository is already
    /// queued and will do the work; the job is `failed` with the error kept.
    Superseded,
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

/// The delay before the attempt after `attempt`: `RETRY_BASE * 2^(attempt-1)`,
/// at most `RETRY_CAP`.
pub fn backoff(attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(31);
    RETRY_BASE.saturating_mul(1u32 << doublings).min(RETRY_CAP)
}

/// Queues a scan of a repository, or folds the request into the scan already
/// queued for it (its payload becomes this request, its priority the higher
/// of the two).
///
/// The insert relies on `ux_jobs_one_queued_scan` with `ON CONFLICT DO
/// NOTHING`, so two concurrent requests never make two jobs. When the insert
/// yields to an existing job, that job is updated; if it was claimed in the
/// meantime there is no queued job any more and the insert is tried again.
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
        max_attempts: Set(DEFAULT_MAX_ATTEMPTS),
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
            // write lock (waiting up to busy_timeout) before it reads anything.
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

/// Extends the lease to `now + lease`, returning the new expiry.
///
/// # Errors
/// `LeaseLost` when the worker no longer holds the job.
pub async fn renew<C: ConnectionTrait>(
    db: &C,
    job: &ClaimedJob,
    lease: Duration,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, QueueError> {
    let now = db_time(now);
    let expires = after(now, lease)?;
    let sql = format!("UPDATE jobs SET lease_expires_at = $4, updated_at = $5 WHERE {HELD}");
    let values = vec![job.id.into(), job.worker_id.as_str().into(), job.attempt.into(), expires.into(), now.into()];
    let done = db.execute_raw(stmt(db, &sql, values)).await?;
    if done.rows_affected() == 0 {
        return Err(lease_lost(job));
    }
    Ok(expires)
}

/// Marks the job succeeded.
///
/// # Errors
/// `LeaseLost` when the worker no longer holds the job; its result must
/// then be discarded, because another worker owns the job.
pub async fn complete<C: ConnectionTrait>(db: &C, job: &ClaimedJob, now: DateTime<Utc>) -> Result<(), QueueError> {
    let now = db_time(now);
    let sql = format!(
        "UPDATE jobs SET status = 'succeeded', locked_by = NULL, lease_expires_at = NULL, \
         finished_at = $4, updated_at = $4 WHERE {HELD}"
    );
    let values = vec![job.id.into(), job.worker_id.as_str().into(), job.attempt.into(), now.into()];
    let done = db.execute_raw(stmt(db, &sql, values)).await?;
    if done.rows_affected() == 0 {
        return Err(lease_lost(job));
    }
    Ok(())
}

/// Records a failed attempt: the job is queued again after `backoff`, or,
/// once `max_attempts` are used up, marked failed. `error` is kept in
/// `last_error` either way.
///
/// # Errors
/// `LeaseLost` when the worker no longer holds the job.
pub async fn fail<C: ConnectionTrait>(
    db: &C,
    job: &ClaimedJob,
    error: &str,
    now: DateTime<Utc>,
) -> Result<FailOutcome, QueueError> {
    let now = db_time(now);
    let retry_at = after(now, backoff(job.attempt))?;
    let sql = format!(
        "UPDATE jobs SET status = CASE WHEN {RETRYABLE} THEN 'queued' ELSE 'failed' END, \
         run_after = CASE WHEN {RETRYABLE} THEN $5 ELSE run_after END, \
         finished_at = CASE WHEN {RETRYABLE} THEN NULL ELSE $6 END, \
         last_error = $4, locked_by = NULL, lease_expires_at = NULL, updated_at = $6 \
         WHERE {HELD} RETURNING *"
    );
    let values = || {
        vec![
            job.id.into(),
            job.worker_id.as_str().into(),
            job.attempt.into(),
            error.into(),
            retry_at.into(),
            now.into(),
        ]
    };
    for _ in 0..CONFLICT_RETRIES {
        let updated = jobs::Entity::find().from_raw_sql(stmt(db, &sql, values())).one(db).await;
        let row = match updated {
            // An enqueue committed a queued scan after this statement's
            // snapshot (Postgres): try again, the retry sees it and stands down.
            Err(e) if is_unique_violation(&e) => continue,
            other => other?.ok_or_else(|| lease_lost(job))?,
        };
        return Ok(match row.status {
            JobStatus::Queued => FailOutcome::Retrying { run_after: row.run_after },
            _ if row.attempts < row.max_attempts => FailOutcome::Superseded,
            _ => FailOutcome::Failed,
        });
    }
    Err(QueueError::Contended { what: "fail" })
}

/// Returns running jobs whose lease ended before `now` to the queue, or marks
/// them failed when their attempts are used up, so work held by a killed or
/// stuck worker is picked up by another. Returns how many jobs it touched.
///
/// # Errors
/// Database errors.
pub async fn reclaim_expired<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<u64, QueueError> {
    let now = db_time(now);
    // run_after is left alone: the job was due already and keeps its place.
    let sql = format!(
        "UPDATE jobs SET status = CASE WHEN {RETRYABLE} THEN 'queued' ELSE 'failed' END, \
         finished_at = CASE WHEN {RETRYABLE} THEN NULL ELSE $1 END, \
         last_error = 'lease expired on worker ' || locked_by, \
         locked_by = NULL, lease_expires_at = NULL, updated_at = $1 \
         WHERE status = 'running' AND lease_expires_at < $1"
    );
    for _ in 0..CONFLICT_RETRIES {
        match db.execute_raw(stmt(db, &sql, vec![now.into()])).await {
            Err(e) if is_unique_violation(&e) => continue,
            Ok(done) => {
                if done.rows_affected() > 0 {
                    tracing::warn!(jobs = done.rows_affected(), "reclaimed jobs whose lease expired");
                }
                return Ok(done.rows_affected());
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(QueueError::Contended { what: "reclaim" })
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

/// The lease check shared by renew, complete and fail: `$1` job id, `$2`
/// worker, `$3` attempt.
const HELD: &str = "id = $1 AND status = 'running' AND locked_by = $2 AND attempts = $3";

/// Whether a running job whose attempt ended goes back to the queue: it has
/// attempts left, and requeueing it would not make a second queued scan of
/// its repository (the newer one does the work, with the newer request).
const RETRYABLE: &str = "(attempts < max_attempts AND NOT (kind = 'scan' AND EXISTS (SELECT 1 FROM jobs q \
     WHERE q.kind = 'scan' AND q.status = 'queued' AND q.repository_id = jobs.repository_id)))";

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

fn lease_lost(job: &ClaimedJob) -> QueueError {
    QueueError::LeaseLost { job_id: job.id, worker_id: job.worker_id.clone() }
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
