//! The admin page: every repository with its switches, and the queue.

use crate::db::entities::jobs;
use crate::db::entities::repositories;
use crate::jobs::queue::{self, QueueCounts, QueueError};
use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder, QuerySelect};

/// Jobs listed on the admin page.
pub const RECENT_JOBS: u64 = 20;

#[derive(Debug, Clone)]
pub struct AdminView {
    pub repositories: Vec<repositories::Model>,
    pub queue: QueueCounts,
    pub recent_jobs: Vec<jobs::Model>,
}

/// Everything the admin page shows from the database.
///
/// # Errors
/// Database errors.
pub async fn view<C: ConnectionTrait>(db: &C) -> Result<AdminView, QueueError> {
    Ok(AdminView {
        repositories: repositories::Entity::find()
            .order_by_asc(repositories::Column::Owner)
            .order_by_asc(repositories::Column::Name)
            .all(db)
            .await?,
        queue: queue::counts(db).await?,
        recent_jobs: jobs::Entity::find().order_by_desc(jobs::Column::Id).limit(RECENT_JOBS).all(db).await?,
    })
}
