//! Dependency hygiene: every manifest that resolves versions at install
//! time has its lock file, and pip requirements are pinned (or constrained).

use super::{conclude, dir_of, join};
use crate::checks::{Check, CheckSpec, RawFinding, Verdict};
use crate::manifests::Manifest;
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;

pub fn checks() -> Vec<Check> {
    vec![Check { spec: LOCKFILE_MISSING, run: lockfile_missing }, Check { spec: UNPINNED, run: unpinned }]
}

/// The first of `names` in `dir` or one of its ancestors (workspaces keep
/// one lock at their root).
fn lock_near(repo: &Repo<'_>, dir: &str, names: &[&str]) -> Option<String> {
    let mut dir = dir.to_string();
    loop {
        if let Some(found) = names.iter().map(|n| join(&dir, n)).find(|p| repo.file(p).is_some()) {
            return Some(found);
        }
        if dir.is_empty() {
            return None;
        }
        dir = dir_of(&dir).to_string();
    }
}

const LOCKFILE_MISSING: CheckSpec = CheckSpec {
    id: "lockfile-missing",
    title: "Manifest without a lock file",
    category: Category::Delivery,
    severity: Severity::Medium,
    pass_summary: "every manifest has its lock file",
    rationale: "Without a lock file every install resolves versions anew: production can run a transitive dependency no one tested, and a bad release upstream breaks a deploy of unchanged code.",
    fix: "Generate and commit the lock file of your tool: `npm install` (package-lock.json), `yarn`/`pnpm install`, `poetry lock`, `pdm lock`, `uv lock`, `pipenv lock`, `cargo generate-lockfile`, `go mod tidy` (go.sum), `gradle dependencies --write-locks` (gradle.lockfile). Install from it in CI and Docker (`npm ci`, `uv sync --frozen`).",
};

const NODE_LOCKS: &[&str] =
    &["package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb", "bun.lock"];

/// Whether the repository's CI or Dockerfiles drive a uv project.
fn uses_uv_project(repo: &Repo<'_>) -> bool {
    let mentions = |t: &str| ["uv sync", "uv lock", "uv run", "setup-uv"].iter().any(|m| t.contains(m));
    let ci = crate::ci::load(repo).iter().any(|f| mentions(&f.text));
    ci || repo
        .files()
        .filter(|e| super::is_dockerfile_name(e.file_name()))
        .any(|e| repo.read_text(e).is_ok_and(|t| mentions(&t)))
}

