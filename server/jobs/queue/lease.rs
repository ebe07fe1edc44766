//! The lease holder's side of the queue: renew, complete and fail a
//! claimed job, and reclaim the jobs of workers that stopped renewing.
//!
//! Every write is one statement guarded by `HELD` (job id, worker,
//! attempt), so a worker that lost its lease changes nothing.

use super::{CONFLICT_RETRIES, ClaimedJob, QueueError, after, is_unique_violation, stmt};
use crate::db::db_time;
use crate::db::entities::jobs::{self, JobStatus};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};
use std::time::Duration;

/// Delay before the first retry; doubles with every further attempt.
pub const RETRY_BASE: Duration = Duration::from_secs(30);
/// Longest delay between two attempts.
pub const RETRY_CAP: Duration = Duration::from_secs(60 * 60);

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

/// The delay before the attempt after `attempt`: `RETRY_BASE * 2^(attempt-1)`,
/// at most `RETRY_CAP`.
pub fn backoff(attempt: i32) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(31);
    RETRY_BASE.saturating_mul(1u32 << doublings).min(RETRY_CAP)
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

/// The lease check shared by renew, complete and fail: `$1` job id, `$2`
/// worker, `$3` attempt.
const HELD: &str = "id = $1 AND status = 'running' AND locked_by = $2 AND attempts = $3";

/// Whether a running job whose attempt ended goes back to the queue: it has
/// attempts left, and requeueing it would not make a second queued scan of
/// its repository (the newer one does the work, with the newer request).
const RETRYABLE: &str = "(attempts < max_attempts AND NOT (kind = 'scan' AND EXISTS (SELECT 1 FROM jobs q \
     WHERE q.kind = 'scan' AND q.status = 'queued' AND q.repository_id = jobs.repository_id)))";

fn lease_lost(job: &ClaimedJob) -> QueueError {
    QueueError::LeaseLost { job_id: job.id, worker_id: job.worker_id.clone() }
}
