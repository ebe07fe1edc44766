//! `/repos/{owner}/{name}`: the repository page, its Rescan action and the
//! scan-status fragment htmx polls until the scan is done, and the report
//! downloads (rendered by the analysis core's own renderers from the report
//! the scan stored).

use super::{Page, RangeLink, range_links};
use crate::db::entities::jobs::{self, JobStatus};
use crate::db::entities::repositories;
use crate::error::AppError;
use crate::jobs::queue;
use crate::jobs::scan_request::{ScanRequest, ScanTrigger};
use crate::read::repository::{self as read, SourceLink};
use crate::state::AppState;
use crate::web::action::Action;
use crate::web::charts::RangeQuery;
use crate::web::view::{self, Badge, encode};
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;
use sea_orm::EntityTrait;
use serde::Deserialize;
use shipshape_analysis::report::Format;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(download).service(scan_status).service(rescan).service(page);
}

pub struct FindingView {
    pub href: String,
    pub severity: Badge,
    pub check_id: String,
    pub message: String,
    pub evidence: String,
    pub location: String,
    pub link: Option<String>,
}

pub struct SuppressedView {
    pub finding: FindingView,
    pub reason: String,
    pub expires: String,
    pub source: &'static str,
}

pub struct ScanRow {
    pub href: String,
    pub when: String,
    pub trigger: String,
    pub status: String,
    pub commit: String,
    pub score: String,
    pub level: Badge,
    pub duration: String,
}

/// A check that takes effect later and what it would find today.
pub struct UpcomingView {
    pub check_id: String,
    pub title: String,
    pub severity: Badge,
    pub effective: String,
    pub summary: String,
    /// `path:line — message` of each finding it would count (first 20).
    pub findings: Vec<String>,
    pub more: usize,
}

pub struct Strength {
    pub check_id: String,
    pub summary: String,
}

/// The Rescan area: idle, or a scan waiting/running that htmx polls.
#[derive(Template, WebTemplate)]
#[template(path = "partials/scan_status.html")]
pub struct ScanStatus {
    pub base: String,
    /// The repository's latest scan when the page was drawn.
    pub after: i32,
    pub pending: Option<String>,
    pub message: Option<String>,
    /// For the Rescan form when htmx is not there to send the header.
    pub csrf: String,
}

/// One explained score change.
pub struct ChangeView {
    pub when: String,
    pub scan_href: String,
    pub commit: String,
    pub scores: String,
    pub delta: String,
    /// `up`, `down` or `same`, for colour.
    pub direction: &'static str,
    pub level: Option<String>,
    /// "analyzer 0.1.0 → 0.2.0", "checks (policy) a1b2c3 → d4e5f6".
    pub versions: Vec<String>,
    /// (check id, its page, outcome before → after, why)
    pub checks: Vec<(String, String, String, String)>,
}

