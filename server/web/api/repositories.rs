//! `/api/v1/repositories`: tracked repositories with their latest score,
//! and the API's Rescan.

use super::jobs::Job;
use super::model::{Level, Severity};
use super::pagination::{Page, PageRequest};
use crate::db::entities::{findings, repositories};
use crate::error::{AppError, ErrorBody};
use crate::jobs::queue;
use crate::jobs::scan_request::{ScanRequest, ScanTrigger};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A tracked repository and a summary of its latest successful scan.
#[derive(Debug, Serialize, ToSchema)]
pub struct Repository {
    pub id: i32,
    /// `github`, `git` or `local`.
    pub provider: String,
    pub owner: String,
    pub name: String,
    pub default_branch: String,
    pub team_id: Option<i32>,
    pub archived: bool,
    /// Disabled repositories are not scanned.
    pub enabled: bool,
    /// Overall score (0–100) of the latest successful scan.
    pub score: Option<f64>,
    pub level: Option<Level>,
    /// The latest finished scan, successful or not.
    pub last_scan_id: Option<i32>,
    pub last_scanned_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The README badge of this repository.
    pub badge_url: String,
}

impl From<repositories::Model> for Repository {
    fn from(r: repositories::Model) -> Self {
        let provider = match r.provider {
            repositories::Provider::Github => "github",
            repositories::Provider::Git => "git",
            repositories::Provider::Local => "local",
        };
        Repository {
            badge_url: format!("/badge/{}/{}.svg", r.owner, r.name),
            id: r.id,
            provider: provider.into(),
            owner: r.owner,
            name: r.name,
            default_branch: r.default_branch,
            team_id: r.team_id,
            archived: r.archived,
            enabled: r.enabled,
            score: r.score,
            level: r.level.as_deref().and_then(Level::parse),
            last_scan_id: r.last_scan_id,
            last_scanned_at: r.last_scanned_at,
            created_at: r.created_at,
        }
    }
}

/// A repository with its category scores and open findings.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepositoryDetail {
    #[serde(flatten)]
    pub repository: Repository,
    /// Category scores of the latest successful scan.
    pub categories: Vec<CategoryScore>,
    /// Open (not fixed, not suppressed) findings per severity.
    pub open_findings: Vec<SeverityCount>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CategoryScore {
    pub category: String,
    pub score: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeverityCount {
    pub severity: Severity,
    pub count: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepositoryFilter {
    /// Only repositories at this level.
    pub level: Option<Level>,
    /// Only repositories of this team.
    pub team_id: Option<i32>,
    /// Only enabled (true) or disabled (false) repositories.
    pub enabled: Option<bool>,
    /// Case-insensitive text that the owner or the name contains.
    pub q: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–200; 50 by default.
    pub limit: Option<u64>,
}

/// List repositories, oldest registered first.
#[utoipa::path(
    tag = "repositories",
    params(RepositoryFilter),
    responses(
        (status = 200, description = "A page of repositories", body = Page<Repository>,
         headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"))),
        (status = 400, description = "A filter or the cursor is invalid", body = ErrorBody),
    )
)]
#[get("/repositories")]
pub(super) async fn list_repositories(
    req: HttpRequest,
    state: web::Data<AppState>,
    filter: web::Query<RepositoryFilter>,
) -> Result<HttpResponse, AppError> {
    let page = PageRequest::new(filter.cursor.as_deref(), filter.limit)?;
    let mut query = repositories::Entity::find();
    if let Some(level) = filter.level {
        query = query.filter(repositories::Column::Level.eq(level.as_str()));
    }
    if let Some(team) = filter.team_id {
        query = query.filter(repositories::Column::TeamId.eq(team));
    }
    if let Some(enabled) = filter.enabled {
        query = query.filter(repositories::Column::Enabled.eq(enabled));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = format!("%{}%", q.to_lowercase().replace(['%', '_'], ""));
        let lower = |c: repositories::Column| Expr::expr(Func::lower(Expr::col(c)));
        query = query.filter(
            sea_orm::Condition::any()
                .add(lower(repositories::Column::Owner).like(&pattern))
                .add(lower(repositories::Column::Name).like(&pattern)),
        );
    }
    let rows = page.select(query, repositories::Column::Id, false).all(&state.db).await?;
    let items: Vec<Repository> = rows.into_iter().map(Repository::from).collect();
    Ok(page.respond(&req, items, |r| r.id))
}

/// One repository.
#[utoipa::path(
    tag = "repositories",
    params(("id" = i32, Path, description = "Repository id")),
    responses(
        (status = 200, description = "The repository", body = RepositoryDetail),
        (status = 404, description = "No such repository", body = ErrorBody),
    )
)]
#[get("/repositories/{id}")]
pub(super) async fn get_repository(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<web::Json<RepositoryDetail>, AppError> {
    let repo = find(&state, *id).await?;
    let categories = match repo.last_scan_id {
        Some(scan) => super::scans::category_scores_of(&state, scan).await?,
        None => Vec::new(),
    };
    let open = findings::Entity::find()
        .filter(findings::Column::RepositoryId.eq(repo.id))
        .filter(findings::Column::State.eq(findings::FindingState::Open))
        .all(&state.db)
        .await?;
    let open_findings = shipshape_analysis::Severity::ALL
        .into_iter()
        .map(Severity::from)
        .map(|severity| SeverityCount {
            severity,
            count: open.iter().filter(|f| f.severity == severity.as_str()).count() as u64,
        })
        .collect();
    Ok(web::Json(RepositoryDetail { repository: repo.into(), categories, open_findings }))
}

/// The job queued by a rescan request.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub job: Job,
    /// True when a scan was already queued and this request was folded into it.
    pub coalesced: bool,
}

/// Queue a scan of the repository (the API's Rescan). A scan already
/// waiting in the queue absorbs the request instead of a second one being
/// queued. Poll the job at the `Location` it answers with.
#[utoipa::path(
    tag = "repositories",
    params(("id" = i32, Path, description = "Repository id")),
    responses(
        (status = 202, description = "The scan is queued", body = Queued,
         headers(("Location" = String, description = "The job's URL"))),
        (status = 401, description = "No valid token or session", body = ErrorBody),
        (status = 403, description = "A read-only token", body = ErrorBody),
        (status = 404, description = "No such repository", body = ErrorBody),
        (status = 409, description = "The repository is archived or disabled", body = ErrorBody),
    )
)]
#[post("/repositories/{id}/scans")]
pub(super) async fn rescan(
    action: crate::web::action::Action,
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let repo = find(&state, *id).await?;
    if repo.archived || !repo.enabled {
        return Err(AppError::Conflict(format!(
            "repository {}/{} is {}; enable it before scanning",
            repo.owner,
            repo.name,
            if repo.archived { "archived" } else { "disabled" }
        )));
    }
    let request = ScanRequest { trigger: ScanTrigger::Api, commit_sha: None, requested_by: action.actor };
    let queued = queue::enqueue_scan(&state.db, repo.id, &request, Utc::now()).await?;
    let job = super::jobs::find(&state, queued.job_id).await?;
    Ok(HttpResponse::Accepted()
        .insert_header(("Location", format!("/api/v1/jobs/{}", job.id)))
        .json(Queued { job, coalesced: queued.coalesced }))
}

async fn find(state: &AppState, id: i32) -> Result<repositories::Model, AppError> {
    repositories::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("repository {id} not found")))
}
