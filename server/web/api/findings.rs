//! `/api/v1/findings`: problems found in repositories, tracked across scans,
//! and one finding with its history of events.

use super::model::{FindingState, Severity};
use super::pagination::{Page, PageRequest};
use crate::db::entities::finding_events::{self, EventKind};
use crate::db::entities::findings;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// One problem in one repository, identified across scans.
#[derive(Debug, Serialize, ToSchema)]
pub struct Finding {
    pub id: i32,
    pub repository_id: i32,
    pub check_id: String,
    pub category: String,
    pub severity: Option<Severity>,
    pub state: FindingState,
    pub message: String,
    /// File and line at the latest scan that saw it; absent for
    /// repository-level findings (something missing).
    pub path: Option<String>,
    pub line: Option<i32>,
    /// What was found, masked if it may hold a secret.
    pub evidence: String,
    pub first_seen_scan_id: i32,
    pub last_seen_scan_id: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<findings::Model> for Finding {
    fn from(f: findings::Model) -> Self {
        Finding {
            id: f.id,
            repository_id: f.repository_id,
            severity: Severity::parse(&f.severity),
            check_id: f.check_id,
            category: f.category,
            state: f.state.into(),
            message: f.message,
            path: f.path,
            line: f.line,
            evidence: f.evidence,
            first_seen_scan_id: f.first_seen_scan_id,
            last_seen_scan_id: f.last_seen_scan_id,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

/// A finding and its timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingDetail {
    #[serde(flatten)]
    pub finding: Finding,
    /// Oldest first.
    pub events: Vec<FindingEvent>,
}

/// One change in a finding's life.
#[derive(Debug, Serialize, ToSchema)]
pub struct FindingEvent {
    /// `opened`, `fixed`, `reopened`, `moved`, `suppressed` or `unsuppressed`.
    pub kind: String,
    pub scan_id: Option<i32>,
    pub path: Option<String>,
    pub line: Option<i32>,
    pub commit_sha: Option<String>,
    pub actor: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<finding_events::Model> for FindingEvent {
    fn from(e: finding_events::Model) -> Self {
        let kind = match e.kind {
            EventKind::Opened => "opened",
            EventKind::Fixed => "fixed",
            EventKind::Reopened => "reopened",
            EventKind::Moved => "moved",
            EventKind::Suppressed => "suppressed",
            EventKind::Unsuppressed => "unsuppressed",
        };
        FindingEvent {
            kind: kind.into(),
            scan_id: e.scan_id,
            path: e.path,
            line: e.line,
            commit_sha: e.commit_sha,
            actor: e.actor,
            note: e.note,
            created_at: e.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindingFilter {
    /// Only findings of this repository.
    pub repository_id: Option<i32>,
    /// Only findings in this state.
    pub state: Option<FindingState>,
    /// Only findings of this severity.
    pub severity: Option<Severity>,
    /// Only findings of this check (its id, e.g. `debug-enabled`).
    pub check: Option<String>,
    /// Only findings of this category (e.g. `security`).
    pub category: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page, 1–200; 50 by default.
    pub limit: Option<u64>,
}

/// List findings, newest first.
#[utoipa::path(
    tag = "findings",
    params(FindingFilter),
    responses(
        (status = 200, description = "A page of findings", body = Page<Finding>,
         headers(("Link" = String, description = "`<url>; rel=\"next\"` when another page follows"))),
        (status = 400, description = "A filter or the cursor is invalid", body = ErrorBody),
    )
)]
#[get("/findings")]
pub(super) async fn list_findings(
    req: HttpRequest,
    state: web::Data<AppState>,
    filter: web::Query<FindingFilter>,
) -> Result<HttpResponse, AppError> {
    let page = PageRequest::new(filter.cursor.as_deref(), filter.limit)?;
    let mut query = findings::Entity::find();
    if let Some(repo) = filter.repository_id {
        query = query.filter(findings::Column::RepositoryId.eq(repo));
    }
    if let Some(s) = filter.state {
        query = query.filter(findings::Column::State.eq(findings::FindingState::from(s)));
    }
    if let Some(severity) = filter.severity {
        query = query.filter(findings::Column::Severity.eq(severity.as_str()));
    }
    if let Some(check) = &filter.check {
        query = query.filter(findings::Column::CheckId.eq(check.as_str()));
    }
    if let Some(category) = &filter.category {
        query = query.filter(findings::Column::Category.eq(category.as_str()));
    }
    let rows = page.select(query, findings::Column::Id, true).all(&state.db).await?;
    let items: Vec<Finding> = rows.into_iter().map(Finding::from).collect();
    Ok(page.respond(&req, items, |f| f.id))
}

/// One finding with its timeline.
#[utoipa::path(
    tag = "findings",
    params(("id" = i32, Path, description = "Finding id")),
    responses(
        (status = 200, description = "The finding", body = FindingDetail),
        (status = 404, description = "No such finding", body = ErrorBody),
    )
)]
#[get("/findings/{id}")]
pub(super) async fn get_finding(
    state: web::Data<AppState>,
    id: web::Path<i32>,
) -> Result<web::Json<FindingDetail>, AppError> {
    let id = *id;
    let finding = findings::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("finding {id} not found")))?;
    let events = finding_events::Entity::find()
        .filter(finding_events::Column::FindingId.eq(id))
        .order_by_asc(finding_events::Column::CreatedAt)
        .order_by_asc(finding_events::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .map(FindingEvent::from)
        .collect();
    Ok(web::Json(FindingDetail { finding: finding.into(), events }))
}
