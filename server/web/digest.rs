//! The digest's pages: the admin's preview, "send test" and recipients,
//! and the unsubscribe link a recipient follows without logging in (the
//! token in the URL is the credential).

use crate::db::entities::{digest_recipients, teams};
use crate::digest::content::Scope;
use crate::digest::period::Week;
use crate::digest::{Digests, recipients};
use crate::error::AppError;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::{HttpResponse, get, post, web};
use askama::Template;
use chrono::Utc;
use sea_orm::EntityTrait;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(admin)
        .service(preview)
        .service(send_test)
        .service(add_recipient)
        .service(remove_recipient)
        .service(unsubscribe_page)
        .service(unsubscribe);
}

struct ScopeItem {
    key: String,
    title: String,
}

struct RecipientRow {
    id: i32,
    email: String,
    scope: String,
    source: &'static str,
    status: &'static str,
    removable: bool,
}

#[derive(Template)]
#[template(path = "digest/admin.html")]
struct AdminPage {
    page: crate::web::pages::Page,
    week: Week,
    scopes: Vec<ScopeItem>,
    recipients: Vec<RecipientRow>,
    message: Option<String>,
}

#[derive(Template)]
#[template(path = "digest/unsubscribe.html")]
struct UnsubscribePage {
    email: String,
    scope: String,
    done: bool,
}

#[derive(Deserialize)]
struct Notice {
    sent: Option<String>,
    added: Option<String>,
}

#[derive(Deserialize)]
struct ScopeQuery {
    scope: Option<String>,
    week: Option<String>,
}

#[derive(Deserialize)]
struct RecipientForm {
    scope: String,
    email: String,
}

fn html(body: String) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(body)
}

fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther().insert_header((header::LOCATION, to.to_string())).finish()
}

/// The org, every team in the database and every team the configuration names.
async fn scopes(state: &AppState) -> Result<Vec<ScopeItem>, AppError> {
    let mut out = vec![ScopeItem { key: Scope::Org.key(), title: Scope::Org.title() }];
    let mut known = std::collections::BTreeSet::new();
    for t in teams::Entity::find().all(&state.db).await? {
        known.insert(t.slug.clone());
        let scope = Scope::Team { slug: t.slug, name: t.name, id: Some(t.id) };
        out.push(ScopeItem { key: scope.key(), title: scope.title() });
    }
    for slug in state.settings.digest.teams.keys().filter(|s| !known.contains(*s)) {
        let scope = Scope::Team { slug: slug.clone(), name: slug.clone(), id: None };
        out.push(ScopeItem { key: scope.key(), title: scope.title() });
    }
    Ok(out)
}

async fn scope_and_week(state: &AppState, q: &ScopeQuery) -> Result<(Scope, Week), AppError> {
    let key = q.scope.as_deref().unwrap_or("org");
    let scope = Scope::from_key(&state.db, key)
        .await?
        .ok_or_else(|| AppError::BadRequest(format!("unknown digest scope `{key}`")))?;
    let week = match &q.week {
        Some(w) => w.parse().map_err(|e: crate::digest::period::BadWeek| AppError::BadRequest(e.to_string()))?,
        None => Week::last_complete(Utc::now()),
    };
    Ok((scope, week))
}

#[get("/admin/digest")]
async fn admin(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    notice: web::Query<Notice>,
) -> Result<HttpResponse, AppError> {
    let configured = recipients::configured(&state.settings.digest);
    let rows = recipients::all(&state.db).await?;
    let recipients = rows
        .into_iter()
        .map(|r: digest_recipients::Model| {
            let admin = r.source == digest_recipients::RecipientSource::Admin;
            let status = if r.unsubscribed_at.is_some() {
                "unsubscribed"
            } else if admin || configured.contains(&(r.scope.clone(), r.email.clone())) {
                "receives"
            } else {
                "removed from the configuration"
            };
            RecipientRow {
                id: r.id,
                email: r.email,
                scope: r.scope,
                source: if admin { "admin page" } else { "configuration" },
                status,
                removable: admin,
            }
        })
        .collect();
    let message = match notice.into_inner() {
        Notice { sent: Some(to), .. } => Some(format!("A test digest was sent to {to}.")),
        Notice { added: Some(to), .. } => Some(format!("{to} was added.")),
        _ => None,
    };
    let page = AdminPage {
        page: crate::web::pages::Page::new("Weekly digest", "admin", &req),
        week: Week::last_complete(Utc::now()),
        scopes: scopes(&state).await?,
        recipients,
        message,
    };
    Ok(html(page.render().map_err(anyhow::Error::from)?))
}

/// The digest as its recipients will see it. The mail's inline styles
/// need their own CSP; the chart comes inline as a `data:` URL.
#[get("/admin/digest/preview")]
async fn preview(state: web::Data<AppState>, q: web::Query<ScopeQuery>) -> Result<HttpResponse, AppError> {
    let (scope, week) = scope_and_week(&state, &q).await?;
    let digests = Digests::new(&state.settings)?;
    let body = digests.prepare(&state.db, &scope, week).await?.preview_html()?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; form-action 'none'",
        ))
        .body(body))
}

#[post("/admin/digest/test")]
async fn send_test(state: web::Data<AppState>, form: web::Form<RecipientForm>) -> Result<HttpResponse, AppError> {
    let q = ScopeQuery { scope: Some(form.scope.clone()), week: None };
    let (scope, week) = scope_and_week(&state, &q).await?;
    let to: lettre::Address = form
        .email
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest(format!("`{}` is not an email address", form.email)))?;
    Digests::new(&state.settings)?.send_test(&state.db, &scope, week, to.as_ref()).await?;
    Ok(see_other(&format!("/admin/digest?sent={}", urlencode(to.as_ref()))))
}

#[post("/admin/digest/recipients")]
async fn add_recipient(state: web::Data<AppState>, form: web::Form<RecipientForm>) -> Result<HttpResponse, AppError> {
    recipients::add(&state.db, &form.scope, &form.email, Utc::now()).await?;
    Ok(see_other(&format!("/admin/digest?added={}", urlencode(form.email.trim()))))
}

#[post("/admin/digest/recipients/{id}/delete")]
async fn remove_recipient(state: web::Data<AppState>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    if !recipients::remove(&state.db, id.into_inner()).await? {
        return Err(AppError::NotFound("no such recipient added on the admin page".into()));
    }
    Ok(see_other("/admin/digest"))
}

/// Opening the link only asks: mail scanners follow links, and must not unsubscribe anyone.
#[get("/digest/unsubscribe/{token}")]
async fn unsubscribe_page(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let row = digest_recipients::Entity::find()
        .filter(digest_recipients::Column::Token.eq(token.as_str()))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("this unsubscribe link is not valid".into()))?;
    let page = UnsubscribePage { email: row.email, scope: row.scope, done: row.unsubscribed_at.is_some() };
    Ok(html(page.render().map_err(anyhow::Error::from)?))
}

/// The form's button and the mail client's one-click (RFC 8058) both POST here.
#[post("/digest/unsubscribe/{token}")]
async fn unsubscribe(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, AppError> {
    let row = recipients::unsubscribe(&state.db, &token, Utc::now())
        .await?
        .ok_or_else(|| AppError::NotFound("this unsubscribe link is not valid".into()))?;
    tracing::info!(recipient = %row.email, scope = %row.scope, "unsubscribed from the digest");
    let page = UnsubscribePage { email: row.email, scope: row.scope, done: true };
    Ok(html(page.render().map_err(anyhow::Error::from)?))
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
