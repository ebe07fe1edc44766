//! What a digest says, computed from the scan history for one scope and one
//! week: read-only, and a function of the week (not of when it runs), so a
//! retry on Tuesday sends what Monday's attempt would have.

use super::period::Week;
use crate::db::db_time;
use crate::db::entities::{repositories, teams};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Statement, Value};
use std::collections::{HashMap, HashSet};

/// How many regressions, improvements and findings a digest lists by name.
const TOP: usize = 5;
const LISTED_FINDINGS: usize = 10;
/// Weeks of history in the chart.
pub const TREND_WEEKS: usize = 8;

/// Whose digest: the whole org, or one team's repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Org,
    Team { slug: String, name: String, id: Option<i32> },
}

impl Scope {
    /// `org` or `team:<slug>`, as stored in `digest_runs` and `digest_recipients`.
    pub fn key(&self) -> String {
        match self {
            Scope::Org => "org".into(),
            Scope::Team { slug, .. } => format!("team:{slug}"),
        }
    }

    pub fn title(&self) -> String {
        match self {
            Scope::Org => "All repositories".into(),
            Scope::Team { name, .. } => format!("Team {name}"),
        }
    }

    /// The scope a key names; a team that is not in the database (yet) still
    /// gets a digest, with no repositories.
    ///
    /// # Errors
    /// Database errors.
    pub async fn from_key<C: ConnectionTrait>(db: &C, key: &str) -> Result<Option<Scope>, DbErr> {
        if key == "org" {
            return Ok(Some(Scope::Org));
        }
        let Some(slug) = key.strip_prefix("team:").filter(|s| !s.is_empty()) else { return Ok(None) };
        let team = teams::Entity::find().filter(teams::Column::Slug.eq(slug)).one(db).await?;
        Ok(Some(match team {
            Some(t) => Scope::Team { slug: t.slug, name: t.name, id: Some(t.id) },
            None => Scope::Team { slug: slug.to_string(), name: slug.to_string(), id: None },
        }))
    }
}

/// A score then and now.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ScoreChange {
    pub before: Option<f64>,
    pub after: Option<f64>,
}

impl ScoreChange {
    pub fn delta(&self) -> Option<f64> {
        Some(round1(self.after? - self.before?))
    }
}

/// One repository's week.
#[derive(Debug, Clone, PartialEq)]
pub struct RepoWeek {
    pub id: i32,
    pub name: String,
    pub url: String,
    pub score: ScoreChange,
    pub level_before: Option<String>,
    pub level_after: Option<String>,
}

impl RepoWeek {
    pub fn level_changed(&self) -> bool {
        self.level_before.is_some() && self.level_before != self.level_after
    }
}

/// A finding that opened, reopened or was fixed during the week.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingItem {
    pub id: i32,
    pub url: String,
    pub repository: String,
    pub severity: String,
    pub check_id: String,
    pub message: String,
    pub location: Option<String>,
    pub reopened: bool,
}

/// A repository whose latest scan failed.
#[derive(Debug, Clone, PartialEq)]
pub struct FailingRepo {
    pub name: String,
    pub url: String,
    pub error: String,
}

/// A repository with no successful scan for `stale_days`.
#[derive(Debug, Clone, PartialEq)]
pub struct StaleRepo {
    pub name: String,
    pub url: String,
    pub last_success: Option<DateTime<Utc>>,
}

/// How much is being watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub repositories: usize,
    pub scanned_this_week: usize,
    pub open_critical: usize,
    pub open_high: usize,
    pub open_total: usize,
}

/// Level name and how many repositories held it before and after the week.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelCount {
    pub level: String,
    pub before: usize,
    pub after: usize,
}

/// A waiver that ran out during the week.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpiredWaiver {
    pub repository: String,
    pub check_id: String,
    pub owner: String,
    pub expired_on: chrono::NaiveDate,
    pub url: String,
}

/// An active campaign's standing.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignLine {
    pub title: String,
    pub url: String,
    pub done: usize,
    pub total: usize,
    pub deadline: chrono::NaiveDate,
}

/// The digest of one scope for one week.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub scope: Scope,
    pub week: Week,
    pub dashboard_url: String,
    /// Mean score of the scope's repositories at the start and the end of the week.
    pub score: ScoreChange,
    pub levels: Vec<LevelCount>,
    pub regressions: Vec<RepoWeek>,
    pub improvements: Vec<RepoWeek>,
    pub level_changes: Vec<RepoWeek>,
    /// Critical and high findings opened or reopened during the week.
    pub new_findings: Vec<FindingItem>,
    pub new_findings_total: usize,
    pub fixed: Vec<FindingItem>,
    pub fixed_total: usize,
    pub failing: Vec<FailingRepo>,
    pub stale: Vec<StaleRepo>,
    /// Approved waivers that expired during the week: their findings count again.
    pub expired_waivers: Vec<ExpiredWaiver>,
    /// Active campaigns touching the scope, as of the week's end.
    pub campaigns: Vec<CampaignLine>,
    pub counts: Counts,
    /// Mean score at the end of each of the last weeks, oldest first.
    pub trend: Vec<(Week, Option<f64>)>,
}

