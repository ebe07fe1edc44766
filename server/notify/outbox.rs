//! `notification_deliveries` as an outbox: planning (with the rate limit),
//! taking a row to send it, and recording how the attempt went. Every
//! state change is one conditional statement, so two senders (the task
//! spawned after a scan and another replica's sweep) never both send a row.

use crate::db::db_time;
use crate::db::entities::notification_deliveries::{self as deliveries, DeliveryStatus, NotifyEvent};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    Statement, Value,
};

/// A row to plan.
pub struct Plan<'a> {
    pub channel: &'a str,
    pub repository_id: Option<i32>,
    pub scan_id: Option<i32>,
    pub event: NotifyEvent,
    pub dedup_key: String,
    pub delivery_id: String,
    pub payload: String,
    pub summary: String,
    pub min_interval_hours: u32,
}

/// What planning a row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Planned {
    /// A pending row to send.
    Pending(i32),
    /// Kept back by the rate limit (recorded as `suppressed`).
    Suppressed(i32),
    /// Already planned (the same scan planned twice).
    Duplicate,
}

/// Inserts the row: `pending`, or `suppressed` when the same event of the
/// same repository was planned for this channel within its interval (and
/// not refused or given up on, so a failure does not silence the next one).
///
/// The check and the insert are safe without a lock because they run for
/// one repository at a time: planning happens in the repository's scan job,
/// and the queue runs one scan per repository at once.
///
/// # Errors
/// Database errors.
pub async fn plan<C: ConnectionTrait>(db: &C, p: Plan<'_>, now: DateTime<Utc>) -> Result<Planned, DbErr> {
    let now = db_time(now);
    let exists = deliveries::Entity::find().filter(deliveries::Column::DedupKey.eq(&p.dedup_key)).one(db).await?;
    if exists.is_some() {
        return Ok(Planned::Duplicate);
    }
    let mut status = DeliveryStatus::Pending;
    let mut error = None;
    if p.min_interval_hours > 0 {
        let since = now - Duration::hours(i64::from(p.min_interval_hours));
        let last = deliveries::Entity::find()
            .filter(deliveries::Column::Channel.eq(p.channel))
            .filter(deliveries::Column::RepositoryId.eq(p.repository_id))
            .filter(deliveries::Column::Event.eq(p.event))
            .filter(deliveries::Column::Status.is_not_in([DeliveryStatus::Suppressed, DeliveryStatus::Failed]))
            .filter(deliveries::Column::CreatedAt.gt(since))
            .order_by_desc(deliveries::Column::CreatedAt)
            .limit(1)
            .one(db)
            .await?;
        if let Some(last) = last {
            status = DeliveryStatus::Suppressed;
            error = Some(format!(
                "rate limited: {} for this repository went to this channel at {} (min_interval_hours = {})",
                p.event.as_str(),
                last.created_at.format("%Y-%m-%d %H:%M UTC"),
                p.min_interval_hours
            ));
        }
    }
    let row = deliveries::ActiveModel {
        channel: Set(p.channel.to_string()),
        repository_id: Set(p.repository_id),
        scan_id: Set(p.scan_id),
        event: Set(p.event),
        dedup_key: Set(p.dedup_key),
        delivery_id: Set(p.delivery_id),
        status: Set(status),
        attempts: Set(0),
        payload: Set(p.payload),
        summary: Set(p.summary),
        response_status: Set(None),
        error: Set(error),
        created_at: Set(now),
        next_attempt_at: Set((status == DeliveryStatus::Pending).then_some(now)),
        claimed_at: Set(None),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(if status == DeliveryStatus::Pending { Planned::Pending(row.id) } else { Planned::Suppressed(row.id) })
}

/// Takes row `id` for one attempt if it is due (or was abandoned in
/// `sending` before `stale_before`), counting the attempt. `None`: not due,
/// finished, or another sender has it.
///
/// # Errors
/// Database errors.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    id: i32,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<Option<deliveries::Model>, DbErr> {
    let sql = "UPDATE notification_deliveries SET status = 'sending', claimed_at = $2, attempts = attempts + 1 \
               WHERE id = $1 AND ((status IN ('pending', 'retrying') AND next_attempt_at <= $2) \
               OR (status = 'sending' AND claimed_at < $3)) RETURNING *";
    let values: Vec<Value> = vec![id.into(), db_time(now).into(), db_time(stale_before).into()];
    deliveries::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(db.get_database_backend(), sql, values))
        .one(db)
        .await
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent { status: u16 },
    Retry { status: Option<u16>, error: String, at: DateTime<Utc> },
    Failed { status: Option<u16>, error: String },
}

/// Records the attempt of a row this sender claimed.
///
/// # Errors
/// Database errors.
pub async fn finish<C: ConnectionTrait>(db: &C, id: i32, outcome: &Outcome, now: DateTime<Utc>) -> Result<(), DbErr> {
    let now = db_time(now);
    let (status, code, error, next, sent) = match outcome {
        Outcome::Sent { status } => (DeliveryStatus::Sent, Some(*status), None, None, Some(now)),
        Outcome::Retry { status, error, at } => {
            (DeliveryStatus::Retrying, *status, Some(error.clone()), Some(db_time(*at)), None)
        }
        Outcome::Failed { status, error } => (DeliveryStatus::Failed, *status, Some(error.clone()), None, None),
    };
    deliveries::ActiveModel {
        id: Set(id),
        status: Set(status),
        response_status: Set(code.map(i32::from)),
        error: Set(error),
        next_attempt_at: Set(next),
        sent_at: Set(sent),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}

/// Rows nobody is working on although they should be: due for longer than
/// `grace` (their sender stopped before retrying), or `sending` since before
/// `stale_before` (their sender died mid-attempt).
///
/// # Errors
/// Database errors.
pub async fn abandoned<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    grace: Duration,
    stale_before: DateTime<Utc>,
) -> Result<Vec<i32>, DbErr> {
    let sql = "SELECT id FROM notification_deliveries WHERE (status IN ('pending', 'retrying') AND next_attempt_at <= $1) \
               OR (status = 'sending' AND claimed_at < $2) ORDER BY id LIMIT 100";
    let values: Vec<Value> = vec![db_time(now - grace).into(), db_time(stale_before).into()];
    let rows = db.query_all_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values)).await?;
    rows.iter().map(|r| r.try_get::<i32>("", "id")).collect()
}

/// The latest rows, newest first, for the admin page.
///
/// # Errors
/// Database errors.
pub async fn recent<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<deliveries::Model>, DbErr> {
    deliveries::Entity::find()
        .order_by_desc(deliveries::Column::CreatedAt)
        .order_by_desc(deliveries::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