impl ChangeView {
    fn of(c: &crate::read::changes::ScoreChange) -> ChangeView {
        let delta = c.delta().unwrap_or(0.0);
        let mut versions = Vec::new();
        if let Some((a, b)) = &c.analyzer {
            versions.push(format!("analyzer {a} → {b}"));
        }
        if let Some((a, b)) = &c.policy {
            versions.push(format!("check catalogue (policy) {a} → {b}"));
        }
        ChangeView {
            when: view::when(c.at),
            scan_href: format!("/scans/{}", c.scan_id),
            commit: view::short_sha(c.commit.as_deref()),
            scores: format!("{} → {}", view::score(c.score_before), view::score(c.score_after)),
            delta: format!("{delta:+.1}"),
            direction: if delta > 0.0 {
                "up"
            } else if delta < 0.0 {
                "down"
            } else {
                "same"
            },
            level: (c.level_before != c.level_after).then(|| {
                format!(
                    "{} → {}",
                    view::level(c.level_before.as_deref()).label,
                    view::level(c.level_after.as_deref()).label
                )
            }),
            versions,
            checks: c
                .checks
                .iter()
                .map(|k| {
                    let outcome = |o: &Option<String>| o.clone().unwrap_or_else(|| "—".into());
                    (
                        k.check_id.clone(),
                        format!("/checks/{}", encode(&k.check_id)),
                        format!("{} → {}", outcome(&k.before), outcome(&k.after)),
                        k.why.clone(),
                    )
                })
                .collect(),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "repository.html")]
pub struct RepositoryPage {
    pub page: Page,
    pub full_name: String,
    pub base: String,
    pub team: String,
    pub level: Badge,
    pub score: String,
    pub verdict: String,
    pub scanned: String,
    pub commit: String,
    pub enabled: bool,
    pub stack: Vec<(&'static str, String)>,
    pub categories: Vec<(String, String, f64)>,
    pub days: i64,
    pub ranges: Vec<RangeLink>,
    pub open_count: usize,
    pub open: Vec<(String, Vec<FindingView>)>,
    pub suppressed: Vec<SuppressedView>,
    pub strengths: Vec<Strength>,
    pub upcoming: Vec<UpcomingView>,
    pub history: Vec<ScanRow>,
    /// Why the score moved, newest first.
    pub changes: Vec<ChangeView>,
    /// The rendered Rescan area (`ScanStatus`), also served alone to htmx.
    pub status: String,
    pub has_report: bool,
}

async fn find(state: &AppState, owner: &str, name: &str) -> Result<repositories::Model, AppError> {
    crate::read::repository_by_name(&state.db, owner, name)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no repository {owner}/{name} is tracked")))
}

fn base(repo: &repositories::Model) -> String {
    format!("/repos/{}/{}", encode(&repo.owner), encode(&repo.name))
}

pub fn finding_view(
    repo: &repositories::Model,
    commit: Option<&str>,
    f: &crate::db::entities::findings::Model,
) -> FindingView {
    let (location, link) = match read::source_link(repo, commit, f.path.as_deref(), f.line) {
        SourceLink::Url(url) => (
            format!("{}{}", f.path.clone().unwrap_or_default(), f.line.map(|l| format!(":{l}")).unwrap_or_default()),
            Some(url),
        ),
        SourceLink::Local(path) => (path, None),
        SourceLink::None => ("repository".into(), None),
    };
    FindingView {
        href: format!("/findings/{}", f.id),
        severity: view::severity(&f.severity),
        check_id: f.check_id.clone(),
        message: f.message.clone(),
        // A repository-level finding's evidence repeats its message.
        evidence: if f.evidence == f.message { String::new() } else { f.evidence.clone() },
        location,
        link,
    }
}

fn upcoming_view(c: &shipshape_analysis::CheckResult) -> UpcomingView {
    const SHOWN: usize = 20;
    let active: Vec<&shipshape_analysis::Finding> = c.active_findings().collect();
    UpcomingView {
        check_id: c.check_id.clone(),
        title: c.title.clone(),
        severity: view::severity(c.severity.as_str()),
        effective: c.effective.map(|d| d.to_string()).unwrap_or_default(),
        summary: c.summary.clone(),
        findings: active
            .iter()
            .take(SHOWN)
            .map(|f| match &f.location {
                Some(l) => format!("{l} — {}", f.message),
                None => f.message.clone(),
            })
            .collect(),
        more: active.len().saturating_sub(SHOWN),
    }
}

fn job_label(job: &jobs::Model) -> String {
    match job.status {
        JobStatus::Running => format!("Scan running (attempt {})…", job.attempts),
        _ => "Scan queued…".into(),
    }
}

#[get("/repos/{owner}/{name}")]
async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    let now = Utc::now();
    let repo = find(&state, &path.0, &path.1).await?;
    let v = read::view(&state.db, repo, now).await?;
    let repo = &v.repo;
    let base = base(repo);
    let days = q.days();
    let commit = v.latest.as_ref().and_then(|s| s.commit_sha.clone());
    let stack = v
        .stack
        .as_ref()
        .map(|s| {
            let mut langs: Vec<(&String, &u32)> = s.languages.iter().collect();
            langs.sort_by(|a, b| b.1.cmp(a.1));
            let list = |v: &[String]| if v.is_empty() { "—".to_string() } else { v.join(", ") };
            vec![
                (
                    "Languages",
                    if langs.is_empty() {
                        "—".into()
                    } else {
                        langs.iter().map(|(l, n)| format!("{l} ({n} files)")).collect::<Vec<_>>().join(", ")
                    },
                ),
                ("Frameworks", list(&s.frameworks)),
                ("ORMs", list(&s.orms)),
                ("Deploys to", list(&s.deploy_targets)),
                ("CI", list(&s.ci)),
                ("Manifests", list(&s.manifests)),
            ]
        })
        .unwrap_or_default();
    let open_count = v.open.iter().map(|(_, l)| l.len()).sum();
    let page = RepositoryPage {
        page: Page::new(format!("{}/{}", repo.owner, repo.name), "overview", &req),
        full_name: format!("{}/{}", repo.owner, repo.name),
        team: v.team.clone().unwrap_or_else(|| "no team".into()),
        level: view::level(repo.level.as_deref()),
        score: view::score(repo.score),
        verdict: v.verdict.clone().unwrap_or_default(),
        scanned: view::when_opt(repo.last_scanned_at),
        commit: view::short_sha(commit.as_deref()),
        enabled: repo.enabled && !repo.archived,
        stack,
        categories: v.categories.iter().map(|(c, s)| (c.clone(), view::score(Some(*s)), *s)).collect(),
        ranges: range_links(days, |d| format!("{base}?days={d}")),
        days,
        open_count,
        open: v
            .open
            .iter()
            .map(|(c, list)| (c.clone(), list.iter().map(|f| finding_view(repo, commit.as_deref(), f)).collect()))
            .collect(),
        suppressed: v
            .suppressed
            .iter()
            .map(|s| SuppressedView {
                finding: finding_view(repo, commit.as_deref(), &s.finding),
                reason: s.reason.clone().unwrap_or_else(|| "—".into()),
                expires: s.expires_at.map(|t| t.date_naive().to_string()).unwrap_or_else(|| "never".into()),
                source: if s.dashboard { "dashboard" } else { "repository" },
            })
            .collect(),
        strengths: v
            .strengths
            .iter()
            .map(|c| Strength { check_id: c.check_id.clone(), summary: c.summary.clone() })
            .collect(),
        upcoming: v.upcoming.iter().map(upcoming_view).collect(),
        history: v
            .history
            .iter()
            .map(|s| ScanRow {
                href: format!("/scans/{}", s.id),
                when: view::when_opt(s.finished_at.or(s.started_at)),
                trigger: s.trigger.clone(),
                status: format!("{:?}", s.status).to_lowercase(),
                commit: view::short_sha(s.commit_sha.as_deref()),
                score: view::score(s.overall_score),
                level: view::level(s.level.as_deref()),
                duration: s.duration_ms.map(|d| format!("{:.1} s", d as f64 / 1000.0)).unwrap_or_else(|| "—".into()),
            })
            .collect(),
        changes: crate::read::changes::recent(&state.db, repo.id, 10).await?.iter().map(ChangeView::of).collect(),
        status: ScanStatus {
            base: base.clone(),
            after: repo.last_scan_id.unwrap_or(0),
            pending: v.job.as_ref().map(job_label),
            message: None,
            csrf: crate::auth::Viewer::of(&req).csrf,
        }
        .render()
        .map_err(|e| AppError::Internal(e.into()))?,
        has_report: v.latest.is_some(),
        base,
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

#[post("/repos/{owner}/{name}/rescan")]
async fn rescan(
    req: HttpRequest,
    action: Action,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let repo = find(&state, &path.0, &path.1).await?;
    if !repo.enabled || repo.archived {
        return Err(AppError::Conflict(format!(
            "{}/{} is disabled or archived; enable it on the admin page first",
            repo.owner, repo.name
        )));
    }
    let request = ScanRequest { trigger: ScanTrigger::Manual, commit_sha: None, requested_by: action.actor };
    let queued = queue::enqueue_scan(&state.db, repo.id, &request, Utc::now()).await?;
    tracing::info!(repo.id = repo.id, job.id = queued.job_id, coalesced = queued.coalesced, "rescan requested");
    let job = jobs::Entity::find_by_id(queued.job_id).one(&state.db).await?;
    let status = ScanStatus {
        base: base(&repo),
        after: repo.last_scan_id.unwrap_or(0),
        pending: Some(job.as_ref().map(job_label).unwrap_or_else(|| "Scan queued…".into())),
        message: None,
        csrf: crate::auth::Viewer::of(&req).csrf,
    };
    // A plain form post (no htmx) comes back to the page.
    if !req.headers().contains_key("hx-request") {
        return Ok(HttpResponse::SeeOther().insert_header(("Location", base(&repo))).finish());
    }
    Ok(status.respond_to(&req).map_into_boxed_body())
}

#[derive(Debug, Deserialize)]
struct StatusQuery {
    after: Option<i32>,
}

#[get("/repos/{owner}/{name}/scan-status")]
async fn scan_status(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<StatusQuery>,
) -> Result<HttpResponse, AppError> {
    let repo = find(&state, &path.0, &path.1).await?;
    let after = q.after.unwrap_or(0);
    let pending = read::pending_job(&state.db, repo.id).await?;
    let latest = repo.last_scan_id.unwrap_or(0);
    let mut status = ScanStatus {
        base: base(&repo),
        after,
        pending: pending.as_ref().map(job_label),
        message: None,
        csrf: crate::auth::Viewer::of(&req).csrf,
    };
    if pending.is_none() {
        status.message = Some(if latest != after {
            format!(
                "Scan finished: score {} ({}). Reload to see the results.",
                view::score(repo.score),
                view::level(repo.level.as_deref()).label
            )
        } else {
            "The scan did not finish; see the scan history and the admin page's queue.".into()
        });
        let mut res = status.respond_to(&req).map_into_boxed_body();
        if latest != after {
            // The page behind the fragment is stale: htmx reloads it.
            res.headers_mut().insert(
                actix_web::http::header::HeaderName::from_static("hx-refresh"),
                actix_web::http::header::HeaderValue::from_static("true"),
            );
        }
        return Ok(res);
    }
    Ok(status.respond_to(&req).map_into_boxed_body())
}

#[get("/repos/{owner}/{name}/report.{format}")]
async fn download(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, AppError> {
    let (owner, name, ext) = path.into_inner();
    let (format, mime) = match ext.as_str() {
        "md" => (Format::Markdown, "text/markdown; charset=utf-8"),
        "json" => (Format::Json, "application/json"),
        "sarif" => (Format::Sarif, "application/sarif+json"),
        other => return Err(AppError::NotFound(format!("no report format {other}; use md, json or sarif"))),
    };
    let repo = find(&state, &owner, &name).await?;
    let report = read::latest_report(&state.db, &repo)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("{owner}/{name} has no successful scan with a stored report yet")))?;
    let body = shipshape_analysis::report::render(&report, format, false);
    Ok(HttpResponse::Ok()
        .content_type(mime)
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}-shipshape.{ext}\"")))
        .body(body))
}
