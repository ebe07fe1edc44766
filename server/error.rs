//! The one place where errors become HTTP responses. Handlers return
//! `Result<_, AppError>`; 5xx bodies are generic (details go to the log with
//! the request id), 4xx bodies say what was wrong. Every error body has the
//! same shape, [`ErrorBody`], so API clients parse one thing.

use crate::jobs::queue::QueueError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A resource that does not exist; the message names it.
    #[error("{0}")]
    NotFound(String),
    /// No route matches the path (as opposed to a route whose resource is missing).
    #[error("no such endpoint: {0}")]
    NoRoute(String),
    #[error("{0}")]
    BadRequest(String),
    /// The request is valid but the resource's state forbids it.
    #[error("{0}")]
    Conflict(String),
    #[error("database unavailable")]
    Database(#[from] sea_orm::DbErr),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// The body of every error response.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable and machine-readable: `not_found`, `no_route`, `bad_request`,
    /// `conflict`, `unavailable`, `internal`.
    pub code: String,
    /// For people: what was wrong.
    pub error: String,
}

impl AppError {
    fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::NoRoute(_) => "no_route",
            AppError::BadRequest(_) => "bad_request",
            AppError::Conflict(_) => "conflict",
            AppError::Database(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<QueueError> for AppError {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Db(e) => AppError::Database(e),
            other => AppError::Internal(other.into()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) | AppError::NoRoute(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
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
        HttpResponse::build(status).json(ErrorBody { code: self.code().into(), error: self.to_string() })
    }
}
