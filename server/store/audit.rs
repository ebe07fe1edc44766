//! The audit log: every administrative decision, written in the same
//! transaction as the decision itself, so neither exists without the other.

use crate::db::db_time;
use crate::db::entities::audit_log;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ConnectionTrait, DbErr, EntityTrait, QueryOrder, QuerySelect, Set,
};

/// Records one decision.
///
/// # Errors
/// Database errors (the caller's transaction then fails as a whole).
pub async fn record<C: ConnectionTrait>(
    db: &C,
    actor: &str,
    action: &str,
    subject: &str,
    repository_id: Option<i32>,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        id: NotSet,
        at: Set(db_time(now)),
        actor: Set(actor.chars().take(200).collect()),
        action: Set(action.to_string()),
        subject: Set(subject.chars().take(200).collect()),
        repository_id: Set(repository_id),
        detail: Set(detail.to_string()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The latest `limit` entries, newest first.
///
/// # Errors
/// Database errors.
pub async fn latest<C: ConnectionTrait>(db: &C, limit: u64) -> Result<Vec<audit_log::Model>, DbErr> {
    audit_log::Entity::find()
        .order_by_desc(audit_log::Column::At)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await
}
