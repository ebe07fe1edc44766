//! HTTP routes, one module per page or API area, and the middleware every
//! response passes through.

pub mod action;
pub mod api;
pub mod assets;
pub mod badge;
pub mod charts;
pub mod digest;
pub mod github_admin;
pub mod health;
pub mod metrics;
pub mod middleware;
pub mod pages;
pub mod view;
pub mod webhook;

use actix_web::web;

/// Registers every route; anything else is a 404 through `crate::error`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .configure(metrics::configure)
        .configure(webhook::configure)
        .configure(github_admin::configure)
        .configure(digest::configure)
        .configure(api::configure)
        .configure(badge::configure)
        .configure(assets::configure)
        .configure(charts::configure)
        .configure(pages::configure)
        .default_service(web::to(crate::error::not_found));
}

/// The routes of a worker-only replica: the health probes its orchestrator
/// needs and the metrics of the scans it runs, nothing a user could reach.
pub fn configure_probes(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure).configure(metrics::configure);
}
