//! Sending a week's digests once. Two rows make the promise, both kept by
//! the database rather than by one process:
//!
//! - a `digest_runs` row per (ISO week, scope), inserted with ON CONFLICT DO
//!   NOTHING together with one `digest_deliveries` row per recipient: the
//!   replica whose insert wins owns the week, the others stand down;
//! - each delivery is taken by one sender at a time (`pending` → `sending`
//!   in one conditional UPDATE) and marked `sent` as soon as the SMTP server
//!   accepted it. A retry after an SMTP failure sends only what is still
//!   pending, and two senders working on one run never mail a person twice.
//!
//! The one gap left is a sender that dies between the server's "250 OK"
//! and marking the row: after `STALE_SENDING` that row is sent again.

use super::content::Scope;
use super::period::Week;
use super::recipients;
use super::{DigestError, Digests};

use crate::config::DigestSettings;
use crate::db::db_time;
use crate::db::entities::digest_deliveries::{self, DeliveryStatus};
use crate::db::entities::digest_recipients;
use crate::db::entities::digest_runs::{self, RunStatus};
use crate::db::entities::jobs::JobKind;
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, Statement,
    TransactionTrait, Value,
};

/// A delivery left `sending` this long belongs to a sender that died.
pub const STALE_SENDING: Duration = Duration::minutes(10);

/// What one pass over a run's deliveries did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    /// Recipients who unsubscribed after the run was claimed.
    pub skipped: usize,
    /// Deliveries still to do: failed now, or in the hands of another sender.
    pub remaining: usize,
    pub last_error: Option<String>,
}

/// Claims `week` for `scope` if nobody has: inserts the run and a pending
/// delivery per active recipient. `None` when another sender owns the week
/// already or the scope has no recipients. Run it inside a transaction so
/// the run never exists without its deliveries.
///
/// # Errors
/// Database errors.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    cfg: &DigestSettings,
    scope: &str,
    week: Week,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Option<i32>, DbErr> {
    let active = recipients::active(db, cfg, scope).await?;
    if active.is_empty() {
        return Ok(None);
    }
    let sql = "INSERT INTO digest_runs (iso_week, scope, status, claimed_by, claimed_at, recipients) \
               VALUES ($1, $2, 'claimed', $3, $4, 0) ON CONFLICT (iso_week, scope) DO NOTHING RETURNING id";
    let values = vec![week.to_string().into(), scope.into(), by.into(), db_time(now).into()];
    let Some(row) = db.query_one_raw(stmt(db, sql, values)).await? else { return Ok(None) };
    let run_id: i32 = row.try_get("", "id")?;
    for r in active {
        let sql =
            "INSERT INTO digest_deliveries (run_id, recipient_id, status, attempts) VALUES ($1, $2, 'pending', 0)";
        db.execute_raw(stmt(db, sql, vec![run_id.into(), r.id.into()])).await?;
    }
    Ok(Some(run_id))
}

/// Claims every scope of `week` that has recipients, each in its own
/// transaction. With `enqueue`, the job that sends a run is queued in the
/// same transaction as its claim, so a claimed run is never forgotten.
///
/// # Errors
/// Database errors.
pub async fn claim_week(
    db: &DatabaseConnection,
    cfg: &DigestSettings,
    week: Week,
    by: &str,
    now: DateTime<Utc>,
    enqueue: bool,
) -> Result<Vec<i32>, DigestError> {
    recipients::sync_config(db, cfg, now).await?;
    let mut won = Vec::new();
    for scope in recipients::scopes(db, cfg).await? {
        let txn = db.begin().await?;
        if let Some(run) = claim(&txn, cfg, &scope, week, by, now).await? {
            if enqueue {
                let payload = serde_json::json!({ "run_id": run });
                crate::jobs::queue::enqueue(&txn, JobKind::Digest, Some(payload), now).await?;
            }
            won.push(run);
        }
        txn.commit().await?;
    }
    Ok(won)
}

/// The runs of `week` that still have something to send.
///
/// # Errors
/// Database errors.
pub async fn unfinished(db: &DatabaseConnection, week: Week) -> Result<Vec<digest_runs::Model>, DbErr> {
    digest_runs::Entity::find()
        .filter(digest_runs::Column::IsoWeek.eq(week.to_string()))
        .filter(digest_runs::Column::Status.ne(RunStatus::Sent))
        .order_by_asc(digest_runs::Column::Id)
        .all(db)
        .await
}

