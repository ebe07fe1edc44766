//! People who signed in, and their roles.
//!
//! The first sign-in creates the user as a viewer; admins promote others on
//! /admin/users. Logins listed in `auth.admins` are admins whatever the
//! table says, so an installation can never lock its admins out. The role
//! is read on every request, so a demotion takes effect at once.

use super::{Caller, Role, Via};
use crate::config::AuthSettings;
use crate::db::entities::users;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `github` or `oauth2`.
    pub provider: &'static str,
    pub login: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("no user {0}")]
    Unknown(i32),
    #[error("{0} is an admin through auth.admins in the configuration; remove them there first")]
    ConfiguredAdmin(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The role `auth.admins` and the table agree on.
fn effective(user: &users::Model, auth: &AuthSettings) -> Role {
    if auth.is_configured_admin(&user.login) { Role::Admin } else { user.role }
}

/// Records a sign-in: creates the user (a viewer, or an admin if configured)
/// or refreshes their name and email; returns the row.
///
/// # Errors
/// The database.
pub async fn signed_in(
    db: &DatabaseConnection,
    who: &Identity,
    auth: &AuthSettings,
    now: DateTime<Utc>,
) -> Result<users::Model, DbErr> {
    let now = crate::db::db_time(now);
    let role = if auth.is_configured_admin(&who.login) { Role::Admin } else { Role::Viewer };
    users::Entity::insert(users::ActiveModel {
        provider: Set(who.provider.into()),
        login: Set(who.login.clone()),
        name: Set(who.name.clone()),
        email: Set(who.email.clone()),
        role: Set(role),
        created_at: Set(now),
        last_login_at: Set(Some(now)),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([users::Column::Provider, users::Column::Login])
            .update_columns([users::Column::Name, users::Column::Email, users::Column::LastLoginAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    let user = find_login(db, who.provider, &who.login)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("user {} after sign-in", who.login)))?;
    if role == Role::Admin && user.role != Role::Admin {
        let mut row: users::ActiveModel = user.into();
        row.role = Set(Role::Admin);
        return row.update(db).await;
    }
    Ok(user)
}

async fn find_login(db: &DatabaseConnection, provider: &str, login: &str) -> Result<Option<users::Model>, DbErr> {
    users::Entity::find()
        .filter(users::Column::Provider.eq(provider))
        .filter(users::Column::Login.eq(login))
        .one(db)
        .await
}

/// The caller a session's user id stands for; `None` if the user is gone.
///
/// # Errors
/// The database.
pub async fn session_caller(db: &DatabaseConnection, id: i32, auth: &AuthSettings) -> Result<Option<Caller>, DbErr> {
    Ok(users::Entity::find_by_id(id).one(db).await?.map(|u| Caller {
        user_id: Some(u.id),
        role: effective(&u, auth),
        login: u.login,
        name: u.name,
        via: Via::Session,
    }))
}

/// The owner of a token, with the role it has now.
pub(super) async fn owner(
    db: &DatabaseConnection,
    id: i32,
    auth: &AuthSettings,
) -> Result<Option<(users::Model, Role)>, DbErr> {
    Ok(users::Entity::find_by_id(id).one(db).await?.map(|u| {
        let role = effective(&u, auth);
        (u, role)
    }))
}

/// The user standing for "local" mode, so tokens made in the demo have an owner.
///
/// # Errors
/// The database.
pub async fn local_user(db: &DatabaseConnection, auth: &AuthSettings) -> Result<users::Model, DbErr> {
    let who = Identity { provider: "local", login: "local".into(), name: Some("Local admin".into()), email: None };
    let user = signed_in(db, &who, auth, Utc::now()).await?;
    if user.role == Role::Admin {
        return Ok(user);
    }
    let mut row: users::ActiveModel = user.into();
    row.role = Set(Role::Admin);
    row.update(db).await
}

/// A user as the admin page lists them.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub user: users::Model,
    pub role: Role,
    /// Named in `auth.admins`: the role cannot be changed here.
    pub configured_admin: bool,
}

/// Everyone who ever signed in, most recent first.
///
/// # Errors
/// The database.
pub async fn list(db: &DatabaseConnection, auth: &AuthSettings) -> Result<Vec<UserRow>, DbErr> {
    let rows = users::Entity::find()
        .order_by_desc(users::Column::LastLoginAt)
        .order_by_asc(users::Column::Login)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|u| UserRow { role: effective(&u, auth), configured_admin: auth.is_configured_admin(&u.login), user: u })
        .collect())
}

/// Promotes or demotes a user.
///
/// # Errors
/// Unknown user, a configured admin (demoting them would not stick), the database.
pub async fn set_role(
    db: &DatabaseConnection,
    id: i32,
    role: Role,
    auth: &AuthSettings,
) -> Result<users::Model, UserError> {
    let user = users::Entity::find_by_id(id).one(db).await?.ok_or(UserError::Unknown(id))?;
    if auth.is_configured_admin(&user.login) && role != Role::Admin {
        return Err(UserError::ConfiguredAdmin(user.login));
    }
    let mut row: users::ActiveModel = user.into();
    row.role = Set(role);
    Ok(row.update(db).await?)
}
