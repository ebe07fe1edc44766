//! The one place where errors become HTTP responses. Handlers return
//! `Result<_, AppError>`; 5xx bodies are generic (details go to the log with
//! the request id), 4xx bodies say what was wrong.
//!
//! API paths (`API_PREFIXES`) answer JSON; every other path is a page a
//! person reads, so `html_pages` turns the same error into an HTML page with
//! the site's layout and a way back.

use crate::store::suppression::SuppressError;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database unavailable")]
    Database(#[from] sea_orm::DbErr),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl From<SuppressError> for AppError {
    fn from(e: SuppressError) -> Self {
        match e {
            SuppressError::Db(db) => AppError::Database(db),
            SuppressError::UnknownFinding(_) => AppError::NotFound(e.to_string()),
            SuppressError::NoReason | SuppressError::ExpiryInPast(_) => AppError::BadRequest(e.to_string()),
            SuppressError::NotOpen(_) | SuppressError::SuppressedInRepository | SuppressError::NotSuppressed => {
                AppError::Conflict(e.to_string())
            }
        }
    }
}

impl From<crate::jobs::queue::QueueError> for AppError {
    fn from(e: crate::jobs::queue::QueueError) -> Self {
        match e {
            crate::jobs::queue::QueueError::Db(db) => AppError::Database(db),
            other => AppError::Internal(other.into()),
        }
    }
}

/// What went wrong, kept on the response so `html_pages` can render it.
#[derive(Debug, Clone)]
struct ErrorPage {
    message: String,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let mut res = HttpResponse::build(status).json(serde_json::json!({ "error": self.to_string() }));
        res.extensions_mut().insert(ErrorPage { message: self.to_string() });
        res
    }
}

/// Paths whose clients are programs: errors stay JSON there.
pub const API_PREFIXES: &[&str] =
    &["/api/", "/healthz", "/readyz", "/metrics", "/webhooks/", "/badge/", "/charts/", "/static/"];

/// Answers every unrouted path: a 404 through the same mapping as the rest.
pub async fn not_found(req: actix_web::HttpRequest) -> Result<HttpResponse, AppError> {
    Err(AppError::NotFound(format!("there is no page at {}", req.path())))
}

/// Renders errors of page paths as HTML pages; API paths keep their JSON.
pub async fn html_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody, BoxBody>>, actix_web::Error> {
    let api = API_PREFIXES.iter().any(|p| req.path().starts_with(p));
    let res = next.call(req).await?;
    let page = res.response().extensions().get::<ErrorPage>().cloned();
    match page {
        Some(page) if !api => {
            let status = res.status();
            let body = crate::web::pages::error_page(status, &page.message);
            Ok(res.map_body(|head, _| {
                head.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
                EitherBody::right(BoxBody::new(body))
            }))
        }
        _ => Ok(res.map_into_left_body()),
    }
}
