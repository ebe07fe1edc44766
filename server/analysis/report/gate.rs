//! The CI gate: whether a scan should make `shipshape scan` exit non-zero.
//!
//! `--fail-under SCORE` fails when the overall score is strictly below SCORE.
//! `--fail-on LEVEL` fails when the report's level is LEVEL *or worse*, the
//! way `--fail-on high` fails on high-or-worse findings in other scanners:
//! `--fail-on not-ready` blocks only not-ready repositories, `--fail-on
//! bronze` also blocks bronze ones (so silver is the bar), `--fail-on silver`
//! makes gold the bar. `--fail-on gold` therefore fails every report.

use crate::model::{Level, Report};

/// The gate's decision and, when it fails, one sentence per broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateResult {
    pub passed: bool,
    /// Why the gate failed; empty when it passed.
    pub reasons: Vec<String>,
}

/// Applies the gate. With neither threshold the gate always passes.
pub fn gate(report: &Report, fail_under: Option<f64>, fail_on: Option<Level>) -> GateResult {
    let mut reasons = Vec::new();
    if let Some(min) = fail_under
        && report.score < min
    {
        reasons.push(format!("score {:.1} is under the --fail-under threshold {min}", report.score));
    }
    if let Some(bar) = fail_on
        && report.level <= bar
    {
        reasons.push(format!(
            "level {} is at or below --fail-on {} ({})",
            report.level.as_str(),
            bar.as_str(),
            report.level_reason
        ));
    }
    GateResult { passed: reasons.is_empty(), reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn report(score: f64, level: Level) -> Report {
        Report {
            schema_version: 1,
            analyzer_version: "0".into(),
            root: "r".into(),
            stack: Stack::default(),
            score,
            level,
            level_reason: "because".into(),
            categories: vec![],
            deductions: vec![],
            checks: vec![],
            notes: vec![],
            stats: ScanStats::default(),
            policy_version: String::new(),
            custom_checks: vec![],
        }
    }

    #[test]
    fn no_threshold_always_passes() {
        let g = gate(&report(0.0, Level::NotReady), None, None);
        assert!(g.passed && g.reasons.is_empty());
    }

    #[test]
    fn fail_under_is_strict() {
        assert!(gate(&report(80.0, Level::Gold), Some(80.0), None).passed);
        let g = gate(&report(79.9, Level::Gold), Some(80.0), None);
        assert!(!g.passed);
        assert_eq!(g.reasons, vec!["score 79.9 is under the --fail-under threshold 80".to_string()]);
    }

    #[test]
    fn fail_on_blocks_that_level_and_worse() {
        let on = |level, bar| gate(&report(95.0, level), None, Some(bar)).passed;
        assert!(!on(Level::NotReady, Level::NotReady));
        assert!(on(Level::Bronze, Level::NotReady));
        assert!(!on(Level::NotReady, Level::Bronze));
        assert!(!on(Level::Bronze, Level::Bronze));
        assert!(on(Level::Silver, Level::Bronze));
        assert!(on(Level::Gold, Level::Bronze));
        assert!(!on(Level::Silver, Level::Silver));
        assert!(on(Level::Gold, Level::Silver));
        assert!(!on(Level::Gold, Level::Gold));
    }

    #[test]
    fn both_rules_report_their_reasons() {
        let g = gate(&report(40.0, Level::Bronze), Some(50.0), Some(Level::Bronze));
        assert!(!g.passed);
        assert_eq!(g.reasons.len(), 2);
        assert!(g.reasons[1].starts_with("level bronze is at or below --fail-on bronze (because)"), "{:?}", g.reasons);
    }
}
