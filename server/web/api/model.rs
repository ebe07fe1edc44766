//! The API's enumerations: the values clients filter by and read back. They
//! are the contract, kept apart from the entities and the analysis core
//! (which knows nothing of OpenAPI), so a change there cannot silently
//! change the API; each converts to and from its counterpart.

use serde::{Deserialize, Serialize};
use shipshape_analysis as analysis;
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
    /// The level of its stored text.
    pub fn parse(s: &str) -> Option<Level> {
        analysis::Level::parse(s).map(Level::from)
    }

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        analysis::Level::from(self).as_str()
    }
}

impl From<analysis::Level> for Level {
    fn from(l: analysis::Level) -> Self {
        match l {
            analysis::Level::NotReady => Level::NotReady,
            analysis::Level::Bronze => Level::Bronze,
            analysis::Level::Silver => Level::Silver,
            analysis::Level::Gold => Level::Gold,
        }
    }
}

impl From<Level> for analysis::Level {
    fn from(l: Level) -> Self {
        match l {
            Level::NotReady => analysis::Level::NotReady,
            Level::Bronze => analysis::Level::Bronze,
            Level::Silver => analysis::Level::Silver,
            Level::Gold => analysis::Level::Gold,
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
    /// The severity of its stored text.
    pub fn parse(s: &str) -> Option<Severity> {
        analysis::Severity::parse(s).map(Severity::from)
    }

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        analysis::Severity::from(self).as_str()
    }
}

impl From<analysis::Severity> for Severity {
    fn from(s: analysis::Severity) -> Self {
        match s {
            analysis::Severity::Critical => Severity::Critical,
            analysis::Severity::High => Severity::High,
            analysis::Severity::Medium => Severity::Medium,
            analysis::Severity::Low => Severity::Low,
            analysis::Severity::Info => Severity::Info,
        }
    }
}

impl From<Severity> for analysis::Severity {
    fn from(s: Severity) -> Self {
        match s {
            Severity::Critical => analysis::Severity::Critical,
            Severity::High => analysis::Severity::High,
            Severity::Medium => analysis::Severity::Medium,
            Severity::Low => analysis::Severity::Low,
            Severity::Info => analysis::Severity::Info,
        }
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
