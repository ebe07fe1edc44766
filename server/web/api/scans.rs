//! `/api/v1/scans`: the scan history of every repository, and one scan with
//! its category scores and check outcomes.

use super::model::{Level, RunStatus, Severity};
use super::pagination::{Page, PageRequest};
use super::repositories::CategoryScore;
use crate::db::entities::scans::ScanStatus;
use crate::db::entities::{category_scores, check_results, scans};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One scan of one repository.
#[derive(Debug, Serialize, ToSchema)]
pub struct Scan {
    pub id: i32,
    pub repository_id: i32,
    /// The commit scanned; absent when the checkout failed.
    pub commit_sha: Option<String>,
    /// What asked for it: `schedule`, `webhook`, `manual`, `api` or `demo`.
    pub trigger: String,
    pub status: RunStatus,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// Why a failed scan failed.
    pub error: Option<String>,
    pub analyzer_version: String,
    /// Overall score (0–100) of a successful scan.
    pub score: Option<f64>,
    pub level: Option<Level>,
    pub files_scanned: Option<i64>,
}

impl From<scans::Model> for Scan {
    fn from(s: scans::Model) -> Self {
        Scan {
            id: s.id,
            repository_id: s.repository_id,
            commit_sha: s.commit_sha,
            trigger: s.trigger,
            status: s.status.into(),
            queued_at: s.queued_at,
            started_at: s.started_at,
            finished_at: s.finished_at,
            duration_ms: s.duration_ms,
            error: s.error,
            analyzer_version: s.analyzer_version,
            score: s.overall_score,
            level: s.level.as_deref().and_then(Level::parse),
            files_scanned: s.files_scanned,
        }
    }
}

/// A scan with what it found.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScanDetail {
    #[serde(flatten)]
    pub scan: Scan,
    /// The detected stack (languages, frameworks, …) as the analyzer reported it.
    #[schema(value_type = Option<Object>)]
    pub stack: Option<serde_json::Value>,
    pub categories: Vec<CategoryScore>,
    pub checks: Vec<CheckOutcome>,
}

/// The outcome of one check in one scan.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOutcome {
    pub check_id: String,
    pub category: String,
    pub severity: Option<Severity>,
    /// `pass`, `fail`, `not_applicable`, `error` or `upcoming` (takes effect
    /// later: shown, not counted).
    pub outcome: String,
    pub summary: String,
    pub findings_count: i32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScanFilter {
    /// Only scans of this repository.
    pub repository_id: Option<i32>,
    /// Only scans in this state.
    pub status: Option<RunStatus>,
    /// Only scans with this trigger (`schedule`, `webhook`, `manual`, `api`, `demo`).
    pub trigger: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–200; 50 by default.
    pub limit: Option<u64>,
}

/// List scans, newest first.
#[utoipa::path(
    tag = "scans",
    params(ScanFilter),
    responses(
        (status = 200, description = "A page of scans", body = Page<Scan>,
         headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"))),
        (status = 400, description = "A filter or the cursor is invalid", body = ErrorBody),
    )
)]
#[get("/scans")]
pub(super) async fn list_scans(
    req: HttpRequest,
    state: web::Data<AppState>,
    filter: web::Query<ScanFilter>,
) -> Result<HttpResponse, AppError> {
    let page = PageRequest::new(filter.cursor.as_deref(), filter.limit)?;
    let mut query = scans::Entity::find();
    if let Some(repo) = filter.repository_id {
        query = query.filter(scans::Column::RepositoryId.eq(repo));
    }
    if let Some(status) = filter.status {
        query = query.filter(scans::Column::Status.eq(ScanStatus::from(status)));
    }
    if let Some(trigger) = &filter.trigger {
        query = query.filter(scans::Column::Trigger.eq(trigger.as_str()));
    }
    let rows = page.select(query, scans::Column::Id, true).all(&state.db).await?;
    let items: Vec<Scan> = rows.into_iter().map(Scan::from).collect();
    Ok(page.respond(&req, items, |s| s.id))
}

/// One scan.
#[utoipa::path(
    tag = "scans",
    params(("id" = i32, Path, description = "Scan id")),
    responses(
        (status = 200, description = "The scan", body = ScanDetail),
        (status = 404, description = "No such scan", body = ErrorBody),
    )
)]
#[get("/scans/{id}")]
pub(super) async fn get_scan(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<web::Json<ScanDetail>, AppError> {
    let id = *id;
    let scan = scans::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("scan {id} not found")))?;
    let categories = category_scores_of(&state, id).await?;
    let checks = check_results::Entity::find()
        .filter(check_results::Column::ScanId.eq(id))
        .order_by_asc(check_results::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| CheckOutcome {
            severity: Severity::parse(&c.severity),
            check_id: c.check_id,
            category: c.category,
            outcome: c.outcome,
            summary: c.summary,
            findings_count: c.findings_count,
        })
        .collect();
    let stack = scan.stack.clone();
    Ok(web::Json(ScanDetail { scan: scan.into(), stack, categories, checks }))
}

/// The category scores of a scan, in the order the analysis reported them.
pub(super) async fn category_scores_of(state: &AppState, scan_id: i32) -> Result<Vec<CategoryScore>, AppError> {
    Ok(category_scores::Entity::find()
        .filter(category_scores::Column::ScanId.eq(scan_id))
        .order_by_asc(category_scores::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| CategoryScore { category: c.category, score: c.score })
        .collect())
}
