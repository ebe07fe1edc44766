//! The API's enumerations: the values clients filter by and read back. They
//! are the contract, kept apart from the entities so a schema change cannot
//! silently change the API; each converts from the stored text.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Readiness level, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    NotReady,
    Bronze,
    Silver,
    Gold,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        shipshape_analysis::Level::parse(s).map(|l| match l {
            shipshape_analysis::Level::NotReady => Level::NotReady,
            shipshape_analysis::Level::Bronze => Level::Bronze,
            shipshape_analysis::Level::Silver => Level::Silver,
            shipshape_analysis::Level::Gold => Level::Gold,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::NotReady => "not-ready",
            Level::Bronze => "bronze",
            Level::Silver => "silver",
            Level::Gold => "gold",
        }
    }
}

/// Severity of a check or a finding, highest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Info => "info",
        }
    }
}

impl From<shipshape_analysis::Severity> for Severity {
    fn from(s: shipshape_analysis::Severity) -> Self {
        Severity::parse(s.as_str()).unwrap_or(Severity::Info)
    }
}

/// Where a scan or a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl From<crate::db::entities::scans::ScanStatus> for RunStatus {
    fn from(s: crate::db::entities::scans::ScanStatus) -> Self {
        use crate::db::entities::scans::ScanStatus;
        match s {
            ScanStatus::Queued => RunStatus::Queued,
            ScanStatus::Running => RunStatus::Running,
            ScanStatus::Succeeded => RunStatus::Succeeded,
            ScanStatus::Failed => RunStatus::Failed,
        }
    }
}

impl From<RunStatus> for crate::db::entities::scans::ScanStatus {
    fn from(s: RunStatus) -> Self {
        use crate::db::entities::scans::ScanStatus;
        match s {
            RunStatus::Queued => ScanStatus::Queued,
            RunStatus::Running => ScanStatus::Running,
            RunStatus::Succeeded => ScanStatus::Succeeded,
            RunStatus::Failed => ScanStatus::Failed,
        }
    }
}

impl From<crate::db::entities::jobs::JobStatus> for RunStatus {
    fn from(s: crate::db::entities::jobs::JobStatus) -> Self {
        use crate::db::entities::jobs::JobStatus;
        match s {
            JobStatus::Queued => RunStatus::Queued,
            JobStatus::Running => RunStatus::Running,
            JobStatus::Succeeded => RunStatus::Succeeded,
            JobStatus::Failed => RunStatus::Failed,
        }
    }
}

/// A finding's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FindingState {
    Open,
    Fixed,
    Suppressed,
}

impl From<crate::db::entities::findings::FindingState> for FindingState {
    fn from(s: crate::db::entities::findings::FindingState) -> Self {
        use crate::db::entities::findings::FindingState as S;
        match s {
            S::Open => FindingState::Open,
            S::Fixed => FindingState::Fixed,
            S::Suppressed => FindingState::Suppressed,
        }
    }
}

impl From<FindingState> for crate::db::entities::findings::FindingState {
    fn from(s: FindingState) -> Self {
        use crate::db::entities::findings::FindingState as S;
        match s {
            FindingState::Open => S::Open,
            FindingState::Fixed => S::Fixed,
            FindingState::Suppressed => S::Suppressed,
        }
    }
}
