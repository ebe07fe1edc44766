//! Signing in through an OAuth2 provider: GitHub, or any other whose
//! endpoints are configured (`[auth.oauth2]`). One code path for both: the
//! authorization code flow with PKCE and a `state` bound to the browser's
//! session; only how the user's identity is read and who is allowed in
//! differ.

use super::session::PendingLogin;
use super::users::Identity;
use crate::config::{AuthMode, Secret, Settings};
use crate::github::{Github, GithubError};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, TokenResponse, TokenUrl,
};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("sign-in is not configured: {0}")]
    NotConfigured(String),
    #[error("this sign-in was not started here, or was already used; start again from the sign-in page")]
    NoPendingLogin,
    #[error("the sign-in answer does not belong to this browser's sign-in (state mismatch); start again")]
    StateMismatch,
    #[error("the provider refused the sign-in: {0}")]
    Denied(String),
    #[error("the provider did not accept the sign-in code: {0}")]
    Exchange(String),
    #[error("could not read who signed in from the provider: {0}")]
    Identity(String),
    #[error("{login} is not allowed to use this Shipshape: {why}")]
    NotAllowed { login: String, why: String },
}

/// The provider's OAuth client as configured.
struct Endpoints {
    authorize: String,
    token: String,
    scopes: Vec<String>,
    secret_in_body: bool,
}

fn endpoints(settings: &Settings) -> Result<Endpoints, AuthError> {
    let a = &settings.auth;
    match a.mode {
        AuthMode::Github => {
            let web = &a.github.web_url;
            let join = |p: &str| {
                web.join(p)
                    .map(|u| u.to_string())
                    .map_err(|e| AuthError::NotConfigured(format!("auth.github.web_url: {e}")))
            };
            let mut scopes = vec!["read:user".to_string(), "user:email".to_string()];
            if !a.github.allowed_orgs.is_empty() || !a.github.allowed_teams.is_empty() {
                scopes.push("read:org".into());
            }
            Ok(Endpoints {
                authorize: join("login/oauth/authorize")?,
                token: join("login/oauth/access_token")?,
                scopes,
                // GitHub documents the secret as a form parameter.
                secret_in_body: true,
            })
        }
        AuthMode::Oauth2 => Ok(Endpoints {
            authorize: a.oauth2.authorize_url.clone(),
            token: a.oauth2.token_url.clone(),
            scopes: a.oauth2.scopes.clone(),
            secret_in_body: a.oauth2.secret_in_body,
        }),
        AuthMode::Local => Err(AuthError::NotConfigured("auth.mode is local: there is nobody to sign in".into())),
    }
}

/// The callback registered with the provider.
pub fn callback_url(settings: &Settings) -> String {
    let base = settings.server.public_url.as_str().trim_end_matches('/');
    format!("{base}/auth/callback")
}

/// What the sign-in button says.
pub fn provider_name(settings: &Settings) -> String {
    match settings.auth.mode {
        AuthMode::Github => "GitHub".into(),
        AuthMode::Oauth2 => settings.auth.oauth2.name.clone(),
        AuthMode::Local => "local".into(),
    }
}

/// The configured client: endpoints set for authorization and token exchange.
type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

fn client(settings: &Settings, e: &Endpoints) -> Result<Client, AuthError> {
    let a = &settings.auth;
    let bad = |what: &str, err: oauth2::url::ParseError| AuthError::NotConfigured(format!("{what}: {err}"));
    let secret = a.client_secret.as_ref().map(|s| s.expose().to_string()).unwrap_or_default();
    Ok(BasicClient::new(ClientId::new(a.client_id.clone()))
        .set_client_secret(ClientSecret::new(secret))
        .set_auth_uri(AuthUrl::new(e.authorize.clone()).map_err(|err| bad("authorize URL", err))?)
        .set_token_uri(TokenUrl::new(e.token.clone()).map_err(|err| bad("token URL", err))?)
        .set_redirect_uri(RedirectUrl::new(callback_url(settings)).map_err(|err| bad("server.public_url", err))?)
        .set_auth_type(if e.secret_in_body { AuthType::RequestBody } else { AuthType::BasicAuth }))
}

