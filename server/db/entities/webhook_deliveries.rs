//! One GitHub webhook delivery as received: which event, for which
//! repository, and what Shipshape did with it. `delivery_id` is unique, so a
//! redelivered event is recognised instead of acted on twice.

use sea_orm::entity::prelude::*;
use serde::Serialize;

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum DeliveryResult {
    /// Acted on: a scan queued, a repository updated, a ping answered.
    #[sea_orm(string_value = "accepted")]
    Accepted,
    /// Understood but not for Shipshape (another branch, an untracked repository).
    #[sea_orm(string_value = "ignored")]
    Ignored,
    /// Correctly signed but unreadable (not JSON, not GitHub's shape).
    #[sea_orm(string_value = "rejected")]
    Rejected,
    /// Already received under the same delivery id.
    #[sea_orm(string_value = "duplicate")]
    Duplicate,
}

/// One row of `webhook_deliveries`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// GitHub's `X-GitHub-Delivery` GUID.
    #[sea_orm(unique)]
    pub delivery_id: String,
    /// GitHub's `X-GitHub-Event` (push, ping, repository, …).
    pub event: String,
    /// `owner/name` as the payload named it, tracked or not.
    pub repository: Option<String>,
    /// The tracked repository it matched.
    pub repository_id: Option<i32>,
    /// What was done.
    pub result: DeliveryResult,
    /// Why, in words the admin page shows.
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    /// When it arrived.
    pub received_at: DateTimeUtc,
}

/// Deliveries are looked up by id or listed by time; no joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
