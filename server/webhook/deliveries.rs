//! The `webhook_deliveries` log: one row per delivery GitHub made, written
//! in the same transaction as what the delivery caused, and read by the
//! admin page. Pruned by the retention job (`jobs::periodic::retention`).

use crate::db::db_time;
use crate::db::entities::webhook_deliveries::{self, DeliveryResult};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, QueryOrder, QuerySelect};

/// A delivery about to be logged.
#[derive(Debug, Clone)]
pub struct NewDelivery<'a> {
    pub delivery_id: &'a str,
    pub event: &'a str,
    pub repository: Option<&'a str>,
    pub repository_id: Option<i32>,
    pub result: DeliveryResult,
    pub reason: &'a str,
    pub received_at: DateTime<Utc>,
}

/// Logs a delivery; `false` when its delivery id was already logged (a
/// redelivery), in which case nothing was written.
///
/// # Errors
/// Database errors.
pub async fn record<C: ConnectionTrait>(db: &C, d: &NewDelivery<'_>) -> Result<bool, DbErr> {
    let row = webhook_deliveries::ActiveModel {
        delivery_id: Set(d.delivery_id.to_string()),
        event: Set(d.event.to_string()),
        repository: Set(d.repository.map(str::to_string)),
        repository_id: Set(d.repository_id),
        result: Set(d.result),
        reason: Set(d.reason.to_string()),
        received_at: Set(db_time(d.received_at)),
        ..Default::default()
    };
    // The unique index decides between concurrent copies of one delivery.
    let inserted = webhook_deliveries::Entity::insert(row)
        .on_conflict(OnConflict::column(webhook_deliveries::Column::DeliveryId).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    Ok(inserted == 1)
}

/// The newest `limit` deliveries, newest first (the admin page's list).
///
/// # Errors
/// Database errors.
pub async fn recent<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<webhook_deliveries::Model>, DbErr> {
    webhook_deliveries::Entity::find()
        .order_by_desc(webhook_deliveries::Column::ReceivedAt)
        .order_by_desc(webhook_deliveries::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
