//! HTTP routes, one module per page or API area, and the middleware every
//! response passes through.

pub mod action;
pub mod assets;
pub mod charts;
pub mod health;
pub mod middleware;
pub mod pages;
pub mod view;

use actix_web::web;

/// Registers every route; anything else is a 404 through `crate::error`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(health::configure)
        .configure(assets::configure)
        .configure(charts::configure)
        .configure(pages::configure)
        .default_service(web::to(crate::error::not_found));
}
