//! What a scan job carries: why it was requested and which commit to scan.
//! Triggers (scheduler, webhook, Rescan button, API) build it; the queue
//! stores it as the job's payload; the worker reads it back.

use serde::{Deserialize, Serialize};

/// Why a scan was requested; also the scan row's `trigger`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanTrigger {
    /// The nightly cron.
    Schedule,
    /// A GitHub push.
    Webhook,
    /// The Rescan button.
    Manual,
    /// The JSON API.
    Api,
    /// Seeding the demo.
    Demo,
}

impl ScanTrigger {
    /// A person waiting on a page beats a push, which beats the nightly run.
    pub fn priority(self) -> i32 {
        match self {
            ScanTrigger::Manual | ScanTrigger::Api => 20,
            ScanTrigger::Webhook => 10,
            ScanTrigger::Schedule | ScanTrigger::Demo => 0,
        }
    }
}

/// The payload of a scan job: the newest request wins when requests coalesce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRequest {
    /// What asked for the scan.
    pub trigger: ScanTrigger,
    /// The commit to scan; `None` means the head of the default branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit_sha: Option<String>,
    /// Who asked (a login, a webhook delivery id), for the scan history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<String>,
}
