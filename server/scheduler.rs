//! Cron wiring (tokio-cron-scheduler): each configured job fires on its
//! schedule in every replica, but runs in only one, the replica whose
//! INSERT of the (job, slot) row wins the unique index. The same row tells
//! a restarted server whether it missed the latest slot: a missed slot runs
//! once at start, however many ticks were missed.

use crate::config::{Cron, Settings};
use crate::jobs::periodic;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use std::sync::Arc;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};

/// A scheduled job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    ScanAll,
    Retention,
    /// GitHub discovery; scheduled only when `github.sources` lists any.
    Discovery,
    Digest,
}

impl Task {
    pub const ALL: [Task; 4] = [Task::ScanAll, Task::Retention, Task::Discovery, Task::Digest];

    /// The tasks these settings schedule.
    pub fn active(settings: &Settings) -> Vec<Task> {
        Task::ALL.into_iter().filter(|t| *t != Task::Discovery || !settings.github.sources.is_empty()).collect()
    }

    pub fn name(self) -> &'static str {
        match self {
            Task::ScanAll => "scan_all",
            Task::Retention => "retention",
            Task::Discovery => "discovery",
            Task::Digest => "digest",
        }
    }

    fn cron(self, settings: &Settings) -> &Cron {
        match self {
            Task::ScanAll => &settings.scheduler.scan_all,
            Task::Retention => &settings.scheduler.retention,
            Task::Discovery => &settings.scheduler.discovery,
            Task::Digest => &settings.scheduler.digest,
        }
    }

    /// Runs the job of `slot` (the digest reports on the week before its slot,
    /// whenever the run happens).
    async fn run(self, db: &DatabaseConnection, settings: &Settings, by: &str, slot: DateTime<Utc>) {
        let now = Utc::now();
        let result = match self {
            Task::ScanAll => periodic::scan_all(db, now).await.map(|n| n as u64).map_err(|e| e.to_string()),
            Task::Retention => {
                periodic::retention(db, now, settings.scheduler.retention_days).await.map_err(|e| e.to_string())
            }
            Task::Discovery => discover(db, settings).await,
            Task::Digest => crate::digest::schedule(db, settings, by, slot)
                .await
                .map(|runs| runs.len() as u64)
                .map_err(|e| e.to_string()),
        };
        match result {
            Ok(n) => tracing::info!(job = self.name(), count = n, "scheduled job ran"),
            Err(error) => tracing::error!(job = self.name(), %error, "scheduled job failed"),
        }
    }
}

/// Discovers every GitHub source; the count is the repositories listed.
/// Each source's own failure is logged and recorded by discovery itself.
async fn discover(db: &DatabaseConnection, settings: &Settings) -> Result<u64, String> {
    let github = crate::github::Github::new(&settings.github).map_err(|e| e.to_string())?;
    let results = crate::github::discovery::discover_all(db, &github).await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    let seen: usize = results.iter().flatten().map(|d| d.repos_seen).sum();
    if failed > 0 {
        return Err(format!("{failed} of {} GitHub sources failed (see discovery_runs)", results.len()));
    }
    Ok(seen as u64)
}

/// Claims a slot for this replica; `false` when another one already has it.
///
/// # Errors
/// Database errors.
pub async fn claim(db: &DatabaseConnection, job: &str, slot: DateTime<Utc>, by: &str) -> Result<bool, DbErr> {
    let now = crate::db::db_time(Utc::now());
    let insert = Query::insert()
        .into_table("schedule_runs")
        .columns(["job", "slot", "claimed_by", "claimed_at"])
        .values_panic([job.into(), crate::db::db_time(slot).into(), by.into(), now.into()])
        .on_conflict(OnConflict::columns(["job", "slot"]).do_nothing().to_owned())
        .to_owned();
    Ok(db.execute(&insert).await?.rows_affected() == 1)
}

/// The slot a firing at `now` belongs to: the latest scheduled time not after `now`.
pub fn slot_at(cron: &Cron, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.schedule.find_previous_occurrence(&now, true).ok()
}

/// Runs, once, every job whose latest slot has not run yet (the server was
/// down, or this is the first start). Returns the jobs that ran.
///
/// # Errors
/// Database errors while claiming.
pub async fn catch_up(
    db: &DatabaseConnection,
    settings: &Settings,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Task>, DbErr> {
    let mut ran = Vec::new();
    for task in Task::active(settings) {
        let Some(slot) = slot_at(task.cron(settings), now) else { continue };
        if claim(db, task.name(), slot, by).await? {
            task.run(db, settings, by, slot).await;
            ran.push(task);
        }
    }
    Ok(ran)
}

/// Starts the cron scheduler after catching up. Keep the returned scheduler
/// alive; call `shutdown` on it when the server stops.
///
/// # Errors
/// An invalid schedule (already validated at config load) or a scheduler failure.
pub async fn start(
    db: DatabaseConnection,
    settings: Arc<Settings>,
    by: String,
) -> Result<JobScheduler, JobSchedulerError> {
    if let Err(e) = catch_up(&db, &settings, &by, Utc::now()).await {
        tracing::error!(error = %e, "could not catch up on missed scheduled jobs");
    }
    let scheduler = JobScheduler::new().await?;
    for task in Task::active(&settings) {
        let (db, settings, by) = (db.clone(), settings.clone(), by.clone());
        let expr = task.cron(&settings).expr.clone();
        let job = Job::new_async(expr.as_str(), move |_id, _lock| {
            let (db, settings, by) = (db.clone(), settings.clone(), by.clone());
            Box::pin(async move {
                let Some(slot) = slot_at(task.cron(&settings), Utc::now()) else { return };
                match claim(&db, task.name(), slot, &by).await {
                    Ok(true) => task.run(&db, &settings, &by, slot).await,
                    Ok(false) => tracing::debug!(job = task.name(), "slot already taken by another replica"),
                    Err(error) => tracing::error!(job = task.name(), %error, "could not claim the scheduled slot"),
                }
            })
        })?;
        scheduler.add(job).await?;
    }
    scheduler.start().await?;
    Ok(scheduler)
}
