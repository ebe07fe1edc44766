//! Small text helpers the renderers share: priority order of failing
//! checks, one-line evidence, counts in words.

use crate::model::{CheckResult, Finding, Outcome, Report};

/// Failing checks in the order a reader should fix them: worst severity
/// first, then the most points lost, then by id so the order is stable.
pub(crate) fn failing(report: &Report) -> Vec<&CheckResult> {
    let mut out: Vec<&CheckResult> = report.checks.iter().filter(|c| c.outcome == Outcome::Fail).collect();
    out.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| points(report, &b.check_id).total_cmp(&points(report, &a.check_id)))
            .then_with(|| a.check_id.cmp(&b.check_id))
    });
    out
}

/// Points of the overall score a check's failure cost (0 when none).
pub(crate) fn points(report: &Report, check_id: &str) -> f64 {
    report.deductions.iter().find(|d| d.check_id == check_id).map_or(0.0, |d| d.points)
}

/// Suppressed findings with their check, in report order.
pub(crate) fn suppressed(report: &Report) -> Vec<&Finding> {
    report.findings().filter(|f| f.suppression.is_some()).collect()
}

/// Where a finding is, for a reader: `path:line`, `path`, or `repository`.
pub(crate) fn place(f: &Finding) -> String {
    f.location.as_ref().map_or_else(|| "repository".to_string(), |l| l.to_string())
}

/// Collapses whitespace (evidence may span lines) and cuts at `max`
/// characters with an ellipsis, on a character boundary.
pub(crate) fn one_line(s: &str, max: usize) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `1 file`, `3 files`.
pub(crate) fn count(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// Bytes in a human unit (decimal, like the benchmark's MB).
pub(crate) fn bytes(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.1} GB", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} kB", n as f64 / 1e3),
        n => format!("{n} B"),
    }
}

/// Evidence worth showing next to a message: empty or a repeat of the
/// message (repository-level findings) adds nothing.
pub(crate) fn extra_evidence(f: &Finding) -> Option<&str> {
    let e = f.evidence.trim();
    (!e.is_empty() && e != f.message.trim()).then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_flattens_and_cuts_on_char_boundaries() {
        assert_eq!(one_line("a\n  b\tc", 10), "a b c");
        assert_eq!(one_line("ééééé", 3), "éé…");
    }

    #[test]
    fn bytes_use_decimal_units() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
    }
}
