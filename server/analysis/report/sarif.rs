//! SARIF 2.1.0 output, shaped for GitHub code scanning.
//!
//! One run; `tool.driver.rules` lists every check of the catalogue (so rule
//! indices are stable across scans of different repositories), then the
//! custom checks of the policy the scan ran with; one result per finding,
//! suppressed ones included with a `suppressions` entry so code scanning
//! shows them as dismissed rather than forgetting them. A check that takes
//! effect later (`upcoming`) has its findings as `note` results marked
//! `upcoming` with the date, so teams see them before they count.
//!
//! GitHub rejects results without a location, but repository-level findings
//! ("no CI configured") have none. They are anchored to the file a fix would
//! create or edit when the check names one (`README.md` for the readme
//! checks…), else to the repository's root manifest, else to `README.md`,
//! with no region, and flagged `repositoryLevel` in their properties.

use crate::checks::{self, CheckInfo};
use crate::model::{Category, Finding, Report, Severity};
use crate::score::ANALYZER_VERSION;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Where the SARIF 2.1.0 schema is published; written as the log's `$schema`.
pub const SARIF_SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The project's home, shown by SARIF viewers as the tool's page.
pub const INFORMATION_URI: &str = "https://github.com/shipshape-dev/shipshape";
/// Key of our fingerprint in `partialFingerprints`; the `/v1` changes if the
/// fingerprint's recipe ever does, so old alerts are not matched wrongly.
pub const FINGERPRINT_KEY: &str = "shipshapeFingerprint/v1";

/// Renders the report as a SARIF 2.1.0 log (pretty JSON, ending with a newline).
pub fn render(report: &Report) -> String {
    let mut specs: Vec<CheckInfo> = checks::all().iter().map(|c| CheckInfo::from(&c.spec)).collect();
    specs.extend(report.custom_checks.iter().cloned());
    // Effective dates are the policy's: the report's results carry them.
    for spec in &mut specs {
        if spec.effective.is_none() {
            spec.effective = report.check(&spec.id).and_then(|c| c.effective);
        }
    }
    let index: HashMap<&str, usize> = specs.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect();
    let mut results: Vec<Value> =
        report.findings().map(|f| result(report, f, index.get(f.check_id.as_str()))).collect();
    for check in report.upcoming() {
        for f in &check.findings {
            let mut r = result(report, f, index.get(f.check_id.as_str()));
            r["level"] = json!("note");
            let date = check.effective.map(|d| d.to_string()).unwrap_or_default();
            r["message"]["text"] =
                json!(format!("[upcoming, counts from {date}] {}", r["message"]["text"].as_str().unwrap_or_default()));
            r["properties"]["upcoming"] = json!(true);
            r["properties"]["effective"] = json!(date);
            results.push(r);
        }
    }
    let log = json!({
        "$schema": SARIF_SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "Shipshape",
                "version": ANALYZER_VERSION,
                "semanticVersion": ANALYZER_VERSION,
                "informationUri": INFORMATION_URI,
                "rules": specs.iter().map(rule).collect::<Vec<_>>(),
            }},
            "invocations": [invocation(report, &index)],
            "columnKind": "utf16CodeUnits",
            "results": results,
            "properties": {
                "score": report.score,
                "level": report.level.as_str(),
                "levelReason": report.level_reason,
                "schemaVersion": report.schema_version,
                "categories": report.categories.iter().map(|c| json!({
                    "category": c.category.as_str(),
                    "score": c.score,
                })).collect::<Vec<_>>(),
            },
        }],
    });
    let mut out = serde_json::to_string_pretty(&log).expect("a JSON value always serialises");
    out.push('\n');
    out
}

/// SARIF's level for a severity: what must block (error), what should be
/// looked at (warning), what is advice (note).
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub's `security-severity` (a CVSS-like 0–10 score as a string), which
/// turns an alert into a security alert with that severity.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

fn is_security(category: Category) -> bool {
    matches!(category, Category::Security | Category::Secrets)
}

/// `cors-wildcard` → `CorsWildcard`: SARIF's `name` is an identifier-like
/// form of the rule id.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

fn rule(spec: &CheckInfo) -> Value {
    let mut tags = vec!["shipshape".to_string(), spec.category.as_str().to_string()];
    let mut properties = serde_json::Map::new();
    properties.insert("category".into(), json!(spec.category.as_str()));
    properties.insert("severity".into(), json!(spec.severity.as_str()));
    if is_security(spec.category) {
        // GitHub code scanning shows security-severity only for rules tagged "security".
        if !tags.iter().any(|t| t == "security") {
            tags.push("security".into());
        }
        properties.insert("security-severity".into(), json!(security_severity(spec.severity)));
    }
    if let Some(date) = spec.effective {
        properties.insert("effective".into(), json!(date.to_string()));
    }
    if let Some(origin) = &spec.custom {
        properties.insert("custom".into(), json!({ "kind": origin.kind, "source": origin.source }));
    }
    properties.insert("tags".into(), json!(tags));
    json!({
        "id": spec.id,
        "name": pascal(&spec.id),
        "shortDescription": { "text": spec.title },
        "fullDescription": { "text": spec.rationale },
        "help": {
            "text": format!("{}\n\nFix: {}", spec.rationale, spec.fix),
            "markdown": format!("{}\n\n**Fix.** {}", spec.rationale, spec.fix),
        },
        "defaultConfiguration": { "level": level(spec.severity) },
        "properties": properties,
    })
}

