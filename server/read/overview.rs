//! The overview: the org's score and level counts, the repository table
//! (filtered, sorted and paginated in memory: one row per repository is
//! cheap, and every column sorts the same way on both databases) and the
//! new critical and high findings.

use super::{primary_language, stmt, team_names};
use crate::db::entities::{repositories, scans};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;

/// Repositories per page of the table.
pub const PAGE_SIZE: usize = 25;

/// One row of the repository table.
#[derive(Debug, Clone)]
pub struct RepoRow {
    pub id: i32,
    pub owner: String,
    pub name: String,
    pub team: Option<String>,
    pub level: Option<String>,
    pub score: Option<f64>,
    /// Score now minus the score 7 days ago.
    pub change_7d: Option<f64>,
    pub language: Option<String>,
    pub open_findings: i64,
    pub last_scanned_at: Option<DateTime<Utc>>,
}

/// Columns the table sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Name,
    Team,
    Level,
    Score,
    Change,
    Language,
    Findings,
    Scanned,
}

impl SortKey {
    pub const ALL: [SortKey; 8] = [
        SortKey::Name,
        SortKey::Team,
        SortKey::Level,
        SortKey::Score,
        SortKey::Change,
        SortKey::Language,
        SortKey::Findings,
        SortKey::Scanned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Team => "team",
            SortKey::Level => "level",
            SortKey::Score => "score",
            SortKey::Change => "change",
            SortKey::Language => "language",
            SortKey::Findings => "findings",
            SortKey::Scanned => "scanned",
        }
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What the table shows: the URL's query string, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableQuery {
    pub team: Option<String>,
    pub level: Option<String>,
    pub language: Option<String>,
    /// Matched case-insensitively against owner/name.
    pub q: Option<String>,
    pub sort: SortKey,
    pub desc: bool,
    /// From 1.
    pub page: usize,
}

/// One page of the table.
#[derive(Debug, Clone)]
pub struct TablePage {
    pub rows: Vec<RepoRow>,
    /// Rows matching the filters, all pages together.
    pub matching: usize,
    pub page: usize,
    pub pages: usize,
}

/// The whole org at a glance.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Mean score of the scanned repositories.
    pub score: Option<f64>,
    /// (level, repositories), every level listed, in order.
    pub levels: Vec<(String, usize)>,
    pub not_scanned: usize,
    pub repositories: usize,
}

/// Every active repository as a table row.
///
/// # Errors
/// Database errors.
pub async fn rows<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<Vec<RepoRow>, DbErr> {
    let repos = repositories::Entity::find().filter(repositories::Column::Archived.eq(false)).all(db).await?;
    let teams = team_names(db).await?;
    let week_ago = super::trend::latest_before(db, now - Duration::days(7)).await?;
    let open = open_counts(db).await?;
    let last_ids: Vec<i32> = repos.iter().filter_map(|r| r.last_scan_id).collect();
    let stacks: HashMap<i32, Option<serde_json::Value>> = if last_ids.is_empty() {
        HashMap::new()
    } else {
        scans::Entity::find()
            .select_only()
            .columns([scans::Column::Id, scans::Column::Stack])
            .filter(scans::Column::Id.is_in(last_ids))
            .into_tuple::<(i32, Option<serde_json::Value>)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(repos
        .into_iter()
        .map(|r| RepoRow {
            team: r.team_id.and_then(|t| teams.get(&t).cloned()),
            change_7d: r.score.zip(week_ago.get(&r.id)).map(|(now, then)| ((now - then) * 10.0).round() / 10.0),
            language: r.last_scan_id.and_then(|s| primary_language(stacks.get(&s)?.as_ref())),
            open_findings: open.get(&r.id).copied().unwrap_or(0),
            id: r.id,
            owner: r.owner,
            name: r.name,
            level: r.level,
            score: r.score,
            last_scanned_at: r.last_scanned_at,
        })
        .collect())
}

async fn open_counts<C: ConnectionTrait>(db: &C) -> Result<HashMap<i32, i64>, DbErr> {
    let sql = "SELECT repository_id, COUNT(*) AS n FROM findings WHERE state = 'open' GROUP BY repository_id";
    let mut out = HashMap::new();
    for row in db.query_all_raw(stmt(db, sql, vec![])).await? {
        out.insert(row.try_get::<i32>("", "repository_id")?, row.try_get::<i64>("", "n")?);
    }
    Ok(out)
}

/// The level order used for sorting: not-ready < bronze < silver < gold.
fn level_rank(level: Option<&str>) -> i32 {
    level
        .and_then(shipshape_analysis::Level::parse)
        .map(|l| shipshape_analysis::Level::ALL.iter().position(|x| *x == l).unwrap_or(0) as i32)
        .unwrap_or(-1)
}

/// Filters, sorts and cuts one page out of `rows`.
pub fn table(mut rows: Vec<RepoRow>, q: &TableQuery) -> TablePage {
    let text = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_lowercase);
    rows.retain(|r| {
        q.team.as_deref().is_none_or(|t| r.team.as_deref() == Some(t))
            && q.level.as_deref().is_none_or(|l| r.level.as_deref() == Some(l))
            && q.language.as_deref().is_none_or(|l| r.language.as_deref() == Some(l))
            && text.as_deref().is_none_or(|t| format!("{}/{}", r.owner, r.name).to_lowercase().contains(t))
    });
    let cmp_f =
        |a: Option<f64>, b: Option<f64>| a.unwrap_or(f64::NEG_INFINITY).total_cmp(&b.unwrap_or(f64::NEG_INFINITY));
    rows.sort_by(|a, b| {
        let by = match q.sort {
            SortKey::Name => std::cmp::Ordering::Equal,
            SortKey::Team => a.team.cmp(&b.team),
            SortKey::Level => level_rank(a.level.as_deref()).cmp(&level_rank(b.level.as_deref())),
            SortKey::Score => cmp_f(a.score, b.score),
            SortKey::Change => cmp_f(a.change_7d, b.change_7d),
            SortKey::Language => a.language.cmp(&b.language),
            SortKey::Findings => a.open_findings.cmp(&b.open_findings),
            SortKey::Scanned => a.last_scanned_at.cmp(&b.last_scanned_at),
        };
        let by = if q.desc { by.reverse() } else { by };
        // Ties (and the name column) read alphabetically.
        by.then_with(|| (&a.owner, &a.name).cmp(&(&b.owner, &b.name)))
    });
    let matching = rows.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = q.page.clamp(1, pages);
    let rows = rows.into_iter().skip((page - 1) * PAGE_SIZE).take(PAGE_SIZE).collect();
    TablePage { rows, matching, page, pages }
}

