//! Checks that need the GitHub API (branch protection, required checks,
//! staleness). The caller gathers the facts and passes them in `Options`;
//! offline scans report these checks as not applicable.

use super::{Check, CheckSpec, RawFinding, Verdict};
use crate::model::{Category, Evidence, Severity};
use crate::repo::Repo;

const OFFLINE: &str = "needs the GitHub API: scanned offline";

pub fn checks() -> Vec<Check> {
    vec![
        Check {
            spec: CheckSpec {
                id: "branch-protection-missing",
                title: "Default branch is not protected",
                category: Category::Github,
                severity: Severity::High,
                pass_summary: "the default branch requires a pull request",
                rationale: "Without protection anyone with write access can push straight to the branch that ships, skipping review and CI.",
                fix: "Add a branch protection rule or ruleset on the default branch that requires a pull request before merging.",
            },
            run: |repo: &Repo<'_>| {
                let Some(gh) = &repo.options.github else { return Ok(Verdict::NotApplicable(OFFLINE.into())) };
                match (gh.requires_pull_request, gh.default_branch_protected) {
                    (Some(true), _) => {
                        Ok(Verdict::Pass(vec![Evidence::new("the default branch requires a pull request", None)]))
                    }
                    // Protected, but the rule is only readable with admin
                    // rights: neither a pass nor a fail can be shown honestly.
                    (None, true) => Ok(Verdict::NotApplicable(
                        "the default branch is protected, but reading its rules needs admin rights on the repository"
                            .into(),
                    )),
                    _ => Ok(Verdict::Fail(vec![RawFinding::repo(
                        "the default branch can be pushed to without a pull request",
                    )])),
                }
            },
        },
        Check {
            spec: CheckSpec {
                id: "required-checks-missing",
                title: "No required status checks",
                category: Category::Github,
                severity: Severity::Medium,
                pass_summary: "the default branch requires status checks",
                rationale: "CI that is not required is advice: a red build can still be merged.",
                fix: "Mark the CI jobs that must pass as required status checks in the branch protection rule.",
            },
            run: |repo: &Repo<'_>| {
                let Some(gh) = &repo.options.github else { return Ok(Verdict::NotApplicable(OFFLINE.into())) };
                if gh.required_status_checks.is_empty() {
                    Ok(Verdict::Fail(vec![RawFinding::repo("the default branch requires no status checks")]))
                } else {
                    Ok(Verdict::Pass(vec![Evidence::new(
                        format!("required checks: {}", gh.required_status_checks.join(", ")),
                        None,
                    )]))
                }
            },
        },
        Check {
            spec: CheckSpec {
                id: "repo-stale",
                title: "No commit for 180 days",
                category: Category::Github,
                severity: Severity::Info,
                pass_summary: "the default branch saw a commit in the last 180 days",
                rationale: "A service nobody has touched in half a year likely runs outdated dependencies and has no one who remembers how to deploy it.",
                fix: "Confirm an owner, update dependencies, or archive the repository if it is retired.",
            },
            run: |repo: &Repo<'_>| {
                let Some(last) = repo.options.github.as_ref().and_then(|g| g.last_commit) else {
                    return Ok(Verdict::NotApplicable(OFFLINE.into()));
                };
                let age = repo.options.today.signed_duration_since(last.date_naive()).num_days();
                if age > 180 {
                    Ok(Verdict::Fail(vec![RawFinding::repo(format!(
                        "last commit on the default branch was {age} days ago"
                    ))]))
                } else {
                    Ok(Verdict::Pass(vec![Evidence::new(format!("last commit {age} days ago"), None)]))
                }
            },
        },
    ]
}
