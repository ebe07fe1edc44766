//! The one middleware every request passes: it finds out who is calling
//! (API token, session, or local mode), checks the CSRF token of
//! state-changing requests, applies `access::rule`, and leaves a [`Viewer`]
//! in the request for the handlers and pages.
//!
//! Refusals go through `AppError` like every other error, so they share its
//! body and `html_pages` renders them for people. Paths no route matches
//! pass untouched and get the router's 404.

use super::access::{self, Need};
use super::session::{self, Current};
use super::{Caller, Role, Scope, Via, Viewer, tokens, users};
use crate::config::AuthMode;
use crate::error::{API_PREFIXES, AppError};
use crate::state::AppState;
use actix_session::SessionExt;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use chrono::Utc;

/// The header htmx and scripts send the CSRF token in; forms send `csrf_token`.
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const CSRF_FIELD: &str = "csrf_token";

type Gated<B> = ServiceResponse<EitherBody<B, BoxBody>>;

pub async fn gate<B: MessageBody + 'static>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<Gated<B>, actix_web::Error> {
    if req.request().match_pattern().is_none() {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let Some(state) = req.app_data::<Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let settings = &state.settings;
    let rule = access::rule(req.method(), req.path(), settings);
    let session = req.get_session();
    let api = API_PREFIXES.iter().any(|p| req.path().starts_with(p));
    // Pages get a CSRF token for their forms; API answers set no cookie.
    let csrf = if api { session::existing_csrf(&session).unwrap_or_default() } else { session::csrf_token(&session) };
    if rule.need == Need::Public {
        req.extensions_mut().insert(Viewer { caller: None, csrf });
        return Ok(next.call(req).await?.map_into_left_body());
    }

    let now = Utc::now();
    let mut expired = false;
    let caller = if let Some(presented) = bearer(&req) {
        match tokens::verify(&state.db, &presented, &settings.auth, now).await {
            Ok(Some(c)) => Some(c),
            Ok(None) => {
                return Ok(refuse(req, AppError::Unauthorized("the API token is unknown, revoked or expired".into())));
            }
            Err(e) => return Ok(refuse(req, e.into())),
        }
    } else if settings.auth.mode == AuthMode::Local {
        Some(Caller::local())
    } else {
        match session::current(&session, &settings.auth, now.timestamp()) {
            Current::User(id) => match users::session_caller(&state.db, id, &settings.auth).await {
                Ok(c) => c,
                Err(e) => return Ok(refuse(req, e.into())),
            },
            Current::Expired => {
                expired = true;
                None
            }
            Current::Anonymous => None,
        }
    };
    let Some(caller) = caller else { return Ok(sign_in_first(req, api, expired)) };

    if rule.csrf && !matches!(caller.via, Via::Token(_)) {
        let presented = presented_csrf(&mut req).await;
        let expected = session::existing_csrf(&session);
        let valid = matches!((&presented, &expected), (Some(p), Some(e)) if super::constant_time_eq(p, e));
        if !valid {
            tracing::warn!(path = %req.path(), login = %caller.login, "state-changing request without a valid CSRF token refused");
            return Ok(refuse(
                req,
                AppError::Forbidden(
                    "this request lacks the page's CSRF token (or the session changed since the page loaded): reload the page and try again"
                        .into(),
                ),
            ));
        }
    }
    if caller.via == Via::Token(Scope::Read) && access::changes_state(req.method()) {
        return Ok(refuse(req, AppError::Forbidden("this API token is read-only; use an admin token".into())));
    }
    if rule.need == Need::Admin && caller.role != Role::Admin {
        let who = caller.login.clone();
        return Ok(refuse(req, AppError::Forbidden(format!("{who} is a viewer: this needs the admin role"))));
    }
    req.extensions_mut().insert(Viewer { caller: Some(caller), csrf });
    Ok(next.call(req).await?.map_into_left_body())
}

fn bearer(req: &ServiceRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// The CSRF token the request brings: the header, or the form field of a
/// urlencoded body (which is read here and handed on unchanged).
async fn presented_csrf(req: &mut ServiceRequest) -> Option<String> {
    if let Some(v) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(v.to_string());
    }
    let form = req.content_type().eq_ignore_ascii_case("application/x-www-form-urlencoded");
    if !form {
        return None;
    }
    let body = req.extract::<Bytes>().await.ok()?;
    let token = url::form_urlencoded::parse(&body).find(|(k, _)| k == CSRF_FIELD).map(|(_, v)| v.into_owned());
    req.set_payload(Payload::from(body));
    token
}

fn refuse<B>(req: ServiceRequest, error: AppError) -> Gated<B> {
    let res = error.error_response();
    req.into_response(res).map_into_right_body()
}

/// Not signed in: programs get 401, htmx is told to go to the sign-in page,
/// people are sent there and brought back afterwards.
fn sign_in_first<B>(req: ServiceRequest, api: bool, expired: bool) -> Gated<B> {
    if api {
        let mut res = AppError::Unauthorized(
            "sign in, or send an API token as `Authorization: Bearer ssp_…` (admins make them on /admin/tokens)".into(),
        )
        .error_response();
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer realm=\"shipshape\""));
        return req.into_response(res).map_into_right_body();
    }
    let here = match req.query_string() {
        "" => req.path().to_string(),
        q => format!("{}?{q}", req.path()),
    };
    let return_to = if access::changes_state(req.method()) { "/".to_string() } else { here };
    let mut login =
        format!("/login?return_to={}", url::form_urlencoded::byte_serialize(return_to.as_bytes()).collect::<String>());
    if expired {
        login.push_str("&expired=1");
    }
    let res = if req.headers().contains_key("hx-request") {
        HttpResponse::Unauthorized().insert_header(("HX-Redirect", login)).finish()
    } else {
        HttpResponse::SeeOther().insert_header((header::LOCATION, login)).finish()
    };
    req.into_response(res).map_into_right_body()
}
