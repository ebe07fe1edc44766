//! Administration of who may do what: `/admin/users` (roles) and
//! `/admin/tokens` (API tokens: made, shown once, revoked).

use super::Page;
use crate::auth::{Role, Scope, Viewer, tokens, users};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::audit;
use crate::web::action::Action;
use crate::web::view;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(users_page).service(set_role).service(tokens_page).service(create_token).service(revoke_token);
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

pub struct UserView {
    pub id: i32,
    pub login: String,
    pub name: String,
    pub provider: String,
    pub role: &'static str,
    pub configured: bool,
    pub last_login: String,
    pub is_me: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    page: Page,
    users: Vec<UserView>,
    admins_configured: Vec<String>,
}

#[get("/admin/users")]
async fn users_page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let me = Viewer::of(&req).caller.and_then(|c| c.user_id);
    let rows = users::list(&state.db, &state.settings.auth).await?;
    let page = UsersPage {
        page: Page::new("Users", "admin", &req),
        users: rows
            .into_iter()
            .filter(|r| r.user.provider != "local")
            .map(|r| UserView {
                id: r.user.id,
                is_me: me == Some(r.user.id),
                name: r.user.name.clone().unwrap_or_default(),
                provider: r.user.provider.clone(),
                role: r.role.as_str(),
                configured: r.configured_admin,
                last_login: view::when_opt(r.user.last_login_at),
                login: r.user.login,
            })
            .collect(),
        admins_configured: state.settings.auth.admins.clone(),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

#[derive(Debug, Deserialize)]
struct RoleForm {
    role: String,
}

#[post("/admin/users/{id}/role")]
async fn set_role(
    action: Action,
    state: web::Data<AppState>,
    id: web::Path<i32>,
    form: web::Form<RoleForm>,
) -> Result<HttpResponse, AppError> {
    let role = match form.role.as_str() {
        "admin" => Role::Admin,
        "viewer" => Role::Viewer,
        other => return Err(AppError::BadRequest(format!("role must be admin or viewer, not {other:?}"))),
    };
    let user = users::set_role(&state.db, *id, role, &state.settings.auth).await?;
    let by = action.actor.as_deref().unwrap_or("dashboard");
    tracing::info!(user.login = %user.login, role = role.as_str(), by, "role changed");
    audit::record(&state.db, by, "user.role", &format!("user {}", user.login), None, role.as_str(), Utc::now()).await?;
    Ok(see_other("/admin/users"))
}

pub struct TokenView {
    pub id: i32,
    pub name: String,
    pub prefix: String,
    pub scope: &'static str,
    pub owner: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    pub revoked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
struct TokensPage {
    page: Page,
    tokens: Vec<TokenView>,
    /// A token just made: its secret, shown this once.
    created: Option<(String, String)>,
}

async fn render_tokens(
    req: &HttpRequest,
    state: &AppState,
    created: Option<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let now = Utc::now();
    let tokens = tokens::list(&state.db)
        .await?
        .into_iter()
        .map(|(t, owner)| TokenView {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            scope: t.scope.as_str(),
            owner,
            created: view::when(t.created_at),
            last_used: t.last_used_at.map_or_else(|| "never".into(), view::when),
            expires: match t.expires_at {
                None => "never".into(),
                Some(e) if e <= now => format!("expired {}", view::when(e)),
                Some(e) => view::when(e),
            },
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let page = TokensPage { page: Page::new("API tokens", "admin", req), tokens, created };
    let mut res = page.respond_to(req).map_into_boxed_body();
    // The page may hold a secret: no cache keeps it.
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    Ok(res)
}

#[get("/admin/tokens")]
async fn tokens_page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    render_tokens(&req, &state, None).await
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    name: String,
    scope: String,
    #[serde(default)]
    expires_in_days: String,
}

/// Makes a token and shows it once, on the answer to this POST (never in a URL).
#[post("/admin/tokens")]
async fn create_token(
    req: HttpRequest,
    _action: Action,
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let scope = match form.scope.as_str() {
        "read" => Scope::Read,
        "admin" => Scope::Admin,
        other => return Err(AppError::BadRequest(format!("scope must be read or admin, not {other:?}"))),
    };
    let days = match form.expires_in_days.trim() {
        "" => None,
        d => Some(d.parse::<i64>().map_err(|_| AppError::BadRequest(format!("expiry {d:?} is not a number of days")))?),
    };
    let caller = Viewer::of(&req).caller.ok_or_else(|| AppError::Unauthorized("sign in first".into()))?;
    let owner = match caller.user_id {
        Some(id) => id,
        None => users::local_user(&state.db, &state.settings.auth).await?.id,
    };
    let made = tokens::create(&state.db, owner, &form.name, scope, days, Utc::now()).await?;
    tracing::info!(token.id = made.token.id, token.prefix = %made.token.prefix, scope = scope.as_str(), by = %caller.login, "API token created");
    let subject = format!("token {} ({})", made.token.prefix, made.token.name);
    audit::record(&state.db, &caller.login, "token.created", &subject, None, scope.as_str(), Utc::now()).await?;
    render_tokens(&req, &state, Some((made.token.name.clone(), made.secret))).await
}

#[post("/admin/tokens/{id}/revoke")]
async fn revoke_token(
    action: Action,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let token = tokens::revoke(&state.db, *id, Utc::now()).await?;
    let by = action.actor.as_deref().unwrap_or("dashboard");
    tracing::info!(token.id = token.id, token.prefix = %token.prefix, by, "API token revoked");
    let subject = format!("token {} ({})", token.prefix, token.name);
    audit::record(&state.db, by, "token.revoked", &subject, None, "", Utc::now()).await?;
    Ok(see_other("/admin/tokens"))
}
