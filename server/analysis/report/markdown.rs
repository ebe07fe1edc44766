//! The Markdown audit: what a careful reviewer would hand over after reading
//! the repository. Verdict first, then what is already right (strengths),
//! then the gaps by priority with why each matters, its evidence and its
//! fix, a checklist ordered by points, and the numbers that explain the
//! score. Date-free: the caller adds the scan date and commit.
//!
//! Everything shown is already safe to publish: evidence is masked by the
//! checks, and text from the repository is escaped so it cannot break the
//! document's structure.

use super::text::{self, count, one_line, place};
use crate::checks::CheckInfo;
use crate::model::{Category, CheckResult, Finding, Level, Outcome, Report, Severity};
use std::collections::HashMap;
use std::fmt::Write;

/// Findings listed per gap before "+N more".
const FINDINGS_SHOWN: usize = 10;
/// Notes listed before "+N more".
const NOTES_SHOWN: usize = 20;

/// Renders the audit as Markdown.
pub fn render(report: &Report) -> String {
    let specs: HashMap<String, CheckInfo> =
        report.checks.iter().filter_map(|c| report.info(&c.check_id)).map(|i| (i.id.clone(), i)).collect();
    let doc = Doc { r: report, specs };
    let mut out = String::new();
    doc.title(&mut out);
    doc.verdict(&mut out);
    doc.stack(&mut out);
    doc.strengths(&mut out);
    doc.gaps(&mut out);
    doc.checklist(&mut out);
    doc.scores(&mut out);
    doc.upcoming(&mut out);
    doc.not_applicable(&mut out);
    doc.errors(&mut out);
    doc.suppressed(&mut out);
    doc.notes(&mut out);
    out
}

struct Doc<'a> {
    r: &'a Report,
    specs: HashMap<String, CheckInfo>,
}

