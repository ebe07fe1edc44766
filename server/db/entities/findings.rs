//! The identity of one problem in one repository over time (DESIGN.md,
//! "Finding identity"); its history is in `finding_events`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "findings")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub repository_id: i32,
    pub fingerprint: String,
    pub content_hash: String,
    pub check_id: String,
    pub category: String,
    pub severity: String,
    pub state: FindingState,
    pub message: String,
    pub path: Option<String>,
    pub line: Option<i32>,
    pub evidence: String,
    pub first_seen_scan_id: i32,
    pub last_seen_scan_id: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum FindingState {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "fixed")]
    Fixed,
    #[sea_orm(string_value = "suppressed")]
    Suppressed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
