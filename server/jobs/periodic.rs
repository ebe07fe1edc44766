//! The work cron fires, as plain async functions (the scheduler is only
//! wiring): queue a scan of every active repository, and prune old rows.

use super::queue::{self, QueueError};
use super::scan_request::{ScanRequest, ScanTrigger};
use crate::db::entities::repositories;
use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

/// Queues a scan of every enabled, unarchived repository (coalesced with
/// any scan already queued). Returns how many were requested.
///
/// # Errors
/// Database errors.
pub async fn scan_all(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, QueueError> {
    let repos = repositories::Entity::find()
        .filter(repositories::Column::Enabled.eq(true))
        .filter(repositories::Column::Archived.eq(false))
        .all(db)
        .await?;
    let request = ScanRequest { trigger: ScanTrigger::Schedule, commit_sha: None, requested_by: Some("cron".into()) };
    for repo in &repos {
        queue::enqueue_scan(db, repo.id, &request, now).await?;
    }
    Ok(repos.len())
}

/// Deletes finished jobs, webhook deliveries and finished outgoing
/// notifications older than `days`; scans and findings are history and are
/// kept. Returns the rows deleted.
///
/// # Errors
/// Database errors.
pub async fn retention(db: &DatabaseConnection, now: DateTime<Utc>, days: u32) -> Result<u64, DbErr> {
    let cutoff = crate::db::db_time(now - Duration::days(i64::from(days)));
    let jobs = Query::delete()
        .from_table("jobs")
        .and_where(Expr::col("status").is_in(["succeeded", "failed"]))
        .and_where(Expr::col("updated_at").lt(cutoff))
        .to_owned();
    let deliveries =
        Query::delete().from_table("webhook_deliveries").and_where(Expr::col("received_at").lt(cutoff)).to_owned();
    let notifications = Query::delete()
        .from_table("notification_deliveries")
        .and_where(Expr::col("status").is_in(["sent", "failed", "suppressed"]))
        .and_where(Expr::col("created_at").lt(cutoff))
        .to_owned();
    Ok(db.execute(&jobs).await?.rows_affected()
        + db.execute(&deliveries).await?.rows_affected()
        + db.execute(&notifications).await?.rows_affected())
}
