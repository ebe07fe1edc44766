//! The one place that talks to the GitHub REST API: builds octocrab with the
//! configured base URL, auth and timeouts, and sends every request through
//! [`Session::send`], which counts it, obeys rate limits and turns GitHub's
//! answers into [`GithubError`]s.
//!
//! A [`Session`] is one unit of work (a discovery of one source, one scan,
//! one webhook registration): it carries the client for the right account
//! (a personal token, or the App installation that covers the owner) and
//! counts the calls that work cost, token exchanges included.

use crate::config::{GithubAuth, GithubSettings, Secret};
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, StatusCode};
use octocrab::Octocrab;
use octocrab::models::AppId;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

/// An installation token is renewed when it has less than this left.
const TOKEN_MARGIN: chrono::Duration = chrono::Duration::minutes(5);
/// Rate-limit waits per request before giving up, however short each is.
const MAX_RATE_LIMIT_RETRIES: u32 = 3;
/// GitHub's advice for a secondary rate limit without `retry-after`.
const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// Why a GitHub call failed, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("GitHub has no {what} (404): check the name, and that the token or App installation can see it")]
    NotFound { what: String },
    #[error(
        "GitHub rate limit on {path}: the reset is {secs} s away, longer than github.max_rate_limit_wait_secs; retried on the next run"
    )]
    RateLimited { path: String, secs: u64 },
    #[error("GitHub answered {status} to {path}: {message}")]
    Status { path: String, status: u16, message: String },
    #[error("GitHub API at {url} is unreachable: {detail}")]
    Transport { url: String, detail: String },
    #[error("GitHub App: {0}")]
    App(String),
    #[error("unexpected GitHub answer to {path}: {detail}")]
    Decode { path: String, detail: String },
}

/// A request body-less GET may carry an ETag; a POST carries JSON.
enum Request<'a> {
    Get { if_none_match: Option<&'a str> },
    Post { body: &'a serde_json::Value },
}

/// A GitHub answer with what Shipshape reads from it.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub etag: Option<String>,
    /// Path and query of the `rel="next"` page.
    pub next: Option<String>,
    pub body: String,
}

impl Answer {
    pub fn not_modified(&self) -> bool {
        self.status == StatusCode::NOT_MODIFIED
    }

    /// The body as `T`.
    ///
    /// # Errors
    /// The body is not the JSON shape GitHub documents.
    pub fn json<T: serde::de::DeserializeOwned>(&self, path: &str) -> Result<T, GithubError> {
        serde_json::from_str(&self.body)
            .map_err(|e| GithubError::Decode { path: path.to_string(), detail: e.to_string() })
    }
}

#[derive(Clone)]
struct CachedToken {
    token: Secret,
    expires_at: DateTime<Utc>,
}

/// The configured GitHub API: cheap to clone, shared by the worker, the
/// scheduler and the routes.
#[derive(Clone)]
pub struct Github {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Github {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Github").field("api_url", &self.inner.settings.api_url.as_str()).finish_non_exhaustive()
    }
}

struct Inner {
    settings: GithubSettings,
    /// Personal token or anonymous; `None` for a GitHub App.
    direct: Option<Octocrab>,
    /// Signs requests with the App's JWT (installation lookups, token exchange).
    app: Option<Octocrab>,
    tokens: Mutex<HashMap<u64, CachedToken>>,
    /// Installation id per account login (lower case), listed once.
    installations: Mutex<Option<HashMap<String, u64>>>,
}

#[derive(Deserialize)]
struct Installation {
    id: u64,
    account: Account,
}

#[derive(Deserialize)]
struct Account {
    login: String,
}

#[derive(Deserialize)]
struct AccessToken {
    token: String,
    expires_at: DateTime<Utc>,
}

