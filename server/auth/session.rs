//! The session cookie: what it holds and when it ends.
//!
//! Sessions live in the cookie itself, encrypted and authenticated with the
//! key derived from `auth.session_key` (AES-GCM through actix-session), so
//! any replica with the same key serves any user and nothing is stored
//! server-side. Because a cookie cannot be recalled, expiry is checked here
//! from the times written into it, not left to the browser: a session ends
//! `session_idle_secs` after its last use and `session_max_age_secs` after
//! sign-in, whatever the cookie's own Max-Age says.

use crate::config::AuthSettings;
use actix_session::config::{CookieContentSecurity, PersistentSession, TtlExtensionPolicy};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::{Key, SameSite};
use serde::{Deserialize, Serialize};

pub const COOKIE: &str = "shipshape_session";

const USER: &str = "uid";
const SIGNED_IN_AT: &str = "auth_at";
const SEEN_AT: &str = "seen_at";
const CSRF: &str = "csrf";
const PENDING: &str = "oauth";

/// A sign-in under way: what the provider's redirect must bring back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The OAuth `state`: ties the callback to this browser.
    pub state: String,
    /// The PKCE verifier: only this browser's session can redeem the code.
    pub verifier: String,
    /// Where to go after signing in (already checked to be a local path).
    pub return_to: String,
}

/// Who the session belongs to, if anyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Current {
    Anonymous,
    /// There was a sign-in, but it is over (idle or too old); the session was cleared.
    Expired,
    User(i32),
}

/// The cookie middleware: encrypted, HttpOnly, SameSite=Lax, Secure when
/// the dashboard is served over https.
pub fn middleware(auth: &AuthSettings, key: &Key, https: bool) -> SessionMiddleware<CookieSessionStore> {
    // The browser keeps the cookie until the maximum age; the idle timeout is
    // checked here, so a returning user is told their session ended.
    let ttl = actix_web::cookie::time::Duration::seconds(i64::try_from(auth.session_max_age_secs).unwrap_or(i64::MAX));
    SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
        .cookie_name(COOKIE.into())
        .cookie_http_only(true)
        .cookie_secure(https)
        .cookie_same_site(SameSite::Lax)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(
            PersistentSession::default()
                .session_ttl(ttl)
                .session_ttl_extension_policy(TtlExtensionPolicy::OnStateChanges),
        )
        .build()
}

/// The cookie key: derived from `auth.session_key`, or random for this
/// process when there is none (development only; config refuses that in
/// production), in which case sessions end with the process.
pub fn cookie_key(auth: &AuthSettings) -> Key {
    match &auth.session_key {
        Some(k) => Key::derive_from(k.expose().as_bytes()),
        None => {
            if auth.mode != crate::config::AuthMode::Local {
                tracing::warn!(
                    "no auth.session_key: sessions use a random key and end when this process stops; set SHIPSHAPE__AUTH__SESSION_KEY"
                );
            }
            Key::generate()
        }
    }
}

/// The session's CSRF token, created on first need.
pub fn csrf_token(session: &Session) -> String {
    if let Ok(Some(t)) = session.get::<String>(CSRF) {
        return t;
    }
    let token = super::random_token(32);
    let _ = session.insert(CSRF, &token);
    token
}

/// The CSRF token of the session without creating one.
pub fn existing_csrf(session: &Session) -> Option<String> {
    session.get::<String>(CSRF).ok().flatten()
}

/// The signed-in user, checking both expiries; marks the session used.
pub fn current(session: &Session, auth: &AuthSettings, now: i64) -> Current {
    let Ok(Some(user)) = session.get::<i32>(USER) else { return Current::Anonymous };
    let signed_in_at = session.get::<i64>(SIGNED_IN_AT).ok().flatten().unwrap_or(0);
    let seen_at = session.get::<i64>(SEEN_AT).ok().flatten().unwrap_or(0);
    let idle = i64::try_from(auth.session_idle_secs).unwrap_or(i64::MAX);
    let max_age = i64::try_from(auth.session_max_age_secs).unwrap_or(i64::MAX);
    if now.saturating_sub(seen_at) > idle || now.saturating_sub(signed_in_at) > max_age {
        session.purge();
        return Current::Expired;
    }
    // Rewriting the cookie on every request would be wasted work; a
    // resolution of a tenth of the idle time (at most a minute) is plenty.
    if now - seen_at >= (idle / 10).clamp(1, 60) {
        let _ = session.insert(SEEN_AT, now);
    }
    Current::User(user)
}

/// Starts a sign-in, replacing any earlier one in this browser.
pub fn begin_login(session: &Session, pending: &PendingLogin) {
    let _ = session.insert(PENDING, pending);
}

/// The sign-in under way, which can be redeemed once.
pub fn take_pending(session: &Session) -> Option<PendingLogin> {
    session.remove_as::<PendingLogin>(PENDING).and_then(Result::ok)
}

/// Signs `user` in: a fresh session (so a session fixed before sign-in is
/// worthless after it) with a new CSRF token.
pub fn establish(session: &Session, user: i32, now: i64) {
    session.clear();
    session.renew();
    let _ = session.insert(USER, user);
    let _ = session.insert(SIGNED_IN_AT, now);
    let _ = session.insert(SEEN_AT, now);
    let _ = session.insert(CSRF, super::random_token(32));
}

/// Signs out: the cookie is removed.
pub fn end(session: &Session) {
    session.purge();
}

/// A return URL that stays on this site: a path, never a scheme, a host or
/// a protocol-relative `//host` (which browsers also read from `/\host`).
pub fn safe_return_to(raw: Option<&str>) -> String {
    let Some(raw) = raw.map(str::trim) else { return "/".into() };
    let local = raw.starts_with('/')
        && !raw.starts_with("//")
        && !raw.starts_with("/\\")
        && !raw.chars().any(|c| c.is_control() || c == '\\')
        && !raw.starts_with("/login")
        && !raw.starts_with("/auth/");
    if local { raw.to_string() } else { "/".into() }
}

#[cfg(test)]
mod tests {
    use super::safe_return_to;

    #[test]
    fn return_urls_stay_on_this_site() {
        assert_eq!(safe_return_to(Some("/repos/acme/api?tab=findings")), "/repos/acme/api?tab=findings");
        for hostile in
            ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "evil", "/a\nb"]
        {
            assert_eq!(safe_return_to(Some(hostile)), "/", "{hostile}");
        }
        assert_eq!(safe_return_to(Some("/login")), "/", "no loop back to the login page");
        assert_eq!(safe_return_to(None), "/");
    }
}
