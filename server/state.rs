//! What every handler shares: cheap to clone.

use crate::config::Settings;
use crate::metrics::Metrics;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub github: crate::github::Github,
    pub metrics: Metrics,
    /// Short-lived memos of the heaviest reads (`read::memo`).
    pub memos: Arc<crate::read::memo::Memos>,
}
