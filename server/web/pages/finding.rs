//! `/findings/{id}`: a finding's timeline, where it has been, its check's
//! documentation, and the suppress / unsuppress forms.

use super::Page;
use super::repository::{FindingView, finding_view};
use crate::db::entities::findings::FindingState;
use crate::error::AppError;
use crate::read::repository::{SourceLink, source_link};
use crate::state::AppState;
use crate::store::suppression::{self, SuppressRequest};
use crate::store::waiver;
use crate::web::action::Action;
use crate::web::view::{self, encode};
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(page).service(suppress).service(unsuppress).service(request_waiver);
}

pub struct EventView {
    pub kind: String,
    pub when: String,
    pub commit: String,
    pub scan: Option<String>,
    pub location: String,
    pub actor: String,
    pub note: String,
}

pub struct LocationView {
    pub location: String,
    pub link: Option<String>,
    pub commit: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "finding.html")]
pub struct FindingPage {
    pub page: Page,
    pub id: i32,
    pub repo_name: String,
    pub repo_href: String,
    pub finding: FindingView,
    pub state: &'static str,
    pub events: Vec<EventView>,
    pub locations: Vec<LocationView>,
    pub title: String,
    pub rationale: String,
    pub fix: String,
    pub campaign: String,
    pub can_suppress: bool,
    pub suppression: Option<(String, String)>,
    pub suppressed_in_repo: bool,
    pub today: String,
    /// The last day a waiver may run.
    pub max_waiver_day: String,
    pub waivers: Vec<WaiverView>,
    /// A waiver is waiting for an admin (no second request).
    pub waiver_pending: bool,
}

/// A waiver as pages show it.
pub struct WaiverView {
    pub id: i32,
    pub status: &'static str,
    pub reason: String,
    pub owner: String,
    pub until: String,
    pub requested: String,
    pub decided: String,
    pub note: String,
}

impl WaiverView {
    pub fn of(w: &crate::db::entities::waivers::Model, now: chrono::DateTime<Utc>) -> WaiverView {
        WaiverView {
            id: w.id,
            status: crate::store::waiver::status_at(w, now),
            reason: w.reason.clone(),
            owner: w.owner.clone(),
            until: w.expires_at.date_naive().to_string(),
            requested: format!("{} by {}", view::when(w.requested_at), w.requested_by),
            decided: match (&w.decided_by, w.decided_at) {
                (Some(by), Some(at)) => format!("{} by {by}", view::when(at)),
                _ => String::new(),
            },
            note: w.decision_note.clone().unwrap_or_default(),
        }
    }
}

