//! The gate of every state-changing request (Rescan, enable/disable,
//! suppress/unsuppress): handlers take an `Action`, which only exists for a
//! POST that comes from this site. This is the one place where
//! authentication will add its CSRF token check and the admin role.

use crate::error::AppError;
use actix_web::dev::Payload;
use actix_web::http::{Method, header};
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};

/// Proof that the request may change state, and who made it.
#[derive(Debug, Clone)]
pub struct Action {
    /// The person acting; `None` until authentication exists.
    pub actor: Option<String>,
}

fn check(req: &HttpRequest) -> Result<Action, AppError> {
    if req.method() != Method::POST {
        return Err(AppError::BadRequest("state-changing actions must be POST requests".into()));
    }
    // Browsers send Origin on cross-site POSTs; a form posted from another
    // site must not act here. Non-browser clients send none.
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let host = req.connection_info().host().to_string();
        let same = origin.to_str().ok().and_then(|o| url::Url::parse(o).ok()).is_some_and(|o| {
            o.host_str().map(|h| match o.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_string(),
            }) == Some(host)
        });
        if !same {
            return Err(AppError::Forbidden("this action must come from a page of this site".into()));
        }
    }
    Ok(Action { actor: None })
}

impl FromRequest for Action {
    type Error = AppError;
    type Future = Ready<Result<Action, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(check(req))
    }
}
