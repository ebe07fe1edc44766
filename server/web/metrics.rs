//! `/metrics` for Prometheus, and the middleware that counts every HTTP
//! request. The route is its own configure function so it can be put behind
//! a guard, or left out, by configuration without touching the others.

use crate::error::AppError;
use crate::state::AppState;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse, get, web};
use std::time::Instant;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(metrics);
}

/// The text exposition format; the queue depth is read from the database now.
#[get("/metrics")]
async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if !state.settings.metrics.enabled {
        return Err(AppError::NoRoute("/metrics (metrics.enabled is false)".into()));
    }
    let queue = crate::jobs::queue::counts(&state.db).await?;
    Ok(HttpResponse::Ok().content_type(crate::metrics::CONTENT_TYPE).body(state.metrics.render(queue)))
}

/// Counts the request under its route pattern once the response is known.
/// Paths no route matched share one label, so probes for random URLs cannot
/// grow the number of series.
pub async fn track_http(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let res = next.call(req).await?;
    if let Some(state) = res.request().app_data::<web::Data<AppState>>() {
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
        state.metrics.http_request(res.request().method().as_str(), &route, res.status().as_u16(), started.elapsed());
    }
    Ok(res)
}
