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
    #[serde(default)]
    url_env: String,
    #[serde(default)]
    secret_env: Option<String>,
    /// Refused with a pointer to `url_env`: a URL is a secret.
    #[serde(default)]
    url: Option<String>,
    /// Refused with a pointer to `secret_env`.
    #[serde(default)]
    secret: Option<String>,
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
        let var = c.name.to_ascii_uppercase().replace(['-', '.'], "_");
        if c.url.is_some() || c.secret.is_some() {
            let (key, env_key, example) = if c.url.is_some() {
                ("url", "url_env", format!("{var}_URL"))
            } else {
                ("secret", "secret_env", format!("{var}_SECRET"))
            };
            return Err(invalid(
                format!("{shown}, {key} = (not shown)"),
                format!("`{key}` is a secret and is never read from a config file (it would leak through git history)"),
                format!("remove it, export {example}=<the value> and set {env_key} = \"{example}\""),
            ));
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

#[cfg(test)]
mod tests {
    use crate::config::{ConfigError, Environment, Settings};
    use std::collections::HashMap;

    struct Vars(HashMap<String, String>);

    impl Environment for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).cloned()
        }
    }

    fn load(file: &str, vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let env = Vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        Settings::build(Some(("shipshape.toml".into(), file.into())), &[], &env, |f| f)
    }

    const SLACK: &str = "[[notify.channels]]\nname = \"platform-slack\"\nkind = \"slack\"\nurl_env = \"SLACK_PLATFORM_URL\"\nteams = [\"Platform\"]\n";
    const HOOK: &str = "[[notify.channels]]\nname = \"audit\"\nkind = \"webhook\"\nurl_env = \"AUDIT_URL\"\nsecret_env = \"AUDIT_SECRET\"\n";

    #[test]
    fn urls_and_keys_come_from_the_environment_or_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("audit.key");
        std::fs::write(&key, "from-a-file\n").unwrap();
        let s = load(
            &format!("{SLACK}{HOOK}"),
            &[
                ("SLACK_PLATFORM_URL", "https://hooks.slack.com/services/T0/B0/xyz"),
                ("AUDIT_URL", "https://audit.example/hook"),
                ("AUDIT_SECRET_FILE", key.to_str().unwrap()),
            ],
        )
        .unwrap();
        let [slack, audit] = &s.notify.channels[..] else { panic!("{:?}", s.notify.channels) };
        assert_eq!(slack.url.expose(), "https://hooks.slack.com/services/T0/B0/xyz");
        assert_eq!(slack.teams, vec!["platform"]);
        assert_eq!(slack.min_interval_hours, 24, "a day unless said otherwise");
        assert_eq!(slack.events.len(), 2, "both events unless said otherwise");
        assert_eq!(audit.secret.as_ref().unwrap().expose(), "from-a-file");
        assert!(!format!("{:?}", s.notify).contains("xyz"), "Debug never shows a URL");
    }

    #[test]
    fn a_channel_that_cannot_work_stops_the_start_and_says_why() {
        let url = [("SLACK_PLATFORM_URL", "https://hooks.slack.com/services/T0/B0/xyz")];
        let err = |file: &str, vars: &[(&str, &str)]| load(file, vars).unwrap_err().to_string();

        let e = err(SLACK, &[]);
        assert!(e.contains("SLACK_PLATFORM_URL is not set") && e.contains("export SLACK_PLATFORM_URL="), "{e}");
        let e = err(&SLACK.replace("\"SLACK_PLATFORM_URL\"", "\"https://hooks.slack.com/x\""), &url);
        assert!(e.contains("not the URL"), "{e}");
        let e = err(&format!("{SLACK}url = \"https://hooks.slack.com/x\"\n"), &url);
        assert!(e.contains("never read from a config file") && !e.contains("hooks.slack.com/x"), "{e}");
        let e = err(&HOOK.replace("secret_env = \"AUDIT_SECRET\"\n", ""), &[("AUDIT_URL", "https://a.example/")]);
        assert!(e.contains("needs a secret"), "{e}");
        let e = err(HOOK, &[("AUDIT_URL", "https://a.example/")]);
        assert!(e.contains("AUDIT_SECRET is not set"), "{e}");
        let e = err(&format!("{SLACK}secret_env = \"X\"\n"), &url);
        assert!(e.contains("not signed"), "{e}");
        let e = err(&format!("{SLACK}{SLACK}"), &url);
        assert!(e.contains("two channels have this name"), "{e}");
        let e = err(
            &SLACK.replace("kind = \"slack\"\n", "kind = \"slack\"\nevents = [\"level_changed\", \"pages\"]\n"),
            &url,
        );
        assert!(e.contains("found `pages`") && e.contains("level_changed"), "{e}");
        let e = err(SLACK, &[("SLACK_PLATFORM_URL", "hooks.slack.com/x")]);
        assert!(e.contains("not an http(s) URL") && !e.contains("hooks.slack.com"), "the value is not echoed: {e}");
        let plain = [("SLACK_PLATFORM_URL", "http://hooks.example/x")];
        let e = err(&format!("mode = \"production\"\n{SLACK}"), &plain);
        assert!(e.contains("unencrypted"), "{e}");
        assert!(load(SLACK, &plain).is_ok(), "plain http is fine in development");
        let e = err("[notify]\ntimeout_secs = 0\n", &[]);
        assert!(e.contains("notify.timeout_secs"), "{e}");
    }
}
