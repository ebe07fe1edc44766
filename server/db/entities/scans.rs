//! One scan of one repository: queued, running, succeeded or failed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "scans")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub repository_id: i32,
    pub commit_sha: Option<String>,
    pub trigger: String,
    pub status: ScanStatus,
    pub queued_at: DateTimeUtc,
    pub started_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    pub analyzer_version: String,
    /// Fingerprint of the check catalogue the scan ran with (`score::policy_version`).
    pub policy_version: Option<String>,
    pub overall_score: Option<f64>,
    pub level: Option<String>,
    pub stack: Option<Json>,
    pub files_scanned: Option<i64>,
    /// GitHub API calls the scan cost (branch protection, last commit);
    /// `None` when the repository is not scanned through the API.
    pub github_api_calls: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ScanStatus {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
