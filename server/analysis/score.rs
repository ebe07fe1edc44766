//! Scores and levels, exactly as CHECKS.md defines them.
//!
//! - category score = 100 × Σ weight(passing applicable) / Σ weight(applicable),
//!   weights by severity (critical 10, high 6, medium 3, low 1, info 0);
//! - overall = weighted mean of the categories that have applicable weight;
//! - level: not-ready if a critical check fails, bronze if none does, silver
//!   if no critical or high fails, gold if nothing medium or above fails and
//!   overall ≥ 90.
//!
//! A check that errored is left out of the scores (it proved nothing either
//! way) but keeps the level from gold: an unverified check cannot certify.

use crate::model::*;

/// The JSON report's schema version; bump on any breaking change.
pub const SCHEMA_VERSION: u32 = 1;
/// Version of the analyzer, stored with every scan so score changes can be
/// explained by analyzer upgrades.
pub const ANALYZER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Assembles the report from check results.
pub fn finish(root: String, stack: Stack, checks: Vec<CheckResult>, notes: Vec<Note>, stats: ScanStats) -> Report {
    let categories = category_scores(&checks);
    let score = overall(&categories);
    let deductions = deductions(&checks, &categories);
    let (level, level_reason) = level(&checks, score);
    Report {
        schema_version: SCHEMA_VERSION,
        analyzer_version: ANALYZER_VERSION.to_string(),
        root,
        stack,
        score,
        level,
        level_reason,
        categories,
        deductions,
        checks,
        notes,
        stats,
        policy_version: String::new(),
        custom_checks: Vec::new(),
    }
}

fn counts(outcome: Outcome) -> bool {
    matches!(outcome, Outcome::Pass | Outcome::Fail)
}

pub fn category_scores(checks: &[CheckResult]) -> Vec<CategoryScore> {
    Category::ALL
        .iter()
        .filter_map(|&category| {
            let in_cat = || checks.iter().filter(move |c| c.category == category && counts(c.outcome));
            let applicable: u32 = in_cat().map(|c| c.severity.weight()).sum();
            let passed: u32 = in_cat().filter(|c| c.outcome == Outcome::Pass).map(|c| c.severity.weight()).sum();
            let any = in_cat().next().is_some();
            any.then(|| CategoryScore {
                category,
                score: if applicable == 0 { 100.0 } else { round1(100.0 * f64::from(passed) / f64::from(applicable)) },
                passed_weight: passed,
                applicable_weight: applicable,
            })
        })
        .collect()
}

fn scored(categories: &[CategoryScore]) -> impl Iterator<Item = &CategoryScore> {
    categories.iter().filter(|c| c.applicable_weight > 0 && c.category.weight() > 0)
}

pub fn overall(categories: &[CategoryScore]) -> f64 {
    let total: u32 = scored(categories).map(|c| c.category.weight()).sum();
    if total == 0 {
        return 100.0;
    }
    let sum: f64 = scored(categories).map(|c| f64::from(c.category.weight()) * c.score).sum();
    round1(sum / f64::from(total))
}

fn deductions(checks: &[CheckResult], categories: &[CategoryScore]) -> Vec<Deduction> {
    let total: u32 = scored(categories).map(|c| c.category.weight()).sum();
    let mut out: Vec<Deduction> = checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .filter_map(|c| {
            let cat = categories.iter().find(|s| s.category == c.category)?;
            if cat.applicable_weight == 0 {
                return None;
            }
            let category_points = 100.0 * f64::from(c.severity.weight()) / f64::from(cat.applicable_weight);
            let points =
                if total == 0 { 0.0 } else { category_points * f64::from(c.category.weight()) / f64::from(total) };
            Some(Deduction {
                check_id: c.check_id.clone(),
                category: c.category,
                severity: c.severity,
                points: round1(points),
                category_points: round1(category_points),
            })
        })
        .collect();
    out.sort_by(|a, b| b.points.total_cmp(&a.points).then_with(|| a.check_id.cmp(&b.check_id)));
    out
}

