//! Building and running the HTTP server. `Application::build` binds the
//! listener first (port 0 picks a free one), so tests know the address
//! before anything runs, and `run_until_stopped` serves until SIGTERM/SIGINT
//! or an explicit stop, letting in-flight requests finish.

use crate::config::Settings;
use crate::state::AppState;
use crate::web;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer};
use sea_orm::DatabaseConnection;
use std::net::TcpListener;
use std::sync::Arc;

pub struct Application {
    port: u16,
    server: Server,
    pub db: DatabaseConnection,
    worker: Option<Worker>,
    scheduler: Option<crate::scheduler::Scheduler>,
}

/// The in-process worker and the switch that stops it.
struct Worker {
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
    grace: std::time::Duration,
}

impl Application {
    /// Connects, migrates and binds.
    ///
    /// # Errors
    /// Database unreachable, a migration failing, or the address in use.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        use anyhow::Context;
        let db = crate::db::connect(&settings.database).await?;
        crate::db::migrate_up(&db).await.context("applying migrations")?;
        let synced =
            crate::sources::sync_config(&db, &settings.repositories).await.context("configured repositories")?;
        if synced != crate::sources::Synced::default() {
            tracing::info!(
                added = synced.added,
                updated = synced.updated,
                scans_queued = synced.scans_queued,
                "configured repositories synced"
            );
        }
        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("cannot listen on {} (server.bind)", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let github = crate::github::Github::new(&settings.github).context("the GitHub API client (github.*)")?;
        let metrics = crate::metrics::Metrics::new();
        let state = AppState {
            db: db.clone(),
            settings: Arc::new(settings.clone()),
            github: github.clone(),
            metrics: metrics.clone(),
            memos: Default::default(),
        };
        let https = settings.server.public_url.scheme() == "https";
        let role = settings.server.role;
        // One key for every HTTP worker thread (and, from config, every replica).
        let cookie_key = crate::auth::session::cookie_key(&settings.auth);
        let auth = settings.auth.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(actix_web::web::Data::new(state.clone()))
                .wrap(from_fn(crate::auth::gate::gate))
                .wrap(crate::auth::session::middleware(&auth, &cookie_key, https))
                .wrap(from_fn(crate::error::html_pages))
                .wrap(web::middleware::security_headers(https))
                .wrap(Compress::default())
                .wrap(from_fn(web::middleware::request_id))
                .wrap(from_fn(web::metrics::track_http))
                .configure(|cfg| if role.serves_pages() { web::configure(cfg) } else { web::configure_probes(cfg) })
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        tracing::info!(address = %format!("{}:{port}", settings.server.bind.ip()), ?role, database = %settings.database.redacted(), "listening");
        let worker = role
            .runs_worker(settings.worker.enabled)
            .then(|| spawn_worker(&settings, db.clone(), github.clone(), metrics));
        let scheduler = if role.runs_scheduler(settings.scheduler.enabled) {
            let by =
                format!("{}-{}", std::env::var("HOSTNAME").unwrap_or_else(|_| "shipshape".into()), std::process::id());
            Some(
                crate::scheduler::start(db.clone(), Arc::new(settings.clone()), by)
                    .await
                    .context("starting the scheduler")?,
            )
        } else {
            None
        };
        Ok(Application { port, server: server.run(), db, worker, scheduler })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server is stopped through its handle or the process
    /// receives SIGTERM or SIGINT; then drains gracefully.
    ///
    /// # Errors
    /// An I/O error of the server.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let signals = tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutdown requested; finishing in-flight requests");
            handle.stop(true).await;
        });
        let result = self.server.await;
        signals.abort();
        // Both get the same grace period, side by side: a scheduled job in
        // flight finishes or gives its slot back; a scan in progress finishes
        // or its lease expires and another worker takes the job over.
        let scheduler = async {
            if let Some(scheduler) = self.scheduler {
                scheduler.shutdown().await;
            }
        };
        let worker = async {
            if let Some(worker) = self.worker {
                let _ = worker.stop.send(true);
                let _ = tokio::time::timeout(worker.grace, worker.task).await;
            }
        };
        tokio::join!(scheduler, worker);
        result
    }
}

fn spawn_worker(
    settings: &Settings,
    db: DatabaseConnection,
    github: crate::github::Github,
    metrics: crate::metrics::Metrics,
) -> Worker {
    use crate::checkout::CheckoutPolicy;
    use crate::jobs::worker::{self, WorkerConfig};
    use std::time::Duration;
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "shipshape".into());
    let cfg = WorkerConfig {
        id: format!("{host}-{}", std::process::id()),
        lease: Duration::from_secs(settings.worker.lease_secs),
        checkout: CheckoutPolicy {
            cache_dir: settings.data_dir.clone(),
            max_bytes: settings.checkout.max_bytes,
            max_files: settings.checkout.max_files,
            timeout: Duration::from_secs(settings.checkout.git_timeout_secs),
            allow_local: settings.checkout.allow_local,
        },
        github: Some(github),
        digests: match crate::digest::Digests::new(settings) {
            Ok(d) => Some(std::sync::Arc::new(d)),
            Err(error) => {
                tracing::error!(%error, "digest mails cannot be sent: check the [smtp] settings");
                None
            }
        },
        metrics,
        notify: match crate::notify::Notifier::new(settings) {
            Ok(n) => Some(std::sync::Arc::new(n)),
            Err(error) => {
                tracing::error!(%error, "notifications cannot be sent: the HTTP client could not be built");
                None
            }
        },
        policy: settings.policy.clone(),
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let idle = Duration::from_secs(settings.worker.idle_secs.max(1));
    tracing::info!(worker.id = %cfg.id, "worker started");
    let task = tokio::spawn(worker::run(db, cfg, idle, stopped));
    Worker { task, stop, grace: Duration::from_secs(settings.server.shutdown_timeout_secs) }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
