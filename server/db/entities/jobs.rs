//! A unit of background work in the queue (DESIGN.md, data flow 3). The
//! queue's behaviour lives in `crate::jobs::queue`; this is only the row.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// What a job does. Only `Scan` is tied to a repository, and only scans are
/// coalesced and limited to one running per repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Check out a repository and analyse it.
    #[sea_orm(string_value = "scan")]
    Scan,
    /// Discover repositories of configured GitHub orgs and users.
    #[sea_orm(string_value = "discover")]
    Discover,
    /// Send the weekly digest.
    #[sea_orm(string_value = "digest")]
    Digest,
    /// Prune old data.
    #[sea_orm(string_value = "retention")]
    Retention,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting for `run_after` and a free worker.
    #[sea_orm(string_value = "queued")]
    Queued,
    /// Leased to `locked_by` until `lease_expires_at`.
    #[sea_orm(string_value = "running")]
    Running,
    /// Finished without error.
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// Gave up; `last_error` says why.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// One row of `jobs`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    /// Surrogate key; also the tie-breaker for equal priority and due time.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// What to do.
    pub kind: JobKind,
    /// The repository a scan is for; `None` for other kinds.
    pub repository_id: Option<i32>,
    /// Kind-specific arguments, e.g. the scan request that triggered it.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub payload: Option<Json>,
    /// Life-cycle state.
    pub status: JobStatus,
    /// Higher runs first.
    pub priority: i32,
    /// How many times the job has been claimed, including the current run.
    pub attempts: i32,
    /// Claims allowed before the job is marked failed.
    pub max_attempts: i32,
    /// The job is not claimed before this instant (back-off, scheduling).
    pub run_after: DateTimeUtc,
    /// The worker holding the lease while running.
    pub locked_by: Option<String>,
    /// The lease ends here unless renewed; afterwards the job may be reclaimed.
    pub lease_expires_at: Option<DateTimeUtc>,
    /// The error of the latest failed attempt, kept after success or failure.
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// When the job was first enqueued.
    pub created_at: DateTimeUtc,
    /// Last change to this row.
    pub updated_at: DateTimeUtc,
    /// When the job reached `succeeded` or `failed`.
    pub finished_at: Option<DateTimeUtc>,
}

/// Relations used by queries that join jobs.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The repository a scan job is for.
    #[sea_orm(
        belongs_to = "super::repositories::Entity",
        from = "Column::RepositoryId",
        to = "super::repositories::Column::Id",
        on_delete = "Cascade"
    )]
    Repository,
}

impl Related<super::repositories::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Repository.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
