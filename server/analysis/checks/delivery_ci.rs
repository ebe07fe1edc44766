//! CI checks: whether CI exists, how GitHub Actions workflows pin their
//! actions and scope their token, and whether dependency updates are
//! automated (Dependabot or Renovate).

use super::conclude;
use crate::checks::{Check, CheckSpec, RawFinding, Verdict};
use crate::ci::{self, CiFile, Workflow};
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;

pub fn checks() -> Vec<Check> {
    vec![
        Check { spec: CI_MISSING, run: ci_missing },
        Check { spec: UPDATES_MISSING, run: dependency_updates_missing },
        Check { spec: ACTIONS_UNPINNED, run: actions_unpinned },
        Check { spec: TOKEN_PERMISSIONS, run: token_permissions },
    ]
}

const CI_MISSING: CheckSpec = CheckSpec {
    id: "ci-missing",
    title: "No continuous integration",
    category: Category::Delivery,
    severity: Severity::High,
    pass_summary: "CI is configured",
    rationale: "Without CI nothing checks a change before it ships: tests run when someone remembers, and a broken main branch is found by users.",
    fix: "Add a workflow that installs dependencies and runs the tests on every push and pull request, e.g. `.github/workflows/ci.yml` (GitHub Actions) or `.gitlab-ci.yml`, and make it a required check.",
};

fn ci_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    match repo.files().find(|e| crate::stack::ci_system(&e.path).is_some()) {
        Some(e) => {
            let system = crate::stack::ci_system(&e.path).unwrap_or("");
            Ok(Verdict::Pass(vec![Evidence::new(format!("{system}: {}", e.path), Some(Location::file(&e.path)))]))
        }
        None => Ok(Verdict::Fail(vec![RawFinding::repo("no CI configuration of any supported system")])),
    }
}

const UPDATES_MISSING: CheckSpec = CheckSpec {
    id: "dependency-updates-missing",
    title: "Dependency updates are not automated",
    category: Category::Delivery,
    severity: Severity::Low,
    pass_summary: "Dependabot or Renovate keeps dependencies current",
    rationale: "Dependencies nobody bumps fall behind until a security fix lands on a version that is three majors away. A bot that opens small update pull requests keeps each upgrade cheap and tested by CI.",
    fix: "Add `.github/dependabot.yml` with an entry per ecosystem (pip, npm, gomod, cargo, docker, github-actions) or a `renovate.json` with `{\"extends\": [\"config:recommended\"]}`.",
};

const UPDATE_CONFIGS: &[&str] = &[
    ".github/dependabot.yml",
    ".github/dependabot.yaml",
    "renovate.json",
    "renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".renovaterc.json5",
    ".github/renovate.json",
    ".github/renovate.json5",
    ".gitlab/renovate.json",
    ".gitlab/renovate.json5",
];

fn dependency_updates_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    if let Some(path) = UPDATE_CONFIGS.iter().find(|p| repo.file(p).is_some()) {
        return Ok(Verdict::Pass(vec![Evidence::new(
            format!("update bot config: {path}"),
            Some(Location::file(*path)),
        )]));
    }
    let renovate_key = repo
        .file("package.json")
        .and_then(|e| repo.read_text(e).ok())
        .is_some_and(|t| serde_json::from_str::<serde_json::Value>(&t).is_ok_and(|v| v.get("renovate").is_some()));
    if renovate_key {
        return Ok(Verdict::Pass(vec![Evidence::new(
            "Renovate configured in package.json",
            Some(Location::file("package.json")),
        )]));
    }
    let has_dependencies = !repo.manifests.is_empty()
        || !super::dockerfiles(repo).is_empty()
        || repo.files().any(|e| crate::stack::ci_system(&e.path) == Some("github-actions"));
    if !has_dependencies {
        return Ok(Verdict::NotApplicable("no manifests, Dockerfiles or workflows to update".into()));
    }
    Ok(Verdict::Fail(vec![RawFinding::repo("no Dependabot or Renovate configuration")]))
}

/// The GitHub Actions workflows, or not applicable when there are none.
fn workflows(repo: &Repo<'_>) -> Result<Vec<CiFile>, Verdict> {
    let files: Vec<CiFile> = ci::load(repo).into_iter().filter(|f| f.workflow.is_some()).collect();
    if files.is_empty() {
        return Err(Verdict::NotApplicable("no GitHub Actions workflows".into()));
    }
    Ok(files)
}

/// Runs `judge` on every workflow that parses; those that do not become errors.
fn per_workflow(
    repo: &Repo<'_>,
    judge: impl Fn(&str, &Workflow) -> Vec<RawFinding>,
    pass: &str,
) -> Result<Verdict, String> {
    let files = match workflows(repo) {
        Ok(f) => f,
        Err(na) => return Ok(na),
    };
    let (mut findings, mut errors) = (Vec::new(), Vec::new());
    for f in &files {
        match &f.workflow {
            Some(Ok(wf)) => findings.extend(judge(&f.path, wf)),
            Some(Err(e)) => errors.push(format!("{}:{}: {}", f.path, e.line, e.message)),
            None => {}
        }
    }
    let evidence = vec![Evidence::new(format!("{pass} ({} workflows)", files.len()), None)];
    conclude(findings, errors, evidence)
}

