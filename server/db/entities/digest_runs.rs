//! One weekly digest of one scope (the org or a team) for one ISO week;
//! the unique (iso_week, scope) pair is the claim that makes the send
//! happen once across replicas.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "digest_runs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `2026-W47`: the week the digest reports on.
    pub iso_week: String,
    /// `org` or `team:<slug>`.
    pub scope: String,
    pub status: RunStatus,
    pub claimed_by: Option<String>,
    pub claimed_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// Mails sent so far.
    pub recipients: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RunStatus {
    /// Claimed; some deliveries may still be pending.
    #[sea_orm(string_value = "claimed")]
    Claimed,
    /// Every delivery is sent or skipped.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Gave up with deliveries unsent; `error` says why.
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
