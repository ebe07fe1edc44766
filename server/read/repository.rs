//! The repository page: its latest scan (stack, score, level and verdict,
//! category scores, strengths), its open and suppressed findings, its scan
//! history and whether a scan is queued or running.

use super::team_names;
use crate::db::entities::findings::{self, FindingState};
use crate::db::entities::jobs::{self, JobKind, JobStatus};
use crate::db::entities::repositories::{self, Provider};
use crate::db::entities::scans::{self, ScanStatus};
use crate::db::entities::{category_scores, check_results, finding_events, scan_reports, suppressions};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use shipshape_analysis::{Category, Report, Severity, Stack};

/// Scans listed in the history.
pub const HISTORY: u64 = 20;

#[derive(Debug, Clone)]
pub struct RepositoryView {
    pub repo: repositories::Model,
    pub team: Option<String>,
    pub latest: Option<scans::Model>,
    pub stack: Option<Stack>,
    /// Why the level is what it is (from the stored report).
    pub verdict: Option<String>,
    /// Checks that take effect later, with what they would find today
    /// (from the stored report: their findings are not findings yet).
    pub upcoming: Vec<shipshape_analysis::CheckResult>,
    pub categories: Vec<(String, f64)>,
    /// Passing checks with the evidence that proves it.
    pub strengths: Vec<check_results::Model>,
    /// Open findings grouped by category, worst severity first within each.
    pub open: Vec<(String, Vec<findings::Model>)>,
    pub suppressed: Vec<Suppressed>,
    pub history: Vec<scans::Model>,
    pub job: Option<jobs::Model>,
}

/// A suppressed finding with why and until when.
#[derive(Debug, Clone)]
pub struct Suppressed {
    pub finding: findings::Model,
    pub reason: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Made in the dashboard (and so revocable there).
    pub dashboard: bool,
}

fn severity_rank(s: &str) -> usize {
    Severity::parse(s).and_then(|s| Severity::ALL.iter().position(|x| *x == s)).unwrap_or(usize::MAX)
}

fn category_rank(s: &str) -> usize {
    Category::parse(s).and_then(|c| Category::ALL.iter().position(|x| *x == c)).unwrap_or(usize::MAX)
}

/// The queued or running scan job of a repository, if any.
///
/// # Errors
/// Database errors.
pub async fn pending_job<C: ConnectionTrait>(db: &C, repo: i32) -> Result<Option<jobs::Model>, DbErr> {
    jobs::Entity::find()
        .filter(jobs::Column::RepositoryId.eq(repo))
        .filter(jobs::Column::Kind.eq(JobKind::Scan))
        .filter(jobs::Column::Status.is_in([JobStatus::Queued, JobStatus::Running]))
        .order_by_desc(jobs::Column::Id)
        .one(db)
        .await
}

/// Everything the repository page shows.
///
/// # Errors
/// Database errors.
pub async fn view<C: ConnectionTrait>(
    db: &C,
    repo: repositories::Model,
    now: DateTime<Utc>,
) -> Result<RepositoryView, DbErr> {
    let team = match repo.team_id {
        Some(t) => team_names(db).await?.remove(&t),
        None => None,
    };
    let latest = match repo.last_scan_id {
        Some(id) => scans::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let scan_id = latest.as_ref().map(|s| s.id).unwrap_or(-1);
    let report = stored_report(db, scan_id).await?;
    let mut categories: Vec<(String, f64)> = category_scores::Entity::find()
        .filter(category_scores::Column::ScanId.eq(scan_id))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.category, c.score))
        .collect();
    categories.sort_by_key(|(c, _)| category_rank(c));
    let strengths = check_results::Entity::find()
        .filter(check_results::Column::ScanId.eq(scan_id))
        .filter(check_results::Column::Outcome.eq("pass"))
        .filter(check_results::Column::Evidence.is_not_null())
        .order_by_asc(check_results::Column::CheckId)
        .all(db)
        .await?;
    let all = findings::Entity::find()
        .filter(findings::Column::RepositoryId.eq(repo.id))
        .filter(findings::Column::State.ne(FindingState::Fixed))
        .all(db)
        .await?;
    let (mut open, suppressed_rows): (Vec<_>, Vec<_>) = all.into_iter().partition(|f| f.state == FindingState::Open);
    open.sort_by(|a, b| {
        (category_rank(&a.category), severity_rank(&a.severity), &a.path, a.line, a.id).cmp(&(
            category_rank(&b.category),
            severity_rank(&b.severity),
            &b.path,
            b.line,
            b.id,
        ))
    });
    let mut grouped: Vec<(String, Vec<findings::Model>)> = Vec::new();
    for f in open {
        match grouped.last_mut() {
            Some((c, list)) if *c == f.category => list.push(f),
            _ => grouped.push((f.category.clone(), vec![f])),
        }
    }
    let suppressed = suppressed_details(db, suppressed_rows, now).await?;
    let history = scans::Entity::find()
        .filter(scans::Column::RepositoryId.eq(repo.id))
        .order_by_desc(scans::Column::Id)
        .limit(HISTORY)
        .all(db)
        .await?;
    let job = pending_job(db, repo.id).await?;
    Ok(RepositoryView {
        stack: latest.as_ref().and_then(|s| s.stack.clone()).and_then(|v| serde_json::from_value(v).ok()),
        upcoming: report.as_ref().map(|r| r.upcoming().cloned().collect()).unwrap_or_default(),
        verdict: report.map(|r| r.level_reason),
        team,
        latest,
        categories,
        strengths,
        open: grouped,
        suppressed,
        history,
        job,
        repo,
    })
}

