//! Liveness and readiness probes for orchestrators and load balancers.

use crate::state::AppState;
use actix_web::{HttpResponse, get, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz);
}

/// The process is up and serving HTTP; touches nothing else.
#[get("/healthz")]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// Ready for traffic: the database answers and the schema is current.
#[get("/readyz")]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match crate::db::readiness(&state.db).await {
        Ok(()) => HttpResponse::Ok().json(serde_json::json!({ "status": "ready", "database": "ok" })),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({ "status": "unavailable", "reason": reason }))
        }
    }
}
