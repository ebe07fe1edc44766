//! An address that receives the digest of one scope, from the
//! configuration or the admin page; `token` is its unsubscribe link.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "digest_recipients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Lower-cased address.
    pub email: String,
    /// `org` or `team:<slug>`.
    pub scope: String,
    pub source: RecipientSource,
    /// Random, unguessable: whoever holds it may unsubscribe this row.
    pub token: String,
    pub created_at: DateTimeUtc,
    /// Set once the recipient unsubscribed; later sends skip the row.
    pub unsubscribed_at: Option<DateTimeUtc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum RecipientSource {
    #[sea_orm(string_value = "config")]
    Config,
    #[sea_orm(string_value = "admin")]
    Admin,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
