//! The scan page: how a scan went and what it changed against the scan before.

use crate::db::entities::finding_events::{self, EventKind};
use crate::db::entities::{findings, repositories, scans};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};

#[derive(Debug, Clone)]
pub struct ScanView {
    pub scan: scans::Model,
    pub repo: repositories::Model,
    /// The repository's scan before this one.
    pub previous: Option<scans::Model>,
    /// Findings this scan opened or reopened.
    pub new: Vec<findings::Model>,
    /// Findings this scan no longer saw.
    pub fixed: Vec<findings::Model>,
}

/// The scan with `id`.
///
/// # Errors
/// Database errors; `Ok(None)` for an unknown id.
pub async fn view<C: ConnectionTrait>(db: &C, id: i32) -> Result<Option<ScanView>, DbErr> {
    let Some(scan) = scans::Entity::find_by_id(id).one(db).await? else { return Ok(None) };
    let Some(repo) = repositories::Entity::find_by_id(scan.repository_id).one(db).await? else { return Ok(None) };
    let previous = scans::Entity::find()
        .filter(scans::Column::RepositoryId.eq(repo.id))
        .filter(scans::Column::Id.lt(id))
        .order_by_desc(scans::Column::Id)
        .one(db)
        .await?;
    let events = finding_events::Entity::find().filter(finding_events::Column::ScanId.eq(id)).all(db).await?;
    let ids = |kinds: &[EventKind]| -> Vec<i32> {
        events.iter().filter(|e| kinds.contains(&e.kind)).map(|e| e.finding_id).collect()
    };
    let load = |ids: Vec<i32>| async move {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        findings::Entity::find()
            .filter(findings::Column::Id.is_in(ids))
            .order_by_asc(findings::Column::Id)
            .all(db)
            .await
    };
    let new = load(ids(&[EventKind::Opened, EventKind::Reopened])).await?;
    let fixed = load(ids(&[EventKind::Fixed])).await?;
    Ok(Some(ScanView { scan, repo, previous, new, fixed }))
}