const ACTIONS_UNPINNED: CheckSpec = CheckSpec {
    id: "ci-actions-unpinned",
    title: "Third-party actions not pinned to a commit",
    category: Category::Delivery,
    severity: Severity::Low,
    pass_summary: "third-party actions are pinned to commit SHAs",
    rationale: "A tag like `@v3` can be moved by whoever controls the action's repository: a compromised or sold action then runs new code in your CI with your secrets and token. A full commit SHA cannot be moved.",
    fix: "Pin each third-party action to the full 40-character commit SHA of the release, with the version as a comment: `uses: owner/action@8f4b7f84864484a7bf31766abe9204da3cbe65b3 # v3.1.0`. Dependabot and Renovate keep SHA pins up to date.",
};

/// Why a `uses:` reference is not pinned, or `None` when it is fine.
fn unpinned(uses: &str) -> Option<&'static str> {
    let uses = uses.trim();
    if uses.starts_with("./") {
        return None;
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        return (!image.contains("@sha256:")).then_some("a Docker image without a digest");
    }
    let (action, reference) = uses.split_once('@').unwrap_or((uses, ""));
    let owner = action.split('/').next().unwrap_or("").to_ascii_lowercase();
    // Actions owned by GitHub itself are trusted like the runner is.
    if owner == "actions" || owner == "github" {
        return None;
    }
    let is_sha = reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit());
    (!is_sha).then_some("a movable ref instead of a full commit SHA")
}

fn actions_unpinned(repo: &Repo<'_>) -> Result<Verdict, String> {
    per_workflow(
        repo,
        |path, wf| {
            wf.uses()
                .filter_map(|(uses, line)| {
                    let why = unpinned(uses)?;
                    Some(RawFinding::at(
                        Location::at(path, line),
                        format!("`{uses}` is referenced by {why}"),
                        format!("uses: {uses}"),
                    ))
                })
                .collect()
        },
        "every third-party action is pinned to a commit SHA",
    )
}

const TOKEN_PERMISSIONS: CheckSpec = CheckSpec {
    id: "ci-token-permissions",
    title: "Workflow token permissions not restricted",
    category: Category::Delivery,
    severity: Severity::Medium,
    pass_summary: "workflows declare least-privilege token permissions",
    rationale: "Without a `permissions:` block the workflow's GITHUB_TOKEN gets the repository default, often write access to code, packages and releases. Any compromised step or dependency in the job can then push code or publish artifacts.",
    fix: "Add `permissions: contents: read` at the top of each workflow and grant more (`pull-requests: write`, `packages: write`) only on the jobs that need it. Never use `write-all`.",
};

fn token_permissions(repo: &Repo<'_>) -> Result<Verdict, String> {
    per_workflow(
        repo,
        |path, wf| {
            let write_all = wf
                .permissions
                .iter()
                .chain(wf.jobs.iter().filter_map(|j| j.permissions.as_ref()))
                .find(|(p, _)| p.trim() == "write-all");
            let finding = if let Some((_, line)) = write_all {
                Some((*line, "grants `write-all` to the workflow token".to_string(), "permissions: write-all".into()))
            } else if wf.permissions.is_none() && !wf.jobs.iter().all(|j| j.permissions.is_some()) {
                let open: Vec<&str> =
                    wf.jobs.iter().filter(|j| j.permissions.is_none()).map(|j| j.id.as_str()).collect();
                Some((
                    1,
                    "has no top-level `permissions:`, so the token gets the repository default".to_string(),
                    format!("no permissions for job(s): {}", open.join(", ")),
                ))
            } else {
                None
            };
            finding
                .map(|(line, what, evidence)| {
                    let mut f = RawFinding::at(Location::at(path, line), format!("{path} {what}"), evidence);
                    // The job list in the evidence changes as jobs come and go; the problem does not.
                    f.identity = what;
                    f
                })
                .into_iter()
                .collect()
        },
        "every workflow restricts its token permissions",
    )
}

#[cfg(test)]
mod tests {
    use super::unpinned;

    #[test]
    fn which_uses_refs_count_as_pinned() {
        assert!(unpinned("actions/checkout@v4").is_none());
        assert!(unpinned("github/codeql-action/init@v3").is_none());
        assert!(unpinned("./.github/actions/setup").is_none());
        assert!(unpinned("docker://alpine@sha256:abcd").is_none());
        assert!(unpinned("docker://alpine:3.19").is_some());
        assert!(unpinned("some/action@v3").is_some());
        assert!(unpinned("some/action@8f4b7f84864484a7bf31766abe9204da3cbe65b3").is_none());
        assert!(unpinned("some/action@8f4b7f8").is_some());
        assert!(unpinned("org/repo/.github/workflows/ci.yml@main").is_some());
    }
}
