//! What the GitHub-only checks need, in two or three calls per scan: the
//! branch (last commit date, whether a protection applies, the required
//! status checks it shows to readers), the rules that apply to it from
//! rulesets (readable with read access), and, only when a classic
//! protection applies and no ruleset already requires a pull request, the
//! protection itself for its pull-request rule.
//!
//! That last call needs admin rights. Without them GitHub answers 403 or
//! 404, and the facts say "protected, rules unknown": the check is then
//! `not_applicable` rather than a guessed pass or fail (CHECKS.md: never a
//! silent pass; a fail needs evidence). An unprotected branch is known to
//! any reader, so it still fails.

use super::client::{GithubError, Session};
use serde::Deserialize;
use shipshape_analysis::GithubFacts;

#[derive(Deserialize)]
struct Branch {
    commit: BranchCommit,
    #[serde(default)]
    protected: bool,
    #[serde(default)]
    protection: Option<BranchProtectionSummary>,
}

#[derive(Deserialize)]
struct BranchCommit {
    commit: CommitDetail,
}

#[derive(Deserialize)]
struct CommitDetail {
    committer: Option<Signature>,
}

#[derive(Deserialize)]
struct Signature {
    date: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Deserialize)]
struct BranchProtectionSummary {
    #[serde(default)]
    required_status_checks: Option<StatusChecks>,
}

#[derive(Deserialize)]
struct StatusChecks {
    #[serde(default)]
    contexts: Vec<String>,
    #[serde(default)]
    checks: Vec<NamedCheck>,
}

#[derive(Deserialize)]
struct NamedCheck {
    context: String,
}

#[derive(Deserialize)]
struct Protection {
    #[serde(default)]
    required_pull_request_reviews: Option<serde_json::Value>,
    #[serde(default)]
    required_status_checks: Option<StatusChecks>,
}

#[derive(Deserialize)]
struct Rule {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    parameters: Option<RuleParameters>,
}

#[derive(Deserialize)]
struct RuleParameters {
    #[serde(default)]
    required_status_checks: Vec<NamedCheck>,
}

/// Gathers the facts for `owner/name` on `branch`.
///
/// # Errors
/// The repository or branch is unknown to GitHub, or the API failed.
pub async fn gather(session: &Session, owner: &str, name: &str, branch: &str) -> Result<GithubFacts, GithubError> {
    let base = format!("/repos/{owner}/{name}");
    let path = format!("{base}/branches/{branch}");
    let b: Branch = session.get(&path, None).await?.json(&path)?;
    let mut checks: Vec<String> = Vec::new();
    if let Some(sc) = b.protection.and_then(|p| p.required_status_checks) {
        add_checks(&mut checks, sc);
    }
    let rules_path = format!("{base}/rules/branches/{branch}");
    let rules: Vec<Rule> = match session.get(&rules_path, None).await {
        Ok(answer) => answer.json(&rules_path)?,
        // GitHub Enterprise versions without rulesets.
        Err(GithubError::NotFound { .. }) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut ruleset_pr = false;
    for rule in rules {
        match rule.kind.as_str() {
            "pull_request" => ruleset_pr = true,
            "required_status_checks" => {
                checks.extend(rule.parameters.into_iter().flat_map(|p| p.required_status_checks).map(|c| c.context))
            }
            _ => {}
        }
    }
    let requires_pull_request = if ruleset_pr {
        Some(true)
    } else if b.protected {
        let protection_path = format!("{path}/protection");
        match session.get(&protection_path, None).await {
            Ok(answer) => {
                let p: Protection = answer.json(&protection_path)?;
                if let Some(sc) = p.required_status_checks {
                    add_checks(&mut checks, sc);
                }
                Some(p.required_pull_request_reviews.is_some())
            }
            // No admin rights on the repository: the rule exists but is not ours to read.
            Err(e) if matches!(e.status(), Some(403 | 404)) => None,
            Err(e) => return Err(e),
        }
    } else {
        Some(false)
    };
    checks.sort();
    checks.dedup();
    Ok(GithubFacts {
        default_branch_protected: b.protected || ruleset_pr,
        requires_pull_request,
        required_status_checks: checks,
        last_commit: b.commit.commit.committer.and_then(|c| c.date),
    })
}

fn add_checks(into: &mut Vec<String>, sc: StatusChecks) {
    into.extend(sc.contexts);
    into.extend(sc.checks.into_iter().map(|c| c.context));
}
