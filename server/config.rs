//! Typed configuration: `config/default.toml` < `--config FILE` <
//! `SHIPSHAPE__SECTION__KEY` environment variables, plus the platform
//! conventions `DATABASE_URL` and `PORT`.
//!
//! Secrets never come from config files: they are read only from environment
//! variables or from files named by `<VAR>_FILE`, held in [`Secret`] (whose
//! `Debug` is redacted) and validated with the rest at start. Every error
//! names the key, the bad value and the fix, on one line.

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The defaults, compiled in so the binary runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../config/default.toml");
/// Prefix of environment overrides: `SHIPSHAPE__SERVER__BIND`.
pub const ENV_PREFIX: &str = "SHIPSHAPE__";
/// Minimum session key length: actix's cookie key needs 64 bytes to sign and encrypt.
pub const MIN_SESSION_KEY: usize = 64;

/// A configuration problem, reported before anything starts.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("config error: {0}")]
    Parse(String),
    #[error("config error: `{key}` = {value}: {problem}; fix: {fix}")]
    Invalid { key: &'static str, value: String, problem: String, fix: String },
    #[error(
        "config error: `{key}` is a secret and must not be set in {file}; fix: remove it and set {env} (or {env}_FILE) instead"
    )]
    SecretInFile { key: String, file: String, env: String },
    /// Custom checks or effective dates that do not validate, one per line
    /// as `file:line: check id: problem`.
    #[error("config error: the policy does not validate:\n{0}")]
    Policy(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Development,
    Production,
}

/// Which parts of the application a process runs, so replicas can be
/// split by job: `web` serves pages and fires the scheduler, `worker` runs
/// scans (serving only the health probes), `all` does both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    All,
    Web,
    Worker,
}

impl Role {
    pub fn serves_pages(self) -> bool {
        self != Role::Worker
    }

    /// Whether this process runs scans, given `worker.enabled`: a dedicated
    /// worker always does; `all` only when the config lets it.
    pub fn runs_worker(self, worker_enabled: bool) -> bool {
        match self {
            Role::Worker => true,
            Role::All => worker_enabled,
            Role::Web => false,
        }
    }

    pub fn runs_scheduler(self, scheduler_enabled: bool) -> bool {
        self != Role::Worker && scheduler_enabled
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthMode {
    Local,
    Github,
    Oauth2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Auto,
    Json,
    Pretty,
}

/// A secret value: redacted in `Debug`, never serialised.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Secrets that arrive at run time (installation tokens).
impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    mode: Mode,
    data_dir: PathBuf,
    server: ServerSettings,
    database: RawDatabase,
    auth: RawAuth,
    github: RawGithub,
    worker: WorkerSettings,
    scheduler: RawScheduler,
    checkout: RawCheckout,
    #[serde(default)]
    repositories: Vec<RepositorySource>,
    digest: DigestSettings,
    smtp: RawSmtp,
    log: LogSettings,
    badge: BadgeSettings,
    metrics: MetricsSettings,
    notify: crate::notify::config::RawNotify,
    policy: RawPolicy,
}

/// `[policy]`: custom checks and effective dates. The checks and dates are
/// read from the configuration file's text itself (and the policy file's),
/// so their errors can name the line; here they are only let through.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    allow_repository_checks: bool,
    file: String,
    #[serde(default)]
    checks: Option<figment::value::Value>,
    #[serde(default)]
    effective: Option<figment::value::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: SocketAddr,
    pub role: Role,
    pub public_url: url::Url,
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    url: String,
    max_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    mode: AuthMode,
    admins: Vec<String>,
    session_idle_secs: u64,
    session_max_age_secs: u64,
    client_id: String,
    github: GithubLogin,
    oauth2: Oauth2Provider,
}

/// Who may sign in with GitHub (`[auth.github]`); admins are always allowed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubLogin {
    /// Where users authorize: https://github.com, or a GitHub Enterprise host.
    pub web_url: url::Url,
    /// Members of any of these organisations.
    pub allowed_orgs: Vec<String>,
    /// Members of any of these teams, as `org/team-slug`.
    pub allowed_teams: Vec<String>,
    /// These logins.
    pub allowed_users: Vec<String>,
}

/// Any other OAuth2 provider (`[auth.oauth2]`): GitLab, Google, Keycloak,
/// Okta, a company SSO. The user's identity comes from a JSON userinfo
/// endpoint whose field names are configured.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Oauth2Provider {
    /// Shown on the sign-in button.
    pub name: String,
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub scopes: Vec<String>,
    /// Userinfo fields: the stable login, the display name, the email.
    pub login_field: String,
    pub name_field: String,
    pub email_field: String,
    /// Send the client secret in the form body instead of HTTP Basic auth.
    pub secret_in_body: bool,
    pub allowed_users: Vec<String>,
    /// Users whose (provider-verified) email is in one of these domains.
    pub allowed_email_domains: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGithub {
    api_url: url::Url,
    timeout_secs: u64,
    max_rate_limit_wait_secs: u64,
    app_id: Option<u64>,
    app_installation_id: Option<u64>,
    #[serde(default)]
    sources: Vec<GithubSource>,
}

/// An organisation or user whose repositories are discovered (`[[github.sources]]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubSource {
    pub org: Option<String>,
    pub user: Option<String>,
    /// Glob patterns on the repository name; empty: every repository.
    #[serde(default)]
    pub include: Vec<String>,
    /// Glob patterns on the repository name, applied after `include`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Track forks too.
    #[serde(default)]
    pub forks: bool,
    /// Track archived repositories (marked archived, never scanned).
    #[serde(default = "yes")]
    pub archived: bool,
    /// Team slug for the repositories found.
    pub team: Option<String>,
}

fn yes() -> bool {
    true
}

impl GithubSource {
    /// `org:acme` or `user:bob`: names the source in logs, runs and the ETag store.
    pub fn key(&self) -> String {
        match (&self.org, &self.user) {
            (Some(org), _) => format!("org:{org}"),
            (None, Some(user)) => format!("user:{user}"),
            (None, None) => "unnamed".into(),
        }
    }

    /// The account that owns the repositories.
    pub fn login(&self) -> &str {
        self.org.as_deref().or(self.user.as_deref()).unwrap_or_default()
    }
}