impl Github {
    /// Builds the client from the `[github]` settings.
    ///
    /// # Errors
    /// A base URL octocrab refuses or an App key that is not an RSA PEM key.
    pub fn new(settings: &GithubSettings) -> Result<Github, GithubError> {
        let (direct, app) = match &settings.auth {
            GithubAuth::None => (Some(build(settings, Auth::Anonymous)?), None),
            GithubAuth::Token(token) => (Some(build(settings, Auth::Bearer(token))?), None),
            GithubAuth::App { app_id, private_key, .. } => {
                let key = octocrab::EncodingKey::from_rsa_pem(private_key.expose().as_bytes())
                    .map_err(|e| GithubError::App(format!("the private key is not an RSA PEM key: {e}")))?;
                (None, Some(build(settings, Auth::App(*app_id, key))?))
            }
        };
        Ok(Github {
            inner: Arc::new(Inner {
                settings: settings.clone(),
                direct,
                app,
                tokens: Mutex::new(HashMap::new()),
                installations: Mutex::new(None),
            }),
        })
    }

    pub fn settings(&self) -> &GithubSettings {
        &self.inner.settings
    }

    /// Whether calls are authenticated (a token or an App).
    pub fn authenticated(&self) -> bool {
        !matches!(self.inner.settings.auth, GithubAuth::None)
    }

    /// A session acting for repositories owned by `owner`.
    ///
    /// # Errors
    /// With a GitHub App: no installation covers `owner`, or the token
    /// exchange failed.
    pub async fn session(&self, owner: &str) -> Result<Session, GithubError> {
        let session = Session { github: self.clone(), client: None, token: None, calls: Arc::new(AtomicU32::new(0)) };
        self.authorise(session, owner).await
    }

    /// A session acting as a person who signed in, with their OAuth token:
    /// the sign-in reads who they are and which organisations they are in.
    ///
    /// # Errors
    /// A base URL octocrab refuses.
    pub fn user_session(&self, token: Secret) -> Result<Session, GithubError> {
        let client = build(&self.inner.settings, Auth::Bearer(&token))?;
        Ok(Session {
            github: self.clone(),
            client: Some(client),
            token: Some(token),
            calls: Arc::new(AtomicU32::new(0)),
        })
    }

    async fn authorise(&self, mut session: Session, owner: &str) -> Result<Session, GithubError> {
        let inner = &self.inner;
        if let Some(direct) = &inner.direct {
            session.client = Some(direct.clone());
            session.token = match &inner.settings.auth {
                GithubAuth::Token(t) => Some(t.clone()),
                _ => None,
            };
            return Ok(session);
        }
        let installation = self.installation_for(&session, owner).await?;
        let token = self.installation_token(&session, installation).await?;
        session.client = Some(build(&inner.settings, Auth::Bearer(&token))?);
        session.token = Some(token);
        Ok(session)
    }

    /// The installation covering `owner`: the configured one, else the
    /// App's installation on that account (listed once, then cached).
    async fn installation_for(&self, session: &Session, owner: &str) -> Result<u64, GithubError> {
        if let GithubAuth::App { installation_id: Some(id), .. } = &self.inner.settings.auth {
            return Ok(*id);
        }
        let mut known = self.inner.installations.lock().await;
        if known.is_none() {
            let app = self.app_client()?;
            let mut map = HashMap::new();
            let mut path = Some("/app/installations?per_page=100".to_string());
            while let Some(p) = path {
                let answer = session.send(app, &p, Request::Get { if_none_match: None }).await?;
                for i in answer.json::<Vec<Installation>>(&p)? {
                    map.insert(i.account.login.to_ascii_lowercase(), i.id);
                }
                path = answer.next;
            }
            *known = Some(map);
        }
        known.as_ref().and_then(|m| m.get(&owner.to_ascii_lowercase()).copied()).ok_or_else(|| {
            GithubError::App(format!(
                "the App is not installed on {owner}; install it there or set github.app_installation_id"
            ))
        })
    }

