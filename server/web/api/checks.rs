//! `/api/v1/checks`: the check catalogue with how many repositories fail
//! each check at their latest scan, and per check which ones (the
//! "campaign" view).

use super::model::Severity;
use super::pagination::Page;
use crate::error::{AppError, ErrorBody};
use crate::state::AppState;
use actix_web::{get, web};
use sea_orm::{ConnectionTrait, Statement};
use serde::{Deserialize, Serialize};
use shipshape_analysis::checks::CheckInfo;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};

/// A readiness check and its documentation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Check {
    /// Stable kebab-case id.
    pub id: String,
    pub title: String,
    pub category: String,
    pub severity: Severity,
    /// Why it matters.
    pub rationale: String,
    /// How to fix a failure.
    pub fix: String,
    /// A custom check of the server's policy (not built in).
    pub custom: bool,
    /// The date (YYYY-MM-DD) the check counts from, when the policy gives
    /// one; before it its outcome is `upcoming`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    /// Repositories whose latest scan fails this check.
    pub failing_repositories: u64,
}

/// A check and the repositories failing it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckDetail {
    #[serde(flatten)]
    pub check: Check,
    pub failing: Vec<FailingRepository>,
}

/// A repository whose latest scan fails a check.
#[derive(Debug, Serialize, ToSchema)]
pub struct FailingRepository {
    pub repository_id: i32,
    pub owner: String,
    pub name: String,
    pub scan_id: i32,
    pub findings_count: i32,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CheckFilter {
    /// Only checks of this category (e.g. `security`).
    pub category: Option<String>,
    /// Only checks of this severity.
    pub severity: Option<Severity>,
}

/// The whole catalogue, in catalogue order, on one page.
#[utoipa::path(
    tag = "checks",
    params(CheckFilter),
    responses(
        (status = 200, description = "Every check", body = Page<Check>),
        (status = 400, description = "A filter is invalid", body = ErrorBody),
    )
)]
#[get("/checks")]
pub(super) async fn list_checks(
    state: web::Data<AppState>,
    filter: web::Query<CheckFilter>,
) -> Result<web::Json<Page<Check>>, AppError> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for (check, _) in failing(&state, None).await? {
        *counts.entry(check).or_default() += 1;
    }
    let count = |id: &str| counts.get(id).copied().unwrap_or(0);
    let items = state
        .settings
        .policy
        .catalogue()
        .into_iter()
        .filter(|s| filter.category.as_deref().is_none_or(|c| s.category.as_str() == c))
        .filter(|s| filter.severity.is_none_or(|v| Severity::from(s.severity) == v))
        .map(|s| {
            let n = count(&s.id);
            check(s, n)
        })
        .collect();
    Ok(web::Json(Page { items, next_cursor: None, next: None }))
}

/// One check and the repositories failing it.
#[utoipa::path(
    tag = "checks",
    params(("id" = String, Path, description = "Check id, e.g. `debug-enabled`")),
    responses(
        (status = 200, description = "The check", body = CheckDetail),
        (status = 404, description = "No such check", body = ErrorBody),
    )
)]
#[get("/checks/{id}")]
pub(super) async fn get_check(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<web::Json<CheckDetail>, AppError> {
    let spec = state.settings.policy.info(&id).ok_or_else(|| AppError::NotFound(format!("check {id:?} not found")))?;
    let failing: Vec<FailingRepository> = failing(&state, Some(&spec.id)).await?.into_iter().map(|(_, r)| r).collect();
    Ok(web::Json(CheckDetail { check: check(spec, failing.len() as u64), failing }))
}

fn check(s: CheckInfo, failing_repositories: u64) -> Check {
    Check {
        category: s.category.as_str().into(),
        severity: s.severity.into(),
        custom: s.custom.is_some(),
        effective: s.effective.map(|d| d.to_string()),
        id: s.id,
        title: s.title,
        rationale: s.rationale,
        fix: s.fix,
        failing_repositories,
    }
}

/// Failing check results of every repository's latest scan, optionally of one check.
async fn failing(state: &AppState, check: Option<&str>) -> Result<Vec<(String, FailingRepository)>, AppError> {
    let mut sql = "SELECT cr.check_id AS check_id, r.id AS repository_id, r.owner AS owner, r.name AS name, \
                   cr.scan_id AS scan_id, cr.findings_count AS findings_count \
                   FROM check_results cr JOIN repositories r ON r.last_scan_id = cr.scan_id \
                   WHERE cr.outcome = 'fail'"
        .to_string();
    let mut values = Vec::new();
    if let Some(id) = check {
        sql.push_str(" AND cr.check_id = $1");
        values.push(id.into());
    }
    sql.push_str(" ORDER BY r.owner, r.name");
    let db = &state.db;
    let rows = db.query_all_raw(Statement::from_sql_and_values(db.get_database_backend(), sql, values)).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("", "check_id")?,
                FailingRepository {
                    repository_id: row.try_get("", "repository_id")?,
                    owner: row.try_get("", "owner")?,
                    name: row.try_get("", "name")?,
                    scan_id: row.try_get("", "scan_id")?,
                    findings_count: row.try_get("", "findings_count")?,
                },
            ))
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(AppError::from)
}
