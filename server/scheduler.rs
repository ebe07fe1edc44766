//! Cron wiring (tokio-cron-scheduler): each configured job fires on its
//! schedule in every replica, but runs in only one, the replica whose
//! INSERT of the (job, slot) row wins the unique index. The same row tells
//! a restarted server whether it missed the latest slot: a missed slot runs
//! once at start, however many ticks were missed.
//!
//! A claimed slot is never silently lost at shutdown: [`Scheduler::shutdown`]
//! waits for the runs in flight, and a run still going when the grace period
//! ends is stopped and its claim deleted. The latest slot of every job is
//! also re-offered once a minute (a "sweep": one INSERT that loses when the
//! slot is taken), so a slot given back by a replica that stopped runs in
//! another replica within the minute, or at the next start.

use crate::config::{Cron, Settings};
use crate::jobs::periodic;
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
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

/// Gives back a slot this replica claimed but did not finish, so another
/// replica (or this one, after a restart) runs it. `false` when `by` held no
/// such claim.
///
/// # Errors
/// Database errors.
pub async fn release(db: &DatabaseConnection, job: &str, slot: DateTime<Utc>, by: &str) -> Result<bool, DbErr> {
    let delete = Query::delete()
        .from_table("schedule_runs")
        .and_where(Expr::col("job").eq(job))
        .and_where(Expr::col("slot").eq(crate::db::db_time(slot)))
        .and_where(Expr::col("claimed_by").eq(by))
        .to_owned();
    Ok(db.execute(&delete).await?.rows_affected() == 1)
}

/// The slot a firing at `now` belongs to: the latest scheduled time not after
/// `now`, in whole seconds. (The cron library keeps `now`'s fraction of a
/// second, so replicas firing a few milliseconds apart would otherwise
/// claim different "slots" and both run.)
pub fn slot_at(cron: &Cron, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    cron.schedule.find_previous_occurrence(&now, true).ok().map(|t| t.trunc_subsecs(0))
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

/// When the sweep re-offers every job's latest slot: once a minute, off the
/// round minute most schedules use.
const SWEEP: &str = "30 * * * * *";

/// The running scheduler. Call [`Scheduler::shutdown`] when the server stops.
pub struct Scheduler {
    cron: JobScheduler,
    runs: Arc<Runs>,
    db: DatabaseConnection,
    by: String,
    grace: Duration,
}

/// The firings in flight (claiming or running a slot), and whether new ones
/// may start.
#[derive(Default)]
struct Runs {
    state: Mutex<RunsState>,
}

#[derive(Default)]
struct RunsState {
    stopping: bool,
    next_id: u64,
    active: HashMap<u64, Run>,
}

struct Run {
    task: Task,
    slot: DateTime<Utc>,
    handle: tokio::task::JoinHandle<()>,
}

fn lock(runs: &Runs) -> MutexGuard<'_, RunsState> {
    runs.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One firing of `task` at `now`: claims its latest slot and, if this
/// replica won it, runs it; tracked until it ends so a shutdown can wait
/// for it. Nothing starts once the scheduler is stopping.
fn fire(runs: &Arc<Runs>, db: &DatabaseConnection, settings: &Arc<Settings>, by: &str, task: Task, now: DateTime<Utc>) {
    let Some(slot) = slot_at(task.cron(settings), now) else { return };
    let mut state = lock(runs);
    if state.stopping {
        return;
    }
    let id = state.next_id;
    state.next_id += 1;
    let (tracked, db, settings, by) = (runs.clone(), db.clone(), settings.clone(), by.to_string());
    // The lock is held until the run is registered, so its removal below
    // cannot come first.
    let handle = tokio::spawn(async move {
        match claim(&db, task.name(), slot, &by).await {
            Ok(true) => task.run(&db, &settings, &by, slot).await,
            Ok(false) => tracing::debug!(job = task.name(), "slot already taken by another replica"),
            Err(error) => tracing::error!(job = task.name(), %error, "could not claim the scheduled slot"),
        }
        lock(&tracked).active.remove(&id);
    });
    state.active.insert(id, Run { task, slot, handle });
}

/// Starts the cron scheduler after catching up. Keep the returned scheduler
/// alive; call `shutdown` on it when the server stops (it waits up to
/// `server.shutdown_timeout_secs` for a run in flight).
///
/// # Errors
/// An invalid schedule (already validated at config load) or a scheduler failure.
pub async fn start(
    db: DatabaseConnection,
    settings: Arc<Settings>,
    by: String,
) -> Result<Scheduler, JobSchedulerError> {
    if let Err(e) = catch_up(&db, &settings, &by, Utc::now()).await {
        tracing::error!(error = %e, "could not catch up on missed scheduled jobs");
    }
    let runs = Arc::new(Runs::default());
    let cron = JobScheduler::new().await?;
    let tasks = Task::active(&settings);
    for task in tasks.iter().copied() {
        let (runs, db, settings, by) = (runs.clone(), db.clone(), settings.clone(), by.clone());
        let expr = task.cron(&settings).expr.clone();
        let job = Job::new_async(expr.as_str(), move |_id, _lock| {
            fire(&runs, &db, &settings, &by, task, Utc::now());
            Box::pin(async {})
        })?;
        cron.add(job).await?;
    }
    let sweep = {
        let (runs, db, settings, by) = (runs.clone(), db.clone(), settings.clone(), by.clone());
        Job::new_async(SWEEP, move |_id, _lock| {
            for task in tasks.iter().copied() {
                fire(&runs, &db, &settings, &by, task, Utc::now());
            }
            Box::pin(async {})
        })?
    };
    cron.add(sweep).await?;
    cron.start().await?;
    let grace = Duration::from_secs(settings.server.shutdown_timeout_secs);
    Ok(Scheduler { cron, runs, db, by, grace })
}

impl Scheduler {
    /// Stops firing, then lets every run in flight finish within the grace
    /// period; a run still going then is stopped and its slot released for
    /// another replica. Returns the slots released.
    pub async fn shutdown(mut self) -> Vec<(Task, DateTime<Utc>)> {
        let in_flight = {
            let mut state = lock(&self.runs);
            state.stopping = true;
            std::mem::take(&mut state.active)
        };
        if let Err(error) = self.cron.shutdown().await {
            tracing::warn!(%error, "the cron scheduler did not stop cleanly");
        }
        let deadline = tokio::time::Instant::now() + self.grace;
        let mut released = Vec::new();
        for Run { task, slot, mut handle } in in_flight.into_values() {
            if tokio::time::timeout_at(deadline, &mut handle).await.is_ok() {
                continue;
            }
            handle.abort();
            let _ = handle.await;
            match release(&self.db, task.name(), slot, &self.by).await {
                Ok(true) => {
                    tracing::warn!(job = task.name(), %slot, "scheduled job cut off at shutdown; its slot is released for another replica");
                    released.push((task, slot));
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::error!(job = task.name(), %slot, %error, "could not release a slot cut off at shutdown")
                }
            }
        }
        released
    }
}