/// Absolute links into the dashboard, from `server.public_url` (which may
/// carry a path prefix when served behind a proxy).
#[derive(Debug, Clone)]
pub struct Links {
    base: url::Url,
}

impl Links {
    pub fn new(public_url: &url::Url) -> Links {
        Links { base: public_url.clone() }
    }

    fn at(&self, segments: &[&str]) -> String {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url.to_string()
    }

    pub fn dashboard(&self) -> String {
        self.at(&[""])
    }

    /// The repository page, `/repos/{owner}/{name}`.
    pub fn repository(&self, owner: &str, name: &str) -> String {
        self.at(&["repos", owner, name])
    }

    /// The finding page with its timeline, `/findings/{id}`.
    pub fn finding(&self, id: i32) -> String {
        self.at(&["findings", &id.to_string()])
    }

    pub fn campaign(&self, id: i32) -> String {
        self.at(&["campaigns", &id.to_string()])
    }

    /// The scan page, `/scans/{id}`.
    pub fn scan(&self, id: i32) -> String {
        self.at(&["scans", &id.to_string()])
    }

    pub fn unsubscribe(&self, token: &str) -> String {
        self.at(&["digest", "unsubscribe", token])
    }
}

/// Computes the digest of `scope` for `week`.
///
/// # Errors
/// Database errors.
pub async fn build<C: ConnectionTrait>(
    db: &C,
    scope: &Scope,
    week: Week,
    links: &Links,
    stale_days: u32,
) -> Result<Digest, DbErr> {
    let repos = scope_repositories(db, scope).await?;
    let ids: HashSet<i32> = repos.iter().map(|r| r.id).collect();
    let before = latest_success_before(db, week.start()).await?;
    let after = latest_success_before(db, week.end()).await?;

    let weeks: Vec<RepoWeek> = repos
        .iter()
        .map(|r| RepoWeek {
            id: r.id,
            name: format!("{}/{}", r.owner, r.name),
            url: links.repository(&r.owner, &r.name),
            score: ScoreChange { before: before.get(&r.id).map(|s| s.score), after: after.get(&r.id).map(|s| s.score) },
            level_before: before.get(&r.id).map(|s| s.level.clone()),
            level_after: after.get(&r.id).map(|s| s.level.clone()),
        })
        .collect();
    let mut changed: Vec<&RepoWeek> = weeks.iter().filter(|w| w.score.delta().is_some_and(|d| d != 0.0)).collect();
    changed.sort_by(|a, b| a.score.delta().partial_cmp(&b.score.delta()).unwrap_or(std::cmp::Ordering::Equal));
    let regressions = changed.iter().filter(|w| w.score.delta() < Some(0.0)).take(TOP).map(|w| (*w).clone()).collect();
    let improvements =
        changed.iter().rev().filter(|w| w.score.delta() > Some(0.0)).take(TOP).map(|w| (*w).clone()).collect();
    let level_changes = weeks.iter().filter(|w| w.level_changed()).cloned().collect();

    let names: HashMap<i32, &str> = weeks.iter().map(|w| (w.id, w.name.as_str())).collect();
    let events = week_events(db, week, links, &names).await?;
    let (fixed, opened): (Vec<_>, Vec<_>) = events.into_iter().partition(|(fixed, _)| *fixed);
    let serious: Vec<FindingItem> =
        opened.into_iter().map(|(_, f)| f).filter(|f| matches!(f.severity.as_str(), "critical" | "high")).collect();
    let fixed: Vec<FindingItem> = fixed.into_iter().map(|(_, f)| f).collect();

    let latest = latest_scan_before(db, week.end()).await?;
    let stale_since = week.end() - Duration::days(i64::from(stale_days));
    let mut failing = Vec::new();
    let mut stale = Vec::new();
    for w in &weeks {
        if let Some(error) = latest.get(&w.id).and_then(|s| s.error.clone()) {
            failing.push(FailingRepo { name: w.name.clone(), url: w.url.clone(), error });
        }
        let last_success = after.get(&w.id).map(|s| s.finished_at);
        if last_success.is_none_or(|at| at < stale_since) {
            stale.push(StaleRepo { name: w.name.clone(), url: w.url.clone(), last_success });
        }
    }

    let expired_waivers = crate::store::waiver::expired_between(db, week.start(), week.end())
        .await?
        .into_iter()
        .filter_map(|w| {
            Some(ExpiredWaiver {
                repository: names.get(&w.repository_id)?.to_string(),
                check_id: w.check_id,
                owner: w.owner,
                expired_on: w.expires_at.date_naive(),
                url: links.finding(w.finding_id),
            })
        })
        .collect();

    let campaigns = crate::campaigns::active(db, week.end().min(Utc::now()))
        .await?
        .into_iter()
        .filter(|p| p.selection.resolved.iter().any(|id| ids.contains(id)))
        .map(|p| CampaignLine {
            url: links.campaign(p.campaign.id),
            done: p.total - p.remaining.len(),
            total: p.total,
            deadline: p.campaign.deadline,
            title: p.campaign.title,
        })
        .collect();

    let open = open_findings(db).await?;
    let open_in = |severity: Option<&str>| {
        open.iter().filter(|(repo, sev, _)| ids.contains(repo) && severity.is_none_or(|s| s == sev)).map(|x| x.2).sum()
    };
    let counts = Counts {
        repositories: repos.len(),
        scanned_this_week: weeks
            .iter()
            .filter(|w| after.get(&w.id).is_some_and(|s| s.finished_at >= week.start()))
            .count(),
        open_critical: open_in(Some("critical")),
        open_high: open_in(Some("high")),
        open_total: open_in(None),
    };
    let levels = shipshape_analysis::Level::ALL
        .iter()
        .rev()
        .map(|l| LevelCount {
            level: l.as_str().to_string(),
            before: weeks.iter().filter(|w| w.level_before.as_deref() == Some(l.as_str())).count(),
            after: weeks.iter().filter(|w| w.level_after.as_deref() == Some(l.as_str())).count(),
        })
        .collect();

    let mut trend = Vec::with_capacity(TREND_WEEKS);
    let mut w = week;
    for _ in 0..TREND_WEEKS {
        let scores = if w == week { after.clone() } else { latest_success_before(db, w.end()).await? };
        trend.push((w, mean(&scores, &ids)));
        w = w.previous();
    }
    trend.reverse();

    Ok(Digest {
        scope: scope.clone(),
        week,
        dashboard_url: links.dashboard(),
        score: ScoreChange { before: mean(&before, &ids), after: mean(&after, &ids) },
        levels,
        regressions,
        improvements,
        level_changes,
        new_findings_total: serious.len(),
        new_findings: serious.into_iter().take(LISTED_FINDINGS).collect(),
        fixed_total: fixed.len(),
        fixed: fixed.into_iter().take(LISTED_FINDINGS).collect(),
        failing,
        stale,
        expired_waivers,
        campaigns,
        counts,
        trend,
    })
}

