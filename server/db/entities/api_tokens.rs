//! An API token: only its SHA-256 is stored (the token is shown once), with
//! a short prefix so people can tell their tokens apart.

use sea_orm::entity::prelude::*;

/// What a token may do: `read` only reads; `admin` acts as its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Scope {
    #[sea_orm(string_value = "read")]
    Read,
    #[sea_orm(string_value = "admin")]
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    pub name: String,
    /// Hex SHA-256 of the whole token.
    #[sea_orm(unique)]
    pub token_hash: String,
    /// The token's first characters, shown in lists.
    pub prefix: String,
    pub scope: Scope,
    pub created_at: DateTimeUtc,
    pub last_used_at: Option<DateTimeUtc>,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
