//! Rollups per team: how its repositories score and what is open.

use super::overview::RepoRow;
use super::stmt;
use sea_orm::{ConnectionTrait, DbErr};
use std::collections::HashMap;

/// One team's numbers. Repositories without a team form their own row.
#[derive(Debug, Clone)]
pub struct TeamRollup {
    pub name: Option<String>,
    pub repositories: usize,
    pub score: Option<f64>,
    /// (level, repositories) in level order, best first.
    pub levels: Vec<(String, usize)>,
    pub open_findings: i64,
    /// Open critical and high findings.
    pub urgent: i64,
}

/// Rolls the overview's rows up per team, teams by name, "no team" last.
///
/// # Errors
/// Database errors.
pub async fn rollups<C: ConnectionTrait>(db: &C, rows: &[RepoRow]) -> Result<Vec<TeamRollup>, DbErr> {
    let sql = "SELECT repository_id, COUNT(*) AS n FROM findings \
               WHERE state = 'open' AND severity IN ('critical', 'high') GROUP BY repository_id";
    let mut urgent: HashMap<i32, i64> = HashMap::new();
    for row in db.query_all_raw(stmt(db, sql, vec![])).await? {
        urgent.insert(row.try_get("", "repository_id")?, row.try_get("", "n")?);
    }
    let teams = super::team_names(db).await?;
    let mut names: Vec<Option<String>> = teams.into_values().map(Some).collect();
    names.sort();
    names.push(None);
    Ok(names
        .into_iter()
        .filter_map(|name| {
            let mine: Vec<RepoRow> = rows.iter().filter(|r| r.team == name).cloned().collect();
            if mine.is_empty() && name.is_none() {
                return None;
            }
            let summary = super::overview::summary(&mine);
            Some(TeamRollup {
                repositories: mine.len(),
                score: summary.score,
                levels: summary.levels,
                open_findings: mine.iter().map(|r| r.open_findings).sum(),
                urgent: mine.iter().map(|r| urgent.get(&r.id).copied().unwrap_or(0)).sum(),
                name,
            })
        })
        .collect())
}
