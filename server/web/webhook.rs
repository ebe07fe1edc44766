//! `POST /webhooks/github`: the HTTP edge of `crate::webhook`. The body is
//! read raw under GitHub's 25 MB cap and its signature checked before
//! anything parses it; errors become responses in `crate::error`.

use crate::error::AppError;
use crate::state::AppState;
use crate::webhook::{self, Delivery, MAX_BODY_BYTES, WebhookError, signature};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(github);
}

/// Ping and repository changes are done when the answer leaves (200); a
/// queued scan or an ignored event is "accepted, nothing more now" (202).
#[post("/webhooks/github")]
async fn github(state: web::Data<AppState>, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, AppError> {
    let received_at = chrono::Utc::now();
    let secret = state.settings.github.webhook_secret.as_ref().ok_or(WebhookError::NotConfigured)?;
    let body = read_capped(&req, payload, MAX_BODY_BYTES).await?;
    if let Err(e) = signature::verify(secret.expose().as_bytes(), header(&req, "X-Hub-Signature-256"), &body) {
        tracing::warn!(error = %e, peer = ?req.peer_addr(), "webhook delivery refused");
        return Err(WebhookError::from(e).into());
    }
    let id = header(&req, "X-GitHub-Delivery")
        .filter(|v| !v.is_empty() && v.len() <= 100)
        .ok_or(WebhookError::Header("X-GitHub-Delivery"))?;
    let event = header(&req, "X-GitHub-Event")
        .filter(|v| !v.is_empty() && v.len() <= 50)
        .ok_or(WebhookError::Header("X-GitHub-Event"))?;
    let outcome = webhook::receive(&state.db, &Delivery { id, event, body: &body, received_at }).await?;
    tracing::info!(delivery = id, event, result = ?outcome.result, reason = %outcome.reason, "webhook delivery");
    let status = match (outcome.result, outcome.job_id) {
        (webhook::DeliveryResult::Accepted, None) | (webhook::DeliveryResult::Duplicate, _) => StatusCode::OK,
        _ => StatusCode::ACCEPTED,
    };
    Ok(HttpResponse::build(status).json(outcome))
}

/// A header as text; one that is not visible ASCII counts as empty.
fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).map(|v| v.to_str().unwrap_or_default())
}

/// The whole body, refused once it passes `limit` (by its declared length
/// before reading, or while reading when there is none).
async fn read_capped(req: &HttpRequest, payload: web::Payload, limit: usize) -> Result<web::Bytes, WebhookError> {
    let declared = header(req, "Content-Length").and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(WebhookError::TooLarge { limit });
    }
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(WebhookError::TooLarge { limit }),
        Err(e) => Err(WebhookError::Body(e.to_string())),
    }
}
