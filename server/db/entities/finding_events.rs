//! One change in a finding's life: opened, fixed, reopened, moved,
//! suppressed, unsuppressed. History grows with changes, not with scans.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "finding_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub finding_id: i32,
    pub scan_id: Option<i32>,
    pub kind: EventKind,
    pub path: Option<String>,
    pub line: Option<i32>,
    pub commit_sha: Option<String>,
    pub actor: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EventKind {
    #[sea_orm(string_value = "opened")]
    Opened,
    #[sea_orm(string_value = "fixed")]
    Fixed,
    #[sea_orm(string_value = "reopened")]
    Reopened,
    #[sea_orm(string_value = "moved")]
    Moved,
    #[sea_orm(string_value = "suppressed")]
    Suppressed,
    #[sea_orm(string_value = "unsuppressed")]
    Unsuppressed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
