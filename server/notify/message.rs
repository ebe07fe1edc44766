//! The bodies sent: Shipshape's own JSON for signed webhooks, and a Slack
//! message (`text` for notifications and old clients, `blocks` for the
//! channel). Pure functions of a [`Notification`]; nothing here does IO.

use serde::Serialize;

/// Most findings listed in one message; the rest are counted.
pub const MAX_LISTED: usize = 10;

/// One notification, as a webhook receives it (the JSON body).
#[derive(Debug, Clone, Serialize)]
pub struct Notification {
    /// `level_changed`, `new_critical` or `test` (also in `X-Shipshape-Event`).
    pub event: &'static str,
    /// Unique per notification and the same on every retry (also in `X-Shipshape-Delivery`).
    pub delivery: String,
    /// When the event was raised (RFC 3339, UTC).
    pub created_at: String,
    /// One line a person can read.
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<RepositoryRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scan: Option<ScanRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level_change: Option<LevelChangeBody>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<FindingRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepositoryRef {
    pub id: i32,
    /// `owner/name`.
    pub full_name: String,
    /// The team's slug, if the repository has a team.
    pub team: Option<String>,
    /// The repository's page on the dashboard.
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScanRef {
    pub id: i32,
    pub commit: Option<String>,
    pub score: Option<f64>,
    pub level: Option<String>,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelChangeBody {
    pub from: String,
    pub to: String,
    /// `up` or `down`.
    pub direction: &'static str,
    pub previous_score: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingRef {
    pub id: i32,
    pub check_id: String,
    pub severity: String,
    pub message: String,
    pub path: Option<String>,
    pub line: Option<i32>,
    /// The finding's page with its history.
    pub url: String,
}

/// The webhook body.
pub fn webhook_body(n: &Notification) -> String {
    serde_json::to_string(n).unwrap_or_default()
}

/// Slack's mrkdwn reserves `&`, `<` and `>`; everything else is literal.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn link(url: &str, text: &str) -> String {
    format!("<{}|{}>", url.replace('|', "%7C").replace('>', "%3E"), escape(text))
}

fn score(s: Option<f64>) -> String {
    s.map(|s| format!("{s:.1}")).unwrap_or_else(|| "?".into())
}

/// The Slack incoming-webhook message.
pub fn slack_body(n: &Notification) -> String {
    let mut blocks = Vec::new();
    let headline = match (&n.repository, &n.level_change) {
        (Some(r), Some(l)) => {
            let arrow = if l.direction == "up" { ":arrow_up:" } else { ":arrow_down:" };
            let verb = if l.direction == "up" { "rose" } else { "dropped" };
            let now = n.scan.as_ref().and_then(|s| s.score);
            format!(
                "{arrow} *{}* {verb} from *{}* to *{}* (score {} → {})",
                link(&r.url, &r.full_name),
                escape(&l.from),
                escape(&l.to),
                score(l.previous_score),
                score(now)
            )
        }
        (Some(r), None) if !n.findings.is_empty() => {
            let count = n.findings.len();
            format!(
                ":rotating_light: *{}*: {count} new critical finding{}",
                link(&r.url, &r.full_name),
                if count == 1 { "" } else { "s" }
            )
        }
        _ => escape(&n.summary),
    };
    blocks.push(serde_json::json!({ "type": "section", "text": { "type": "mrkdwn", "text": headline } }));
    if !n.findings.is_empty() {
        let mut lines: Vec<String> = n
            .findings
            .iter()
            .take(MAX_LISTED)
            .map(|f| {
                let place = match (&f.path, f.line) {
                    (Some(p), Some(l)) => format!(" in `{}:{l}`", escape(p)),
                    (Some(p), None) => format!(" in `{}`", escape(p)),
                    _ => String::new(),
                };
                format!("• {} {}{place}", link(&f.url, &f.check_id), escape(&f.message))
            })
            .collect();
        if n.findings.len() > MAX_LISTED {
            lines.push(format!("…and {} more", n.findings.len() - MAX_LISTED));
        }
        blocks.push(serde_json::json!({ "type": "section", "text": { "type": "mrkdwn", "text": lines.join("\n") } }));
    }
    if let Some(scan) = &n.scan {
        let mut context = vec![link(&scan.url, &format!("scan #{}", scan.id))];
        if let Some(c) = &scan.commit {
            context.push(format!("commit `{}`", escape(&c.chars().take(12).collect::<String>())));
        }
        if let Some(team) = n.repository.as_ref().and_then(|r| r.team.as_ref()) {
            context.push(format!("team {}", escape(team)));
        }
        blocks.push(serde_json::json!({
            "type": "context",
            "elements": [{ "type": "mrkdwn", "text": context.join(" · ") }]
        }));
    }
    serde_json::json!({ "text": n.summary, "blocks": blocks }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Notification {
        Notification {
            event: "new_critical",
            delivery: "d".into(),
            created_at: "2026-11-22T10:00:00Z".into(),
            summary: "acme/api: 1 new critical finding".into(),
            repository: Some(RepositoryRef {
                id: 1,
                full_name: "acme/api".into(),
                team: Some("platform".into()),
                url: "https://ship.example/repos/acme/api".into(),
            }),
            scan: Some(ScanRef {
                id: 7,
                commit: Some("0123456789abcdef".into()),
                score: Some(40.0),
                level: Some("not-ready".into()),
                url: "https://ship.example/scans/7".into(),
            }),
            level_change: None,
            findings: vec![FindingRef {
                id: 3,
                check_id: "secret-in-code".into(),
                severity: "critical".into(),
                message: "AWS key <redacted> & more".into(),
                path: Some("app/settings.py".into()),
                line: Some(4),
                url: "https://ship.example/findings/3".into(),
            }],
        }
    }

    #[test]
    fn slack_text_is_escaped_and_links_are_slack_links() {
        let body: serde_json::Value = serde_json::from_str(&slack_body(&sample())).unwrap();
        assert_eq!(body["text"], "acme/api: 1 new critical finding");
        let list = body["blocks"][1]["text"]["text"].as_str().unwrap();
        assert!(list.contains("<https://ship.example/findings/3|secret-in-code>"), "{list}");
        assert!(list.contains("AWS key &lt;redacted&gt; &amp; more in `app/settings.py:4`"), "{list}");
        let context = body["blocks"][2]["elements"][0]["text"].as_str().unwrap();
        assert_eq!(context, "<https://ship.example/scans/7|scan #7> · commit `0123456789ab` · team platform");
    }

    #[test]
    fn the_webhook_body_leaves_out_what_the_event_does_not_have() {
        let body: serde_json::Value = serde_json::from_str(&webhook_body(&sample())).unwrap();
        assert!(body.get("level_change").is_none());
        assert_eq!(body["findings"][0]["check_id"], "secret-in-code");
        assert_eq!(body["repository"]["team"], "platform");
    }
}