/// The org's score and level counts over `rows`.
pub fn summary(rows: &[RepoRow]) -> Summary {
    let scored: Vec<f64> = rows.iter().filter_map(|r| r.score).collect();
    let score = (!scored.is_empty()).then(|| (scored.iter().sum::<f64>() / scored.len() as f64 * 10.0).round() / 10.0);
    let levels = shipshape_analysis::Level::ALL
        .iter()
        .rev()
        .map(|l| (l.as_str().to_string(), rows.iter().filter(|r| r.level.as_deref() == Some(l.as_str())).count()))
        .collect();
    Summary { score, levels, not_scanned: rows.iter().filter(|r| r.level.is_none()).count(), repositories: rows.len() }
}

/// A critical or high finding opened recently.
#[derive(Debug, Clone)]
pub struct Attention {
    pub finding_id: i32,
    pub owner: String,
    pub name: String,
    pub check_id: String,
    pub severity: String,
    pub message: String,
    pub opened_at: DateTime<Utc>,
}

/// Open critical and high findings first seen within `days`: critical
/// first, then newest first.
///
/// # Errors
/// Database errors.
pub async fn needs_attention<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    days: i64,
    limit: u64,
) -> Result<Vec<Attention>, DbErr> {
    let sql = "SELECT f.id, r.owner, r.name, f.check_id, f.severity, f.message, f.created_at FROM findings f \
               JOIN repositories r ON r.id = f.repository_id \
               WHERE f.state = 'open' AND f.severity IN ('critical', 'high') AND f.created_at >= $1 \
               AND r.archived = $2 \
               ORDER BY CASE f.severity WHEN 'critical' THEN 0 ELSE 1 END, f.created_at DESC, f.id DESC LIMIT $3";
    let since = crate::db::db_time(now - Duration::days(days));
    let rows = db.query_all_raw(stmt(db, sql, vec![since.into(), false.into(), (limit as i64).into()])).await?;
    rows.iter()
        .map(|r| {
            Ok(Attention {
                finding_id: r.try_get("", "id")?,
                owner: r.try_get("", "owner")?,
                name: r.try_get("", "name")?,
                check_id: r.try_get("", "check_id")?,
                severity: r.try_get("", "severity")?,
                message: r.try_get("", "message")?,
                opened_at: r.try_get("", "created_at")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, team: &str, score: f64, findings: i64) -> RepoRow {
        RepoRow {
            id: 0,
            owner: "o".into(),
            name: name.into(),
            team: Some(team.into()),
            level: Some("bronze".into()),
            score: Some(score),
            change_7d: None,
            language: Some("Python".into()),
            open_findings: findings,
            last_scanned_at: None,
        }
    }

    #[test]
    fn filters_sorts_and_pages() {
        let mut rows: Vec<RepoRow> =
            (0..30).map(|i| row(&format!("svc-{i:02}"), "a", f64::from(i), 30 - i64::from(i))).collect();
        rows.push(row("billing", "b", 99.0, 0));
        let q = TableQuery { sort: SortKey::Score, desc: true, page: 1, ..Default::default() };
        let page = table(rows.clone(), &q);
        assert_eq!((page.matching, page.pages, page.rows.len()), (31, 2, PAGE_SIZE));
        assert_eq!(page.rows[0].name, "billing");
        let page2 = table(rows.clone(), &TableQuery { page: 9, ..q.clone() });
        assert_eq!(page2.page, 2);
        let only_b = table(rows.clone(), &TableQuery { team: Some("b".into()), ..Default::default() });
        assert_eq!(only_b.rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["billing"]);
        let text = table(rows, &TableQuery { q: Some("SVC-2".into()), sort: SortKey::Findings, ..Default::default() });
        assert_eq!(text.rows.first().map(|r| r.name.as_str()), Some("svc-29"));
    }
}
