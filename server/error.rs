//! The one place where errors become HTTP responses. Handlers return
//! `Result<_, AppError>`; 5xx bodies are generic (details go to the log with
//! the request id), 4xx bodies say what was wrong.

use crate::webhook::WebhookError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("database unavailable")]
    Database(#[from] sea_orm::DbErr),
    /// A server we depend on (the SMTP relay) refused or is unreachable.
    #[error("{0}")]
    Upstream(String),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

impl From<crate::github::hooks::HookError> for AppError {
    fn from(e: crate::github::hooks::HookError) -> Self {
        use crate::github::hooks::HookError;
        match e {
            HookError::Db(db) => AppError::Database(db),
            other => AppError::BadRequest(other.to_string()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Database(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::Webhook(e) => match e {
                // Not a fault of the sender: this server has no secret to check with.
                WebhookError::NotConfigured => StatusCode::SERVICE_UNAVAILABLE,
                WebhookError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                WebhookError::Signature(_) => StatusCode::UNAUTHORIZED,
                WebhookError::Body(_) | WebhookError::Header(_) | WebhookError::Payload(_) => StatusCode::BAD_REQUEST,
                WebhookError::Db(_) | WebhookError::Queue(_) => StatusCode::SERVICE_UNAVAILABLE,
            },
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        HttpResponse::build(status).json(serde_json::json!({ "error": self.to_string() }))
    }
}

impl From<crate::digest::DigestError> for AppError {
    fn from(e: crate::digest::DigestError) -> Self {
        use crate::digest::DigestError as D;
        match e {
            D::Db(e) => AppError::Database(e),
            D::UnknownScope(_) | D::Week(_) => AppError::BadRequest(e.to_string()),
            D::UnknownRun(_) => AppError::NotFound(e.to_string()),
            D::Mail(_) | D::Unsent { .. } => AppError::Upstream(format!("the mail was not sent: {e}")),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<crate::digest::recipients::RecipientError> for AppError {
    fn from(e: crate::digest::recipients::RecipientError) -> Self {
        use crate::digest::recipients::RecipientError as R;
        match e {
            R::Db(e) => AppError::Database(e),
            other => AppError::BadRequest(other.to_string()),
        }
    }
}
