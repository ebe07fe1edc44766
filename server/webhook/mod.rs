//! GitHub webhook deliveries (DESIGN.md, "Webhook"): what a correctly
//! signed delivery does. The HTTP side (`web::webhook`) reads the capped body
//! and checks the signature before anything here parses it.
//!
//! A delivery costs one short transaction: its row in `webhook_deliveries`
//! (whose unique `delivery_id` turns a redelivery into a no-op) and the one
//! change it causes (a scan queued through `jobs::queue`, coalesced with any
//! scan already queued, or a repository row updated). Scans themselves run
//! in the worker, so GitHub gets its answer within milliseconds.
//!
//! A push scan carries the pushed commit, but the worker scans the head of
//! the default branch when it runs: never older than any push it
//! coalesced, so a burst of pushes ends with a scan of the newest commit.

pub mod deliveries;
pub mod payload;
mod plan;
pub mod signature;

pub use crate::db::entities::webhook_deliveries::DeliveryResult;
use crate::jobs::queue::{self, Enqueued, QueueError};
use crate::jobs::scan_request::{ScanRequest, ScanTrigger};
use chrono::{DateTime, Utc};
use deliveries::NewDelivery;
use plan::Action;
use sea_orm::{ActiveModelTrait, DatabaseConnection, DbErr, TransactionTrait};
use serde::Serialize;
pub use signature::SignatureError;

/// GitHub sends at most 25 MB per delivery; anything larger is not GitHub.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(
        "the GitHub webhook is not configured on this server: set SHIPSHAPE__GITHUB__WEBHOOK_SECRET (or _FILE) to the webhook's secret"
    )]
    NotConfigured,
    #[error("the body is larger than GitHub's limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the body could not be read: {0}")]
    Body(String),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the {0} header is missing or not valid")]
    Header(&'static str),
    #[error("{0}")]
    Payload(String),
    #[error("database unavailable")]
    Db(#[from] DbErr),
    #[error("job queue unavailable")]
    Queue(#[from] QueueError),
}

/// A correctly signed delivery.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    /// `X-GitHub-Delivery`.
    pub id: &'a str,
    /// `X-GitHub-Event`.
    pub event: &'a str,
    /// The raw body, as signed.
    pub body: &'a [u8],
    pub received_at: DateTime<Utc>,
}

/// What was done with a delivery; also the JSON answer to GitHub, which
/// shows it under the webhook's "Recent deliveries".
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub delivery: String,
    pub result: DeliveryResult,
    pub reason: String,
    /// The tracked repository it concerned.
    pub repository_id: Option<i32>,
    /// The queued scan job, for a push.
    pub job_id: Option<i32>,
    /// True when the push was folded into a scan already queued.
    pub coalesced: Option<bool>,
}

/// Logs a delivery and makes its change, in one transaction.
///
/// # Errors
/// `Payload` for a signed body that is not a GitHub payload of its event
/// (logged as rejected first); database and queue errors.
pub async fn receive(db: &DatabaseConnection, delivery: &Delivery<'_>) -> Result<Outcome, WebhookError> {
    let plan = plan::plan(db, delivery.event, delivery.body, delivery.received_at).await?;
    let mut outcome = Outcome {
        delivery: delivery.id.to_string(),
        result: plan.result,
        reason: plan.reason.clone(),
        repository_id: plan.repository_id,
        job_id: None,
        coalesced: None,
    };
    let txn = db.begin().await?;
    // The log row first: on SQLite it takes the write lock before anything
    // is read, and a redelivery stops here with nothing changed.
    let row = NewDelivery {
        delivery_id: delivery.id,
        event: delivery.event,
        repository: plan.repository.as_deref(),
        repository_id: plan.repository_id,
        result: plan.result,
        reason: &plan.reason,
        received_at: delivery.received_at,
    };
    if !deliveries::record(&txn, &row).await? {
        txn.rollback().await?;
        outcome.result = DeliveryResult::Duplicate;
        outcome.reason = format!("duplicate delivery: {} was already received; nothing done", delivery.id);
        return Ok(outcome);
    }
    match plan.action {
        Action::Scan { repository_id, commit } => {
            let request = ScanRequest {
                trigger: ScanTrigger::Webhook,
                commit_sha: Some(commit),
                requested_by: Some(format!("github delivery {}", delivery.id)),
            };
            let Enqueued { job_id, coalesced } =
                queue::enqueue_scan(&txn, repository_id, &request, delivery.received_at).await?;
            outcome.job_id = Some(job_id);
            outcome.coalesced = Some(coalesced);
        }
        Action::Update(row) => {
            row.update(&txn).await?;
        }
        Action::None => {}
    }
    txn.commit().await?;
    if plan.result == DeliveryResult::Rejected {
        return Err(WebhookError::Payload(plan.reason));
    }
    Ok(outcome)
}