    /// An installation access token, reused until five minutes before it expires.
    async fn installation_token(&self, session: &Session, installation: u64) -> Result<Secret, GithubError> {
        let mut tokens = self.inner.tokens.lock().await;
        if let Some(cached) = tokens.get(&installation).filter(|c| c.expires_at - TOKEN_MARGIN > Utc::now()) {
            return Ok(cached.token.clone());
        }
        let path = format!("/app/installations/{installation}/access_tokens");
        let answer = session.send(self.app_client()?, &path, Request::Post { body: &serde_json::json!({}) }).await?;
        let fresh: AccessToken = answer.json(&path)?;
        let token = Secret::from(fresh.token);
        tokens.insert(installation, CachedToken { token: token.clone(), expires_at: fresh.expires_at });
        Ok(token)
    }

    fn app_client(&self) -> Result<&Octocrab, GithubError> {
        self.inner.app.as_ref().ok_or_else(|| GithubError::App("no GitHub App is configured".into()))
    }
}

/// One unit of work against the API, with its own call count.
#[derive(Clone)]
pub struct Session {
    github: Github,
    client: Option<Octocrab>,
    token: Option<Secret>,
    calls: Arc<AtomicU32>,
}

impl Session {
    /// API calls made so far, token exchanges and rate-limited attempts included.
    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The token this session uses, for `git` over HTTPS (private repositories).
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// GET `path` (path and query, relative to the API root).
    ///
    /// # Errors
    /// See [`GithubError`]; a 304 is an answer, not an error.
    pub async fn get(&self, path: &str, if_none_match: Option<&str>) -> Result<Answer, GithubError> {
        self.send(self.client()?, path, Request::Get { if_none_match }).await
    }

    /// POST JSON to `path`.
    ///
    /// # Errors
    /// See [`GithubError`].
    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Result<Answer, GithubError> {
        self.send(self.client()?, path, Request::Post { body }).await
    }

    fn client(&self) -> Result<&Octocrab, GithubError> {
        self.client.as_ref().ok_or_else(|| GithubError::App("the session has no client".into()))
    }

    /// Sends one request, waiting out rate limits (bounded), and maps
    /// non-success answers other than 304 to errors.
    async fn send(&self, client: &Octocrab, path: &str, request: Request<'_>) -> Result<Answer, GithubError> {
        let settings = &self.github.inner.settings;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.calls.fetch_add(1, Ordering::Relaxed);
            let response = match &request {
                Request::Get { if_none_match } => {
                    let mut headers = HeaderMap::new();
                    if let Some(tag) = if_none_match.and_then(|t| HeaderValue::from_str(t).ok()) {
                        headers.insert(http::header::IF_NONE_MATCH, tag);
                    }
                    client._get_with_headers(path, Some(headers)).await
                }
                Request::Post { body } => client._post(path, Some(*body)).await,
            }
            .map_err(|e| transport(settings, e))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = client.body_to_string(response).await.map_err(|e| transport(settings, e))?;
            tracing::debug!(%path, status = status.as_u16(), remaining = header(&headers, "x-ratelimit-remaining"), "github call");
            if let Some(wait) = rate_limit_wait(status, &headers, &body, Utc::now()) {
                let secs = wait.as_secs();
                if secs > settings.max_rate_limit_wait_secs || attempt > MAX_RATE_LIMIT_RETRIES {
                    return Err(GithubError::RateLimited { path: path.to_string(), secs });
                }
                tracing::warn!(%path, wait_secs = secs, "GitHub rate limit: waiting for the reset");
                tokio::time::sleep(wait).await;
                continue;
            }
            if status.is_success() || status == StatusCode::NOT_MODIFIED {
                let etag = header(&headers, "etag").map(str::to_string);
                let next = header(&headers, "link").and_then(next_link);
                return Ok(Answer { status, etag, next, body });
            }
            let message = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
                .unwrap_or_else(|| body.chars().take(200).collect());
            if status == StatusCode::NOT_FOUND {
                return Err(GithubError::NotFound { what: path.split('?').next().unwrap_or(path).to_string() });
            }
            return Err(GithubError::Status { path: path.to_string(), status: status.as_u16(), message });
        }
    }
}

