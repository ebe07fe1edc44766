//! `/admin/notifications`: the configured channels (never their URLs), a
//! test message per channel, and the latest deliveries with their status
//! and error, rate-limited ones included.

use super::Page;
use crate::db::entities::repositories;
use crate::error::AppError;
use crate::notify::{Notifier, outbox};
use crate::state::AppState;
use crate::web::action::Action;
use crate::web::view;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use std::collections::HashMap;

/// Deliveries listed on the page.
const SHOWN: u64 = 100;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page).service(send_test);
}

pub struct ChannelView {
    pub name: String,
    pub kind: &'static str,
    pub url_env: String,
    pub teams: String,
    pub events: String,
    pub interval: String,
}

pub struct DeliveryView {
    pub id: i32,
    pub created: String,
    pub channel: String,
    pub event: &'static str,
    pub repository: String,
    pub href: Option<String>,
    pub summary: String,
    pub status: &'static str,
    pub attempts: i32,
    pub response: String,
    pub error: String,
    pub sent: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "notifications.html")]
struct NotificationsPage {
    page: Page,
    channels: Vec<ChannelView>,
    deliveries: Vec<DeliveryView>,
    message: Option<String>,
}

#[derive(Deserialize)]
struct Notice {
    tested: Option<String>,
}

#[get("/admin/notifications")]
async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    notice: web::Query<Notice>,
) -> Result<HttpResponse, AppError> {
    let rows = outbox::recent(&state.db, SHOWN).await?;
    let ids: Vec<i32> = rows.iter().filter_map(|r| r.repository_id).collect();
    let names: HashMap<i32, (String, String)> = if ids.is_empty() {
        HashMap::new()
    } else {
        repositories::Entity::find()
            .filter(repositories::Column::Id.is_in(ids))
            .all(&state.db)
            .await?
            .into_iter()
            .map(|r| (r.id, (r.owner, r.name)))
            .collect()
    };
    let channels = state
        .settings
        .notify
        .channels
        .iter()
        .map(|c| ChannelView {
            name: c.name.clone(),
            kind: c.kind.as_str(),
            url_env: c.url_env.clone(),
            teams: if c.teams.is_empty() { "all".into() } else { c.teams.join(", ") },
            events: c.events.iter().map(|e| e.event().as_str()).collect::<Vec<_>>().join(", "),
            interval: match c.min_interval_hours {
                0 => "none".into(),
                h => format!("{h} h"),
            },
        })
        .collect();
    let deliveries = rows
        .into_iter()
        .map(|r| {
            let repo = r.repository_id.and_then(|id| names.get(&id));
            DeliveryView {
                id: r.id,
                created: view::when(r.created_at),
                channel: r.channel,
                event: r.event.as_str(),
                repository: repo.map(|(o, n)| format!("{o}/{n}")).unwrap_or_else(|| "—".into()),
                href: repo.map(|(o, n)| format!("/repos/{}/{}", view::encode(o), view::encode(n))),
                summary: r.summary,
                status: r.status.as_str(),
                attempts: r.attempts,
                response: r.response_status.map(|s| s.to_string()).unwrap_or_else(|| "—".into()),
                error: r.error.unwrap_or_default(),
                sent: view::when_opt(r.sent_at),
            }
        })
        .collect();
    let message = notice.into_inner().tested.map(|t| format!("Test notification: {t}."));
    let page = NotificationsPage { page: Page::new("Notifications", "admin", &req), channels, deliveries, message };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

#[derive(Deserialize)]
struct TestForm {
    channel: String,
}

/// Sends one test message to a channel now and shows how it went.
#[post("/admin/notifications/test")]
async fn send_test(
    action: Action,
    state: web::Data<AppState>,
    form: web::Form<TestForm>,
) -> Result<HttpResponse, AppError> {
    let notifier = Notifier::new(&state.settings).map_err(|e| AppError::Internal(e.into()))?;
    let row = notifier.send_test(&state.db, &form.channel).await.map_err(|e| match e {
        crate::notify::NotifyError::UnknownChannel(_) => AppError::BadRequest(e.to_string()),
        crate::notify::NotifyError::Db(db) => AppError::Database(db),
    })?;
    tracing::info!(channel = %form.channel, actor = ?action.actor, status = row.status.as_str(), "test notification");
    let outcome = match &row.error {
        Some(error) => format!("{} to {} ({error})", row.status.as_str(), row.channel),
        None => format!("{} to {}", row.status.as_str(), row.channel),
    };
    let location = format!("/admin/notifications?tested={}", view::encode(&outcome));
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, location)).finish())
}
