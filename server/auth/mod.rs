//! Who is asking and what they may do.
//!
//! People sign in through GitHub or any OAuth2 provider (`provider`), get an
//! encrypted cookie session (`session`) and a CSRF token with it; programs
//! send an API token as Bearer (`tokens`). Which route needs what is one
//! table (`access`), enforced for every request by one middleware (`gate`),
//! which leaves the caller in the request as a [`Viewer`].

pub mod access;
pub mod gate;
pub mod provider;
pub mod session;
pub mod tokens;
pub mod users;

pub use crate::db::entities::api_tokens::Scope;
pub use crate::db::entities::users::Role;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use base64::Engine;
use std::future::{Ready, ready};

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `auth.mode = "local"`: the demo on loopback, no sign-in.
    Local,
    /// A session cookie from a sign-in.
    Session,
    /// An API token sent as Bearer.
    Token(Scope),
}

/// A known caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `None` in local mode, where nobody signed in.
    pub user_id: Option<i32>,
    pub login: String,
    pub name: Option<String>,
    /// What the caller may do now (a read token is a viewer whoever owns it).
    pub role: Role,
    pub via: Via,
}

impl Caller {
    /// The caller of every request in local mode.
    pub fn local() -> Caller {
        Caller { user_id: None, login: "local".into(), name: None, role: Role::Admin, via: Via::Local }
    }
}

/// The caller of this request as the gate established it, and the session's
/// CSRF token for the forms the page renders. Handlers take it as an extractor.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub caller: Option<Caller>,
    pub csrf: String,
}

impl Viewer {
    /// The viewer the gate left in `req` (anonymous where it left none).
    pub fn of(req: &HttpRequest) -> Viewer {
        req.extensions().get::<Viewer>().cloned().unwrap_or_default()
    }

    pub fn is_admin(&self) -> bool {
        self.caller.as_ref().is_some_and(|c| c.role == Role::Admin)
    }

    pub fn login(&self) -> Option<&str> {
        self.caller.as_ref().map(|c| c.login.as_str())
    }

    /// Signed in through a provider (so there is a session to end).
    pub fn signed_in(&self) -> bool {
        self.caller.as_ref().is_some_and(|c| c.via == Via::Session)
    }
}

impl FromRequest for Viewer {
    type Error = std::convert::Infallible;
    type Future = Ready<Result<Viewer, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Viewer::of(req)))
    }
}

/// `bytes` random bytes from the OS, base64url without padding.
///
/// # Panics
/// Only if the OS has no randomness to give, where nothing secure can run.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the OS random number generator is available");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Equality that takes the same time wherever the strings differ, for
/// comparing secrets an attacker can probe (CSRF tokens, OAuth state).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_long_url_safe_and_distinct() {
        let a = random_token(32);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, random_token(32));
    }

    #[test]
    fn constant_time_eq_compares_whole_strings() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
