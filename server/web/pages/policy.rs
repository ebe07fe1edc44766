//! `/admin/waivers` (the queue of waiver requests and recent decisions) and
//! `/admin/audit` (every administrative decision).

use super::Page;
use super::finding::WaiverView;
use crate::db::entities::{findings, repositories};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{audit, waiver};
use crate::web::action::Action;
use crate::web::view;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use std::collections::HashMap;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(waivers_page).service(decide).service(audit_page);
}

/// A waiver with what it waives.
pub struct QueuedWaiver {
    pub waiver: WaiverView,
    pub finding_href: String,
    pub finding: String,
    pub repo: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "waivers.html")]
struct WaiversPage {
    page: Page,
    pending: Vec<QueuedWaiver>,
    decided: Vec<QueuedWaiver>,
}

async fn describe(
    state: &AppState,
    rows: &[crate::db::entities::waivers::Model],
) -> Result<Vec<QueuedWaiver>, AppError> {
    let now = Utc::now();
    let ids: Vec<i32> = rows.iter().map(|w| w.finding_id).collect();
    let found: HashMap<i32, findings::Model> = findings::Entity::find()
        .filter(findings::Column::Id.is_in(ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let repo_ids: Vec<i32> = rows.iter().map(|w| w.repository_id).collect();
    let repos: HashMap<i32, String> = repositories::Entity::find()
        .filter(repositories::Column::Id.is_in(repo_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.id, format!("{}/{}", r.owner, r.name)))
        .collect();
    Ok(rows
        .iter()
        .map(|w| QueuedWaiver {
            waiver: WaiverView::of(w, now),
            finding_href: format!("/findings/{}", w.finding_id),
            finding: found.get(&w.finding_id).map_or_else(
                || w.check_id.clone(),
                |f| {
                    format!(
                        "{} · {}{}",
                        f.check_id,
                        f.path.clone().unwrap_or_default(),
                        f.line.map(|l| format!(":{l}")).unwrap_or_default()
                    )
                },
            ),
            repo: repos.get(&w.repository_id).cloned().unwrap_or_default(),
        })
        .collect())
}

#[get("/admin/waivers")]
async fn waivers_page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let (pending, decided) = waiver::queue(&state.db, 100).await?;
    let page = WaiversPage {
        page: Page::new("Waivers", "admin", &req),
        pending: describe(&state, &pending).await?,
        decided: describe(&state, &decided).await?,
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

#[derive(Debug, Deserialize)]
struct Decision {
    decision: String,
    #[serde(default)]
    note: String,
}

#[post("/admin/waivers/{id}")]
async fn decide(
    action: Action,
    state: web::Data<AppState>,
    id: web::Path<i32>,
    form: web::Form<Decision>,
) -> Result<HttpResponse, AppError> {
    let admin = action.actor.as_deref().unwrap_or("dashboard");
    let note = Some(form.note.as_str());
    match form.decision.as_str() {
        "approve" => waiver::approve(&state.db, *id, admin, note, Utc::now()).await?,
        "reject" => waiver::reject(&state.db, *id, admin, note, Utc::now()).await?,
        other => return Err(AppError::BadRequest(format!("decision must be approve or reject, not {other:?}"))),
    };
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, "/admin/waivers")).finish())
}

pub struct AuditRow {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "audit.html")]
struct AuditPage {
    page: Page,
    rows: Vec<AuditRow>,
}

#[get("/admin/audit")]
async fn audit_page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let rows = audit::latest(&state.db, 500)
        .await?
        .into_iter()
        .map(|a| AuditRow {
            when: view::when(a.at),
            actor: a.actor,
            action: a.action,
            subject: a.subject,
            detail: a.detail,
        })
        .collect();
    let page = AuditPage { page: Page::new("Audit log", "admin", &req), rows };
    Ok(page.respond_to(&req).map_into_boxed_body())
}
