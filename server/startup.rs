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
        let listener = TcpListener::bind(settings.server.bind)
            .with_context(|| format!("cannot listen on {} (server.bind)", settings.server.bind))?;
        let port = listener.local_addr()?.port();
        let state = AppState { db: db.clone(), settings: Arc::new(settings.clone()) };
        let https = settings.server.public_url.scheme() == "https";
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(actix_web::web::Data::new(state.clone()))
                .wrap(web::middleware::security_headers(https))
                .wrap(Compress::default())
                .wrap(from_fn(web::middleware::request_id))
                .configure(web::configure)
        })
        .listen(listener)?
        .disable_signals()
        .shutdown_timeout(settings.server.shutdown_timeout_secs);
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        tracing::info!(address = %format!("{}:{port}", settings.server.bind.ip()), database = %settings.database.redacted(), "listening");
        Ok(Application { port, server: server.run(), db })
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
        result
    }
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
