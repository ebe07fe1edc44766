//! Who receives which digest. Configured addresses are mirrored into
//! `digest_recipients` (so they get an unsubscribe token too); the admin
//! page adds and removes its own rows. A configured row whose address was
//! later removed from the configuration stays (its unsubscribe is kept) but
//! no longer receives anything.

use crate::config::DigestSettings;
use crate::db::db_time;
use crate::db::entities::digest_recipients::{self, RecipientSource};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use std::collections::BTreeSet;

/// Why an address could not be added on the admin page.
#[derive(Debug, thiserror::Error)]
pub enum RecipientError {
    #[error("`{0}` is not an email address")]
    Address(String),
    #[error("`{0}` is not a digest scope; use `org` or `team:<slug>`")]
    Scope(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// (scope key, address) pairs the configuration asks for.
pub fn configured(cfg: &DigestSettings) -> BTreeSet<(String, String)> {
    let org = cfg.recipients.iter().map(|e| ("org".to_string(), e.clone()));
    let teams = cfg.teams.iter().flat_map(|(slug, list)| list.iter().map(move |e| (format!("team:{slug}"), e.clone())));
    org.chain(teams).collect()
}

/// A fresh unsubscribe token: 244 random bits from the OS generator.
fn token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Inserts `email` for `scope` unless it is there already.
async fn upsert<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    email: &str,
    source: RecipientSource,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let insert = Query::insert()
        .into_table("digest_recipients")
        .columns(["email", "scope", "source", "token", "created_at"])
        .values_panic([
            email.into(),
            scope.into(),
            sea_orm::ActiveEnum::to_value(&source).into(),
            token().into(),
            db_time(now).into(),
        ])
        .on_conflict(OnConflict::columns(["email", "scope"]).do_nothing().to_owned())
        .to_owned();
    db.execute(&insert).await.map(|_| ())
}

/// Mirrors the configured addresses into the table.
///
/// # Errors
/// Database errors.
pub async fn sync_config<C: ConnectionTrait>(db: &C, cfg: &DigestSettings, now: DateTime<Utc>) -> Result<(), DbErr> {
    for (scope, email) in configured(cfg) {
        upsert(db, &scope, &email, RecipientSource::Config, now).await?;
    }
    Ok(())
}

/// Every recipient row, for the admin page.
///
/// # Errors
/// Database errors.
pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<digest_recipients::Model>, DbErr> {
    digest_recipients::Entity::find()
        .order_by_asc(digest_recipients::Column::Scope)
        .order_by_asc(digest_recipients::Column::Email)
        .all(db)
        .await
}

/// The rows that receive `scope`'s digest now: added on the admin page or
/// still in the configuration, and not unsubscribed.
///
/// # Errors
/// Database errors.
pub async fn active<C: ConnectionTrait>(
    db: &C,
    cfg: &DigestSettings,
    scope: &str,
) -> Result<Vec<digest_recipients::Model>, DbErr> {
    let configured = configured(cfg);
    let rows = digest_recipients::Entity::find()
        .filter(digest_recipients::Column::Scope.eq(scope))
        .filter(digest_recipients::Column::UnsubscribedAt.is_null())
        .order_by_asc(digest_recipients::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter(|r| r.source == RecipientSource::Admin || configured.contains(&(r.scope.clone(), r.email.clone())))
        .collect())
}

/// Every scope that has a recipient row or a configured address.
///
/// # Errors
/// Database errors.
pub async fn scopes<C: ConnectionTrait>(db: &C, cfg: &DigestSettings) -> Result<BTreeSet<String>, DbErr> {
    let mut out: BTreeSet<String> = configured(cfg).into_iter().map(|(scope, _)| scope).collect();
    out.extend(all(db).await?.into_iter().map(|r| r.scope));
    Ok(out)
}

/// Adds an address on the admin page (again, if it had unsubscribed: an
/// admin adding it is a new decision).
///
/// # Errors
/// A malformed address or scope; database errors.
pub async fn add<C: ConnectionTrait>(
    db: &C,
    scope: &str,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), RecipientError> {
    let email: lettre::Address = email.trim().parse().map_err(|_| RecipientError::Address(email.to_string()))?;
    let email = email.to_string().to_ascii_lowercase();
    let valid_scope = scope == "org"
        || scope
            .strip_prefix("team:")
            .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    if !valid_scope {
        return Err(RecipientError::Scope(scope.to_string()));
    }
    upsert(db, scope, &email, RecipientSource::Admin, now).await?;
    digest_recipients::Entity::update_many()
        .col_expr(digest_recipients::Column::Source, sea_orm::sea_query::Expr::value("admin"))
        .col_expr(
            digest_recipients::Column::UnsubscribedAt,
            sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(digest_recipients::Column::Email.eq(&email))
        .filter(digest_recipients::Column::Scope.eq(scope))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes a recipient row added on the admin page; configured ones stay
/// (the configuration is their source of truth). Returns whether one was removed.
///
/// # Errors
/// Database errors.
pub async fn remove<C: ConnectionTrait>(db: &C, id: i32) -> Result<bool, DbErr> {
    let done = digest_recipients::Entity::delete_many()
        .filter(digest_recipients::Column::Id.eq(id))
        .filter(digest_recipients::Column::Source.eq(RecipientSource::Admin))
        .exec(db)
        .await?;
    Ok(done.rows_affected == 1)
}

/// Unsubscribes the holder of `token`; returns the row, or `None` for an
/// unknown token. Unsubscribing twice is harmless.
///
/// # Errors
/// Database errors.
pub async fn unsubscribe<C: ConnectionTrait>(
    db: &C,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<digest_recipients::Model>, DbErr> {
    let Some(row) =
        digest_recipients::Entity::find().filter(digest_recipients::Column::Token.eq(token)).one(db).await?
    else {
        return Ok(None);
    };
    if row.unsubscribed_at.is_none() {
        digest_recipients::Entity::update_many()
            .col_expr(digest_recipients::Column::UnsubscribedAt, sea_orm::sea_query::Expr::value(db_time(now)))
            .filter(digest_recipients::Column::Id.eq(row.id))
            .exec(db)
            .await?;
    }
    Ok(Some(row))
}