/// How Shipshape authenticates to the GitHub API.
#[derive(Debug, Clone)]
pub enum GithubAuth {
    /// Unauthenticated: public repositories only, 60 requests an hour.
    None,
    /// A personal access token (`github.token`).
    Token(Secret),
    /// A GitHub App: a JWT signed with the private key is exchanged for an
    /// installation token; without an installation id every installation
    /// of the App is used.
    App { app_id: u64, private_key: Secret, installation_id: Option<u64> },
}

/// A repository tracked because the configuration lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RepositorySource {
    /// Any git URL: https, ssh, file:// or a local path.
    pub url: String,
    /// `owner/name` as shown on pages; derived from the URL when absent.
    pub name: Option<String>,
    /// The branch to scan; the remote's default branch when absent.
    pub branch: Option<String>,
    /// Team slug for rollups.
    pub team: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScheduler {
    enabled: bool,
    scan_all: String,
    retention: String,
    discovery: String,
    retention_days: u32,
    digest: String,
}

/// Cron jobs, parsed at load so a bad expression stops the start, not a night run.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    pub enabled: bool,
    pub scan_all: Cron,
    pub retention: Cron,
    /// GitHub discovery of `github.sources` (hourly by default).
    pub discovery: Cron,
    pub retention_days: u32,
    /// The weekly digest.
    pub digest: Cron,
}

/// A validated cron expression (six fields, seconds first, UTC).
#[derive(Debug, Clone)]
pub struct Cron {
    pub expr: String,
    pub schedule: croner::Cron,
}

impl Cron {
    fn parse(key: &'static str, expr: &str) -> Result<Cron, ConfigError> {
        let parser = croner::parser::CronParser::builder().seconds(croner::parser::Seconds::Required).build();
        parser.parse(expr).map(|schedule| Cron { expr: expr.to_string(), schedule }).map_err(|e| ConfigError::Invalid {
            key,
            value: format!("\"{expr}\""),
            problem: format!("not a cron expression: {e}"),
            fix: "use six fields, seconds first, e.g. \"0 0 3 * * *\" for 03:00 UTC daily".into(),
        })
    }
}

/// Who gets the weekly digest, besides the recipients added on the admin page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestSettings {
    /// A repository with no successful scan for this many days is stale.
    pub stale_days: u32,
    /// Recipients of the org digest.
    pub recipients: Vec<String>,
    /// Recipients of each team's digest, by team slug.
    #[serde(default)]
    pub teams: std::collections::BTreeMap<String, Vec<String>>,
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host or network.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSmtp {
    host: String,
    port: u16,
    tls: SmtpTls,
    username: String,
    from: String,
    timeout_secs: u64,
}

/// The mail server the digest is sent through.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// `None`: no authentication.
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// `Name <address>` the digest comes from.
    pub from: lettre::message::Mailbox,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub enabled: bool,
    pub lease_secs: u64,
    pub idle_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheckout {
    max_mb: u64,
    max_files: u64,
    git_timeout_secs: u64,
    allow_local: Option<bool>,
}

/// Limits for bringing repositories to disk.
#[derive(Debug, Clone)]
pub struct CheckoutSettings {
    pub max_bytes: u64,
    pub max_files: u64,
    pub git_timeout_secs: u64,
    pub allow_local: bool,
}

/// `/badge/{owner}/{repo}.svg`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BadgeSettings {
    /// How long browsers and image proxies (GitHub's camo) may cache a badge.
    pub max_age_secs: u32,
    /// Served without signing in, so READMEs can embed them.
    pub public: bool,
}

/// `/metrics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// Serve `/metrics`; off, the route answers 404.
    pub enabled: bool,
    /// Served without a token; otherwise scrapers send a read-only API token as Bearer.
    pub public: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// The URL with any password; use [`DatabaseSettings::redacted`] to show it.
    pub url: Secret,
    pub max_connections: u32,
}

impl DatabaseSettings {
    pub fn is_sqlite(&self) -> bool {
        self.url.expose().starts_with("sqlite:")
    }