impl GithubError {
    /// The HTTP status GitHub answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GithubError::NotFound { .. } => Some(404),
            GithubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// What a client authenticates with.
enum Auth<'a> {
    Anonymous,
    /// A personal or installation token.
    Bearer(&'a Secret),
    /// The App's JWT, for installation lookups and token exchange.
    App(u64, octocrab::EncodingKey),
}

/// The one place octocrab is built: base URL, timeouts, auth.
fn build(settings: &GithubSettings, auth: Auth<'_>) -> Result<Octocrab, GithubError> {
    let timeout = Some(Duration::from_secs(settings.timeout_secs));
    let builder = Octocrab::builder()
        .base_uri(settings.api_url.as_str())
        .map_err(|e| transport(settings, e))?
        .set_connect_timeout(timeout)
        .set_read_timeout(timeout);
    let builder = match auth {
        Auth::Anonymous => builder,
        Auth::Bearer(token) => builder.personal_token(token.expose().to_string()),
        Auth::App(id, key) => builder.app(AppId(id), key),
    };
    builder.build().map_err(|e| transport(settings, e))
}

fn transport(settings: &GithubSettings, e: impl std::fmt::Display) -> GithubError {
    GithubError::Transport { url: settings.api_url.to_string(), detail: e.to_string() }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// How long to wait before retrying, when the answer is a rate limit:
/// `retry-after` wins, then `x-ratelimit-reset` when nothing remains, then
/// GitHub's advice of a minute for a secondary limit.
pub fn rate_limit_wait(status: StatusCode, headers: &HeaderMap, body: &str, now: DateTime<Utc>) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    if let Some(secs) = header(headers, "retry-after").and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(Duration::from_secs(secs.max(1)));
    }
    if header(headers, "x-ratelimit-remaining") == Some("0") {
        let reset = header(headers, "x-ratelimit-reset").and_then(|v| v.trim().parse::<i64>().ok())?;
        // One second past the reset: GitHub's clock and ours are not the same clock.
        let secs = (reset - now.timestamp()).max(0) as u64 + 1;
        return Some(Duration::from_secs(secs));
    }
    let lower = body.to_ascii_lowercase();
    (status == StatusCode::TOO_MANY_REQUESTS || lower.contains("secondary rate limit")).then_some(SECONDARY_LIMIT_WAIT)
}

/// The path and query of the `rel="next"` URL of a `Link` header. Only the
/// path is kept: octocrab attaches credentials to relative URIs only.
pub fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        if !params.split(';').any(|p| p.trim() == "rel=\"next\"") {
            return None;
        }
        let url = url.trim().trim_start_matches('<').trim_end_matches('>');
        let parsed = url::Url::parse(url).ok()?;
        Some(match parsed.query() {
            Some(q) => format!("{}?{q}", parsed.path()),
            None => parsed.path().to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_the_others() {
        let link = r#"<https://api.github.com/organizations/1/repos?page=1>; rel="prev", <https://api.github.com/organizations/1/repos?per_page=100&page=3>; rel="next", <https://api.github.com/organizations/1/repos?page=9>; rel="last""#;
        assert_eq!(next_link(link).as_deref(), Some("/organizations/1/repos?per_page=100&page=3"));
        assert_eq!(next_link(r#"<https://api.github.com/x?page=1>; rel="prev""#), None);
    }

    #[test]
    fn rate_limits_are_recognised_and_others_are_not() {
        let now = Utc::now();
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from_str(&(now.timestamp() + 2).to_string()).unwrap());
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &h, "", now), Some(Duration::from_secs(3)));
        let mut retry = HeaderMap::new();
        retry.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(rate_limit_wait(StatusCode::TOO_MANY_REQUESTS, &retry, "", now), Some(Duration::from_secs(7)));
        let secondary = "You have exceeded a secondary rate limit";
        assert_eq!(
            rate_limit_wait(StatusCode::FORBIDDEN, &HeaderMap::new(), secondary, now),
            Some(SECONDARY_LIMIT_WAIT)
        );
        assert_eq!(rate_limit_wait(StatusCode::FORBIDDEN, &HeaderMap::new(), "Must have admin rights", now), None);
        assert_eq!(rate_limit_wait(StatusCode::OK, &h, "", now), None);
    }
}