#[get("/findings/{id}")]
async fn page(req: HttpRequest, state: web::Data<AppState>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let now = Utc::now();
    let v = crate::read::finding::view(&state.db, *id, now, &state.settings.policy)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no finding {id}")))?;
    let repo = &v.repo;
    let f = &v.finding;
    let page = FindingPage {
        page: Page::new(format!("{} in {}/{}", f.check_id, repo.owner, repo.name), "overview", &req),
        id: f.id,
        repo_name: format!("{}/{}", repo.owner, repo.name),
        repo_href: format!("/repos/{}/{}", encode(&repo.owner), encode(&repo.name)),
        finding: finding_view(repo, v.last_commit.as_deref(), f),
        state: match f.state {
            FindingState::Open => "open",
            FindingState::Fixed => "fixed",
            FindingState::Suppressed => "suppressed",
        },
        events: v
            .events
            .iter()
            .map(|e| EventView {
                kind: format!("{:?}", e.kind).to_lowercase(),
                when: view::when(e.created_at),
                commit: view::short_sha(e.commit_sha.as_deref()),
                scan: e.scan_id.map(|s| format!("/scans/{s}")),
                location: match (&e.path, e.line) {
                    (Some(p), Some(l)) => format!("{p}:{l}"),
                    (Some(p), None) => p.clone(),
                    _ => "—".into(),
                },
                actor: e
                    .actor
                    .clone()
                    .unwrap_or_else(|| if e.scan_id.is_some() { "scan".into() } else { "dashboard".into() }),
                note: e.note.clone().unwrap_or_default(),
            })
            .collect(),
        locations: v
            .locations
            .iter()
            .map(|(path, line, commit)| {
                let (location, link) = match source_link(repo, commit.as_deref(), Some(path), *line) {
                    SourceLink::Url(u) => {
                        (format!("{path}{}", line.map(|l| format!(":{l}")).unwrap_or_default()), Some(u))
                    }
                    SourceLink::Local(p) => (p, None),
                    SourceLink::None => (path.clone(), None),
                };
                LocationView { location, link, commit: view::short_sha(commit.as_deref()) }
            })
            .collect(),
        title: v.spec.as_ref().map(|s| s.title.clone()).unwrap_or_else(|| f.check_id.clone()),
        rationale: v.spec.as_ref().map(|s| s.rationale.clone()).unwrap_or_default(),
        fix: v.spec.as_ref().map(|s| s.fix.clone()).unwrap_or_default(),
        campaign: format!("/checks/{}", encode(&f.check_id)),
        can_suppress: f.state == FindingState::Open,
        suppression: v.suppression.as_ref().map(|s| {
            (s.reason.clone(), s.expires_at.map(|t| t.date_naive().to_string()).unwrap_or_else(|| "never".into()))
        }),
        suppressed_in_repo: f.state == FindingState::Suppressed && v.suppression.is_none(),
        today: now.date_naive().to_string(),
        max_waiver_day: (now.date_naive() + chrono::Duration::days(waiver::MAX_DAYS)).to_string(),
        waiver_pending: v.waivers.iter().any(|w| w.status == crate::db::entities::waivers::WaiverStatus::Requested),
        waivers: v.waivers.iter().map(|w| WaiverView::of(w, now)).collect(),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

#[derive(Debug, Deserialize)]
struct SuppressForm {
    reason: String,
    #[serde(default)]
    expires: String,
}

fn back(id: i32) -> HttpResponse {
    HttpResponse::SeeOther().insert_header(("Location", format!("/findings/{id}"))).finish()
}

#[post("/findings/{id}/suppress")]
async fn suppress(
    action: Action,
    state: web::Data<AppState>,
    id: web::Path<i32>,
    form: web::Form<SuppressForm>,
) -> Result<HttpResponse, AppError> {
    let expires = match form.expires.trim() {
        "" => None,
        s => Some(
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| AppError::BadRequest(format!("expiry {s:?} is not a date like 2026-12-31")))?,
        ),
    };
    let request = SuppressRequest { reason: &form.reason, expires, actor: action.actor.as_deref() };
    suppression::suppress(&state.db, *id, &request, Utc::now()).await?;
    Ok(back(*id))
}

#[derive(Debug, Deserialize)]
struct WaiverForm {
    reason: String,
    owner: String,
    expires: String,
}

/// Anyone signed in may ask; an admin decides on /admin/waivers.
#[post("/findings/{id}/waivers")]
async fn request_waiver(
    action: Action,
    state: web::Data<AppState>,
    id: web::Path<i32>,
    form: web::Form<WaiverForm>,
) -> Result<HttpResponse, AppError> {
    let expires = NaiveDate::parse_from_str(form.expires.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::BadRequest(format!("expiry {:?} is not a date like 2026-12-31", form.expires)))?;
    let who = action.actor.as_deref().unwrap_or("dashboard");
    let request = waiver::WaiverRequest { reason: &form.reason, owner: &form.owner, expires, requested_by: who };
    waiver::request(&state.db, *id, &request, Utc::now()).await?;
    Ok(back(*id))
}

#[post("/findings/{id}/unsuppress")]
async fn unsuppress(action: Action, state: web::Data<AppState>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    suppression::unsuppress(&state.db, *id, action.actor.as_deref(), Utc::now()).await?;
    Ok(back(*id))
}