    /// The URL with its password replaced, for logs and errors.
    pub fn redacted(&self) -> String {
        match url::Url::parse(self.url.expose()) {
            Ok(mut u) if u.password().is_some() => {
                let _ = u.set_password(Some("***"));
                u.to_string()
            }
            _ => self.url.expose().to_string(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct AuthSettings {
    pub mode: AuthMode,
    /// Signs and encrypts session cookies; every replica needs the same one.
    pub session_key: Option<Secret>,
    /// Logins that are admins whatever the dashboard says (the first admins).
    pub admins: Vec<String>,
    /// A session unused this long is over.
    pub session_idle_secs: u64,
    /// A session is over this long after sign-in, used or not.
    pub session_max_age_secs: u64,
    /// The OAuth app's client id and secret (github and oauth2 modes).
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub github: GithubLogin,
    pub oauth2: Oauth2Provider,
}

impl AuthSettings {
    /// Whether `login` is a configured admin (case-insensitive, as GitHub logins are).
    pub fn is_configured_admin(&self, login: &str) -> bool {
        self.admins.iter().any(|a| a.eq_ignore_ascii_case(login))
    }
}

#[derive(Debug, Clone)]
pub struct GithubSettings {
    pub api_url: url::Url,
    pub token: Option<Secret>,
    pub webhook_secret: Option<Secret>,
    pub auth: GithubAuth,
    /// Deadline for each API request.
    pub timeout_secs: u64,
    /// The longest a rate limit is waited out; beyond it the call fails.
    pub max_rate_limit_wait_secs: u64,
    /// Organisations and users to discover.
    pub sources: Vec<GithubSource>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub mode: Mode,
    pub data_dir: PathBuf,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub github: GithubSettings,
    pub worker: WorkerSettings,
    pub scheduler: SchedulerSettings,
    pub checkout: CheckoutSettings,
    /// Repositories listed in the configuration (`[[repositories]]`).
    pub repositories: Vec<RepositorySource>,
    pub digest: DigestSettings,
    pub smtp: SmtpSettings,
    pub log: LogSettings,
    pub badge: BadgeSettings,
    pub metrics: MetricsSettings,
    /// Outgoing notifications: signed webhooks and Slack (`[[notify.channels]]`).
    pub notify: crate::notify::config::NotifySettings,
    /// Error monitoring: errors and panics go to Sentry (or a compatible
    /// service such as GlitchTip) when a DSN is set.
    pub sentry_dsn: Option<Secret>,
    /// Custom checks, effective dates, and whether repositories may define
    /// checks of their own (`[policy]`), validated at load.
    pub policy: std::sync::Arc<shipshape_analysis::Policy>,
}

/// The secrets and the environment variable each is read from.
const SECRETS: &[(&str, &str)] = &[
    ("auth.client_secret", "SHIPSHAPE__AUTH__CLIENT_SECRET"),
    ("auth.session_key", "SHIPSHAPE__AUTH__SESSION_KEY"),
    ("github.token", "SHIPSHAPE__GITHUB__TOKEN"),
    ("github.webhook_secret", "SHIPSHAPE__GITHUB__WEBHOOK_SECRET"),
    ("github.app_private_key", "SHIPSHAPE__GITHUB__APP_PRIVATE_KEY"),
    ("observability.sentry_dsn", "SHIPSHAPE__OBSERVABILITY__SENTRY_DSN"),
    ("smtp.password", "SHIPSHAPE__SMTP__PASSWORD"),
];

/// Where configuration values come from, so tests can supply their own environment.
pub trait Environment {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Settings {
    /// Loads from the defaults, an optional file and the process environment.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the key, the value and the fix.
    pub fn load(config_file: Option<&Path>) -> Result<Settings, ConfigError> {
        let file = match config_file {
            Some(p) => Some((p.display().to_string(), read_file(p)?)),
            None => None,
        };
        let env_vars: Vec<(String, String)> = std::env::vars().filter(|(k, _)| k.starts_with(ENV_PREFIX)).collect();
        Settings::build(file, &env_vars, &ProcessEnv, |f| f)
    }

    /// The full loading pipeline with every input explicit. `customise` can
    /// merge extra values last (tests use it for ports and database URLs).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the key, the value and the fix.
    pub fn build(
        file: Option<(String, String)>,
        env_vars: &[(String, String)],
        env: &dyn Environment,
        customise: impl FnOnce(Figment) -> Figment,
    ) -> Result<Settings, ConfigError> {
        let mut figment = Figment::new().merge(Toml::string(DEFAULT_TOML));
        if let Some((name, text)) = &file {
            reject_secrets_in_file(name, text)?;
            figment = figment.merge(Toml::string(text));
        }
        // Platform conventions first, so the explicit SHIPSHAPE__ variables win.
        if let Some(url) = env.var("DATABASE_URL").filter(|u| !u.is_empty()) {
            figment = figment.merge(Serialized::default("database.url", url));
        }
        if let Some(port) = env.var("PORT").filter(|p| !p.is_empty()) {
            let port: u16 = port.parse().map_err(|_| ConfigError::Invalid {
                key: "server.bind",
                value: format!("PORT={port}"),
                problem: "PORT is not a port number".into(),
                fix: "set PORT to a number between 1 and 65535".into(),
            })?;
            figment = figment.merge(Serialized::default("server.bind", format!("0.0.0.0:{port}")));
        }
        let secret_vars: Vec<&str> = SECRETS.iter().map(|(_, v)| *v).collect();
        let plain: Vec<(String, String)> = env_vars
            .iter()
            .filter(|(k, _)| !secret_vars.iter().any(|s| k == s || k.strip_suffix("_FILE") == Some(s)))
            .cloned()
            .collect();
        for (name, value) in plain {
            figment = figment.merge(EnvVar { name, value });
        }
        figment = customise(figment);
        let raw: Raw = figment.extract().map_err(|e| ConfigError::Parse(one_line(&e)))?;
        let policy = load_policy(&raw.policy, file.as_ref())?;
        let secret = |key: &str| -> Result<Option<Secret>, ConfigError> {
            let var = SECRETS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v).unwrap_or_default();
            read_secret(var, env)
        };
        let settings = Settings {
            mode: raw.mode,
            database: DatabaseSettings {
                url: Secret(database_url(&raw.database.url, &raw.data_dir)?),
                max_connections: raw.database.max_connections,
            },
            data_dir: raw.data_dir,
            server: raw.server,
            auth: AuthSettings {
                mode: raw.auth.mode,
                session_key: secret("auth.session_key")?,
                admins: raw.auth.admins,
                session_idle_secs: raw.auth.session_idle_secs,
                session_max_age_secs: raw.auth.session_max_age_secs,
                client_id: raw.auth.client_id,
                client_secret: secret("auth.client_secret")?,
                github: raw.auth.github,
                oauth2: raw.auth.oauth2,
            },
            github: github_settings(raw.github, secret("github.token")?, secret("github.app_private_key")?)?
                .with_webhook_secret(secret("github.webhook_secret")?),
            worker: raw.worker,
            scheduler: SchedulerSettings {
                enabled: raw.scheduler.enabled,
                scan_all: Cron::parse("scheduler.scan_all", &raw.scheduler.scan_all)?,
                retention: Cron::parse("scheduler.retention", &raw.scheduler.retention)?,
                discovery: Cron::parse("scheduler.discovery", &raw.scheduler.discovery)?,
                retention_days: raw.scheduler.retention_days,
                digest: Cron::parse("scheduler.digest", &raw.scheduler.digest)?,
            },
            repositories: raw.repositories,
            checkout: CheckoutSettings {
                max_bytes: raw.checkout.max_mb.saturating_mul(1024 * 1024),
                max_files: raw.checkout.max_files,
                git_timeout_secs: raw.checkout.git_timeout_secs,
                allow_local: raw.checkout.allow_local.unwrap_or(raw.mode == Mode::Development),
            },
            smtp: SmtpSettings {
                from: mailbox("smtp.from", &raw.smtp.from)?,
                host: raw.smtp.host,
                port: raw.smtp.port,
                tls: raw.smtp.tls,
                username: Some(raw.smtp.username).filter(|u| !u.is_empty()),
                password: secret("smtp.password")?,
                timeout_secs: raw.smtp.timeout_secs,
            },
            digest: digest_settings(raw.digest)?,
            log: raw.log,
            badge: raw.badge,
            metrics: raw.metrics,
            notify: crate::notify::config::resolve(raw.notify, env, raw.mode)?,
            sentry_dsn: secret("observability.sentry_dsn")?,
            policy: std::sync::Arc::new(policy),
        };
        settings.validate()?;
        Ok(settings)
    }

    /// Cross-field rules; production refuses weak setups.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.database.max_connections == 0 {
            return Err(ConfigError::Invalid {
                key: "database.max_connections",
                value: "0".into(),
                problem: "the pool needs at least one connection".into(),
                fix: "set SHIPSHAPE__DATABASE__MAX_CONNECTIONS to 1 or more".into(),
            });
        }
        if self.worker.enabled && self.worker.lease_secs < 30 {
            return Err(ConfigError::Invalid {
                key: "worker.lease_secs",
                value: self.worker.lease_secs.to_string(),
                problem: "a lease shorter than 30 s expires during ordinary scans".into(),
                fix: "set SHIPSHAPE__WORKER__LEASE_SECS to 30 or more (default 300)".into(),
            });
        }
        if self.auth.mode == AuthMode::Local && !self.server.bind.ip().is_loopback() {
            return Err(ConfigError::Invalid {
                key: "auth.mode",
                value: format!("\"local\" with server.bind = {}", self.server.bind),
                problem: "local auth has no login and is only allowed on a loopback address".into(),
                fix: "bind to 127.0.0.1, or set SHIPSHAPE__AUTH__MODE=github (or oauth2)".into(),
            });
        }
        self.validate_login()?;
        let loopback = ["localhost", "127.0.0.1", "::1"].contains(&self.smtp.host.as_str());
        if self.smtp.tls == SmtpTls::None && self.smtp.username.is_some() && !loopback {
            return Err(ConfigError::Invalid {
                key: "smtp.tls",
                value: format!("\"none\" with smtp.username set and smtp.host = {}", self.smtp.host),
                problem: "the SMTP password would cross the network unencrypted".into(),
                fix: "set SHIPSHAPE__SMTP__TLS=starttls (port 587) or tls (port 465)".into(),
            });
        }
        if self.mode == Mode::Production {
            match &self.auth.session_key {
                None => {
                    return Err(ConfigError::Invalid {
                        key: "auth.session_key",
                        value: "(missing)".into(),
                        problem: "production needs a key to sign and encrypt session cookies".into(),
                        fix: format!(
                            "set SHIPSHAPE__AUTH__SESSION_KEY (or _FILE) to at least {MIN_SESSION_KEY} random bytes, e.g. `openssl rand -base64 64`"
                        ),
                    });
                }
                Some(k) if k.expose().len() < MIN_SESSION_KEY => {
                    return Err(ConfigError::Invalid {
                        key: "auth.session_key",
                        value: format!("({} bytes)", k.expose().len()),
                        problem: format!("shorter than {MIN_SESSION_KEY} bytes"),
                        fix: "generate one with `openssl rand -base64 64`".into(),
                    });
                }
                Some(_) => {}
            }
            if self.github.webhook_secret.is_none() {
                return Err(ConfigError::Invalid {
                    key: "github.webhook_secret",
                    value: "(missing)".into(),
                    problem: "production verifies every GitHub webhook delivery".into(),
                    fix: "set SHIPSHAPE__GITHUB__WEBHOOK_SECRET (or _FILE) to the secret configured on the GitHub webhook"
                        .into(),
                });
            }
        }
        Ok(())
    }

    /// A sign-in that cannot work, or that would let anyone in, stops the start.
    fn validate_login(&self) -> Result<(), ConfigError> {
        let a = &self.auth;
        let invalid = |key: &'static str, value: String, problem: &str, fix: &str| ConfigError::Invalid {
            key,
            value,
            problem: problem.into(),
            fix: fix.into(),
        };
        if a.session_idle_secs == 0 || a.session_max_age_secs < a.session_idle_secs {
            return Err(invalid(
                "auth.session_max_age_secs",
                format!("{} (idle {})", a.session_max_age_secs, a.session_idle_secs),
                "sessions need a positive idle timeout no longer than their maximum age",
                "e.g. session_idle_secs = 28800 (8 h) and session_max_age_secs = 604800 (7 days)",
            ));
        }
        if a.mode == AuthMode::Local {
            return Ok(());
        }
        if a.client_id.is_empty() || a.client_secret.is_none() {
            return Err(invalid(
                "auth.client_id",
                format!(
                    "\"{}\" with the client secret {}",
                    a.client_id,
                    if a.client_secret.is_some() { "set" } else { "missing" }
                ),
                "signing in through a provider needs the OAuth app's client id and secret",
                "set SHIPSHAPE__AUTH__CLIENT_ID and SHIPSHAPE__AUTH__CLIENT_SECRET (or _FILE) from the OAuth app; its callback URL is <server.public_url>/auth/callback",
            ));
        }
        match a.mode {
            AuthMode::Github => {
                let g = &a.github;
                if g.allowed_orgs.is_empty()
                    && g.allowed_teams.is_empty()
                    && g.allowed_users.is_empty()
                    && a.admins.is_empty()
                {
                    return Err(invalid(
                        "auth.github.allowed_orgs",
                        "[] (and no allowed_teams, allowed_users or admins)".into(),
                        "anyone with a GitHub account could sign in",
                        "list the organisations (allowed_orgs), teams (allowed_teams = [\"org/team\"]) or users allowed in",
                    ));
                }
                if let Some(bad) = g.allowed_teams.iter().find(|t| t.split('/').filter(|p| !p.is_empty()).count() != 2)
                {
                    return Err(invalid(
                        "auth.github.allowed_teams",
                        format!("\"{bad}\""),
                        "a team is named by its organisation and its slug",
                        "write teams as \"org/team-slug\"",
                    ));
                }
            }
            AuthMode::Oauth2 => {
                let o = &a.oauth2;
                for (key, value) in [
                    ("auth.oauth2.authorize_url", &o.authorize_url),
                    ("auth.oauth2.token_url", &o.token_url),
                    ("auth.oauth2.userinfo_url", &o.userinfo_url),
                ] {
                    if url::Url::parse(value).map(|u| !matches!(u.scheme(), "http" | "https")).unwrap_or(true) {
                        return Err(invalid(
                            key,
                            format!("\"{value}\""),
                            "the provider's endpoint must be an http(s) URL",
                            "copy it from the provider's documentation or its /.well-known/openid-configuration",
                        ));
                    }
                }
                if o.allowed_users.is_empty() && o.allowed_email_domains.is_empty() && a.admins.is_empty() {
                    return Err(invalid(
                        "auth.oauth2.allowed_users",
                        "[] (and no allowed_email_domains or admins)".into(),
                        "anyone with an account at the provider could sign in",
                        "list allowed_users or allowed_email_domains",
                    ));
                }
            }
            AuthMode::Local => {}
        }
        Ok(())
    }

    /// JSON logs in production unless overridden.
    pub fn log_json(&self) -> bool {
        match self.log.format {
            LogFormat::Json => true,
            LogFormat::Pretty => false,
            LogFormat::Auto => self.mode == Mode::Production,
        }
    }
}

impl GithubSettings {
    fn with_webhook_secret(mut self, secret: Option<Secret>) -> Self {
        self.webhook_secret = secret;
        self
    }
}

/// The `[github]` section with its auth decided and every source checked.
fn github_settings(
    raw: RawGithub,
    token: Option<Secret>,
    private_key: Option<Secret>,
) -> Result<GithubSettings, ConfigError> {
    let invalid = |key, value: String, problem: &str, fix: &str| ConfigError::Invalid {
        key,
        value,
        problem: problem.into(),
        fix: fix.into(),
    };
    let auth = match (&token, raw.app_id, private_key) {
        (Some(_), Some(id), _) => {
            return Err(invalid(
                "github.app_id",
                id.to_string(),
                "both a personal token and a GitHub App are configured",
                "keep one: unset SHIPSHAPE__GITHUB__TOKEN or github.app_id",
            ));
        }
        (_, Some(_), None) => {
            return Err(invalid(
                "github.app_private_key",
                "(missing)".into(),
                "a GitHub App needs its private key to sign the JWT",
                "set SHIPSHAPE__GITHUB__APP_PRIVATE_KEY_FILE to the App's .pem file",
            ));
        }
        (_, None, Some(_)) => {
            return Err(invalid(
                "github.app_id",
                "(missing)".into(),
                "an App private key is set but no App id",
                "set github.app_id to the App's numeric id (App settings, \"About\")",
            ));
        }
        (_, Some(app_id), Some(key)) => {
            if !key.expose().contains("PRIVATE KEY-----") {
                return Err(invalid(
                    "github.app_private_key",
                    format!("({} bytes)", key.expose().len()),
                    "not a PEM private key",
                    "point SHIPSHAPE__GITHUB__APP_PRIVATE_KEY_FILE at the .pem file GitHub generated",
                ));
            }
            GithubAuth::App { app_id, private_key: key, installation_id: raw.app_installation_id }
        }
        (Some(t), None, None) => GithubAuth::Token(t.clone()),
        (None, None, None) => GithubAuth::None,
    };
    if raw.app_installation_id.is_some() && !matches!(auth, GithubAuth::App { .. }) {
        return Err(invalid(
            "github.app_installation_id",
            raw.app_installation_id.unwrap_or_default().to_string(),
            "an installation id without a GitHub App",
            "set github.app_id and SHIPSHAPE__GITHUB__APP_PRIVATE_KEY_FILE, or remove the installation id",
        ));
    }
    if raw.timeout_secs == 0 {
        return Err(invalid("github.timeout_secs", "0".into(), "requests need a deadline", "use 30 (the default)"));
    }
    for (i, source) in raw.sources.iter().enumerate() {
        let shown = format!("{source:?}");
        let login = match (&source.org, &source.user) {
            (Some(l), None) | (None, Some(l)) => l,
            _ => {
                return Err(invalid(
                    "github.sources",
                    format!("[{i}] {shown}"),
                    "each source names exactly one of `org` or `user`",
                    "write `org = \"acme\"` or `user = \"bob\"`",
                ));
            }
        };
        let valid = !login.is_empty()
            && login.len() <= 39
            && login.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !login.starts_with('-');
        if !valid {
            return Err(invalid(
                "github.sources",
                format!("[{i}] \"{login}\""),
                "not a GitHub login",
                "use the organisation or user name as in its URL, e.g. acme for github.com/acme",
            ));
        }
        for pattern in source.include.iter().chain(&source.exclude) {
            if let Err(e) = globset::Glob::new(pattern) {
                return Err(invalid(
                    "github.sources",
                    format!("[{i}] pattern \"{pattern}\""),
                    &format!("not a glob: {e}"),
                    "use shell-style patterns such as \"api-*\"",
                ));
            }
        }
    }
    Ok(GithubSettings {
        api_url: raw.api_url,
        token,
        webhook_secret: None,
        auth,
        timeout_secs: raw.timeout_secs,
        max_rate_limit_wait_secs: raw.max_rate_limit_wait_secs,
        sources: raw.sources,
    })
}

fn mailbox(key: &'static str, value: &str) -> Result<lettre::message::Mailbox, ConfigError> {
    value.parse().map_err(|e| ConfigError::Invalid {
        key,
        value: format!("\"{value}\""),
        problem: format!("not an email address: {e}"),
        fix: "use `name@example.com` or `Name <name@example.com>`".into(),
    })
}

/// Addresses are checked at load and lower-cased, so the same person is one recipient.
fn digest_settings(mut d: DigestSettings) -> Result<DigestSettings, ConfigError> {
    let check = |key: &'static str, list: &mut Vec<String>| -> Result<(), ConfigError> {
        for address in list.iter_mut() {
            let parsed: lettre::Address = address.trim().parse().map_err(|e| ConfigError::Invalid {
                key,
                value: format!("\"{address}\""),
                problem: format!("not an email address: {e}"),
                fix: "list plain addresses such as \"lead@example.com\"".into(),
            })?;
            *address = parsed.to_string().to_ascii_lowercase();
        }
        Ok(())
    };
    check("digest.recipients", &mut d.recipients)?;
    for list in d.teams.values_mut() {
        check("digest.teams", list)?;
    }
    Ok(d)
}

