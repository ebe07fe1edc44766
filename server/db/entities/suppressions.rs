//! A suppression made in the dashboard: one finding (or a check, optionally
//! under a path glob) does not count until `expires_at` or until revoked.
//! Suppressions written in the repository itself live in its files.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "suppressions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub repository_id: i32,
    pub finding_id: Option<i32>,
    pub check_id: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub path_glob: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub expires_at: Option<DateTimeUtc>,
    pub created_by: Option<i32>,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
