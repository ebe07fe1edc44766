//! The worker: claims jobs from the queue and runs them. A scan job brings
//! the repository to disk (`checkout`), runs the analysis core on a blocking
//! thread and records the result in one transaction (`store`). The lease is
//! renewed while the scan runs, so a slow scan is not taken away, and a
//! worker that dies simply stops renewing: its lease expires and another
//! worker takes the job.

use super::queue::{self, ClaimedJob, FailOutcome, QueueError};
use super::scan_request::ScanRequest;
use crate::checkout::{self, CheckoutPolicy, Source};
use crate::db::entities::jobs::JobKind;
use crate::db::entities::repositories;
use crate::github::{Github, GithubError, Session, facts};
use crate::metrics::{Metrics, ScanOutcome};
use crate::store::{self, ScanMeta};
use chrono::Utc;
use sea_orm::{DatabaseConnection, EntityTrait};
use std::time::Duration;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Names the lease holder in the jobs table (host and process).
    pub id: String,
    pub lease: Duration,
    pub checkout: CheckoutPolicy,
    /// The GitHub API: tokens for private repositories (personal or App
    /// installation) and the facts of the GitHub-only checks.
    pub github: Option<Github>,
    /// Sends digest jobs; `None` leaves them failing with a clear reason.
    pub digests: Option<std::sync::Arc<crate::digest::Digests>>,
    /// Where finished scans are counted.
    pub metrics: Metrics,
    /// Tells the configured channels about level changes and new critical
    /// findings; `None` sends nothing.
    pub notify: Option<std::sync::Arc<crate::notify::Notifier>>,
    /// Custom checks and effective dates every scan runs with.
    pub policy: std::sync::Arc<shipshape_analysis::Policy>,
}

/// What running one job did.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    /// A scan was recorded.
    Scanned { scan_id: i32, commit: String },
    /// A digest run was delivered.
    Digested { sent: usize, skipped: usize },
    /// The job failed; it will be retried or has failed for good.
    Failed { error: String, outcome: FailOutcome },
}