/// Where to send the browser, and what its session must remember.
///
/// # Errors
/// Local mode, or endpoints that are not URLs.
pub fn start(settings: &Settings, return_to: String) -> Result<(String, PendingLogin), AuthError> {
    let e = endpoints(settings)?;
    let client = client(settings, &e)?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client.authorize_url(CsrfToken::new_random).set_pkce_challenge(challenge);
    for scope in &e.scopes {
        request = request.add_scope(oauth2::Scope::new(scope.clone()));
    }
    let (url, state) = request.url();
    Ok((
        url.to_string(),
        PendingLogin { state: state.secret().clone(), verifier: verifier.secret().clone(), return_to },
    ))
}

/// What the provider's redirect brought back.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// Completes a sign-in: checks the state, redeems the code with the PKCE
/// verifier, reads who signed in and checks they are allowed.
///
/// # Errors
/// See [`AuthError`]; each says what to do next.
pub async fn finish(
    settings: &Settings,
    github: &Github,
    pending: Option<PendingLogin>,
    answer: &Callback,
) -> Result<Identity, AuthError> {
    let pending = pending.ok_or(AuthError::NoPendingLogin)?;
    let state = answer.state.as_deref().unwrap_or_default();
    if !super::constant_time_eq(state, &pending.state) {
        return Err(AuthError::StateMismatch);
    }
    if let Some(error) = &answer.error {
        let detail = answer.error_description.as_deref().unwrap_or(error);
        return Err(AuthError::Denied(detail.chars().take(200).collect()));
    }
    let code = answer.code.clone().ok_or_else(|| AuthError::Exchange("the provider sent no code".into()))?;
    let e = endpoints(settings)?;
    let client = client(settings, &e)?;
    let http = http_client(settings)?;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&http)
        .await
        .map_err(|err| AuthError::Exchange(exchange_error(&err)))?;
    let access = Secret::from(token.access_token().secret().clone());
    match settings.auth.mode {
        AuthMode::Github => github_identity(settings, github, access).await,
        _ => oauth2_identity(settings, &http, &access).await,
    }
}

/// No redirects: the token and userinfo endpoints must answer themselves
/// (a redirect there is how SSRF through OAuth happens).
fn http_client(settings: &Settings) -> Result<reqwest::Client, AuthError> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(settings.github.timeout_secs.max(5)))
        .build()
        .map_err(|e| AuthError::NotConfigured(format!("HTTP client: {e}")))
}

/// The provider's own words when it refused the code. GitHub answers an
/// error with status 200, which the client sees as a body it cannot parse.
fn exchange_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    err: &RequestTokenError<RE, T>,
) -> String {
    match err {
        RequestTokenError::ServerResponse(r) => r.to_string(),
        RequestTokenError::Parse(_, body) => {
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            let said = v.get("error_description").or_else(|| v.get("error")).and_then(|s| s.as_str());
            said.map_or_else(|| "the token endpoint's answer was not a token".to_string(), str::to_string)
        }
        RequestTokenError::Request(e) => format!("the token endpoint is unreachable: {e}"),
        RequestTokenError::Other(e) => e.clone(),
    }
}

#[derive(serde::Deserialize)]
struct GithubUser {
    login: String,
    name: Option<String>,
    email: Option<String>,
}

#[derive(serde::Deserialize)]
struct Membership {
    state: String,
}

fn github_failed(e: GithubError) -> AuthError {
    AuthError::Identity(e.to_string())
}

