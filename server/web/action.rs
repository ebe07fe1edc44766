//! Handlers that change state (Rescan, enable/disable, suppress/unsuppress)
//! take an `Action`: it exists only for a POST that passed the gate
//! (`crate::auth::gate`: a caller, a valid CSRF token, the role the route
//! needs), and it names who acted, for the records.

use crate::auth::Viewer;
use crate::error::AppError;
use actix_web::dev::Payload;
use actix_web::http::Method;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};

/// Proof that the request may change state, and who made it.
#[derive(Debug, Clone)]
pub struct Action {
    /// The login of the person (or token owner) acting.
    pub actor: Option<String>,
}

fn check(req: &HttpRequest) -> Result<Action, AppError> {
    if req.method() != Method::POST {
        return Err(AppError::BadRequest("state-changing actions must be POST requests".into()));
    }
    let viewer = Viewer::of(req);
    let caller = viewer.caller.ok_or_else(|| AppError::Unauthorized("sign in to do this".into()))?;
    Ok(Action { actor: Some(caller.login) })
}

impl FromRequest for Action {
    type Error = AppError;
    type Future = Ready<Result<Action, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(check(req))
    }
}
