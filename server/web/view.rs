//! How values read on a page: scores, changes, levels and severities with a
//! text label and an icon besides their colour (readable without colour),
//! dates. Shared by every page so they all say it the same way.

use chrono::{DateTime, Utc};

/// A level or severity as a badge: CSS class, icon and words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badge {
    pub class: &'static str,
    pub icon: &'static str,
    pub label: &'static str,
}

impl Badge {
    /// The badge as HTML: every part is a fixed string of this module, so
    /// templates print it unescaped.
    pub fn html(&self) -> String {
        format!(
            r#"<span class="badge {}"><span aria-hidden="true">{}</span> {}</span>"#,
            self.class, self.icon, self.label
        )
    }
}

/// The badge of a readiness level; `None` means never scanned.
pub fn level(level: Option<&str>) -> Badge {
    match level {
        Some("gold") => Badge { class: "lv-gold", icon: "★", label: "Gold" },
        Some("silver") => Badge { class: "lv-silver", icon: "◆", label: "Silver" },
        Some("bronze") => Badge { class: "lv-bronze", icon: "●", label: "Bronze" },
        Some("not-ready") => Badge { class: "lv-not-ready", icon: "✕", label: "Not ready" },
        _ => Badge { class: "lv-none", icon: "○", label: "Not scanned" },
    }
}

/// The badge of a finding severity.
pub fn severity(severity: &str) -> Badge {
    match severity {
        "critical" => Badge { class: "sev-critical", icon: "‼", label: "Critical" },
        "high" => Badge { class: "sev-high", icon: "!", label: "High" },
        "medium" => Badge { class: "sev-medium", icon: "▲", label: "Medium" },
        "low" => Badge { class: "sev-low", icon: "▽", label: "Low" },
        _ => Badge { class: "sev-info", icon: "i", label: "Info" },
    }
}

/// A score with one decimal, or a dash.
pub fn score(s: Option<f64>) -> String {
    s.map(|s| format!("{s:.1}")).unwrap_or_else(|| "—".into())
}

/// A signed change with an arrow, readable without colour.
pub fn change(c: Option<f64>) -> (String, &'static str) {
    match c {
        Some(c) if c > 0.05 => (format!("▲ +{c:.1}"), "up"),
        Some(c) if c < -0.05 => (format!("▼ {c:.1}"), "down"),
        Some(_) => ("= 0.0".into(), "flat"),
        None => ("—".into(), "flat"),
    }
}

/// A UTC instant as `2026-11-22 04:00`.
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

/// An optional instant, or a dash.
pub fn when_opt(t: Option<DateTime<Utc>>) -> String {
    t.map(when).unwrap_or_else(|| "—".into())
}

/// The first 10 characters of a commit.
pub fn short_sha(sha: Option<&str>) -> String {
    sha.map(|s| s.chars().take(10).collect()).unwrap_or_else(|| "—".into())
}

/// How long ago, roughly: "3 days ago".
pub fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let d = now - t;
    match (d.num_days(), d.num_hours(), d.num_minutes()) {
        (days, _, _) if days >= 2 => format!("{days} days ago"),
        (1, _, _) => "1 day ago".into(),
        (_, hours, _) if hours >= 1 => format!("{hours} h ago"),
        (_, _, mins) if mins >= 1 => format!("{mins} min ago"),
        _ => "just now".into(),
    }
}

/// A percentage-encoded query component.
pub fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
