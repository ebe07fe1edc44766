//! `/teams`: rollups per team.

use super::Page;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::view::{self, Badge, encode};
use actix_web::{HttpRequest, HttpResponse, Responder, get, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page);
}

pub struct TeamView {
    pub name: String,
    pub href: String,
    pub repositories: usize,
    pub score: String,
    pub levels: Vec<(Badge, usize)>,
    pub open_findings: i64,
    pub urgent: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "teams.html")]
pub struct TeamsPage {
    pub page: Page,
    pub teams: Vec<TeamView>,
}

#[get("/teams")]
async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let rows = crate::read::overview::rows(&state.db, Utc::now()).await?;
    let teams = crate::read::teams::rollups(&state.db, &rows).await?;
    let page = TeamsPage {
        page: Page::new("Teams", "teams", &req),
        teams: teams
            .into_iter()
            .map(|t| TeamView {
                href: t.name.as_deref().map(|n| format!("/?team={}", encode(n))).unwrap_or_else(|| "/".into()),
                name: t.name.unwrap_or_else(|| "No team".into()),
                repositories: t.repositories,
                score: view::score(t.score),
                levels: t.levels.iter().filter(|(_, n)| *n > 0).map(|(l, n)| (view::level(Some(l)), *n)).collect(),
                open_findings: t.open_findings,
                urgent: t.urgent,
            })
            .collect(),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}