/// The policy: `[[policy.checks]]` and `[policy.effective]` of the
/// configuration file, then the policy file `policy.file` names
/// (`[[checks]]` and `[effective]`). Each is parsed from its text so an
/// error names the file and the line.
fn load_policy(raw: &RawPolicy, file: Option<&(String, String)>) -> Result<shipshape_analysis::Policy, ConfigError> {
    use shipshape_analysis::policy::{self, Origin, parse_document};
    let mut documents = Vec::new();
    let mut errors = Vec::new();
    match file {
        Some((name, text)) => match parse_document(name, text, Origin::ServerConfig) {
            Ok(doc) => documents.push(doc),
            Err(e) => errors.extend(e),
        },
        None if raw.checks.is_some() || raw.effective.is_some() => {
            return Err(ConfigError::Invalid {
                key: "policy.checks",
                value: "(set outside a configuration file)".into(),
                problem: "custom checks and effective dates are read from a file, so errors can name its lines".into(),
                fix: "write them in the file given with --config, or in the file named by policy.file".into(),
            });
        }
        None => {}
    }
    if !raw.file.is_empty() {
        let path = Path::new(&raw.file);
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
            key: "policy.file",
            value: format!("\"{}\"", raw.file),
            problem: format!("cannot read the policy file: {e}"),
            fix: "point SHIPSHAPE__POLICY__FILE at a readable TOML file with [[checks]] and [effective]".into(),
        })?;
        match parse_document(&raw.file, &text, Origin::PolicyFile) {
            Ok(doc) => documents.push(doc),
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(ConfigError::Policy(policy::describe(&errors)));
    }
    shipshape_analysis::Policy::build(raw.allow_repository_checks, documents)
        .map_err(|e| ConfigError::Policy(policy::describe(&e)))
}