/// The scope's active repositories, by name.
async fn scope_repositories<C: ConnectionTrait>(db: &C, scope: &Scope) -> Result<Vec<repositories::Model>, DbErr> {
    let mut q = repositories::Entity::find()
        .filter(repositories::Column::Archived.eq(false))
        .filter(repositories::Column::Enabled.eq(true))
        .order_by_asc(repositories::Column::Owner)
        .order_by_asc(repositories::Column::Name);
    match scope {
        Scope::Org => {}
        Scope::Team { id: Some(id), .. } => q = q.filter(repositories::Column::TeamId.eq(*id)),
        Scope::Team { id: None, .. } => return Ok(Vec::new()),
    }
    q.all(db).await
}

#[derive(Debug, Clone)]
struct Success {
    score: f64,
    level: String,
    finished_at: DateTime<Utc>,
}

/// Each repository's latest successful scan that finished before `at`.
async fn latest_success_before<C: ConnectionTrait>(db: &C, at: DateTime<Utc>) -> Result<HashMap<i32, Success>, DbErr> {
    let sql = "SELECT repository_id, overall_score, level, finished_at FROM scans WHERE id IN \
               (SELECT MAX(id) FROM scans WHERE status = 'succeeded' AND finished_at < $1 GROUP BY repository_id)";
    let mut out = HashMap::new();
    for row in db.query_all_raw(stmt(db, sql, vec![db_time(at).into()])).await? {
        let (Some(score), Some(level), Some(finished_at)) = (
            row.try_get::<Option<f64>>("", "overall_score")?,
            row.try_get::<Option<String>>("", "level")?,
            row.try_get::<Option<DateTime<Utc>>>("", "finished_at")?,
        ) else {
            continue;
        };
        out.insert(row.try_get("", "repository_id")?, Success { score, level, finished_at });
    }
    Ok(out)
}

struct LatestScan {
    /// The reason when the scan failed.
    error: Option<String>,
}