/// The level and the sentence that explains it.
pub fn level(checks: &[CheckResult], score: f64) -> (Level, String) {
    let failing = |sev: Severity| -> Vec<&str> {
        checks.iter().filter(|c| c.outcome == Outcome::Fail && c.severity == sev).map(|c| c.check_id.as_str()).collect()
    };
    let list = |ids: Vec<&str>| ids.join(", ");
    let critical = failing(Severity::Critical);
    if !critical.is_empty() {
        return (Level::NotReady, format!("not ready: critical check(s) fail: {}", list(critical)));
    }
    let high = failing(Severity::High);
    if !high.is_empty() {
        return (Level::Bronze, format!("bronze: no critical check fails, but high ones do: {}", list(high)));
    }
    let medium = failing(Severity::Medium);
    if !medium.is_empty() {
        return (Level::Silver, format!("silver: no critical or high check fails; medium ones do: {}", list(medium)));
    }
    let errored: Vec<&str> = checks
        .iter()
        .filter(|c| c.outcome == Outcome::Error && c.severity <= Severity::Medium)
        .map(|c| c.check_id.as_str())
        .collect();
    if !errored.is_empty() {
        return (
            Level::Silver,
            format!("silver: nothing of medium or above fails, but these checks could not run: {}", list(errored)),
        );
    }
    if score < 90.0 {
        return (
            Level::Silver,
            format!("silver: nothing of medium or above fails, but the score {score:.1} is under 90"),
        );
    }
    (Level::Gold, format!("gold: nothing of medium or above fails and the score is {score:.1}"))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A fingerprint of what is checked and how it weighs: the built-in
/// catalogue's ids, categories and severities, the policy's effective dates
/// and its custom checks (`extra`: the repository's own, when allowed), in
/// the form that decides outcomes (not their titles or docs). Stored with
/// every scan beside [`ANALYZER_VERSION`], so a score that moved because a
/// check was added, re-weighted or took effect is told apart from one that
/// moved because the code changed. With no custom check and no date it is
/// the built-in catalogue's fingerprint alone.
pub fn policy_version(policy: &crate::policy::Policy, extra: &[crate::policy::CustomCheck]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for check in crate::checks::all() {
        let s = &check.spec;
        hash.update(format!("{}|{:?}|{:?}\n", s.id, s.category, s.severity).as_bytes());
    }
    for (id, date) in &policy.effective {
        hash.update(format!("effective|{id}|{date}\n").as_bytes());
    }
    for check in policy.checks.iter().chain(extra) {
        hash.update(format!("custom|{}\n", check.canonical).as_bytes());
    }
    hex::encode(&hash.finalize()[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: &str, category: Category, severity: Severity, outcome: Outcome) -> CheckResult {
        CheckResult {
            check_id: id.into(),
            title: id.into(),
            category,
            severity,
            outcome,
            summary: String::new(),
            evidence: vec![],
            findings: vec![],
            error: None,
            effective: None,
        }
    }

    #[test]
    fn category_and_overall_scores_follow_the_weights() {
        let checks = vec![
            check("a", Category::Security, Severity::Critical, Outcome::Pass),
            check("b", Category::Security, Severity::High, Outcome::Fail),
            check("c", Category::Security, Severity::Low, Outcome::NotApplicable),
            check("d", Category::Docs, Severity::Medium, Outcome::Pass),
        ];
        let cats = category_scores(&checks);
        // security: 10 / 16 applicable; docs 3/3.
        assert_eq!(cats[0].score, 62.5);
        assert_eq!(cats[1].score, 100.0);
        // (20 × 62.5 + 5 × 100) / 25
        assert_eq!(overall(&cats), 70.0);
        let d = deductions(&checks, &cats);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].category_points, 37.5);
        assert_eq!(d[0].points, 30.0);
    }

    #[test]
    fn levels_are_gates() {
        let pass = |id, sev| check(id, Category::Security, sev, Outcome::Pass);
        let fail = |id, sev| check(id, Category::Security, sev, Outcome::Fail);
        assert_eq!(level(&[fail("x", Severity::Critical)], 99.0).0, Level::NotReady);
        assert_eq!(level(&[fail("x", Severity::High)], 99.0).0, Level::Bronze);
        assert_eq!(level(&[fail("x", Severity::Medium)], 99.0).0, Level::Silver);
        assert_eq!(level(&[fail("x", Severity::Low), pass("y", Severity::High)], 95.0).0, Level::Gold);
        assert_eq!(level(&[fail("x", Severity::Low)], 89.9).0, Level::Silver);
        let errored = check("e", Category::Delivery, Severity::High, Outcome::Error);
        assert_eq!(level(&[errored], 100.0).0, Level::Silver);
    }
}