fn read_file(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
        key: "--config",
        value: path.display().to_string(),
        problem: format!("cannot read the file: {e}"),
        fix: "pass the path of a readable TOML file".into(),
    })
}

/// Secrets in a committed file leak through git history: refuse them.
fn reject_secrets_in_file(name: &str, text: &str) -> Result<(), ConfigError> {
    let table: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => return Err(ConfigError::Parse(format!("{name} is not valid TOML: {}", one_line(&e.message())))),
    };
    for (key, env) in SECRETS {
        let (section, field) = key.split_once('.').unwrap_or(("", key));
        let present = table.get(section).and_then(|s| s.as_table()).is_some_and(|s| s.contains_key(field));
        if present {
            return Err(ConfigError::SecretInFile {
                key: key.to_string(),
                file: name.to_string(),
                env: env.to_string(),
            });
        }
    }
    Ok(())
}

/// `VAR` or the contents of the file named by `VAR_FILE` (trailing newline trimmed).
pub(crate) fn read_secret(var: &str, env: &dyn Environment) -> Result<Option<Secret>, ConfigError> {
    if let Some(v) = env.var(var).filter(|v| !v.is_empty()) {
        return Ok(Some(Secret(v)));
    }
    let file_var = format!("{var}_FILE");
    let Some(path) = env.var(&file_var).filter(|v| !v.is_empty()) else { return Ok(None) };
    match std::fs::read_to_string(&path) {
        Ok(v) => Ok(Some(Secret(v.trim_end_matches(['\n', '\r']).to_string()))),
        Err(e) => Err(ConfigError::Parse(format!(
            "{file_var}={path}: cannot read the secret file: {e}; fix: point {file_var} at a readable file"
        ))),
    }
}

