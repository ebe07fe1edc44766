//! One administrative decision: who did what to which subject, and when.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub at: DateTimeUtc,
    /// A login, `local`, or `scan` for what scans decide.
    pub actor: String,
    /// Dotted and stable: `waiver.approved`, `user.role`, `token.revoked`…
    pub action: String,
    /// What it was done to, for people: `waiver 3`, `finding 12 (cors-wildcard in acme/api)`.
    pub subject: String,
    pub repository_id: Option<i32>,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
