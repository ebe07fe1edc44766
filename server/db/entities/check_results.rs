//! The outcome of one check in one scan.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "check_results")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub scan_id: i32,
    pub check_id: String,
    pub category: String,
    pub severity: String,
    pub outcome: String,
    pub summary: String,
    pub evidence: Option<Json>,
    pub findings_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
