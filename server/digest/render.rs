//! A digest as mail: the subject, the plain text and the HTML (askama
//! templates in templates/email/; inline CSS only, because mail clients
//! drop style sheets). Numbers are formatted here, once, for both parts.

use super::content::{Digest, FindingItem, RepoWeek};
use askama::Template;

/// One row of a list of repositories.
pub struct RepoLine {
    pub name: String,
    pub url: String,
    pub before: String,
    pub after: String,
    pub delta: String,
}

pub struct FindingLine {
    pub severity: String,
    pub repository: String,
    pub check_id: String,
    pub message: String,
    pub location: String,
    pub url: String,
    pub reopened: bool,
}

pub struct LinkLine {
    pub name: String,
    pub url: String,
    pub note: String,
}

/// Everything the templates print, already formatted.
pub struct View {
    pub title: String,
    pub scope: String,
    pub week: String,
    pub period: String,
    pub dashboard_url: String,
    pub score: String,
    pub score_before: String,
    pub delta: String,
    /// CSS colour of the delta: green up, red down, grey otherwise.
    pub delta_colour: &'static str,
    pub levels: Vec<(String, usize, usize)>,
    pub regressions: Vec<RepoLine>,
    pub improvements: Vec<RepoLine>,
    pub level_changes: Vec<RepoLine>,
    pub new_findings: Vec<FindingLine>,
    pub new_findings_more: usize,
    pub fixed: Vec<FindingLine>,
    pub fixed_more: usize,
    pub failing: Vec<LinkLine>,
    pub stale: Vec<LinkLine>,
    pub expired_waivers: Vec<LinkLine>,
    pub campaigns: Vec<LinkLine>,
    pub repositories: usize,
    pub scanned_this_week: usize,
    pub open_critical: usize,
    pub open_high: usize,
    pub open_total: usize,
    pub trend: Vec<(String, String)>,
    /// `cid:…` in a mail, a `data:` URL in the preview page.
    pub chart_src: String,
    pub unsubscribe_url: Option<String>,
}

#[derive(Template)]
#[template(path = "email/digest.html")]
struct Html<'a> {
    v: &'a View,
}

#[derive(Template)]
#[template(path = "email/digest.txt")]
struct Text<'a> {
    v: &'a View,
}

impl View {
    pub fn new(d: &Digest, chart_src: String, unsubscribe_url: Option<String>) -> View {
        let delta = d.score.delta();
        View {
            title: format!("Shipshape weekly digest: {}, {}", d.scope.title(), d.week),
            scope: d.scope.title(),
            week: d.week.to_string(),
            period: format!("{} to {}", d.week.monday().format("%a %-d %b"), d.week.sunday().format("%a %-d %b %Y")),
            dashboard_url: d.dashboard_url.clone(),
            score: score(d.score.after),
            score_before: score(d.score.before),
            delta: signed(delta),
            delta_colour: match delta {
                Some(x) if x > 0.0 => "#15803d",
                Some(x) if x < 0.0 => "#b91c1c",
                _ => "#6b7280",
            },
            levels: d.levels.iter().map(|l| (l.level.clone(), l.before, l.after)).collect(),
            regressions: d.regressions.iter().map(repo_line).collect(),
            improvements: d.improvements.iter().map(repo_line).collect(),
            level_changes: d
                .level_changes
                .iter()
                .map(|r| RepoLine {
                    before: r.level_before.clone().unwrap_or_else(|| "-".into()),
                    after: r.level_after.clone().unwrap_or_else(|| "-".into()),
                    ..repo_line(r)
                })
                .collect(),
            new_findings_more: d.new_findings_total.saturating_sub(d.new_findings.len()),
            new_findings: d.new_findings.iter().map(finding_line).collect(),
            fixed_more: d.fixed_total.saturating_sub(d.fixed.len()),
            fixed: d.fixed.iter().map(finding_line).collect(),
            failing: d
                .failing
                .iter()
                .map(|f| LinkLine { name: f.name.clone(), url: f.url.clone(), note: first_line(&f.error) })
                .collect(),
            campaigns: d
                .campaigns
                .iter()
                .map(|c| LinkLine {
                    name: c.title.clone(),
                    url: c.url.clone(),
                    note: format!("{}/{} repositories done, deadline {}", c.done, c.total, c.deadline),
                })
                .collect(),
            expired_waivers: d
                .expired_waivers
                .iter()
                .map(|w| LinkLine {
                    name: w.repository.clone(),
                    url: w.url.clone(),
                    note: format!(
                        "{} waiver (owner {}) expired {}: it counts again",
                        w.check_id, w.owner, w.expired_on
                    ),
                })
                .collect(),
            stale: d
                .stale
                .iter()
                .map(|s| LinkLine {
                    name: s.name.clone(),
                    url: s.url.clone(),
                    note: s.last_success.map_or("never scanned successfully".into(), |t| {
                        format!("last successful scan {}", t.format("%Y-%m-%d"))
                    }),
                })
                .collect(),
            repositories: d.counts.repositories,
            scanned_this_week: d.counts.scanned_this_week,
            open_critical: d.counts.open_critical,
            open_high: d.counts.open_high,
            open_total: d.counts.open_total,
            trend: d.trend.iter().map(|(w, s)| (w.to_string(), score(*s))).collect(),
            chart_src,
            unsubscribe_url,
        }
    }

    /// The mail subject: scope, week and the headline number.
    pub fn subject(&self) -> String {
        format!("[Shipshape] {} {}: score {} ({})", self.scope, self.week, self.score, self.delta)
    }

    /// # Errors
    /// A template failing to render (a bug, not a data problem).
    pub fn html(&self) -> Result<String, askama::Error> {
        Html { v: self }.render()
    }

    /// # Errors
    /// A template failing to render (a bug, not a data problem).
    pub fn text(&self) -> Result<String, askama::Error> {
        Text { v: self }.render()
    }
}

fn repo_line(r: &RepoWeek) -> RepoLine {
    RepoLine {
        name: r.name.clone(),
        url: r.url.clone(),
        before: score(r.score.before),
        after: score(r.score.after),
        delta: signed(r.score.delta()),
    }
}

fn finding_line(f: &FindingItem) -> FindingLine {
    FindingLine {
        severity: f.severity.clone(),
        repository: f.repository.clone(),
        check_id: f.check_id.clone(),
        message: f.message.clone(),
        location: f.location.clone().unwrap_or_default(),
        url: f.url.clone(),
        reopened: f.reopened,
    }
}

fn score(s: Option<f64>) -> String {
    s.map_or("n/a".into(), |s| format!("{s:.1}"))
}

fn signed(d: Option<f64>) -> String {
    match d {
        Some(0.0) => "±0.0".into(),
        Some(d) => format!("{d:+.1}"),
        None => "new".into(),
    }
}

fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or_default();
    if line.chars().count() > 160 { format!("{}…", line.chars().take(160).collect::<String>()) } else { line.into() }
}
