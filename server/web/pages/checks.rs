//! `/checks`: the catalogue (built-in and custom checks of the policy) with
//! how many repositories fail each check; `/checks/{id}`: the campaign view
//! listing them, and for a check that takes effect later, the repositories
//! it would fail.

use super::Page;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::view::{self, Badge, encode};
use actix_web::{HttpRequest, HttpResponse, Responder, get, web};
use askama::Template;
use askama_web::WebTemplate;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(catalogue).service(campaign);
}

pub struct CheckView {
    pub id: String,
    pub href: String,
    pub title: String,
    pub category: String,
    pub severity: Badge,
    pub rationale: String,
    pub fix: String,
    pub failing: i64,
    /// "custom (config, policy.toml:12)" for a custom check; empty for built-ins.
    pub origin: String,
    /// The date it takes effect, when the policy gives one.
    pub effective: String,
    /// That date is still ahead: the check is upcoming.
    pub upcoming: bool,
}

pub struct FailingView {
    pub href: String,
    pub repo: String,
    pub team: String,
    pub summary: String,
    pub findings: i32,
}

#[derive(Template, WebTemplate)]
#[template(path = "checks.html")]
pub struct CataloguePage {
    pub page: Page,
    pub checks: Vec<CheckView>,
}

#[derive(Template, WebTemplate)]
#[template(path = "check.html")]
pub struct CampaignPage {
    pub page: Page,
    pub check: CheckView,
    pub failing: Vec<FailingView>,
    /// For an upcoming check: the repositories it would fail once in effect.
    pub would_fail: Vec<FailingView>,
}

fn check_view(spec: &shipshape_analysis::checks::CheckInfo, failing: i64) -> CheckView {
    let today = chrono::Utc::now().date_naive();
    CheckView {
        id: spec.id.clone(),
        href: format!("/checks/{}", encode(&spec.id)),
        title: spec.title.clone(),
        category: spec.category.as_str().into(),
        severity: view::severity(spec.severity.as_str()),
        rationale: spec.rationale.clone(),
        fix: spec.fix.clone(),
        failing,
        origin: spec
            .custom
            .as_ref()
            .map(|o| format!("custom {}, defined at {}:{}", o.kind, o.file, o.line))
            .unwrap_or_default(),
        effective: spec.effective.map(|d| d.to_string()).unwrap_or_default(),
        upcoming: spec.effective.is_some_and(|d| d > today),
    }
}

fn failing_view(f: crate::read::checks::Failing) -> FailingView {
    FailingView {
        href: format!("/repos/{}/{}", encode(&f.owner), encode(&f.name)),
        repo: format!("{}/{}", f.owner, f.name),
        team: f.team.unwrap_or_else(|| "—".into()),
        summary: f.summary,
        findings: f.findings,
    }
}

#[get("/checks")]
async fn catalogue(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let entries = crate::read::checks::catalogue(&state.db, &state.settings.policy).await?;
    let page = CataloguePage {
        page: Page::new("Checks", "checks", &req),
        checks: entries.iter().map(|e| check_view(&e.spec, e.failing)).collect(),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

#[get("/checks/{id}")]
async fn campaign(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let spec = state
        .settings
        .policy
        .info(&id)
        .ok_or_else(|| AppError::NotFound(format!("no check {id}; the catalogue at /checks lists them all")))?;
    let failing = crate::read::checks::campaign(&state.db, &spec.id).await?;
    let would_fail = crate::read::checks::would_fail(&state.db, &spec.id).await?;
    let page = CampaignPage {
        page: Page::new(&spec.title, "checks", &req),
        check: check_view(&spec, failing.len() as i64),
        failing: failing.into_iter().map(failing_view).collect(),
        would_fail: would_fail.into_iter().map(failing_view).collect(),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}
