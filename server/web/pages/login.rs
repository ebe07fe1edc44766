//! Signing in and out: `/login` (the page), `/auth/login` (off to the
//! provider), `/auth/callback` (back from it) and `POST /logout`.

use super::Page;
use crate::auth::provider::{self, Callback};
use crate::auth::session::{self, Current};
use crate::auth::users;
use crate::config::AuthMode;
use crate::error::AppError;
use crate::state::AppState;
use actix_session::Session;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(login_page).service(begin).service(callback).service(logout);
}

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    page: Page,
    provider: String,
    start: String,
    notice: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
    expired: Option<String>,
    signed_out: Option<String>,
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish()
}

#[get("/login")]
async fn login_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let return_to = session::safe_return_to(q.return_to.as_deref());
    let auth = &state.settings.auth;
    if auth.mode == AuthMode::Local || session::current(&session, auth, Utc::now().timestamp()) != Current::Anonymous {
        return Ok(see_other(&return_to));
    }
    let notice = if q.expired.is_some() {
        Some("Your session ended; sign in again to continue.")
    } else if q.signed_out.is_some() {
        Some("You are signed out.")
    } else {
        None
    };
    let encoded: String = url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect();
    let page = LoginPage {
        page: Page::new("Sign in", "", &req),
        provider: provider::provider_name(&state.settings),
        start: format!("/auth/login?return_to={encoded}"),
        notice,
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

/// Off to the provider, with a fresh `state` and PKCE verifier in the session.
#[get("/auth/login")]
async fn begin(
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    let return_to = session::safe_return_to(q.return_to.as_deref());
    if state.settings.auth.mode == AuthMode::Local {
        return Ok(see_other(&return_to));
    }
    let (url, pending) = provider::start(&state.settings, return_to)?;
    session::begin_login(&session, &pending);
    Ok(see_other(&url))
}

/// Back from the provider: the sign-in completes once, in the browser that started it.
#[get("/auth/callback")]
async fn callback(
    state: web::Data<AppState>,
    session: Session,
    q: web::Query<Callback>,
) -> Result<HttpResponse, AppError> {
    let pending = session::take_pending(&session);
    let return_to = pending.as_ref().map(|p| p.return_to.clone()).unwrap_or_else(|| "/".into());
    let who = match provider::finish(&state.settings, &state.github, pending, &q).await {
        Ok(who) => who,
        Err(e) => {
            tracing::warn!(error = %e, "sign-in failed");
            return Err(e.into());
        }
    };
    let now = Utc::now();
    let user = users::signed_in(&state.db, &who, &state.settings.auth, now).await?;
    session::establish(&session, user.id, now.timestamp());
    tracing::info!(user.login = %user.login, user.role = user.role.as_str(), "signed in");
    Ok(see_other(&return_to))
}

/// Signing out ends the session cookie (the gate checked the CSRF token).
#[post("/logout")]
async fn logout(req: HttpRequest, session: Session) -> HttpResponse {
    if let Some(login) = crate::auth::Viewer::of(&req).login() {
        tracing::info!(user.login = %login, "signed out");
    }
    session::end(&session);
    see_other("/login?signed_out=1")
}
