//! `/admin`: configured sources, every repository with its enable switch,
//! and the job queue. Digest recipients are a placeholder until the weekly
//! digest exists.

use super::Page;
use crate::db::entities::repositories;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::action::Action;
use crate::web::view::{self, encode};
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page).service(set_enabled);
}

pub struct SourceView {
    pub url: String,
    pub team: String,
    pub branch: String,
}

pub struct RepoAdminView {
    pub id: i32,
    pub href: String,
    pub name: String,
    pub provider: String,
    pub enabled: bool,
    pub archived: bool,
    pub scanned: String,
}

pub struct JobView {
    pub id: i32,
    pub kind: String,
    pub repo: String,
    pub status: String,
    pub attempts: String,
    pub created: String,
    pub error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin.html")]
pub struct AdminPage {
    pub page: Page,
    pub sources: Vec<SourceView>,
    pub repositories: Vec<RepoAdminView>,
    pub queued: u64,
    pub running: u64,
    pub failed: u64,
    pub succeeded: u64,
    pub jobs: Vec<JobView>,
}

#[get("/admin")]
async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let v = crate::read::admin::view(&state.db).await?;
    let name = |id: Option<i32>| {
        id.and_then(|id| v.repositories.iter().find(|r| r.id == id)).map(|r| format!("{}/{}", r.owner, r.name))
    };
    let page = AdminPage {
        page: Page::new("Admin", "admin", &req),
        sources: state
            .settings
            .repositories
            .iter()
            .map(|s| SourceView {
                url: s.url.clone(),
                team: s.team.clone().unwrap_or_else(|| "—".into()),
                branch: s.branch.clone().unwrap_or_else(|| "default".into()),
            })
            .collect(),
        repositories: v
            .repositories
            .iter()
            .map(|r| RepoAdminView {
                id: r.id,
                href: format!("/repos/{}/{}", encode(&r.owner), encode(&r.name)),
                name: format!("{}/{}", r.owner, r.name),
                provider: format!("{:?}", r.provider).to_lowercase(),
                enabled: r.enabled,
                archived: r.archived,
                scanned: view::when_opt(r.last_scanned_at),
            })
            .collect(),
        queued: v.queue.queued,
        running: v.queue.running,
        failed: v.queue.failed,
        succeeded: v.queue.succeeded,
        jobs: v
            .recent_jobs
            .iter()
            .map(|j| JobView {
                id: j.id,
                kind: format!("{:?}", j.kind).to_lowercase(),
                repo: name(j.repository_id).unwrap_or_else(|| "—".into()),
                status: format!("{:?}", j.status).to_lowercase(),
                attempts: format!("{}/{}", j.attempts, j.max_attempts),
                created: view::when(j.created_at),
                error: j.last_error.clone().unwrap_or_default(),
            })
            .collect(),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

#[derive(Debug, Deserialize)]
struct EnabledForm {
    enabled: String,
}

#[post("/admin/repos/{id}/enabled")]
async fn set_enabled(
    action: Action,
    state: web::Data<AppState>,
    id: web::Path<i32>,
    form: web::Form<EnabledForm>,
) -> Result<HttpResponse, AppError> {
    let enabled = match form.enabled.as_str() {
        "true" => true,
        "false" => false,
        other => return Err(AppError::BadRequest(format!("enabled must be true or false, not {other:?}"))),
    };
    let repo = repositories::Entity::find_by_id(*id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no repository {id}")))?;
    repositories::ActiveModel {
        id: Set(repo.id),
        enabled: Set(enabled),
        updated_at: Set(crate::db::db_time(Utc::now())),
        ..Default::default()
    }
    .update(&state.db)
    .await?;
    tracing::info!(repo.id = repo.id, enabled, "repository switched");
    crate::store::audit::record(
        &state.db,
        action.actor.as_deref().unwrap_or("dashboard"),
        if enabled { "repository.enabled" } else { "repository.disabled" },
        &format!("repository {}/{}", repo.owner, repo.name),
        Some(repo.id),
        "",
        Utc::now(),
    )
    .await?;
    Ok(HttpResponse::SeeOther().insert_header(("Location", "/admin")).finish())
}
