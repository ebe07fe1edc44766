//! A request to stop counting a finding until a date, and the admin's decision.

use sea_orm::entity::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum WaiverStatus {
    /// Waiting for an admin.
    #[sea_orm(string_value = "requested")]
    Requested,
    /// In force until `expires_at` (then shown as expired).
    #[sea_orm(string_value = "approved")]
    Approved,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    /// Ended early: its suppression was revoked, or the request withdrawn.
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "waivers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub finding_id: i32,
    pub repository_id: i32,
    pub check_id: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    /// Who answers for the accepted risk.
    pub owner: String,
    pub expires_at: DateTimeUtc,
    pub status: WaiverStatus,
    pub requested_by: String,
    pub requested_at: DateTimeUtc,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_note: Option<String>,
    pub suppression_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