/// Why a scan job could not produce a report.
#[derive(Debug, thiserror::Error)]
enum ScanError {
    #[error("repository {0} no longer exists")]
    UnknownRepository(i32),
    #[error("repository {0} is archived or disabled")]
    Inactive(String),
    #[error(transparent)]
    Checkout(#[from] checkout::CheckoutError),
    #[error("analysis failed: {0}")]
    Analysis(String),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error("GitHub API: {0}")]
    Github(#[from] GithubError),
}

/// Claims one due job and runs it; `None` when nothing was due.
///
/// # Errors
/// Queue errors (database unreachable, lease lost); the job itself failing
/// is an `Ok(Some(JobOutcome::Failed { .. }))`.
pub async fn run_once(db: &DatabaseConnection, cfg: &WorkerConfig) -> Result<Option<JobOutcome>, QueueError> {
    run_once_at(db, cfg, Utc::now()).await
}

/// `run_once` on a clock that reads `now` at the start: tests use it to
/// run a job whose retry is due later without waiting for it.
///
/// # Errors
/// As `run_once`.
pub async fn run_once_at(
    db: &DatabaseConnection,
    cfg: &WorkerConfig,
    now: chrono::DateTime<Utc>,
) -> Result<Option<JobOutcome>, QueueError> {
    let started = Utc::now();
    let clock = || now + (Utc::now() - started);
    queue::reclaim_expired(db, clock()).await?;
    let Some(job) = queue::claim(db, &cfg.id, cfg.lease, clock()).await? else { return Ok(None) };
    let timer = std::time::Instant::now();
    let renewal = spawn_renewal(db.clone(), job.clone(), cfg.lease);
    let result = match job.kind {
        JobKind::Scan => scan(db, cfg, &job)
            .await
            .map(|(scan_id, commit)| JobOutcome::Scanned { scan_id, commit })
            .map_err(|e| e.to_string()),
        JobKind::Digest => match &cfg.digests {
            Some(digests) => digests
                .run_job(db, job.payload.as_ref(), &cfg.id)
                .await
                .map(|d| JobOutcome::Digested { sent: d.sent, skipped: d.skipped })
                .map_err(|e| e.to_string()),
            None => Err("this worker cannot send mail: the SMTP settings were not usable at start".into()),
        },
        other => Err(format!("{other:?} jobs are not handled by this worker yet")),
    };
    renewal.abort();
    let (outcome, counted) = match result {
        Ok(outcome) => {
            queue::complete(db, &job, clock()).await?;
            (outcome, ScanOutcome::Succeeded)
        }
        Err(error) => {
            tracing::warn!(job.id = job.id, job.attempt = job.attempt, %error, "job failed");
            let outcome = queue::fail(db, &job, &error, clock()).await?;
            let counted = if matches!(outcome, FailOutcome::Retrying { .. }) {
                ScanOutcome::Retrying
            } else {
                record_failed_scan(db, &job, &error, outcome).await;
                ScanOutcome::Failed
            };
            (JobOutcome::Failed { error, outcome }, counted)
        }
    };
    if job.kind == JobKind::Scan {
        cfg.metrics.scan_finished(counted, timer.elapsed());
    }
    Ok(Some(outcome))
}

/// Runs jobs until `shutdown` turns true, sleeping `idle` when the queue is empty.
pub async fn run(
    db: DatabaseConnection,
    cfg: WorkerConfig,
    idle: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match run_once(&db, &cfg).await {
            Ok(Some(_)) => continue,
            Ok(None) => {
                if let Some(notifier) = &cfg.notify {
                    notifier.sweep_now_and_then(&db);
                }
            }
            Err(e) => tracing::error!(error = %e, "worker could not use the queue; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(idle) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Renews the lease at a third of its length until aborted.
fn spawn_renewal(db: DatabaseConnection, job: ClaimedJob, lease: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(lease / 3).await;
            if let Err(e) = queue::renew(&db, &job, lease, Utc::now()).await {
                tracing::warn!(job.id = job.id, error = %e, "could not renew the lease");
                return;
            }
        }
    })
}

async fn scan(db: &DatabaseConnection, cfg: &WorkerConfig, job: &ClaimedJob) -> Result<(i32, String), ScanError> {
    let repo_id = job.repository_id.ok_or(ScanError::UnknownRepository(0))?;
    let repo = repositories::Entity::find_by_id(repo_id).one(db).await?.ok_or(ScanError::UnknownRepository(repo_id))?;
    if repo.archived || !repo.enabled {
        return Err(ScanError::Inactive(format!("{}/{}", repo.owner, repo.name)));
    }
    let request = job.scan_request().ok().flatten();
    let queued_at = Utc::now();
    let started_at = Utc::now();
    let key = format!("{:?}/{}/{}", repo.provider, repo.owner, repo.name).to_ascii_lowercase();
    // An empty branch means the remote's default branch, found at checkout.
    let branch = (!repo.default_branch.is_empty()).then_some(repo.default_branch.as_str());
    let session = github_session(cfg, &repo).await?;
    let token = session.as_ref().and_then(Session::token);
    let source = Source { key: &key, url: &repo.clone_url, branch, token };
    let checkout = checkout::sync(&cfg.checkout, &source).await?;
    let github = match &session {
        Some(s) => github_facts(s, &repo, &checkout.branch).await?,
        None => None,
    };
    let path = checkout.path.clone();
    let options =
        shipshape_analysis::Options { github, policy: cfg.policy.clone(), ..shipshape_analysis::Options::default() };
    let report =
        tokio::task::spawn_blocking(move || shipshape_analysis::analyze(&path, &options).map_err(|e| e.to_string()))
            .await
            .map_err(|e| ScanError::Analysis(e.to_string()))?
            .map_err(ScanError::Analysis)?;
    let trigger = request.as_ref().map(trigger_name).unwrap_or("schedule");
    let meta = ScanMeta {
        repository_id: repo_id,
        commit_sha: Some(&checkout.commit),
        trigger,
        queued_at,
        started_at,
        finished_at: Utc::now(),
        github_api_calls: session.as_ref().map(|s| s.calls() as i32),
    };
    let recorded = store::record_success(db, &meta, &report).await?;
    if repo.team_id.is_none() {
        assign_codeowners_team(db, &repo, &checkout.path).await?;
    }
    tracing::info!(
        repo.name = %repo.name, scan.id = recorded.scan_id, commit = %checkout.commit, score = report.score,
        github_api_calls = session.as_ref().map(Session::calls), "scan recorded"
    );
    // The scan is recorded whatever happens here: planning takes a few
    // queries and the sending runs in its own task (`crate::notify`).
    if let Some(notifier) = &cfg.notify
        && let Err(error) = notifier.after_scan(db, recorded.scan_id).await
    {
        tracing::error!(scan.id = recorded.scan_id, %error, "notifications of this scan could not be planned");
    }
    Ok((recorded.scan_id, checkout.commit))
}

/// A repository without a team takes the one its CODEOWNERS names for the whole tree.
async fn assign_codeowners_team(
    db: &DatabaseConnection,
    repo: &repositories::Model,
    checkout: &std::path::Path,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::{ActiveModelTrait, Set};
    let Some(slug) = crate::codeowners::read_root_team(checkout) else { return Ok(()) };
    let team = crate::sources::team_id(db, &slug).await?;
    repositories::ActiveModel { id: Set(repo.id), team_id: Set(Some(team)), ..Default::default() }.update(db).await?;
    tracing::info!(repo.name = %repo.name, team = %slug, "team assigned from CODEOWNERS");
    Ok(())
}

/// A session for a GitHub repository when the API is configured with
/// credentials; anonymous access has 60 calls an hour, too few to scan with.
async fn github_session(cfg: &WorkerConfig, repo: &repositories::Model) -> Result<Option<Session>, ScanError> {
    let Some(github) = cfg.github.as_ref().filter(|g| g.authenticated()) else { return Ok(None) };
    if repo.provider != repositories::Provider::Github {
        return Ok(None);
    }
    match github.session(&repo.owner).await {
        Ok(s) => Ok(Some(s)),
        // The App is not installed on this owner: a public repository can
        // still be cloned and scanned offline.
        Err(GithubError::App(reason)) => {
            tracing::warn!(repo.owner = %repo.owner, %reason, "scanning without the GitHub API");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The GitHub-only checks' facts. A repository GitHub does not know (a
/// mirror, a name that changed) scans offline; a rate limit or an outage
/// fails the attempt, which is retried, rather than record checks as n/a.
async fn github_facts(
    session: &Session,
    repo: &repositories::Model,
    branch: &str,
) -> Result<Option<shipshape_analysis::GithubFacts>, ScanError> {
    match facts::gather(session, &repo.owner, &repo.name, branch).await {
        Ok(f) => Ok(Some(f)),
        Err(e @ GithubError::NotFound { .. }) => {
            tracing::warn!(repo.name = %repo.name, error = %e, "GitHub checks skipped");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

fn trigger_name(r: &ScanRequest) -> &'static str {
    use super::scan_request::ScanTrigger::*;
    match r.trigger {
        Schedule => "schedule",
        Webhook => "webhook",
        Manual => "manual",
        Api => "api",
        Demo => "demo",
    }
}

/// A job that will not be retried leaves a failed scan row with its reason,
/// so the repository page shows why it was not scanned.
async fn record_failed_scan(db: &DatabaseConnection, job: &ClaimedJob, error: &str, outcome: FailOutcome) {
    let Some(repository_id) = job.repository_id.filter(|_| job.kind == JobKind::Scan) else { return };
    let now = Utc::now();
    let request = job.scan_request().ok().flatten();
    let meta = ScanMeta {
        repository_id,
        commit_sha: None,
        trigger: request.as_ref().map(trigger_name).unwrap_or("schedule"),
        queued_at: now,
        started_at: now,
        finished_at: now,
        github_api_calls: None,
    };
    let reason = match outcome {
        FailOutcome::Superseded => format!("{error} (a newer scan request replaces this one)"),
        _ => error.to_string(),
    };
    if let Err(e) = store::record_failure(db, &meta, &reason).await {
        tracing::error!(error = %e, "could not record the failed scan");
    }
}
