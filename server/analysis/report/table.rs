//! The terminal report of `shipshape scan`: header (root, score, level and
//! why, stack), category scores with ASCII bars, failing checks by severity
//! with their findings, then suppressions, errors, notes and a footer.
//!
//! It must read well without colour (pipes, CI logs, `NO_COLOR`): colour only
//! emphasises what the words already say, and is added only when asked.

use super::text::{self, count, one_line, place};
use crate::model::{CheckResult, Level, Outcome, Report, Severity, Stack};
use std::fmt::Write;

/// Findings shown per failing check before "+N more".
const FINDINGS_SHOWN: usize = 5;
/// Width of a category's score bar, in characters.
const BAR_WIDTH: usize = 20;

/// Renders the terminal report; ANSI colour codes only when `color`.
pub fn render(report: &Report, color: bool) -> String {
    let p = Paint(color);
    let mut out = String::new();
    header(&mut out, report, p);
    categories(&mut out, report, p);
    failing(&mut out, report, p);
    tail(&mut out, report, p);
    out
}

/// ANSI styling that is a no-op when colour is off.
#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn style(self, code: &str, s: &str) -> String {
        if self.0 { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }

    fn bold(self, s: &str) -> String {
        self.style("1", s)
    }

    fn dim(self, s: &str) -> String {
        self.style("2", s)
    }

    fn severity(self, sev: Severity, s: &str) -> String {
        let code = match sev {
            Severity::Critical => "1;31",
            Severity::High => "31",
            Severity::Medium => "33",
            Severity::Low => "36",
            Severity::Info => "2",
        };
        self.style(code, s)
    }

    fn score(self, score: f64, s: &str) -> String {
        let code = if score >= 90.0 {
            "32"
        } else if score >= 60.0 {
            "33"
        } else {
            "31"
        };
        self.style(code, s)
    }

    fn level(self, level: Level, s: &str) -> String {
        let code = match level {
            Level::Gold => "1;33",
            Level::Silver => "1;37",
            Level::Bronze => "1;35",
            Level::NotReady => "1;31",
        };
        self.style(code, s)
    }
}

fn header(out: &mut String, r: &Report, p: Paint) {
    let _ = writeln!(out, "{} {}", p.bold("Shipshape readiness report:"), r.root);
    let score = format!("{:.1}/100", r.score);
    let level = r.level.as_str().to_uppercase();
    let _ = writeln!(out, "Score {}   Level {}", p.score(r.score, &score), p.level(r.level, &level));
    let _ = writeln!(out, "  {}", r.level_reason);
    for line in stack_lines(&r.stack) {
        let _ = writeln!(out, "{line}");
    }
}

/// The stack facts, one labelled line each, skipping empty ones.
fn stack_lines(stack: &Stack) -> Vec<String> {
    let mut langs: Vec<(&String, &u32)> = stack.languages.iter().collect();
    langs.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let langs: Vec<String> = langs.iter().map(|(l, n)| format!("{l} ({n})")).collect();
    let rows = [
        ("languages", langs),
        ("frameworks", stack.frameworks.clone()),
        ("ORMs", stack.orms.clone()),
        ("deploy", stack.deploy_targets.clone()),
        ("CI", stack.ci.clone()),
        ("manifests", stack.manifests.clone()),
    ];
    let mut lines: Vec<String> =
        rows.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("  {k:<11}{}", v.join(", "))).collect();
    if !lines.is_empty() {
        lines.insert(0, "Stack".to_string());
    }
    lines
}

fn categories(out: &mut String, r: &Report, p: Paint) {
    if r.categories.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{:<15}{:>6}  {:<w$}  {:>9}  Weight", "Category", "Score", "", "Passed", w = BAR_WIDTH + 2);
    for c in &r.categories {
        let filled = ((c.score / 100.0) * BAR_WIDTH as f64).round().clamp(0.0, BAR_WIDTH as f64) as usize;
        let bar = format!("[{}{}]", "#".repeat(filled), ".".repeat(BAR_WIDTH - filled));
        let weight = match c.category.weight() {
            0 => "not scored".to_string(),
            w => w.to_string(),
        };
        let _ = writeln!(
            out,
            "{:<15}{}  {}  {:>9}  {}",
            c.category.as_str(),
            p.score(c.score, &format!("{:>6.1}", c.score)),
            p.score(c.score, &bar),
            format!("{}/{}", c.passed_weight, c.applicable_weight),
            weight
        );
    }
}

fn failing(out: &mut String, r: &Report, p: Paint) {
    let failing = text::failing(r);
    if failing.is_empty() {
        let _ = writeln!(out, "\nNo failing checks.");
        return;
    }
    let _ = writeln!(out, "\n{}", p.bold(&format!("Failing checks ({})", failing.len())));
    for c in failing {
        check(out, r, c, p);
    }
}

fn check(out: &mut String, r: &Report, c: &CheckResult, p: Paint) {
    let sev = format!("{:<8}", c.severity.as_str().to_uppercase());
    let points = text::points(r, &c.check_id);
    let cost = if points > 0.0 { format!("  -{points:.1} pts") } else { String::new() };
    let _ = writeln!(out, "  {} {}  {}{}", p.severity(c.severity, &sev), p.bold(&c.title), p.dim(&c.check_id), cost);
    let active: Vec<_> = c.active_findings().collect();
    for f in active.iter().take(FINDINGS_SHOWN) {
        let mut line = format!("    {}  {}", place(f), one_line(&f.message, 100));
        if let Some(e) = text::extra_evidence(f) {
            let _ = write!(line, "  {}", p.dim(&format!("[{}]", one_line(e, 80))));
        }
        let _ = writeln!(out, "{line}");
    }
    if active.len() > FINDINGS_SHOWN {
        let _ = writeln!(out, "    +{} more", active.len() - FINDINGS_SHOWN);
    }
}

fn tail(out: &mut String, r: &Report, p: Paint) {
    let suppressed = text::suppressed(r).len();
    if suppressed > 0 {
        let _ = writeln!(
            out,
            "\nSuppressed: {} (not counted; reasons in the JSON/Markdown report)",
            count(suppressed, "finding")
        );
    }
    let errors: Vec<&CheckResult> = r.checks.iter().filter(|c| c.outcome == Outcome::Error).collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "\n{}", p.severity(Severity::High, &format!("Could not run ({})", errors.len())));
        for c in errors {
            let msg = c.error.as_deref().unwrap_or(&c.summary);
            let _ = writeln!(out, "  {}  {}", c.check_id, one_line(msg, 120));
        }
    }
    let upcoming: Vec<&CheckResult> = r.upcoming().collect();
    if !upcoming.is_empty() {
        let _ = writeln!(out, "\n{}", p.bold(&format!("Upcoming, not counted yet ({})", upcoming.len())));
        for c in upcoming {
            let _ = writeln!(out, "  {}  {}", c.check_id, one_line(&c.summary, 120));
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(out, "\nNotes: {} about files not fully read (see the JSON report)", r.notes.len());
    }
    let na = r.checks.iter().filter(|c| c.outcome == Outcome::NotApplicable).count();
    let passed = r.checks.iter().filter(|c| c.outcome == Outcome::Pass).count();
    let s = &r.stats;
    let _ = writeln!(
        out,
        "\n{}",
        p.dim(&format!(
            "{} passed, {} not applicable. Scanned {} ({} read, {}) in {} ms; analyzer {}.",
            passed,
            na,
            count(s.files_seen as usize, "file"),
            s.files_read,
            text::bytes(s.bytes_read),
            s.duration_ms,
            r.analyzer_version
        ))
    );
}