/// Each repository's latest finished scan, successful or not, before `at`.
async fn latest_scan_before<C: ConnectionTrait>(db: &C, at: DateTime<Utc>) -> Result<HashMap<i32, LatestScan>, DbErr> {
    let sql = "SELECT repository_id, status, error FROM scans WHERE id IN \
               (SELECT MAX(id) FROM scans WHERE status IN ('succeeded', 'failed') AND finished_at < $1 \
               GROUP BY repository_id)";
    let mut out = HashMap::new();
    for row in db.query_all_raw(stmt(db, sql, vec![db_time(at).into()])).await? {
        let failed = row.try_get::<String>("", "status")? == "failed";
        let error = failed
            .then(|| row.try_get::<Option<String>>("", "error"))
            .transpose()?
            .map(|e| e.filter(|e| !e.is_empty()).unwrap_or_else(|| "scan failed".to_string()));
        out.insert(row.try_get("", "repository_id")?, LatestScan { error });
    }
    Ok(out)
}

/// Findings opened, reopened (`false`) or fixed (`true`) during the week in
/// the repositories of `names`, most severe first.
async fn week_events<C: ConnectionTrait>(
    db: &C,
    week: Week,
    links: &Links,
    names: &HashMap<i32, &str>,
) -> Result<Vec<(bool, FindingItem)>, DbErr> {
    let sql = "SELECT e.kind, f.id, f.repository_id, f.severity, f.check_id, f.message, f.path, f.line \
               FROM finding_events e JOIN findings f ON f.id = e.finding_id \
               WHERE e.created_at >= $1 AND e.created_at < $2 AND e.kind IN ('opened', 'reopened', 'fixed') \
               ORDER BY e.created_at, e.id";
    let rows = db.query_all_raw(stmt(db, sql, vec![db_time(week.start()).into(), db_time(week.end()).into()])).await?;
    let mut out = Vec::new();
    for row in rows {
        let repository_id: i32 = row.try_get("", "repository_id")?;
        let Some(repository) = names.get(&repository_id) else { continue };
        let kind: String = row.try_get("", "kind")?;
        let id: i32 = row.try_get("", "id")?;
        let path: Option<String> = row.try_get("", "path")?;
        let line: Option<i32> = row.try_get("", "line")?;
        let item = FindingItem {
            id,
            url: links.finding(id),
            repository: repository.to_string(),
            severity: row.try_get("", "severity")?,
            check_id: row.try_get("", "check_id")?,
            message: row.try_get("", "message")?,
            location: path.map(|p| line.map_or(p.clone(), |l| format!("{p}:{l}"))),
            reopened: kind == "reopened",
        };
        out.push((kind == "fixed", item));
    }
    out.sort_by_key(|(_, f)| severity_rank(&f.severity));
    Ok(out)
}

/// (repository, severity, open findings) now.
async fn open_findings<C: ConnectionTrait>(db: &C) -> Result<Vec<(i32, String, usize)>, DbErr> {
    let sql = "SELECT repository_id, severity, COUNT(*) AS n FROM findings WHERE state = 'open' \
               GROUP BY repository_id, severity";
    let mut out = Vec::new();
    for row in db.query_all_raw(stmt(db, sql, vec![])).await? {
        let n: i64 = row.try_get("", "n")?;
        out.push((row.try_get("", "repository_id")?, row.try_get("", "severity")?, usize::try_from(n).unwrap_or(0)));
    }
    Ok(out)
}

fn severity_rank(s: &str) -> usize {
    ["critical", "high", "medium", "low", "info"].iter().position(|x| *x == s).unwrap_or(5)
}

fn mean(scores: &HashMap<i32, Success>, ids: &HashSet<i32>) -> Option<f64> {
    let values: Vec<f64> = scores.iter().filter(|(id, _)| ids.contains(id)).map(|(_, s)| s.score).collect();
    (!values.is_empty()).then(|| round1(values.iter().sum::<f64>() / values.len() as f64))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn stmt<C: ConnectionTrait>(db: &C, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_absolute_keep_a_path_prefix_and_escape_names() {
        let links = Links::new(&url::Url::parse("https://ship.example.com/tools").unwrap());
        assert_eq!(links.dashboard(), "https://ship.example.com/tools/");
        assert_eq!(links.repository("acme", "a b"), "https://ship.example.com/tools/repos/acme/a%20b");
        assert_eq!(links.finding(7), "https://ship.example.com/tools/findings/7");
        let root = Links::new(&url::Url::parse("http://127.0.0.1:8080").unwrap());
        assert_eq!(root.unsubscribe("t0k"), "http://127.0.0.1:8080/digest/unsubscribe/t0k");
    }
}
