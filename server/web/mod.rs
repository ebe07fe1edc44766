//! HTTP routes, one module per page or API area, and the middleware every
//! response passes through.

pub mod api;
pub mod badge;
pub mod digest;
pub mod github_admin;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod webhook;

use actix_web::web;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .configure(metrics::configure)
        .configure(webhook::configure)
        .configure(github_admin::configure)
        .configure(digest::configure)
        .configure(api::configure)
        .configure(badge::configure);
}

/// The routes of a worker-only replica: the health probes its orchestrator
/// needs and the metrics of the scans it runs, nothing a user could reach.
pub fn configure_probes(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure).configure(metrics::configure);
}
