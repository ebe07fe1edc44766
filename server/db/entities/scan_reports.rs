//! The report document of one successful scan (for the downloads).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scan_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub scan_id: i32,
    #[sea_orm(column_type = "JsonBinary")]
    pub report: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