fn database_url(url: &str, data_dir: &Path) -> Result<String, ConfigError> {
    if url.is_empty() {
        return Ok(format!("sqlite://{}?mode=rwc", data_dir.join("shipshape.db").display()));
    }
    let ok = url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://");
    if !ok {
        let shown = url::Url::parse(url)
            .map(|mut u| {
                if u.password().is_some() {
                    let _ = u.set_password(Some("***"));
                }
                u.to_string()
            })
            .unwrap_or_else(|_| url.to_string());
        return Err(ConfigError::Invalid {
            key: "database.url",
            value: format!("\"{shown}\""),
            problem: "not a SQLite or Postgres URL".into(),
            fix:
                "use sqlite://PATH?mode=rwc or postgres://USER@HOST:5432/DB (or leave it empty for the embedded SQLite)"
                    .into(),
        });
    }
    Ok(url.to_string())
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One `SHIPSHAPE__SECTION__KEY` variable as a figment provider, so errors
/// name the variable a user has to fix.
struct EnvVar {
    name: String,
    value: String,
}

impl Provider for EnvVar {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("environment variable {}", self.name))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let path =
            self.name.trim_start_matches(ENV_PREFIX).split("__").map(str::to_ascii_lowercase).collect::<Vec<_>>();
        let value: Value = self.value.parse().unwrap_or_else(|_| Value::from(self.value.clone()));
        let dict = figment::util::nest(&path.join("."), value).into_dict().unwrap_or_default();
        Ok(Profile::Default.collect(dict))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct MapEnv(HashMap<String, String>);

    impl Environment for MapEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    /// Builds settings from env pairs (SHIPSHAPE__ ones are also passed as overrides).
    fn load(vars: &[(&str, &str)], file: Option<&str>) -> Result<Settings, ConfigError> {
        let env = MapEnv(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let overrides: Vec<(String, String)> = vars
            .iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::build(file.map(|t| ("test.toml".to_string(), t.to_string())), &overrides, &env, |f| f)
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_give_a_sqlite_file_in_the_data_dir_on_loopback() {
        let s = load(&[], None).unwrap();
        assert_eq!(s.mode, Mode::Development);
        assert!(s.database.is_sqlite());
        assert_eq!(s.database.url.expose(), "sqlite://./data/shipshape.db?mode=rwc");
        assert!(s.server.bind.ip().is_loopback());
        assert!(!s.log_json());
    }

    #[test]
    fn env_overrides_file_overrides_defaults() {
        let file = "[server]\nworkers = 3\n[log]\nformat = \"json\"\n";
        let s = load(&[("SHIPSHAPE__SERVER__WORKERS", "5")], Some(file)).unwrap();
        assert_eq!(s.server.workers, 5);
        assert!(s.log_json());
    }

    #[test]
    fn platform_database_url_and_port_are_honoured() {
        let s = load(
            &[
                ("DATABASE_URL", "postgres://app:pw@db:5432/ship"),
                ("PORT", "9000"),
                ("SHIPSHAPE__AUTH__MODE", "github"),
                GITHUB_LOGIN[0],
                GITHUB_LOGIN[1],
                GITHUB_LOGIN[2],
            ],
            None,
        )
        .unwrap();
        assert!(!s.database.is_sqlite());
        assert_eq!(s.database.redacted(), "postgres://app:***@db:5432/ship");
        assert_eq!(s.server.bind.to_string(), "0.0.0.0:9000");
    }

    #[test]
    fn production_refuses_a_missing_session_key() {
        let err =
            load(&[("SHIPSHAPE__MODE", "production"), ("SHIPSHAPE__GITHUB__WEBHOOK_SECRET", "w")], None).unwrap_err();
        assert!(err.to_string().contains("auth.session_key"), "{err}");
    }

    #[test]
    fn production_refuses_a_short_session_key() {
        let err = load(
            &[
                ("SHIPSHAPE__MODE", "production"),
                ("SHIPSHAPE__AUTH__SESSION_KEY", "short"),
                ("SHIPSHAPE__GITHUB__WEBHOOK_SECRET", "w"),
            ],
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("shorter than 64"), "{err}");
        assert!(!err.to_string().contains("short\""), "the key itself is never shown: {err}");
    }

    #[test]
    fn production_refuses_a_missing_webhook_secret() {
        let err = load(&[("SHIPSHAPE__MODE", "production"), ("SHIPSHAPE__AUTH__SESSION_KEY", KEY)], None).unwrap_err();
        assert!(err.to_string().contains("github.webhook_secret"), "{err}");
    }

    #[test]
    fn local_auth_is_refused_on_a_non_loopback_address() {
        let err = load(&[("SHIPSHAPE__SERVER__BIND", "0.0.0.0:8080")], None).unwrap_err();
        assert!(err.to_string().contains("auth.mode"), "{err}");
        let ok = load(
            &[
                ("SHIPSHAPE__SERVER__BIND", "0.0.0.0:8080"),
                ("SHIPSHAPE__AUTH__MODE", "github"),
                GITHUB_LOGIN[0],
                GITHUB_LOGIN[1],
                GITHUB_LOGIN[2],
            ],
            None,
        );
        assert!(ok.is_ok(), "{ok:?}");
    }

    /// What github sign-in needs: the OAuth app and who may sign in.
    const GITHUB_LOGIN: [(&str, &str); 3] = [
        ("SHIPSHAPE__AUTH__CLIENT_ID", "Iv1.test"),
        ("SHIPSHAPE__AUTH__CLIENT_SECRET", "client-secret"),
        ("SHIPSHAPE__AUTH__ADMINS", "[\"alice\"]"),
    ];

    #[test]
    fn a_sign_in_that_cannot_work_or_would_let_anyone_in_is_refused() {
        let no_app = load(&[("SHIPSHAPE__AUTH__MODE", "github")], None).unwrap_err().to_string();
        assert!(no_app.contains("auth.client_id") && no_app.contains("/auth/callback"), "{no_app}");
        let anyone = load(&[("SHIPSHAPE__AUTH__MODE", "github"), GITHUB_LOGIN[0], GITHUB_LOGIN[1]], None)
            .unwrap_err()
            .to_string();
        assert!(anyone.contains("anyone with a GitHub account"), "{anyone}");
        let team = load(
            &[("SHIPSHAPE__AUTH__MODE", "github"), GITHUB_LOGIN[0], GITHUB_LOGIN[1]],
            Some("[auth.github]\nallowed_teams = [\"platform\"]\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(team.contains("org/team-slug"), "{team}");
        let generic = load(
            &[("SHIPSHAPE__AUTH__MODE", "oauth2"), GITHUB_LOGIN[0], GITHUB_LOGIN[1], GITHUB_LOGIN[2]],
            Some("[auth.oauth2]\nauthorize_url = \"sso.example.com/authorize\"\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(generic.contains("auth.oauth2.authorize_url") && generic.contains("http(s) URL"), "{generic}");
        let short = load(
            &[("SHIPSHAPE__AUTH__SESSION_IDLE_SECS", "3600"), ("SHIPSHAPE__AUTH__SESSION_MAX_AGE_SECS", "60")],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(short.contains("idle timeout"), "{short}");
        // The client secret is a secret: a config file holding it is refused.
        let in_file = load(&[], Some("[auth]\nclient_secret = \"x\"\n")).unwrap_err().to_string();
        assert!(in_file.contains("client_secret"), "{in_file}");
    }

    #[test]
    fn production_starts_with_everything_set_and_secrets_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("key");
        std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
        let path = key_file.display().to_string();
        let s = load(
            &[
                ("SHIPSHAPE__MODE", "production"),
                ("SHIPSHAPE__AUTH__SESSION_KEY_FILE", &path),
                ("SHIPSHAPE__GITHUB__WEBHOOK_SECRET", "hook"),
                ("SHIPSHAPE__AUTH__MODE", "github"),
                GITHUB_LOGIN[0],
                GITHUB_LOGIN[1],
                GITHUB_LOGIN[2],
            ],
            None,
        )
        .unwrap();
        assert_eq!(s.auth.session_key.as_ref().unwrap().expose(), KEY);
        assert!(s.log_json());
        assert!(!format!("{s:?}").contains(KEY), "Debug must redact secrets");
    }

    #[test]
    fn local_clone_urls_are_allowed_in_development_only_unless_configured() {
        assert!(load(&[], None).unwrap().checkout.allow_local);
        let prod = [
            ("SHIPSHAPE__MODE", "production"),
            ("SHIPSHAPE__AUTH__SESSION_KEY", KEY),
            ("SHIPSHAPE__GITHUB__WEBHOOK_SECRET", "w"),
        ];
        assert!(!load(&prod, None).unwrap().checkout.allow_local);
        let err = load(&[("SHIPSHAPE__WORKER__LEASE_SECS", "5")], None).unwrap_err().to_string();
        assert!(err.contains("worker.lease_secs"), "{err}");
    }

    #[test]
    fn a_bad_cron_expression_is_refused_at_load() {
        let err = load(&[("SHIPSHAPE__SCHEDULER__SCAN_ALL", "every night")], None).unwrap_err().to_string();
        assert!(err.contains("scheduler.scan_all") && err.contains("six fields"), "{err}");
        // Five fields (no seconds) is a common mistake: refused too.
        let err = load(&[], Some("[scheduler]\nscan_all = \"0 3 * * *\"\n")).unwrap_err().to_string();
        assert!(err.contains("scheduler.scan_all"), "{err}");
    }

    #[test]
    fn smtp_and_digest_recipients_are_checked_at_load() {
        let file = "[smtp]\nhost = \"smtp.example.com\"\nusername = \"ship\"\ntls = \"none\"\n";
        let err = load(&[], Some(file)).unwrap_err().to_string();
        assert!(err.contains("smtp.tls") && err.contains("unencrypted"), "{err}");
        let err = load(&[], Some("[digest]\nrecipients = [\"not an address\"]\n")).unwrap_err().to_string();
        assert!(err.contains("digest.recipients") && err.contains("not an address"), "{err}");
        let err = load(&[], Some("[smtp]\npassword = \"hunter2\"\n")).unwrap_err();
        assert!(matches!(err, ConfigError::SecretInFile { .. }), "{err}");
        let file = "[digest]\nrecipients = [\"Ops@Example.com\"]\n[digest.teams]\npayments = [\"lead@example.com\"]\n";
        let s =
            load(&[("SHIPSHAPE__SMTP__PASSWORD", "pw"), ("SHIPSHAPE__SMTP__USERNAME", "ship")], Some(file)).unwrap();
        assert_eq!(s.digest.recipients, vec!["ops@example.com"]);
        assert_eq!(s.digest.teams["payments"], vec!["lead@example.com"]);
        assert_eq!(
            (s.smtp.username.as_deref(), s.smtp.password.as_ref().map(Secret::expose)),
            (Some("ship"), Some("pw"))
        );
    }

    #[test]
    fn secrets_in_a_config_file_are_refused() {
        let err = load(&[], Some("[auth]\nsession_key = \"abc\"\n")).unwrap_err();
        assert!(matches!(err, ConfigError::SecretInFile { .. }), "{err}");
    }

    #[test]
    fn unknown_keys_and_bad_values_name_the_key() {
        let err = load(&[("SHIPSHAPE__SERVER__WORKRS", "2")], None).unwrap_err().to_string();
        assert!(err.contains("workrs"), "{err}");
        let err = load(&[("SHIPSHAPE__SERVER__WORKERS", "many")], None).unwrap_err().to_string();
        assert!(err.contains("SHIPSHAPE__SERVER__WORKERS"), "{err}");
        let err = load(&[("SHIPSHAPE__DATABASE__URL", "mysql://u:pw@h/db")], None).unwrap_err().to_string();
        assert!(err.contains("database.url") && !err.contains("pw@"), "{err}");
    }

    #[test]
    fn github_sources_and_auth_are_checked_at_load() {
        let file = "[[github.sources]]\norg = \"acme\"\ninclude = [\"api-*\"]\n[[github.sources]]\nuser = \"bob\"\nforks = true\n";
        let s = load(&[("SHIPSHAPE__GITHUB__TOKEN", "t")], Some(file)).unwrap();
        assert!(matches!(s.github.auth, GithubAuth::Token(_)));
        let keys: Vec<String> = s.github.sources.iter().map(GithubSource::key).collect();
        assert_eq!(keys, ["org:acme", "user:bob"]);
        assert!(s.github.sources[0].archived && !s.github.sources[0].forks, "defaults: archived tracked, forks not");
        assert_eq!(s.scheduler.discovery.expr, "0 15 * * * *", "hourly");

        let both = "[[github.sources]]\norg = \"acme\"\nuser = \"bob\"\n";
        let err = load(&[], Some(both)).unwrap_err().to_string();
        assert!(err.contains("github.sources") && err.contains("exactly one of"), "{err}");
        let err = load(&[], Some("[[github.sources]]\norg = \"acme/api\"\n")).unwrap_err().to_string();
        assert!(err.contains("not a GitHub login"), "{err}");
        let err =
            load(&[], Some("[[github.sources]]\norg = \"acme\"\ninclude = [\"[api\"]\n")).unwrap_err().to_string();
        assert!(err.contains("not a glob"), "{err}");
    }

    #[test]
    fn a_github_app_needs_its_key_and_excludes_a_token() {
        let err = load(&[], Some("[github]\napp_id = 12\n")).unwrap_err().to_string();
        assert!(err.contains("github.app_private_key") && err.contains("APP_PRIVATE_KEY_FILE"), "{err}");
        let pem = ["-----BEGIN RSA", "PRIVATE KEY-----\nMIIB\n-----END RSA", "PRIVATE KEY-----"].join(" ");
        let key = ("SHIPSHAPE__GITHUB__APP_PRIVATE_KEY", pem.as_str());
        let s = load(&[key], Some("[github]\napp_id = 12\n")).unwrap();
        assert!(matches!(s.github.auth, GithubAuth::App { app_id: 12, installation_id: None, .. }));
        let err =
            load(&[key, ("SHIPSHAPE__GITHUB__TOKEN", "t")], Some("[github]\napp_id = 12\n")).unwrap_err().to_string();
        assert!(err.contains("both a personal token and a GitHub App"), "{err}");
        let err = load(&[("SHIPSHAPE__GITHUB__APP_PRIVATE_KEY", "nonsense")], Some("[github]\napp_id = 12\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a PEM private key") && !err.contains("nonsense"), "{err}");
        let err = load(&[key], None).unwrap_err().to_string();
        assert!(err.contains("no App id"), "{err}");
        let err = load(&[], Some("[github]\napp_private_key = \"x\"\n")).unwrap_err();
        assert!(matches!(err, ConfigError::SecretInFile { .. }), "{err}");
    }
}