/// Who signed in on GitHub, if allowed: a configured admin or user, or an
/// active member of an allowed organisation or team (asked with the user's
/// own token, so private memberships count).
async fn github_identity(settings: &Settings, github: &Github, token: Secret) -> Result<Identity, AuthError> {
    let session = github.user_session(token).map_err(github_failed)?;
    let user: GithubUser = session.get("/user", None).await.and_then(|a| a.json("/user")).map_err(github_failed)?;
    let who = Identity { provider: "github", login: user.login, name: user.name, email: user.email };
    let g = &settings.auth.github;
    let named = |list: &[String]| list.iter().any(|u| u.eq_ignore_ascii_case(&who.login));
    if settings.auth.is_configured_admin(&who.login) || named(&g.allowed_users) {
        return Ok(who);
    }
    let mut restricted = Vec::new();
    let paths = g.allowed_orgs.iter().map(|org| format!("/user/memberships/orgs/{org}")).chain(
        g.allowed_teams
            .iter()
            .filter_map(|t| t.split_once('/'))
            .map(|(org, team)| format!("/orgs/{org}/teams/{team}/memberships/{}", who.login)),
    );
    for path in paths {
        match session.get(&path, None).await {
            Ok(answer) => {
                if answer.json::<Membership>(&path).is_ok_and(|m| m.state == "active") {
                    return Ok(who);
                }
            }
            Err(GithubError::NotFound { .. }) => {}
            // An organisation that restricts OAuth apps answers 403 until an owner approves this app.
            Err(GithubError::Status { status: 403, .. }) => restricted.push(path),
            Err(e) => return Err(github_failed(e)),
        }
    }
    let mut why = "not a member of an allowed organisation or team (auth.github)".to_string();
    if !restricted.is_empty() {
        why.push_str(
            "; GitHub refused to show some memberships: an organisation owner may need to approve this OAuth app",
        );
    }
    Err(AuthError::NotAllowed { login: who.login, why })
}

/// A userinfo field as text (some providers send numeric ids).
fn field(v: &serde_json::Value, name: &str) -> Option<String> {
    match v.get(name)? {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Who signed in at a generic provider, if allowed: a configured admin or
/// user, or a verified email in an allowed domain.
async fn oauth2_identity(settings: &Settings, http: &reqwest::Client, token: &Secret) -> Result<Identity, AuthError> {
    let o = &settings.auth.oauth2;
    let res = http
        .get(&o.userinfo_url)
        .bearer_auth(token.expose())
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| AuthError::Identity(format!("{}: {e}", o.userinfo_url)))?;
    if !res.status().is_success() {
        return Err(AuthError::Identity(format!("{} answered {}", o.userinfo_url, res.status())));
    }
    let info: serde_json::Value =
        res.json().await.map_err(|e| AuthError::Identity(format!("{} is not JSON: {e}", o.userinfo_url)))?;
    let login = field(&info, &o.login_field).ok_or_else(|| {
        AuthError::Identity(format!("the userinfo has no `{}` (auth.oauth2.login_field)", o.login_field))
    })?;
    let email = field(&info, &o.email_field);
    let who = Identity { provider: "oauth2", login, name: field(&info, &o.name_field), email: email.clone() };
    let allowed_user = settings.auth.is_configured_admin(&who.login)
        || o.allowed_users.iter().any(|u| u.eq_ignore_ascii_case(&who.login));
    // An email the provider says it has not verified proves nothing.
    let verified = info.get("email_verified").and_then(serde_json::Value::as_bool) != Some(false);
    let domain = email.as_deref().and_then(|e| e.rsplit_once('@')).map(|(_, d)| d.to_ascii_lowercase());
    let allowed_domain =
        verified && domain.is_some_and(|d| o.allowed_email_domains.iter().any(|a| a.eq_ignore_ascii_case(&d)));
    if allowed_user || allowed_domain {
        Ok(who)
    } else {
        Err(AuthError::NotAllowed {
            login: who.login,
            why: "neither an allowed user nor a verified email in an allowed domain (auth.oauth2)".into(),
        })
    }
}