/// Sends every delivery of `run_id` that is still to do, each at most once.
///
/// # Errors
/// Database errors, an unknown run, or the digest failing to render.
/// SMTP failures are not errors here: they leave deliveries pending and are
/// counted in `Delivered::remaining`.
pub async fn deliver(
    db: &DatabaseConnection,
    digests: &Digests,
    run_id: i32,
    by: &str,
) -> Result<Delivered, DigestError> {
    let run = digest_runs::Entity::find_by_id(run_id).one(db).await?.ok_or(DigestError::UnknownRun(run_id))?;
    let week: Week = run.iso_week.parse()?;
    let scope = Scope::from_key(db, &run.scope).await?.ok_or_else(|| DigestError::UnknownScope(run.scope.clone()))?;
    let todo = digest_deliveries::Entity::find()
        .filter(digest_deliveries::Column::RunId.eq(run_id))
        .filter(digest_deliveries::Column::Status.is_in([DeliveryStatus::Pending, DeliveryStatus::Sending]))
        .order_by_asc(digest_deliveries::Column::Id)
        .all(db)
        .await?;
    let mut out = Delivered::default();
    if !todo.is_empty() {
        // Built before any delivery is taken, so a failure here leaves none stuck in `sending`.
        let prepared = digests.prepare(db, &scope, week).await?;
        for delivery in todo {
            let now = Utc::now();
            if !take(db, delivery.id, by, now).await? {
                continue;
            }
            let recipient = digest_recipients::Entity::find_by_id(delivery.recipient_id).one(db).await?;
            let Some(recipient) = recipient.filter(|r| r.unsubscribed_at.is_none()) else {
                finish(db, delivery.id, DeliveryStatus::Skipped, None).await?;
                out.skipped += 1;
                continue;
            };
            let mail = prepared.mail(Some(digests.links.unsubscribe(&recipient.token)))?;
            match digests.mailer.send(&recipient.email, &mail).await {
                Ok(()) => {
                    finish(db, delivery.id, DeliveryStatus::Sent, None).await?;
                    out.sent += 1;
                }
                Err(e) => {
                    let error = e.to_string();
                    tracing::warn!(run = run_id, recipient = %recipient.email, %error, "digest delivery failed");
                    finish(db, delivery.id, DeliveryStatus::Pending, Some(&error)).await?;
                    out.last_error = Some(error);
                }
            }
        }
    }
    out.remaining = close_run(db, run_id, out.last_error.as_deref()).await?;
    Ok(out)
}

/// Takes a delivery for this sender: pending, or `sending` by a sender that
/// stopped. `false` when another sender has it or it is done.
async fn take(db: &DatabaseConnection, id: i32, by: &str, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let sql = "UPDATE digest_deliveries SET status = 'sending', claimed_by = $2, claimed_at = $3, \
               attempts = attempts + 1 WHERE id = $1 \
               AND (status = 'pending' OR (status = 'sending' AND claimed_at < $4))";
    let values = vec![id.into(), by.into(), db_time(now).into(), db_time(now - STALE_SENDING).into()];
    Ok(db.execute_raw(stmt(db, sql, values)).await?.rows_affected() == 1)
}

async fn finish(db: &DatabaseConnection, id: i32, status: DeliveryStatus, error: Option<&str>) -> Result<(), DbErr> {
    let sent_at = (status == DeliveryStatus::Sent).then(|| db_time(Utc::now()));
    let sql = "UPDATE digest_deliveries SET status = $2, sent_at = $3, last_error = $4 WHERE id = $1";
    let status = sea_orm::ActiveEnum::to_value(&status);
    db.execute_raw(stmt(db, sql, vec![id.into(), status.into(), sent_at.into(), error.into()])).await?;
    Ok(())
}

/// Marks the run sent once nothing is left to do; returns what is left.
async fn close_run(db: &DatabaseConnection, run_id: i32, error: Option<&str>) -> Result<usize, DbErr> {
    let count = |statuses: &'static str| {
        let sql = format!("SELECT COUNT(*) AS n FROM digest_deliveries WHERE run_id = $1 AND status IN ({statuses})");
        async move {
            let row = db.query_one_raw(stmt(db, &sql, vec![run_id.into()])).await?;
            Ok::<usize, DbErr>(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0) as usize)
        }
    };
    let remaining = count("'pending', 'sending'").await?;
    let sent = count("'sent'").await?;
    let (sql, values): (&str, Vec<Value>) = if remaining == 0 {
        (
            "UPDATE digest_runs SET status = 'sent', sent_at = $2, recipients = $3, error = NULL WHERE id = $1",
            vec![run_id.into(), db_time(Utc::now()).into(), (sent as i32).into()],
        )
    } else {
        (
            "UPDATE digest_runs SET recipients = $2, error = $3 WHERE id = $1",
            vec![run_id.into(), (sent as i32).into(), error.into()],
        )
    };
    db.execute_raw(stmt(db, sql, values)).await?;
    Ok(remaining)
}

fn stmt<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}
