//! What a recorded scan changed that someone should hear about, read back
//! from the database: the scan row, the repository's previous successful
//! scan, and the finding events the scan wrote.

use crate::db::entities::finding_events::{self, EventKind};
use crate::db::entities::findings::{self, FindingState};
use crate::db::entities::scans::{self, ScanStatus};
use crate::db::entities::{repositories, teams};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use shipshape_analysis::Level;

/// A level that moved between two successful scans.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelChange {
    pub from: String,
    pub to: String,
    pub previous_score: Option<f64>,
}

impl LevelChange {
    /// "up" or "down", by the order of the levels (unknown names count as lowest).
    pub fn direction(&self) -> &'static str {
        let rank = |s: &str| Level::parse(s).map(|l| l as i32).unwrap_or(-1);
        if rank(&self.to) > rank(&self.from) { "up" } else { "down" }
    }
}

/// The notifiable changes of one scan.
#[derive(Debug, Clone)]
pub struct ScanEvents {
    pub repository: repositories::Model,
    /// The slug of the repository's team.
    pub team: Option<String>,
    pub scan: scans::Model,
    pub level_change: Option<LevelChange>,
    /// Critical findings this scan opened or reopened, still open (not suppressed).
    pub new_critical: Vec<findings::Model>,
}

/// The changes of `scan_id` against the repository's previous successful
/// scan. `None` when the scan did not succeed or is the repository's first:
/// a first scan sets the baseline, so adding a hundred repositories does not
/// page anyone a hundred times.
///
/// # Errors
/// Database errors.
pub async fn detect<C: ConnectionTrait>(db: &C, scan_id: i32) -> Result<Option<ScanEvents>, DbErr> {
    let Some(scan) = scans::Entity::find_by_id(scan_id).one(db).await? else { return Ok(None) };
    if scan.status != ScanStatus::Succeeded {
        return Ok(None);
    }
    let previous = scans::Entity::find()
        .filter(scans::Column::RepositoryId.eq(scan.repository_id))
        .filter(scans::Column::Status.eq(ScanStatus::Succeeded))
        .filter(scans::Column::Id.lt(scan.id))
        .order_by_desc(scans::Column::Id)
        .limit(1)
        .one(db)
        .await?;
    let Some(previous) = previous else { return Ok(None) };
    let Some(repository) = repositories::Entity::find_by_id(scan.repository_id).one(db).await? else {
        return Ok(None);
    };
    let team = match repository.team_id {
        Some(id) => teams::Entity::find_by_id(id).one(db).await?.map(|t| t.slug),
        None => None,
    };
    let level_change = match (&previous.level, &scan.level) {
        (Some(from), Some(to)) if from != to => {
            Some(LevelChange { from: from.clone(), to: to.clone(), previous_score: previous.overall_score })
        }
        _ => None,
    };
    let appeared: Vec<i32> = finding_events::Entity::find()
        .filter(finding_events::Column::ScanId.eq(scan.id))
        .filter(finding_events::Column::Kind.is_in([EventKind::Opened, EventKind::Reopened]))
        .all(db)
        .await?
        .into_iter()
        .map(|e| e.finding_id)
        .collect();
    let new_critical = if appeared.is_empty() {
        Vec::new()
    } else {
        findings::Entity::find()
            .filter(findings::Column::Id.is_in(appeared))
            .filter(findings::Column::Severity.eq("critical"))
            .filter(findings::Column::State.eq(FindingState::Open))
            .order_by_asc(findings::Column::Id)
            .all(db)
            .await?
    };
    Ok(Some(ScanEvents { repository, team, scan, level_change, new_critical }))
}
