//! The finding page: the finding, its timeline of events with the commits
//! they were seen at, where it has been, and its check's documentation.

use crate::db::entities::finding_events::{self, EventKind};
use crate::db::entities::{findings, repositories, scans, suppressions};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use shipshape_analysis::Policy;
use shipshape_analysis::checks::CheckInfo;

#[derive(Debug, Clone)]
pub struct FindingView {
    pub finding: findings::Model,
    pub repo: repositories::Model,
    pub events: Vec<finding_events::Model>,
    /// Distinct (path, line) in the order the finding was seen there.
    pub locations: Vec<(String, Option<i32>, Option<String>)>,
    pub spec: Option<CheckInfo>,
    pub suppression: Option<suppressions::Model>,
    /// Its waivers, newest first.
    pub waivers: Vec<crate::db::entities::waivers::Model>,
    /// The commit of the scan that last saw it.
    pub last_commit: Option<String>,
}

/// The finding with `id`.
///
/// # Errors
/// Database errors; `Ok(None)` for an unknown id.
pub async fn view<C: ConnectionTrait>(
    db: &C,
    id: i32,
    now: DateTime<Utc>,
    policy: &Policy,
) -> Result<Option<FindingView>, DbErr> {
    let Some(finding) = findings::Entity::find_by_id(id).one(db).await? else { return Ok(None) };
    let Some(repo) = repositories::Entity::find_by_id(finding.repository_id).one(db).await? else { return Ok(None) };
    let events = finding_events::Entity::find()
        .filter(finding_events::Column::FindingId.eq(id))
        .order_by_asc(finding_events::Column::CreatedAt)
        .order_by_asc(finding_events::Column::Id)
        .all(db)
        .await?;
    let mut locations: Vec<(String, Option<i32>, Option<String>)> = Vec::new();
    for e in events.iter().filter(|e| matches!(e.kind, EventKind::Opened | EventKind::Moved | EventKind::Reopened)) {
        if let Some(path) = &e.path
            && !locations.iter().any(|(p, l, _)| p == path && *l == e.line)
        {
            locations.push((path.clone(), e.line, e.commit_sha.clone()));
        }
    }
    let last_commit = scans::Entity::find_by_id(finding.last_seen_scan_id).one(db).await?.and_then(|s| s.commit_sha);
    if let Some(path) = &finding.path
        && !locations.iter().any(|(p, l, _)| p == path && *l == finding.line)
    {
        locations.push((path.clone(), finding.line, last_commit.clone()));
    }
    let suppression = crate::store::suppression::for_finding(db, id, now).await?;
    let waivers = crate::store::waiver::for_finding(db, id).await?;
    // A check the repository defined itself is described by the report of
    // the scan that saw it.
    let spec = match policy.info(&finding.check_id) {
        Some(s) => Some(s),
        None => super::repository::stored_report(db, finding.last_seen_scan_id)
            .await?
            .and_then(|r| r.info(&finding.check_id)),
    };
    Ok(Some(FindingView { spec, finding, repo, events, locations, suppression, waivers, last_commit }))
}
