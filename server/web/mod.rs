//! HTTP routes, one module per page or API area, and the middleware every
//! response passes through.

pub mod api;
pub mod badge;
pub mod health;
pub mod metrics;
pub mod middleware;

use actix_web::web;

/// Registers every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure);
    cfg.configure(api::configure).configure(badge::configure).configure(metrics::configure);
}