/// Escapes text from a repository or a check so it renders literally
/// inside a paragraph or a table cell: no accidental emphasis, links,
/// HTML or column breaks. Newlines become spaces.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in one_line(s, usize::MAX).chars() {
        if matches!(ch, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// Text of the check catalogue, written in Markdown by us (backticks mark
/// code): kept as Markdown, unlike text taken from a repository.
fn catalogue_text(s: &str) -> String {
    one_line(s, usize::MAX)
}

/// Inline code that survives backticks inside `s` (CommonMark: a longer
/// fence, padded with spaces when the text starts or ends with one).
fn code(s: &str) -> String {
    let s = one_line(s, 160);
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') { " " } else { "" };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// [`code`] for a table cell: GFM splits cells on `|` before it parses code
/// spans, so pipes need a backslash even there.
fn cell_code(s: &str) -> String {
    code(s).replace('|', "\\|")
}

/// A lost amount of points as `-12.5`, and `0.0` rather than `-0.0`.
fn minus(points: f64) -> String {
    if points > 0.0 { format!("-{points:.1}") } else { "0.0".to_string() }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

fn level_word(l: Level) -> &'static str {
    match l {
        Level::NotReady => "Not ready",
        Level::Bronze => "Bronze",
        Level::Silver => "Silver",
        Level::Gold => "Gold",
    }
}

impl Doc<'_> {
    fn title(&self, out: &mut String) {
        let name =
            self.r.root.trim_end_matches('/').rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or(&self.r.root);
        let _ = writeln!(out, "# Production-readiness audit: {}\n", esc(name));
        let _ = writeln!(
            out,
            "Scanned `{}` with Shipshape {} (report schema {}).\n",
            self.r.root.replace('`', "'"),
            self.r.analyzer_version,
            self.r.schema_version
        );
    }

    fn failing_titles(&self, severity: Severity) -> Vec<String> {
        text::failing(self.r).iter().filter(|c| c.severity == severity).map(|c| esc(&c.title)).collect()
    }

    fn verdict(&self, out: &mut String) {
        let r = self.r;
        let _ = writeln!(out, "## Verdict\n");
        let why = match r.level {
            Level::NotReady => format!(
                "At least one critical check fails, and a single critical gap keeps a service out of production whatever its score: {}.",
                self.failing_titles(Severity::Critical).join("; ")
            ),
            Level::Bronze => format!(
                "No critical check fails, but high-severity gaps remain: {}.",
                self.failing_titles(Severity::High).join("; ")
            ),
            Level::Silver if !self.failing_titles(Severity::Medium).is_empty() => format!(
                "Nothing critical or high fails; the medium-severity gaps keep it from gold: {}.",
                self.failing_titles(Severity::Medium).join("; ")
            ),
            Level::Silver => {
                format!("Nothing of medium severity or above fails, but it is not gold yet ({}).", esc(&r.level_reason))
            }
            Level::Gold => "Nothing of medium severity or above fails and the score is at least 90.".to_string(),
        };
        let _ = writeln!(out, "**{}**, score **{:.1}/100**. {why}\n", level_word(r.level), r.score);
        let top: Vec<&CheckResult> = text::failing(r).into_iter().take(3).collect();
        if top.is_empty() {
            let _ = writeln!(out, "No check fails.\n");
            return;
        }
        let _ = writeln!(out, "Top risks:\n");
        for (i, c) in top.iter().enumerate() {
            let _ = writeln!(out, "{}. **{}** ({}): {}", i + 1, esc(&c.title), c.severity.as_str(), esc(&c.summary));
        }
        out.push('\n');
    }

    fn stack(&self, out: &mut String) {
        let s = &self.r.stack;
        let _ = writeln!(out, "## Stack\n");
        let mut langs: Vec<(&String, &u32)> = s.languages.iter().collect();
        langs.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        let langs: Vec<String> =
            langs.iter().map(|(l, n)| format!("{} ({})", esc(l), count(**n as usize, "file"))).collect();
        let list = |v: &[String]| v.iter().map(|x| esc(x)).collect::<Vec<_>>();
        let rows = [
            ("Languages", langs),
            ("Frameworks", list(&s.frameworks)),
            ("ORMs / DB layers", list(&s.orms)),
            ("Deploy targets", list(&s.deploy_targets)),
            ("CI", list(&s.ci)),
            ("Manifests", s.manifests.iter().map(|m| code(m)).collect()),
        ];
        for (label, values) in rows {
            let shown = if values.is_empty() { "none detected".to_string() } else { values.join(", ") };
            let _ = writeln!(out, "- **{label}:** {shown}");
        }
        out.push('\n');
    }

    fn strengths(&self, out: &mut String) {
        let _ = writeln!(out, "## Strengths\n");
        // A check that passes only because its findings are suppressed is
        // an accepted risk, listed under "Suppressed findings", not a strength.
        let passing: Vec<&CheckResult> =
            self.r.checks.iter().filter(|c| c.outcome == Outcome::Pass && c.findings.is_empty()).collect();
        if passing.is_empty() {
            let _ = writeln!(out, "No check passes yet.\n");
            return;
        }
        for cat in Category::ALL {
            let in_cat: Vec<&&CheckResult> = passing.iter().filter(|c| c.category == cat).collect();
            if in_cat.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {}\n", cat.as_str());
            for c in in_cat {
                let evidence: Vec<String> = c
                    .evidence
                    .iter()
                    .map(|e| match &e.location {
                        Some(l) => format!("{} ({})", esc(&e.message), code(&l.to_string())),
                        None => esc(&e.message),
                    })
                    .collect();
                let shown = if evidence.is_empty() { esc(&c.summary) } else { evidence.join("; ") };
                // Lead with what was found, not the check's title: titles name the problem.
                let _ = writeln!(out, "- {shown} (`{}`)", c.check_id);
            }
            out.push('\n');
        }
    }

    fn gaps(&self, out: &mut String) {
        let _ = writeln!(out, "## Gaps by priority\n");
        let failing = text::failing(self.r);
        if failing.is_empty() {
            let _ = writeln!(out, "None: every applicable check passes.\n");
            return;
        }
        for sev in Severity::ALL {
            let at: Vec<&&CheckResult> = failing.iter().filter(|c| c.severity == sev).collect();
            if at.is_empty() {
                continue;
            }
            let _ = writeln!(out, "### {} ({})\n", severity_word(sev), at.len());
            for c in at {
                self.gap(out, c);
            }
        }
    }

    fn gap(&self, out: &mut String, c: &CheckResult) {
        let spec = self.specs.get(c.check_id.as_str());
        let points = text::points(self.r, &c.check_id);
        let _ = writeln!(out, "#### {} (`{}`)\n", esc(&c.title), c.check_id);
        let cost = if points > 0.0 { format!(", costs {points:.1} points") } else { String::new() };
        let _ = writeln!(out, "*{}, {}{cost}.*\n", c.category.as_str(), c.severity.as_str());
        if let Some(spec) = spec {
            let _ = writeln!(out, "**Why it matters.** {}\n", catalogue_text(&spec.rationale));
        }
        let active: Vec<&Finding> = c.active_findings().collect();
        let _ = writeln!(out, "**Evidence.**\n");
        for f in active.iter().take(FINDINGS_SHOWN) {
            let mut line = match &f.location {
                Some(l) => format!("- {}: {}", code(&l.to_string()), esc(&f.message)),
                None => format!("- {}", esc(&f.message)),
            };
            if let Some(e) = text::extra_evidence(f) {
                let _ = write!(line, " ({})", code(e));
            }
            let _ = writeln!(out, "{line}");
        }
        if active.len() > FINDINGS_SHOWN {
            let _ =
                writeln!(out, "- and {} more (the JSON or SARIF report lists them all)", active.len() - FINDINGS_SHOWN);
        }
        out.push('\n');
        if let Some(spec) = spec {
            let _ = writeln!(out, "**Fix.** {}\n", catalogue_text(&spec.fix));
        }
    }

    fn checklist(&self, out: &mut String) {
        let failing = text::failing(self.r);
        if failing.is_empty() {
            return;
        }
        let _ = writeln!(out, "## Checklist\n");
        let _ = writeln!(out, "Most points first; each item is one failing check.\n");
        // Deductions are already sorted by points; checks without one
        // (unscored categories) follow in priority order.
        let mut order: Vec<&CheckResult> = self
            .r
            .deductions
            .iter()
            .filter_map(|d| failing.iter().copied().find(|c| c.check_id == d.check_id))
            .collect();
        order.extend(failing.iter().copied().filter(|c| !self.r.deductions.iter().any(|d| d.check_id == c.check_id)));
        for c in order {
            let points = text::points(self.r, &c.check_id);
            let fix = self.specs.get(c.check_id.as_str()).map(|s| format!(": {}", esc(&s.fix))).unwrap_or_default();
            let _ = writeln!(
                out,
                "- [ ] **{}** (`{}`, {}, {:.1} points){fix}",
                esc(&c.title),
                c.check_id,
                c.severity.as_str(),
                points
            );
        }
        out.push('\n');
    }

    fn scores(&self, out: &mut String) {
        let r = self.r;
        let _ = writeln!(out, "## Scores\n");
        let _ = writeln!(
            out,
            "Each category scores 100 x passing weight / applicable weight (critical 10, high 6, medium 3, low 1, info 0); the overall score is the mean of the scored categories weighted as below.\n"
        );
        let _ = writeln!(out, "| Category | Score | Weight | Passed / applicable weight |\n|---|---:|---:|---:|");
        for c in &r.categories {
            let weight = match c.category.weight() {
                0 => "not scored".to_string(),
                w => w.to_string(),
            };
            let _ = writeln!(
                out,
                "| {} | {:.1} | {weight} | {} / {} |",
                c.category.as_str(),
                c.score,
                c.passed_weight,
                c.applicable_weight
            );
        }
        let _ = writeln!(out, "| **overall** | **{:.1}** | | |\n", r.score);
        if r.deductions.is_empty() {
            return;
        }
        let _ = writeln!(out, "Which checks moved the score, and by how much:\n");
        let _ = writeln!(
            out,
            "| Check | Category | Severity | Overall points | Category points |\n|---|---|---|---:|---:|"
        );
        for d in &r.deductions {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                d.check_id,
                d.category.as_str(),
                d.severity.as_str(),
                minus(d.points),
                minus(d.category_points)
            );
        }
        out.push('\n');
    }

    /// Checks that take effect later: what they would find today, so the
    /// fix can be planned before they count.
    fn upcoming(&self, out: &mut String) {
        let upcoming: Vec<&CheckResult> = self.r.upcoming().collect();
        if upcoming.is_empty() {
            return;
        }
        let _ = writeln!(out, "## Upcoming checks\n");
        let _ = writeln!(
            out,
            "These checks take effect on a later date. They are not counted in the score or the level yet; this is what they would say today.\n"
        );
        for c in upcoming {
            let date = c.effective.map(|d| d.to_string()).unwrap_or_default();
            let would = if c.active_findings().next().is_some() { "would fail" } else { "would pass" };
            let _ = writeln!(
                out,
                "#### {} (`{}`)\n\n*{}, {}, counts from {date}: {would}.*\n",
                esc(&c.title),
                c.check_id,
                c.category.as_str(),
                c.severity.as_str()
            );
            let active: Vec<&Finding> = c.active_findings().collect();
            for f in active.iter().take(FINDINGS_SHOWN) {
                let mut line = match &f.location {
                    Some(l) => format!("- {}: {}", code(&l.to_string()), esc(&f.message)),
                    None => format!("- {}", esc(&f.message)),
                };
                if let Some(e) = text::extra_evidence(f) {
                    let _ = write!(line, " ({})", code(e));
                }
                let _ = writeln!(out, "{line}");
            }
            if active.len() > FINDINGS_SHOWN {
                let _ = writeln!(out, "- and {} more", active.len() - FINDINGS_SHOWN);
            }
            if !active.is_empty() {
                out.push('\n');
            }
            if let Some(spec) = self.specs.get(c.check_id.as_str()).filter(|_| !active.is_empty()) {
                let _ = writeln!(out, "**Fix.** {}\n", catalogue_text(&spec.fix));
            }
        }
    }

    fn not_applicable(&self, out: &mut String) {
        let na: Vec<&CheckResult> = self.r.checks.iter().filter(|c| c.outcome == Outcome::NotApplicable).collect();
        if na.is_empty() {
            return;
        }
        let _ = writeln!(out, "## Not applicable\n");
        for c in na {
            let _ = writeln!(out, "- **{}** (`{}`): {}", esc(&c.title), c.check_id, esc(&c.summary));
        }
        out.push('\n');
    }

    fn errors(&self, out: &mut String) {
        let errors: Vec<&CheckResult> = self.r.checks.iter().filter(|c| c.outcome == Outcome::Error).collect();
        if errors.is_empty() {
            return;
        }
        let _ = writeln!(out, "## Could not run\n");
        let _ = writeln!(
            out,
            "These checks proved nothing either way; they are left out of the scores and keep the level from gold.\n"
        );
        for c in errors {
            let why = c.error.as_deref().unwrap_or(&c.summary);
            let _ = writeln!(out, "- **{}** (`{}`): {}", esc(&c.title), c.check_id, esc(why));
        }
        out.push('\n');
    }

    fn suppressed(&self, out: &mut String) {
        let list = text::suppressed(self.r);
        if list.is_empty() {
            return;
        }
        let _ = writeln!(out, "## Suppressed findings\n");
        let _ = writeln!(out, "{} not counted, each with the reason given for it:\n", count(list.len(), "finding"));
        let _ = writeln!(out, "| Check | Where | Source | Reason | Expires |\n|---|---|---|---|---|");
        for f in list {
            let Some(s) = &f.suppression else { continue };
            let expires = s.expires.map(|d| d.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {expires} |",
                f.check_id,
                cell_code(&place(f)),
                esc(&s.source),
                esc(&s.reason)
            );
        }
        out.push('\n');
    }

    fn notes(&self, out: &mut String) {
        let notes = &self.r.notes;
        let s = &self.r.stats;
        let _ = writeln!(out, "## Notes\n");
        let _ = writeln!(
            out,
            "Scanned {} ({} read, {}) in {} ms.",
            count(s.files_seen as usize, "file"),
            s.files_read,
            text::bytes(s.bytes_read),
            s.duration_ms
        );
        if notes.is_empty() {
            let _ = writeln!(out, "Every file was read in full or deliberately skipped as binary.");
            return;
        }
        let _ = writeln!(out, "{} about files not fully read:\n", count(notes.len(), "note"));
        for n in notes.iter().take(NOTES_SHOWN) {
            let _ = writeln!(out, "- {}: {}", code(&n.path), esc(&n.message));
        }
        if notes.len() > NOTES_SHOWN {
            let _ = writeln!(out, "- and {} more", notes.len() - NOTES_SHOWN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_repository_text_literal() {
        assert_eq!(esc("a_b *c* | [x](y)\n<b>"), "a\\_b \\*c\\* \\| \\[x\\](y) \\<b\\>");
        assert_eq!(code("x = `y` z"), "``x = `y` z``");
        assert_eq!(code("`a|b"), "`` `a|b ``");
        assert_eq!(cell_code("a|b"), "`a\\|b`");
    }
}