/// The lock files a manifest needs (any one will do), or `None` when it needs none.
fn required_locks(repo: &Repo<'_>, m: &Manifest, uv_project: bool) -> Result<Option<&'static [&'static str]>, String> {
    let dir = m.dir();
    let read = || repo.file(&m.path).ok_or_else(|| format!("{} vanished", m.path)).and_then(|e| repo.read_text(e));
    Ok(match m.kind {
        "package.json" if !m.deps.is_empty() => Some(NODE_LOCKS),
        "go.mod" if !m.deps.is_empty() => Some(&["go.sum"]),
        "Pipfile" if !m.deps.is_empty() => Some(&["Pipfile.lock"]),
        "Cargo.toml" => {
            let text = read()?;
            // cargo-fuzz crates are built by `cargo fuzz`, which keeps its own lock.
            let is_package = text.lines().any(|l| l.trim() == "[package]") && !text.contains("cargo-fuzz");
            let binary = repo.file(&join(dir, "src/main.rs")).is_some()
                || text.lines().any(|l| l.trim() == "[[bin]]")
                || repo.files().any(|e| e.path.starts_with(&join(dir, "src/bin/")));
            (is_package && binary).then_some(&["Cargo.lock"])
        }
        // Gradle resolves `1.+` and `latest.release` anew on every build
        // unless dependency locking wrote a gradle.lockfile; exact
        // versions (and Maven's, which has no ranges by default) need none.
        "build.gradle" => {
            let text = read()?;
            let dynamic = text.lines().any(|l| {
                let l = l.trim();
                !l.starts_with("//")
                    && (l.contains("latest.release")
                        || l.contains("latest.integration")
                        || l.contains(".+\"")
                        || l.contains(":+\"")
                        || l.contains(".+'")
                        || l.contains(":+'"))
            });
            dynamic.then_some(&["gradle.lockfile"])
        }
        "pyproject.toml" => {
            let doc: toml::Table = toml::from_str(&read()?).map_err(|e| format!("{}: {}", m.path, e.message()))?;
            let tool = |name: &str| doc.get("tool").and_then(|t| t.get(name)).is_some();
            if tool("poetry") && !m.deps.is_empty() {
                Some(&["poetry.lock"])
            } else if tool("pdm") {
                Some(&["pdm.lock"])
            } else if tool("uv") || (uv_project && !m.deps.is_empty()) {
                Some(&["uv.lock"])
            } else {
                None
            }
        }
        _ => None,
    })
}

fn lockfile_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    let uv_project = repo.manifests.iter().any(|m| m.kind == "pyproject.toml") && uses_uv_project(repo);
    let (mut findings, mut errors, mut evidence) = (Vec::new(), Vec::new(), Vec::new());
    let mut considered = 0;
    for m in &repo.manifests {
        if let Some(e) = m.error.as_ref().filter(|_| matches!(m.kind, "package.json" | "pyproject.toml" | "Pipfile")) {
            errors.push(format!("{}: {e}", m.path));
            continue;
        }
        let locks = match required_locks(repo, m, uv_project) {
            Ok(Some(locks)) => locks,
            Ok(None) => continue,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        considered += 1;
        match lock_near(repo, m.dir(), locks) {
            Some(lock) => {
                evidence.push(Evidence::new(format!("{} locked by {lock}", m.path), Some(Location::file(&lock))))
            }
            None => findings.push(RawFinding::at(
                Location::file(&m.path),
                format!("{} has no lock file ({})", m.path, locks.join(", ")),
                format!("{} without {}", m.path, locks.join(" / ")),
            )),
        }
    }
    if considered == 0 && errors.is_empty() {
        return Ok(Verdict::NotApplicable("no manifest that needs a lock file".into()));
    }
    conclude(findings, errors, evidence)
}

const UNPINNED: CheckSpec = CheckSpec {
    id: "dependencies-unpinned",
    title: "Unpinned Python requirements",
    category: Category::Delivery,
    severity: Severity::Low,
    pass_summary: "requirements are pinned or constrained",
    rationale: "`fastapi` or `fastapi>=0.100` in requirements.txt installs whatever is newest on deploy day: two builds of the same commit can differ, and a breaking upstream release reaches production untested.",
    fix: "Pin exact versions (`fastapi==0.115.6`), ideally generated: keep loose ranges in `requirements.in` and compile with `pip-compile` or `uv pip compile`; or add a constraints file (`-c constraints.txt`) or move to a locked tool (uv, Poetry).",
};

const PY_LOCKS: &[&str] = &["uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock"];

/// Why a requirements file needs no pins of its own, if it does not.
fn covered(repo: &Repo<'_>, path: &str, text: &str) -> Option<String> {
    let constrained = text.lines().map(str::trim).any(|l| l.starts_with("-c ") || l.starts_with("--constraint"));
    if constrained {
        return Some(format!("{path} uses a constraints file"));
    }
    if text.contains("pip-compile") || text.contains("uv pip compile") {
        return Some(format!("{path} is compiled by pip-tools/uv"));
    }
    let stem = path.strip_suffix(".txt").unwrap_or(path);
    if repo.file(&format!("{stem}.in")).is_some() {
        return Some(format!("{path} is compiled from {stem}.in"));
    }
    lock_near(repo, dir_of(path), PY_LOCKS).map(|lock| format!("versions locked by {lock}"))
}

fn unpinned(repo: &Repo<'_>) -> Result<Verdict, String> {
    let files: Vec<&Manifest> =
        repo.manifests.iter().filter(|m| m.kind == "requirements.txt" && !m.path.ends_with(".in")).collect();
    if files.is_empty() {
        return Ok(Verdict::NotApplicable("no requirements*.txt".into()));
    }
    let (mut findings, mut evidence) = (Vec::new(), Vec::new());
    for m in files {
        let text = repo.file(&m.path).and_then(|e| repo.read_text(e).ok()).unwrap_or_default();
        if let Some(why) = covered(repo, &m.path, &text) {
            evidence.push(Evidence::new(why, Some(Location::file(&m.path))));
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        let before = findings.len();
        for d in m.deps.iter().filter(|d| !d.spec.contains("==")) {
            let line = d.line.unwrap_or(1);
            let written = lines.get(line as usize - 1).map_or(d.name.as_str(), |l| l.trim());
            findings.push(RawFinding::at(
                Location::at(&m.path, line),
                format!("`{}` is not pinned with `==`", d.name),
                written.to_string(),
            ));
        }
        if findings.len() == before {
            evidence.push(Evidence::new(
                format!("every requirement in {} is pinned", m.path),
                Some(Location::file(&m.path)),
            ));
        }
    }
    conclude(findings, Vec::new(), evidence)
}
