//! The one table of what each route needs. Everything not listed needs a
//! signed-in person (or an API token); administration needs the admin role.
//! State-changing requests also need the session's CSRF token, except the
//! two that carry their own proof (the webhook's HMAC, the unsubscribe
//! link's token) and requests made with an API token (no cookie, no CSRF).

use crate::config::Settings;
use actix_web::http::Method;

/// Who may reach a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Anyone: probes, assets, sign-in, the webhook.
    Public,
    /// Any signed-in person or token.
    Viewer,
    /// The admin role.
    Admin,
}

/// What a request must bring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub need: Need,
    /// A CSRF token is required (state-changing, cookie-authenticated).
    pub csrf: bool,
}

/// Whether the method can change state.
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Paths that carry their own proof and are exempt from sign-in and CSRF.
fn self_authenticating(path: &str) -> bool {
    path == "/webhooks/github" || path.starts_with("/digest/unsubscribe/")
}

fn public(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/login" | "/auth/login" | "/auth/callback" | "/favicon.ico")
        || path.starts_with("/static/")
        // The API's description, so clients can be generated before holding a token.
        || path == "/api/v1/openapi.json"
}

fn admin(method: &Method, path: &str) -> bool {
    path == "/admin"
        || path.starts_with("/admin/")
        || path.starts_with("/api/v1/admin/")
        // Suppressing changes a repository's score: an administrative decision.
        || (*method == Method::POST
            && path.starts_with("/findings/")
            && (path.ends_with("/suppress") || path.ends_with("/unsuppress")))
}

/// The rule for one request.
pub fn rule(method: &Method, path: &str, settings: &Settings) -> Rule {
    let writes = changes_state(method);
    if self_authenticating(path) {
        return Rule { need: Need::Public, csrf: false };
    }
    let need = if public(path)
        || (path.starts_with("/badge/") && settings.badge.public)
        || (path == "/metrics" && settings.metrics.public)
    {
        Need::Public
    } else if admin(method, path) {
        Need::Admin
    } else {
        Need::Viewer
    };
    Rule { need, csrf: writes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::build(None, &[], &crate::config::ProcessEnv, |f| f).expect("defaults load")
    }

    #[test]
    fn probes_assets_sign_in_and_webhook_are_public() {
        let s = settings();
        for path in ["/healthz", "/readyz", "/static/app.css", "/login", "/auth/callback", "/badge/acme/api.svg"] {
            assert_eq!(rule(&Method::GET, path, &s).need, Need::Public, "{path}");
        }
        let hook = rule(&Method::POST, "/webhooks/github", &s);
        assert_eq!(hook, Rule { need: Need::Public, csrf: false });
        assert!(!rule(&Method::POST, "/digest/unsubscribe/abc", &s).csrf);
    }

    #[test]
    fn pages_need_a_person_and_administration_the_admin_role() {
        let s = settings();
        assert_eq!(rule(&Method::GET, "/", &s).need, Need::Viewer);
        assert_eq!(rule(&Method::GET, "/api/v1/repositories", &s).need, Need::Viewer);
        assert_eq!(rule(&Method::GET, "/metrics", &s).need, Need::Viewer, "metrics are private by default");
        assert_eq!(rule(&Method::GET, "/charts/org.svg", &s).need, Need::Viewer);
        assert_eq!(rule(&Method::GET, "/admin", &s).need, Need::Admin);
        assert_eq!(rule(&Method::GET, "/administrators", &s).need, Need::Viewer, "a prefix is a path segment");
        assert_eq!(rule(&Method::POST, "/findings/3/suppress", &s).need, Need::Admin);
        assert_eq!(rule(&Method::GET, "/findings/3", &s).need, Need::Viewer);
        let rescan = rule(&Method::POST, "/repos/acme/api/rescan", &s);
        assert_eq!(rescan, Rule { need: Need::Viewer, csrf: true });
        assert!(rule(&Method::POST, "/logout", &s).csrf);
    }
}
