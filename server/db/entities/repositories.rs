//! A tracked repository: where it lives, who owns it, and a denormalised
//! summary of its latest scan for the overview page.

use sea_orm::entity::prelude::*;

/// Where a repository is hosted; decides how it is cloned and linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Provider {
    /// github.com (or GitHub Enterprise), discovered or configured.
    #[sea_orm(string_value = "github")]
    Github,
    /// Any other git remote reachable by URL.
    #[sea_orm(string_value = "git")]
    Git,
    /// A path on the server's disk (the demo, tests).
    #[sea_orm(string_value = "local")]
    Local,
}

/// One row of `repositories`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "repositories")]
pub struct Model {
    /// Surrogate key.
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Hosting provider.
    pub provider: Provider,
    /// Organisation or user that owns the repository.
    pub owner: String,
    /// Repository name, unique per (provider, owner).
    pub name: String,
    /// URL the checkout cache clones from.
    #[sea_orm(column_type = "Text")]
    pub clone_url: String,
    /// The branch that is scanned.
    pub default_branch: String,
    /// Owning team, if assigned.
    pub team_id: Option<i32>,
    /// Archived repositories are kept for history but no longer scanned.
    pub archived: bool,
    /// Disabled repositories are skipped by the scheduler.
    pub enabled: bool,
    /// The latest finished scan.
    pub last_scan_id: Option<i32>,
    /// When the latest scan finished.
    pub last_scanned_at: Option<DateTimeUtc>,
    /// Overall score of the latest successful scan.
    pub score: Option<f64>,
    /// Readiness level of the latest successful scan.
    pub level: Option<String>,
    /// GitHub's numeric id: stable across renames and transfers, so
    /// discovery finds a renamed repository instead of adding a new one.
    pub github_id: Option<i64>,
    /// When the repository was first tracked.
    pub created_at: DateTimeUtc,
    /// Last change to this row.
    pub updated_at: DateTimeUtc,
}

/// Relations used by queries that join repositories.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Jobs queued or run for this repository.
    #[sea_orm(has_many = "super::jobs::Entity")]
    Jobs,
}

impl Related<super::jobs::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Jobs.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
