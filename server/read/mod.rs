//! The read side of the dashboard: one module per page with the queries
//! behind it, returning plain view data the templates render. Written with
//! SeaORM's query builder or portable SQL, so they run on SQLite and
//! Postgres alike. Nothing here writes.

pub mod admin;
pub mod changes;
pub mod checks;
pub mod finding;
pub mod memo;
pub mod overview;
pub mod repository;
pub mod scan;
pub mod teams;
pub mod trend;

use crate::db::entities::repositories;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Statement, Value};

/// Runs portable SQL with `$n` placeholders on either backend.
pub(crate) fn stmt<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// A repository by its `owner/name` as it appears in URLs.
///
/// # Errors
/// Database errors; `Ok(None)` when there is no such repository.
pub async fn repository_by_name<C: ConnectionTrait>(
    db: &C,
    owner: &str,
    name: &str,
) -> Result<Option<repositories::Model>, DbErr> {
    repositories::Entity::find()
        .filter(repositories::Column::Owner.eq(owner))
        .filter(repositories::Column::Name.eq(name))
        .one(db)
        .await
}

/// Team names by id.
///
/// # Errors
/// Database errors.
pub async fn team_names<C: ConnectionTrait>(db: &C) -> Result<std::collections::HashMap<i32, String>, DbErr> {
    use crate::db::entities::teams;
    Ok(teams::Entity::find().all(db).await?.into_iter().map(|t| (t.id, t.name)).collect())
}

/// The most-used language of a stored stack document.
pub fn primary_language(stack: Option<&serde_json::Value>) -> Option<String> {
    let langs = stack?.get("languages")?.as_object()?;
    langs
        .iter()
        .max_by_key(|(name, n)| (n.as_u64().unwrap_or(0), std::cmp::Reverse(name.to_string())))
        .map(|(k, _)| k.clone())
}
