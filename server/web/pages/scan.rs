//! `/scans/{id}`: how one scan went and what it changed.

use super::Page;
use super::repository::{FindingView, finding_view};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::view::{self, Badge, encode};
use actix_web::{HttpRequest, HttpResponse, Responder, get, web};
use askama::Template;
use askama_web::WebTemplate;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page);
}

#[derive(Template, WebTemplate)]
#[template(path = "scan.html")]
pub struct ScanPage {
    pub page: Page,
    pub id: i32,
    pub repo_name: String,
    pub repo_href: String,
    pub status: String,
    pub trigger: String,
    pub commit: String,
    pub queued: String,
    pub started: String,
    pub finished: String,
    pub duration: String,
    pub error: Option<String>,
    pub score: String,
    pub level: Badge,
    pub previous: Option<(String, String, String)>,
    pub new: Vec<FindingView>,
    pub fixed: Vec<FindingView>,
    pub analyzer: String,
    pub files: String,
}

#[get("/scans/{id}")]
async fn page(req: HttpRequest, state: web::Data<AppState>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let v =
        crate::read::scan::view(&state.db, *id).await?.ok_or_else(|| AppError::NotFound(format!("no scan {id}")))?;
    let (s, repo) = (&v.scan, &v.repo);
    let commit = s.commit_sha.as_deref();
    let page = ScanPage {
        page: Page::new(format!("Scan {} of {}/{}", s.id, repo.owner, repo.name), "overview", &req),
        id: s.id,
        repo_name: format!("{}/{}", repo.owner, repo.name),
        repo_href: format!("/repos/{}/{}", encode(&repo.owner), encode(&repo.name)),
        status: format!("{:?}", s.status).to_lowercase(),
        trigger: s.trigger.clone(),
        commit: commit.unwrap_or("—").to_string(),
        queued: view::when(s.queued_at),
        started: view::when_opt(s.started_at),
        finished: view::when_opt(s.finished_at),
        duration: s.duration_ms.map(|d| format!("{:.2} s", d as f64 / 1000.0)).unwrap_or_else(|| "—".into()),
        error: s.error.clone(),
        score: view::score(s.overall_score),
        level: view::level(s.level.as_deref()),
        previous: v
            .previous
            .as_ref()
            .map(|p| (format!("/scans/{}", p.id), view::when_opt(p.finished_at), view::score(p.overall_score))),
        new: v.new.iter().map(|f| finding_view(repo, commit, f)).collect(),
        fixed: v.fixed.iter().map(|f| finding_view(repo, commit, f)).collect(),
        analyzer: s.analyzer_version.clone(),
        files: s.files_scanned.map(|n| n.to_string()).unwrap_or_else(|| "—".into()),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}
