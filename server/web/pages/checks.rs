//! `/checks`: the catalogue with how many repositories fail each check;
//! `/checks/{id}`: the campaign view listing them.

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
}

fn check_view(spec: &shipshape_analysis::checks::CheckSpec, failing: i64) -> CheckView {
    CheckView {
        id: spec.id.into(),
        href: format!("/checks/{}", encode(spec.id)),
        title: spec.title.into(),
        category: spec.category.as_str().into(),
        severity: view::severity(spec.severity.as_str()),
        rationale: spec.rationale.into(),
        fix: spec.fix.into(),
        failing,
    }
}

#[get("/checks")]
async fn catalogue(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let entries = crate::read::checks::catalogue(&state.db).await?;
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
    let spec = shipshape_analysis::checks::spec(&id)
        .ok_or_else(|| AppError::NotFound(format!("no check {id}; the catalogue at /checks lists them all")))?;
    let failing = crate::read::checks::campaign(&state.db, spec.id).await?;
    let page = CampaignPage {
        page: Page::new(spec.title, "checks", &req),
        check: check_view(&spec, failing.len() as i64),
        failing: failing
            .into_iter()
            .map(|f| FailingView {
                href: format!("/repos/{}/{}", encode(&f.owner), encode(&f.name)),
                repo: format!("{}/{}", f.owner, f.name),
                team: f.team.unwrap_or_else(|| "—".into()),
                summary: f.summary,
                findings: f.findings,
            })
            .collect(),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}
