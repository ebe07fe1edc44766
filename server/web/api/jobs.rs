//! `/api/v1/jobs/{id}`: where a queued scan is, for clients polling after a
//! Rescan.

use super::model::RunStatus;
use crate::db::entities::jobs::{self, JobKind};
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;
use actix_web::{get, web};
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde::Serialize;
use utoipa::ToSchema;

/// A unit of background work.
#[derive(Debug, Serialize, ToSchema)]
pub struct Job {
    pub id: i32,
    /// `scan`, `discover`, `digest` or `retention`.
    pub kind: String,
    pub status: RunStatus,
    pub repository_id: Option<i32>,
    /// Higher runs first.
    pub priority: i32,
    /// Attempts so far, including a running one.
    pub attempts: i32,
    pub max_attempts: i32,
    /// Not started before this instant.
    pub run_after: DateTime<Utc>,
    /// The error of the latest failed attempt.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<jobs::Model> for Job {
    fn from(j: jobs::Model) -> Self {
        let kind = match j.kind {
            JobKind::Scan => "scan",
            JobKind::Discover => "discover",
            JobKind::Digest => "digest",
            JobKind::Retention => "retention",
        };
        Job {
            id: j.id,
            kind: kind.into(),
            status: j.status.into(),
            repository_id: j.repository_id,
            priority: j.priority,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            run_after: j.run_after,
            last_error: j.last_error,
            created_at: j.created_at,
            finished_at: j.finished_at,
        }
    }
}

/// One job. Finished jobs are pruned after `scheduler.retention_days`.
#[utoipa::path(
    tag = "jobs",
    params(("id" = i32, Path, description = "Job id")),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 404, description = "No such job", body = ErrorBody),
    )
)]
#[get("/jobs/{id}")]
pub(super) async fn get_job(state: web::Data<AppState>, id: web::Path<i32>) -> Result<web::Json<Job>, AppError> {
    Ok(web::Json(find(&state, *id).await?))
}

pub(super) async fn find(state: &AppState, id: i32) -> Result<Job, AppError> {
    jobs::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .map(Job::from)
        .ok_or_else(|| AppError::NotFound(format!("job {id} not found")))
}
