//! `[notify]` and its `[[notify.channels]]`: where notifications go.
//!
//! A channel's URL is a secret (whoever holds a Slack webhook URL can post
//! to the channel), so the file only names the environment variable that
//! holds it (`url_env`), like the HMAC key of a signed webhook
//! (`secret_env`); both also accept `<VAR>_FILE`. Everything is checked at
//! load, so a channel that cannot work stops the start instead of failing
//! silently at the first level change.

use crate::config::{ConfigError, Environment, Mode, Secret, read_secret};
use crate::db::entities::notification_deliveries::NotifyEvent;
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    timeout_secs: u64,
    max_attempts: u32,
    retry_secs: u64,
    #[serde(default)]
    channels: Vec<RawChannel>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    name: String,
    kind: ChannelKind,
    url_env: String,
    #[serde(default)]
    secret_env: Option<String>,
    #[serde(default)]
    teams: Vec<String>,
    #[serde(default = "every_event")]
    events: Vec<EventKind>,
    #[serde(default = "a_day")]
    min_interval_hours: u32,
}

fn every_event() -> Vec<EventKind> {
    vec![EventKind::LevelChanged, EventKind::NewCritical]
}

fn a_day() -> u32 {
    24
}

/// How a channel is spoken to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Shipshape's own JSON, signed with HMAC-SHA256 (`X-Shipshape-Signature-256`).
    Webhook,
    /// A Slack incoming webhook: a message with `text` and `blocks`.
    Slack,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Slack => "slack",
        }
    }
}

/// The events a channel subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    LevelChanged,
    NewCritical,
}

impl EventKind {
    pub fn event(self) -> NotifyEvent {
        match self {
            EventKind::LevelChanged => NotifyEvent::LevelChanged,
            EventKind::NewCritical => NotifyEvent::NewCritical,
        }
    }
}

/// The validated `[notify]` section.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// Deadline of one HTTP attempt (connect, send, answer).
    pub timeout: Duration,
    /// Attempts per notification, the first included.
    pub max_attempts: u32,
    /// Wait before the first retry; doubles with each further one.
    pub retry_base: Duration,
    pub channels: Vec<Channel>,
}

/// One `[[notify.channels]]` entry with its secrets read.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Names the channel in the deliveries table and on the admin page.
    pub name: String,
    pub kind: ChannelKind,
    /// The environment variable the URL came from (shown instead of the URL).
    pub url_env: String,
    pub url: Secret,
    /// The HMAC key of a `webhook` channel.
    pub secret: Option<Secret>,
    /// Team slugs whose repositories this channel hears about; empty: all.
    pub teams: Vec<String>,
    pub events: Vec<EventKind>,
    /// The same event of the same repository reaches this channel at most
    /// once in this many hours; 0: every time.
    pub min_interval_hours: u32,
}

impl Channel {
    /// Whether this channel hears about `event` in a repository of `team`.
    pub fn wants(&self, event: NotifyEvent, team: Option<&str>) -> bool {
        self.events.iter().any(|e| e.event() == event)
            && (self.teams.is_empty() || team.is_some_and(|t| self.teams.iter().any(|s| s.eq_ignore_ascii_case(t))))
    }
}

impl NotifySettings {
    pub fn channel(&self, name: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.name == name)
    }
}

fn invalid(value: String, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: "notify.channels", value, problem: problem.into(), fix: fix.into() }
}

