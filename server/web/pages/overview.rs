//! `/`: the org's score and trend, level counts, the repository table
//! (sorted, filtered and paginated through the query string, so a view can
//! be shared; htmx swaps only the table) and what needs attention.

use super::{Page, RangeLink, range_links};
use crate::error::AppError;
use crate::read::overview::{self, RepoRow, SortKey, TableQuery};
use crate::state::AppState;
use crate::web::charts::RangeQuery;
use crate::web::view::{self, Badge, encode};
use actix_web::{HttpRequest, HttpResponse, Responder, get, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;
use serde::Deserialize;

/// Days a critical or high finding counts as new.
pub const ATTENTION_DAYS: i64 = 14;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(index);
}

/// The query string of the overview: every field optional, empty means unset.
#[derive(Debug, Default, Deserialize)]
pub struct Params {
    team: Option<String>,
    level: Option<String>,
    language: Option<String>,
    q: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<String>,
    days: Option<i64>,
}

fn some(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

impl Params {
    fn table(&self) -> TableQuery {
        TableQuery {
            team: some(&self.team),
            level: some(&self.level),
            language: some(&self.language),
            q: some(&self.q),
            sort: self.sort.as_deref().and_then(SortKey::parse).unwrap_or_default(),
            desc: self.dir.as_deref() == Some("desc"),
            page: self.page.as_deref().and_then(|p| p.parse().ok()).unwrap_or(1),
        }
    }
}

/// The URL of the overview showing `q` (and the trend over `days`).
fn href(q: &TableQuery, days: i64) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in [("team", &q.team), ("level", &q.level), ("language", &q.language), ("q", &q.q)] {
        if let Some(v) = v {
            parts.push(format!("{k}={}", encode(v)));
        }
    }
    if q.sort != SortKey::Name || q.desc {
        parts.push(format!("sort={}&dir={}", q.sort.as_str(), if q.desc { "desc" } else { "asc" }));
    }
    if q.page > 1 {
        parts.push(format!("page={}", q.page));
    }
    if days != crate::web::charts::RANGES[0] {
        parts.push(format!("days={days}"));
    }
    if parts.is_empty() { "/".into() } else { format!("/?{}", parts.join("&")) }
}

pub struct SortHeader {
    pub label: &'static str,
    pub href: String,
    /// `ascending`, `descending` or `none`, for aria-sort.
    pub aria: &'static str,
    pub arrow: &'static str,
}

pub struct RowView {
    pub href: String,
    pub full_name: String,
    pub team: String,
    pub level: Badge,
    pub score: String,
    pub change: String,
    pub change_class: &'static str,
    pub language: String,
    pub findings: i64,
    pub scanned: String,
    pub spark: String,
}

pub struct TableView {
    pub headers: Vec<SortHeader>,
    pub rows: Vec<RowView>,
    pub matching: usize,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub sort: &'static str,
    pub dir: &'static str,
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct AttentionView {
    pub href: String,
    pub repo: String,
    pub check_id: String,
    pub severity: Badge,
    pub message: String,
    pub opened: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "overview.html")]
pub struct OverviewPage {
    pub page: Page,
    pub score: String,
    pub repositories: usize,
    pub levels: Vec<(Badge, usize)>,
    pub not_scanned: usize,
    pub days: i64,
    pub ranges: Vec<RangeLink>,
    pub chart: String,
    pub table: TableView,
    pub teams: Vec<Choice>,
    pub level_choices: Vec<Choice>,
    pub languages: Vec<Choice>,
    pub q: String,
    pub attention: Vec<AttentionView>,
    pub attention_days: i64,
    /// Active campaigns, nearest deadline first.
    pub campaigns: Vec<super::campaigns::CampaignRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "partials/repo_table.html")]
pub struct TablePartial {
    pub table: TableView,
}

fn choices(values: impl Iterator<Item = String>, selected: Option<&str>) -> Vec<Choice> {
    let mut v: Vec<String> = values.collect();
    v.sort();
    v.dedup();
    v.into_iter()
        .map(|value| Choice { selected: Some(value.as_str()) == selected, label: value.clone(), value })
        .collect()
}