fn result(report: &Report, f: &Finding, rule_index: Option<&usize>) -> Value {
    let mut text = f.message.trim().to_string();
    if let Some(e) = super::text::extra_evidence(f) {
        text = format!("{text} (evidence: {})", super::text::one_line(e, 200));
    }
    let (uri, line) = match &f.location {
        Some(l) => (uri_path(&l.path), l.line),
        None => (uri_path(&anchor(report, &f.check_id)), None),
    };
    let mut physical = json!({ "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" } });
    if let Some(line) = line {
        physical["region"] = json!({ "startLine": line });
    }
    let mut r = json!({
        "ruleId": f.check_id,
        "level": level(f.severity),
        "message": { "text": text },
        "locations": [{ "physicalLocation": physical }],
        "partialFingerprints": { FINGERPRINT_KEY: f.fingerprint },
        "properties": {
            "severity": f.severity.as_str(),
            "category": f.category.as_str(),
            "repositoryLevel": f.location.is_none(),
        },
    });
    if let Some(i) = rule_index {
        r["ruleIndex"] = json!(i);
    }
    if let Some(s) = &f.suppression {
        // inline comments live in the source; .shipshape.toml and the
        // dashboard are outside the flagged code.
        let kind = if s.source == "inline" { "inSource" } else { "external" };
        let mut sup = json!({ "kind": kind, "status": "accepted", "justification": s.reason });
        if let Some(expires) = s.expires {
            sup["properties"] = json!({ "source": s.source, "expires": expires.to_string() });
        } else {
            sup["properties"] = json!({ "source": s.source });
        }
        r["suppressions"] = json!([sup]);
    }
    r
}

/// A repo-relative path as a relative URI reference: SARIF requires valid
/// URIs, so spaces, `#`, `%`, `?` and non-ASCII bytes are percent-encoded;
/// so is `:`, which would otherwise read as a scheme (`a:b.py`).
fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for &b in path.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The file a repository-level finding is pinned to (see the module docs).
fn anchor(report: &Report, check_id: &str) -> String {
    let known = match check_id {
        "readme-missing" | "readme-no-setup" => Some("README.md"),
        "security-policy-missing" => Some("SECURITY.md"),
        "codeowners-missing" => Some(".github/CODEOWNERS"),
        "env-example-missing" => Some(".env.example"),
        "dependency-updates-missing" => Some(".github/dependabot.yml"),
        "dockerignore-missing" => Some(".dockerignore"),
        _ => None,
    };
    if let Some(path) = known {
        return path.to_string();
    }
    let root_manifest = report.stack.manifests.iter().filter(|m| !m.contains('/')).min();
    root_manifest.cloned().unwrap_or_else(|| "README.md".to_string())
}

/// The invocation: checks that could not run become error notifications,
/// so a viewer does not mistake their silence for a pass.
fn invocation(report: &Report, index: &HashMap<&str, usize>) -> Value {
    let notifications: Vec<Value> = report
        .checks
        .iter()
        .filter(|c| c.outcome == crate::model::Outcome::Error)
        .map(|c| {
            let mut n = json!({
                "level": "error",
                "message": { "text": format!("{} could not run: {}", c.check_id, c.error.as_deref().unwrap_or(&c.summary)) },
                "associatedRule": { "id": c.check_id },
            });
            if let Some(i) = index.get(c.check_id.as_str()) {
                n["associatedRule"]["index"] = json!(i);
            }
            n
        })
        .collect();
    json!({ "executionSuccessful": true, "toolExecutionNotifications": notifications })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_are_pascal_case_ids() {
        assert_eq!(pascal("cors-wildcard"), "CorsWildcard");
        assert_eq!(pascal("tests-not-in-ci"), "TestsNotInCi");
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri_path("app/main.py"), "app/main.py");
        assert_eq!(uri_path("docs/my file#1.md"), "docs/my%20file%231.md");
        assert_eq!(uri_path("a:b/100%.py"), "a%3Ab/100%25.py");
        assert_eq!(uri_path("café.py"), "caf%C3%A9.py");
    }

    #[test]
    fn levels_follow_severity() {
        assert_eq!(level(Severity::Critical), "error");
        assert_eq!(level(Severity::High), "error");
        assert_eq!(level(Severity::Medium), "warning");
        assert_eq!(level(Severity::Low), "note");
        assert_eq!(level(Severity::Info), "note");
    }
}
