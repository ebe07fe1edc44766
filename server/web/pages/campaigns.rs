//! Campaigns: `/campaigns` (all of them), `/campaigns/{id}` (burn-down and
//! who owns what is left), and for admins `/admin/campaigns/new` with the
//! form that starts one and the button that closes it.

use super::Page;
use crate::campaigns::{self, NewCampaign, Progress, Selection};
use crate::db::entities::campaigns as entity;
use crate::error::AppError;
use crate::state::AppState;
use crate::web::action::Action;
use crate::web::view::encode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder, get, post, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::{NaiveDate, Utc};
use sea_orm::EntityTrait;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(list).service(detail).service(new_form).service(create).service(close);
}

/// A campaign in a list.
pub struct CampaignRow {
    pub href: String,
    pub title: String,
    pub checks: String,
    pub scope: String,
    pub deadline: String,
    pub done: usize,
    pub total: usize,
    /// Whole percent done.
    pub percent: usize,
    pub status: &'static str,
}

impl CampaignRow {
    pub fn of(p: &Progress, today: NaiveDate) -> CampaignRow {
        let done = p.total - p.remaining.len();
        CampaignRow {
            href: format!("/campaigns/{}", p.campaign.id),
            title: p.campaign.title.clone(),
            checks: p.checks.join(", "),
            scope: p.selection.describe(),
            deadline: p.campaign.deadline.to_string(),
            done,
            total: p.total,
            percent: (done * 100).checked_div(p.total).unwrap_or(100),
            status: if !p.active() {
                "closed"
            } else if p.remaining.is_empty() {
                "done"
            } else if p.campaign.deadline < today {
                "overdue"
            } else {
                "active"
            },
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "campaigns.html")]
struct ListPage {
    page: Page,
    campaigns: Vec<CampaignRow>,
}

#[get("/campaigns")]
async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let now = Utc::now();
    let mut rows = Vec::new();
    for c in campaigns::all(&state.db).await? {
        rows.push(CampaignRow::of(&campaigns::progress(&state.db, c, now).await?, now.date_naive()));
    }
    let page = ListPage { page: Page::new("Campaigns", "campaigns", &req), campaigns: rows };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

/// What is left, by owning team.
pub struct OwnerGroup {
    pub team: String,
    /// (repository, its page, the campaign checks it fails or "not scanned yet")
    pub repos: Vec<(String, String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "campaign.html")]
struct DetailPage {
    page: Page,
    id: i32,
    row: CampaignRow,
    description: String,
    created: String,
    checks: Vec<(String, String)>,
    owners: Vec<OwnerGroup>,
    open: bool,
}

#[get("/campaigns/{id}")]
async fn detail(req: HttpRequest, state: web::Data<AppState>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let now = Utc::now();
    let c = entity::Entity::find_by_id(*id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no campaign {id}; /campaigns lists them all")))?;
    let p = campaigns::progress(&state.db, c, now).await?;
    let owners = p
        .by_owner()
        .into_iter()
        .map(|(team, repos)| OwnerGroup {
            team,
            repos: repos
                .iter()
                .map(|r| {
                    let (owner, name) = r.name.split_once('/').unwrap_or(("", &r.name));
                    let what = if r.failing.is_empty() { "not scanned yet".to_string() } else { r.failing.join(", ") };
                    (r.name.clone(), format!("/repos/{}/{}", encode(owner), encode(name)), what)
                })
                .collect(),
        })
        .collect();
    let page = DetailPage {
        page: Page::new(p.campaign.title.clone(), "campaigns", &req),
        id: p.campaign.id,
        row: CampaignRow::of(&p, now.date_naive()),
        description: p.campaign.description.clone(),
        created: format!("{} by {}", p.campaign.created_at.date_naive(), p.campaign.created_by),
        checks: p.checks.iter().map(|c| (c.clone(), format!("/checks/{}", encode(c)))).collect(),
        owners,
        open: p.active(),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

#[derive(Template, WebTemplate)]
#[template(path = "campaign_new.html")]
struct NewPage {
    page: Page,
    checks: Vec<(String, String)>,
    teams: Vec<String>,
    languages: Vec<String>,
    levels: Vec<&'static str>,
    repositories: Vec<String>,
    min_deadline: String,
}

#[get("/admin/campaigns/new")]
async fn new_form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let rows = crate::read::overview::rows(&state.db, Utc::now()).await?;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v.dedup();
        v
    };
    let page = NewPage {
        page: Page::new("New campaign", "campaigns", &req),
        checks: state
            .settings
            .policy
            .catalogue()
            .into_iter()
            .map(|c| (c.id.clone(), format!("{} ({})", c.title, c.id)))
            .collect(),
        teams: sorted(rows.iter().filter_map(|r| r.team.clone()).collect()),
        languages: sorted(rows.iter().filter_map(|r| r.language.clone()).collect()),
        levels: shipshape_analysis::Level::ALL.iter().map(|l| l.as_str()).collect(),
        repositories: sorted(rows.iter().map(|r| format!("{}/{}", r.owner, r.name)).collect()),
        min_deadline: Utc::now().date_naive().to_string(),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}

/// The form repeats keys (one `check` per ticked box), which `web::Form` cannot collect.
#[post("/admin/campaigns")]
async fn create(action: Action, state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, AppError> {
    let mut fields: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        fields.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    let take = |k: &str| fields.get(k).cloned().unwrap_or_default();
    let one = |k: &str| take(k).into_iter().next().unwrap_or_default();
    let deadline = NaiveDate::parse_from_str(one("deadline").trim(), "%Y-%m-%d")
        .map_err(|_| AppError::BadRequest(format!("deadline {:?} is not a date like 2026-12-31", one("deadline"))))?;
    let lines = |k: &str| -> Vec<String> {
        take(k)
            .iter()
            .flat_map(|v| v.split([',', '\n']))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let selection = Selection {
        teams: take("team"),
        levels: take("level"),
        languages: take("language"),
        repositories: lines("repositories"),
        resolved: Vec::new(),
    };
    let title = one("title");
    let description = one("description");
    let made = campaigns::create(
        &state.db,
        NewCampaign {
            title: &title,
            description: &description,
            checks: campaigns::check_list(&take("check")),
            selection,
            deadline,
            created_by: action.actor.as_deref().unwrap_or("dashboard"),
        },
        &state.settings.policy,
        Utc::now(),
    )
    .await?;
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/campaigns/{}", made.id))).finish())
}

#[post("/admin/campaigns/{id}/close")]
async fn close(action: Action, state: web::Data<AppState>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    campaigns::close(&state.db, *id, action.actor.as_deref().unwrap_or("dashboard"), Utc::now()).await?;
    Ok(HttpResponse::SeeOther().insert_header((header::LOCATION, format!("/campaigns/{id}"))).finish())
}
