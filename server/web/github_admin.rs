//! Admin actions on GitHub: register Shipshape's webhook on every tracked
//! GitHub repository that lacks it (the admin page posts here).

use crate::error::AppError;
use crate::state::AppState;
use actix_web::{HttpResponse, post, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(register_webhooks);
}

/// Answers with the counts: created, already present, failed (with reasons), API calls.
#[post("/admin/github/webhooks/register")]
async fn register_webhooks(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let done = crate::github::hooks::register_all(&state.db, &state.github, &state.settings.server.public_url).await?;
    Ok(HttpResponse::Ok().json(done))
}