fn table_view(rows: Vec<RepoRow>, q: &TableQuery, days: i64) -> TableView {
    let total = rows.len();
    let now = Utc::now();
    let page = overview::table(rows, q);
    let labels = ["Repository", "Team", "Level", "Score", "7-day change", "Language", "Open findings", "Last scan"];
    let headers = SortKey::ALL
        .iter()
        .zip(labels)
        .map(|(&key, label)| {
            let current = q.sort == key;
            // Numbers start with the largest, words with A.
            let first_desc =
                matches!(key, SortKey::Score | SortKey::Change | SortKey::Findings | SortKey::Scanned | SortKey::Level);
            let desc = if current { !q.desc } else { first_desc };
            SortHeader {
                label,
                href: href(&TableQuery { sort: key, desc, page: 1, ..q.clone() }, days),
                aria: match (current, q.desc) {
                    (false, _) => "none",
                    (true, false) => "ascending",
                    (true, true) => "descending",
                },
                arrow: match (current, q.desc) {
                    (false, _) => "",
                    (true, false) => "↑",
                    (true, true) => "↓",
                },
            }
        })
        .collect();
    let rows = page
        .rows
        .into_iter()
        .map(|r| {
            let (change, change_class) = view::change(r.change_7d);
            RowView {
                href: format!("/repos/{}/{}", encode(&r.owner), encode(&r.name)),
                spark: format!("/charts/repos/{}/{}/spark.svg", encode(&r.owner), encode(&r.name)),
                full_name: format!("{}/{}", r.owner, r.name),
                team: r.team.unwrap_or_else(|| "—".into()),
                level: view::level(r.level.as_deref()),
                score: view::score(r.score),
                change,
                change_class,
                language: r.language.unwrap_or_else(|| "—".into()),
                findings: r.open_findings,
                scanned: r.last_scanned_at.map(|t| view::ago(t, now)).unwrap_or_else(|| "never".into()),
            }
        })
        .collect();
    let at = |p: usize| href(&TableQuery { page: p, ..q.clone() }, days);
    TableView {
        headers,
        rows,
        matching: page.matching,
        total,
        prev: (page.page > 1).then(|| at(page.page - 1)),
        next: (page.page < page.pages).then(|| at(page.page + 1)),
        page: page.page,
        pages: page.pages,
        sort: q.sort.as_str(),
        dir: if q.desc { "desc" } else { "asc" },
    }
}

#[get("/")]
async fn index(
    req: HttpRequest,
    state: web::Data<AppState>,
    params: web::Query<Params>,
) -> Result<HttpResponse, AppError> {
    let now = Utc::now();
    let q = params.table();
    let days = RangeQuery { days: params.days }.days();
    let rows = state.memos.rows.get_or_try((), || overview::rows(&state.db, now)).await?;
    let rows: Vec<overview::RepoRow> = rows.as_ref().clone();
    // htmx asks for the table alone when a header, a filter or a page link is used.
    if req.headers().get("hx-target").and_then(|v| v.to_str().ok()) == Some("repo-table") {
        return Ok(TablePartial { table: table_view(rows, &q, days) }.respond_to(&req).map_into_boxed_body());
    }
    let summary = overview::summary(&rows);
    let attention = overview::needs_attention(&state.db, now, ATTENTION_DAYS, 10)
        .await?
        .into_iter()
        .map(|a| AttentionView {
            href: format!("/findings/{}", a.finding_id),
            repo: format!("{}/{}", a.owner, a.name),
            severity: view::severity(&a.severity),
            check_id: a.check_id,
            message: a.message,
            opened: view::ago(a.opened_at, now),
        })
        .collect();
    let campaigns = crate::campaigns::active(&state.db, now)
        .await?
        .iter()
        .map(|p| super::campaigns::CampaignRow::of(p, now.date_naive()))
        .collect();
    let page = OverviewPage {
        campaigns,
        page: Page::new("Overview", "overview", &req),
        score: view::score(summary.score),
        repositories: summary.repositories,
        levels: summary.levels.iter().map(|(l, n)| (view::level(Some(l)), *n)).collect(),
        not_scanned: summary.not_scanned,
        ranges: range_links(days, |d| href(&TableQuery { page: q.page, ..q.clone() }, d)),
        chart: format!("/charts/org.svg?days={days}"),
        days,
        teams: choices(rows.iter().filter_map(|r| r.team.clone()), q.team.as_deref()),
        level_choices: shipshape_analysis::Level::ALL
            .iter()
            .rev()
            .map(|l| Choice {
                value: l.as_str().into(),
                label: view::level(Some(l.as_str())).label.into(),
                selected: q.level.as_deref() == Some(l.as_str()),
            })
            .collect(),
        languages: choices(rows.iter().filter_map(|r| r.language.clone()), q.language.as_deref()),
        q: q.q.clone().unwrap_or_default(),
        attention,
        attention_days: ATTENTION_DAYS,
        table: table_view(rows, &q, days),
    };
    Ok(page.respond_to(&req).map_into_boxed_body())
}