async fn suppressed_details<C: ConnectionTrait>(
    db: &C,
    rows: Vec<findings::Model>,
    now: DateTime<Utc>,
) -> Result<Vec<Suppressed>, DbErr> {
    let ids: Vec<i32> = rows.iter().map(|f| f.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let notes = finding_events::Entity::find()
        .filter(finding_events::Column::FindingId.is_in(ids.clone()))
        .filter(finding_events::Column::Kind.eq(finding_events::EventKind::Suppressed))
        .order_by_asc(finding_events::Column::Id)
        .all(db)
        .await?;
    let dashboard = suppressions::Entity::find()
        .filter(suppressions::Column::FindingId.is_in(ids))
        .filter(suppressions::Column::RevokedAt.is_null())
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|finding| {
            let by_ui = dashboard
                .iter()
                .rev()
                .find(|s| s.finding_id == Some(finding.id) && s.expires_at.is_none_or(|e| e > now));
            let note = notes.iter().rev().find(|e| e.finding_id == finding.id).and_then(|e| e.note.clone());
            Suppressed {
                reason: by_ui.map(|s| s.reason.clone()).or(note),
                expires_at: by_ui.and_then(|s| s.expires_at),
                dashboard: by_ui.is_some(),
                finding,
            }
        })
        .collect())
}

/// The report a successful scan stored, if it stored one.
///
/// # Errors
/// Database errors.
pub async fn stored_report<C: ConnectionTrait>(db: &C, scan_id: i32) -> Result<Option<Report>, DbErr> {
    Ok(scan_reports::Entity::find_by_id(scan_id).one(db).await?.and_then(|r| serde_json::from_value(r.report).ok()))
}

/// The latest successful scan's report of a repository.
///
/// # Errors
/// Database errors.
pub async fn latest_report<C: ConnectionTrait>(db: &C, repo: &repositories::Model) -> Result<Option<Report>, DbErr> {
    let last_ok = scans::Entity::find()
        .filter(scans::Column::RepositoryId.eq(repo.id))
        .filter(scans::Column::Status.eq(ScanStatus::Succeeded))
        .order_by_desc(scans::Column::Id)
        .one(db)
        .await?;
    match last_ok {
        Some(s) => stored_report(db, s.id).await,
        None => Ok(None),
    }
}

/// Where a finding's line can be read: on GitHub at the scanned commit, or
/// as a path on the server's disk for local repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceLink {
    Url(String),
    Local(String),
    None,
}

/// The link for `path:line` at `commit` in `repo`.
pub fn source_link(
    repo: &repositories::Model,
    commit: Option<&str>,
    path: Option<&str>,
    line: Option<i32>,
) -> SourceLink {
    let Some(path) = path else { return SourceLink::None };
    match repo.provider {
        Provider::Github => {
            let rev = commit.unwrap_or(&repo.default_branch);
            let anchor = line.map(|l| format!("#L{l}")).unwrap_or_default();
            SourceLink::Url(format!("https://github.com/{}/{}/blob/{rev}/{path}{anchor}", repo.owner, repo.name))
        }
        Provider::Local => {
            let root = repo.clone_url.trim_start_matches("file://").trim_end_matches('/');
            let at = line.map(|l| format!(":{l}")).unwrap_or_default();
            SourceLink::Local(format!("{root}/{path}{at}"))
        }
        Provider::Git => SourceLink::Local(format!("{path}{}", line.map(|l| format!(":{l}")).unwrap_or_default())),
    }
}
