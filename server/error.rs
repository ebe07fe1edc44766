//! The one place where errors become HTTP responses. Handlers return
//! `Result<_, AppError>`; 5xx bodies are generic (details go to the log with
//! the request id), 4xx bodies say what was wrong. Every error body has the
//! same shape, [`ErrorBody`], so API clients parse one thing.
//!
//! API paths (`API_PREFIXES`) answer JSON; every other path is a page a
//! person reads, so `html_pages` turns the same error into an HTML page with
//! the site's layout and a way back.

use crate::jobs::queue::QueueError;
use crate::store::suppression::SuppressError;
use crate::webhook::WebhookError;
use actix_web::body::{BoxBody, EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
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
    /// Nobody is signed in, or the API token is not valid.
    #[error("{0}")]
    Unauthorized(String),
    /// Not allowed for this caller (a cross-site form, a viewer on an admin action).
    #[error("{0}")]
    Forbidden(String),
    /// The request is valid but the resource's state forbids it.
    #[error("{0}")]
    Conflict(String),
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

/// The body of every error response.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable and machine-readable: `not_found`, `no_route`, `bad_request`,
    /// `unauthorized`, `forbidden`, `conflict`, `unavailable`, `upstream`, `internal`, and for the webhook
    /// `not_configured`, `too_large`, `bad_signature`.
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
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::Conflict(_) => "conflict",
            AppError::Database(_) => "unavailable",
            AppError::Upstream(_) => "upstream",
            AppError::Internal(_) => "internal",
            AppError::Webhook(e) => match e {
                WebhookError::NotConfigured => "not_configured",
                WebhookError::TooLarge { .. } => "too_large",
                WebhookError::Signature(_) => "bad_signature",
                WebhookError::Body(_) | WebhookError::Header(_) | WebhookError::Payload(_) => "bad_request",
                WebhookError::Db(_) | WebhookError::Queue(_) => "unavailable",
            },
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
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
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
        let mut res = HttpResponse::build(status).json(ErrorBody { code: self.code().into(), error: self.to_string() });
        res.extensions_mut().insert(ErrorPage { message: self.to_string() });
        res
    }
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

/// What went wrong, kept on the response so `html_pages` can render it.
#[derive(Debug, Clone)]
struct ErrorPage {
    message: String,
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

impl From<crate::auth::provider::AuthError> for AppError {
    fn from(e: crate::auth::provider::AuthError) -> Self {
        use crate::auth::provider::AuthError as A;
        match e {
            A::NotConfigured(_) => AppError::Internal(e.into()),
            A::NoPendingLogin | A::StateMismatch | A::Exchange(_) => AppError::BadRequest(e.to_string()),
            A::Denied(_) | A::NotAllowed { .. } => AppError::Forbidden(e.to_string()),
            A::Identity(_) => AppError::Upstream(e.to_string()),
        }
    }
}

impl From<crate::auth::users::UserError> for AppError {
    fn from(e: crate::auth::users::UserError) -> Self {
        use crate::auth::users::UserError as U;
        match e {
            U::Db(e) => AppError::Database(e),
            U::Unknown(_) => AppError::NotFound(e.to_string()),
            U::ConfiguredAdmin(_) => AppError::Conflict(e.to_string()),
        }
    }
}

impl From<crate::auth::tokens::TokenError> for AppError {
    fn from(e: crate::auth::tokens::TokenError) -> Self {
        use crate::auth::tokens::TokenError as T;
        match e {
            T::Db(e) => AppError::Database(e),
            T::Unknown(_) => AppError::NotFound(e.to_string()),
            T::NoName | T::BadExpiry(_) => AppError::BadRequest(e.to_string()),
        }
    }
}

impl From<crate::store::waiver::WaiverError> for AppError {
    fn from(e: crate::store::waiver::WaiverError) -> Self {
        use crate::store::waiver::WaiverError as W;
        match e {
            W::Db(e) => AppError::Database(e),
            W::Suppress(e) => e.into(),
            W::UnknownFinding(_) | W::UnknownWaiver(_) => AppError::NotFound(e.to_string()),
            W::NoReason | W::NoOwner | W::BadExpiry(_) => AppError::BadRequest(e.to_string()),
            W::NotOpen(_) | W::AlreadyRequested(_) | W::AlreadyDecided(_) => AppError::Conflict(e.to_string()),
        }
    }
}

impl From<crate::campaigns::CampaignError> for AppError {
    fn from(e: crate::campaigns::CampaignError) -> Self {
        use crate::campaigns::CampaignError as C;
        match e {
            C::Db(e) => AppError::Database(e),
            C::Unknown(_) => AppError::NotFound(e.to_string()),
            _ => AppError::BadRequest(e.to_string()),
        }
    }
}
