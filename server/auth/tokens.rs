//! API tokens: made and revoked by admins on /admin/tokens, shown once,
//! stored as SHA-256 (a database leak yields no usable token), sent as
//! `Authorization: Bearer ssp_…`.
//!
//! A `read` token only reads; an `admin` token acts with its owner's role as
//! it is now, so demoting the owner demotes their tokens.

use super::{Caller, Role, Scope, Via};
use crate::config::AuthSettings;
use crate::db::entities::{api_tokens, users};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};

/// Every token starts with this, so secret scanners (ours included) and
/// people recognise one.
pub const PREFIX: &str = "ssp_";
/// How much of a token lists show.
const SHOWN: usize = 12;
/// `last_used_at` is written at most this often per token.
const USE_RESOLUTION_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("a token needs a name saying what uses it")]
    NoName,
    #[error("a token's expiry must be between 1 and 3650 days, not {0}")]
    BadExpiry(i64),
    #[error("no API token {0}")]
    Unknown(i32),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// A token just made: the only time its secret exists outside the caller.
#[derive(Debug)]
pub struct Created {
    pub secret: String,
    pub token: api_tokens::Model,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Makes a token for `owner`.
///
/// # Errors
/// An empty name, an expiry out of range, the database.
pub async fn create(
    db: &DatabaseConnection,
    owner: i32,
    name: &str,
    scope: Scope,
    expires_in_days: Option<i64>,
    now: DateTime<Utc>,
) -> Result<Created, TokenError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(TokenError::NoName);
    }
    if let Some(days) = expires_in_days.filter(|d| !(1..=3650).contains(d)) {
        return Err(TokenError::BadExpiry(days));
    }
    let secret = format!("{PREFIX}{}", super::random_token(32));
    let now = crate::db::db_time(now);
    let token = api_tokens::ActiveModel {
        user_id: Set(owner),
        name: Set(name.chars().take(100).collect()),
        token_hash: Set(hash(&secret)),
        prefix: Set(secret.chars().take(SHOWN).collect()),
        scope: Set(scope),
        created_at: Set(now),
        expires_at: Set(expires_in_days.map(|d| now + Duration::days(d))),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(Created { secret, token })
}

/// The caller a presented token stands for: `None` if it is unknown,
/// revoked, expired, or its owner is gone.
///
/// # Errors
/// The database.
pub async fn verify(
    db: &DatabaseConnection,
    presented: &str,
    auth: &AuthSettings,
    now: DateTime<Utc>,
) -> Result<Option<Caller>, DbErr> {
    if !presented.starts_with(PREFIX) {
        return Ok(None);
    }
    let Some(token) =
        api_tokens::Entity::find().filter(api_tokens::Column::TokenHash.eq(hash(presented))).one(db).await?
    else {
        return Ok(None);
    };
    if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= now) {
        return Ok(None);
    }
    let Some((owner, owner_role)) = super::users::owner(db, token.user_id, auth).await? else { return Ok(None) };
    if token.last_used_at.is_none_or(|t| (now - t).num_seconds() >= USE_RESOLUTION_SECS) {
        let mut row: api_tokens::ActiveModel = token.clone().into();
        row.last_used_at = Set(Some(crate::db::db_time(now)));
        row.update(db).await?;
    }
    let role = match token.scope {
        Scope::Read => Role::Viewer,
        Scope::Admin => owner_role,
    };
    Ok(Some(Caller {
        user_id: Some(owner.id),
        login: owner.login,
        name: owner.name,
        role,
        via: Via::Token(token.scope),
    }))
}

/// Revokes a token; revoking twice is harmless.
///
/// # Errors
/// Unknown token, the database.
pub async fn revoke(db: &DatabaseConnection, id: i32, now: DateTime<Utc>) -> Result<api_tokens::Model, TokenError> {
    let token = api_tokens::Entity::find_by_id(id).one(db).await?.ok_or(TokenError::Unknown(id))?;
    if token.revoked_at.is_some() {
        return Ok(token);
    }
    let mut row: api_tokens::ActiveModel = token.into();
    row.revoked_at = Set(Some(crate::db::db_time(now)));
    Ok(row.update(db).await?)
}

/// Every token with its owner's login, newest first.
///
/// # Errors
/// The database.
pub async fn list(db: &DatabaseConnection) -> Result<Vec<(api_tokens::Model, String)>, DbErr> {
    let owners: std::collections::HashMap<i32, String> =
        users::Entity::find().all(db).await?.into_iter().map(|u| (u.id, u.login)).collect();
    let tokens = api_tokens::Entity::find().order_by_desc(api_tokens::Column::Id).all(db).await?;
    Ok(tokens
        .into_iter()
        .map(|t| {
            let owner = owners.get(&t.user_id).cloned().unwrap_or_else(|| format!("user {}", t.user_id));
            (t, owner)
        })
        .collect())
}