fn env_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// Reads each channel's secrets from `env` and checks the section.
///
/// # Errors
/// A [`ConfigError`] naming the channel, what is wrong and the fix.
pub fn resolve(raw: RawNotify, env: &dyn Environment, mode: Mode) -> Result<NotifySettings, ConfigError> {
    if raw.timeout_secs == 0 {
        return Err(ConfigError::Invalid {
            key: "notify.timeout_secs",
            value: "0".into(),
            problem: "each attempt needs a deadline, or a receiver that hangs holds a sender forever".into(),
            fix: "use 10 (the default)".into(),
        });
    }
    if !(1..=20).contains(&raw.max_attempts) {
        return Err(ConfigError::Invalid {
            key: "notify.max_attempts",
            value: raw.max_attempts.to_string(),
            problem: "attempts must be between 1 and 20".into(),
            fix: "use 5 (the default)".into(),
        });
    }
    let mut channels: Vec<Channel> = Vec::new();
    for (i, c) in raw.channels.into_iter().enumerate() {
        let shown = format!("[{i}] name = \"{}\"", c.name);
        let name_ok = !c.name.is_empty()
            && c.name.len() <= 100
            && c.name.chars().all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch));
        if !name_ok {
            return Err(invalid(
                shown,
                "a channel needs a short name",
                "use letters, digits, - _ and . (e.g. \"platform-slack\")",
            ));
        }
        if channels.iter().any(|o| o.name == c.name) {
            return Err(invalid(shown, "two channels have this name", "give every channel its own name"));
        }
        if c.url_env.contains("://") {
            return Err(invalid(
                format!("{shown}, url_env = (a URL)"),
                "url_env names the environment variable that holds the URL, not the URL: a webhook URL is a secret",
                format!(
                    "set url_env = \"{}_URL\" and export that variable",
                    c.name.to_ascii_uppercase().replace(['-', '.'], "_")
                ),
            ));
        }
        for var in std::iter::once(&c.url_env).chain(c.secret_env.as_ref()) {
            if !env_name_ok(var) {
                return Err(invalid(
                    format!("{shown}, \"{var}\""),
                    "not an environment variable name",
                    "use letters, digits and _ (e.g. SLACK_PLATFORM_URL)",
                ));
            }
        }
        let Some(url) = read_secret(&c.url_env, env)? else {
            return Err(invalid(
                format!("{shown}, url_env = \"{}\"", c.url_env),
                format!("the environment variable {} is not set", c.url_env),
                format!("export {}=<the channel's webhook URL> (or {}_FILE=<a file holding it>)", c.url_env, c.url_env),
            ));
        };
        let parsed =
            url::Url::parse(url.expose()).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
        let Some(parsed) = parsed else {
            return Err(invalid(
                format!("{shown}, {} = (not shown)", c.url_env),
                "not an http(s) URL",
                "set it to the URL the receiver gave you",
            ));
        };
        let loopback = matches!(parsed.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
        if mode == Mode::Production && parsed.scheme() == "http" && !loopback {
            return Err(invalid(
                format!("{shown}, {} = http://…", c.url_env),
                "notifications would cross the network unencrypted",
                "use the receiver's https:// URL",
            ));
        }
        let secret = match (&c.kind, &c.secret_env) {
            (ChannelKind::Webhook, None) => {
                return Err(invalid(
                    shown,
                    "a webhook channel signs every delivery and needs a secret",
                    format!(
                        "add secret_env = \"{}_SECRET\" and export it (e.g. `openssl rand -hex 32`)",
                        c.name.to_ascii_uppercase().replace(['-', '.'], "_")
                    ),
                ));
            }
            (ChannelKind::Webhook, Some(var)) => match read_secret(var, env)? {
                Some(s) if !s.expose().is_empty() => Some(s),
                _ => {
                    return Err(invalid(
                        format!("{shown}, secret_env = \"{var}\""),
                        format!("the environment variable {var} is not set"),
                        format!("export {var}=<the shared secret> (or {var}_FILE), e.g. from `openssl rand -hex 32`"),
                    ));
                }
            },
            (ChannelKind::Slack, Some(_)) => {
                return Err(invalid(
                    shown,
                    "Slack incoming webhooks are not signed",
                    "remove secret_env from this channel",
                ));
            }
            (ChannelKind::Slack, None) => None,
        };
        if c.events.is_empty() {
            return Err(invalid(
                shown,
                "the channel subscribes to no event",
                "list events = [\"level_changed\", \"new_critical\"] or remove the channel",
            ));
        }
        let mut teams: Vec<String> =
            c.teams.iter().map(|t| t.trim().to_ascii_lowercase()).filter(|t| !t.is_empty()).collect();
        teams.sort();
        teams.dedup();
        channels.push(Channel {
            name: c.name,
            kind: c.kind,
            url_env: c.url_env,
            url,
            secret,
            teams,
            events: c.events,
            min_interval_hours: c.min_interval_hours,
        });
    }
    Ok(NotifySettings {
        timeout: Duration::from_secs(raw.timeout_secs),
        max_attempts: raw.max_attempts,
        retry_base: Duration::from_secs(raw.retry_secs),
        channels,
    })
}
