//! `docker-healthcheck-missing`: a production Dockerfile whose container
//! nobody health-checks: no `HEALTHCHECK` in the image, no `healthcheck:` on
//! the compose service built from it, and no platform check (fly.toml,
//! render.yaml, railway, Kubernetes probes) for the repository.

use super::docker::{per_file, stable};
use super::{dir_of, dockerfiles, join};
use crate::checks::{Check, CheckSpec, RawFinding, Verdict};
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;
use std::collections::HashSet;

pub fn checks() -> Vec<Check> {
    vec![Check { spec: HEALTHCHECK, run: healthcheck_missing }]
}

const HEALTHCHECK: CheckSpec = CheckSpec {
    id: "docker-healthcheck-missing",
    title: "No container health check",
    category: Category::Delivery,
    severity: Severity::Low,
    pass_summary: "the container has a health check",
    rationale: "Without a health check the orchestrator only knows whether the process exists, not whether it answers: a hung server keeps receiving traffic and is never restarted.",
    fix: "Add `HEALTHCHECK CMD curl -fsS http://localhost:8000/health || exit 1` to the final stage, or declare the check where the container runs: `healthcheck:` on the compose service, `[[http_service.checks]]` in fly.toml, `healthCheckPath` in render.yaml, liveness/readiness probes in Kubernetes.",
};

/// Config files small enough to read for health check markers.
const MAX_CONFIG: u64 = 512 * 1024;

fn is_yaml(name: &str) -> bool {
    name.ends_with(".yml") || name.ends_with(".yaml")
}

fn is_compose(name: &str) -> bool {
    is_yaml(name) && name.contains("compose")
}

/// A health check declared by the platform for the whole repository.
fn platform_healthcheck(repo: &Repo<'_>) -> Option<Evidence> {
    for entry in repo.files().filter(|e| !e.is_test && !e.is_example && !e.is_docs && e.size <= MAX_CONFIG) {
        let name = entry.file_name();
        let markers: &[&str] = match name {
            "fly.toml" => {
                &["[[http_service.checks]]", "[checks", "[[services.http_checks]]", "[[services.tcp_checks]]"]
            }
            "render.yaml" => &["healthCheckPath"],
            "railway.json" | "railway.toml" => &["healthcheckPath"],
            n if is_yaml(n) && !is_compose(n) => &["livenessProbe", "readinessProbe", "startupProbe"],
            _ => continue,
        };
        let Ok(text) = repo.read_text(entry) else { continue };
        for (i, line) in text.lines().enumerate() {
            let t = line.trim_start();
            if !t.starts_with('#') && markers.iter().any(|m| t.contains(m)) {
                let at = Location::at(&entry.path, i as u32 + 1);
                return Some(Evidence::new(format!("health check at {at}"), Some(at)));
            }
        }
    }
    None
}

/// `a/./b/../c` → `a/c`.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The Dockerfiles that compose services with a `healthcheck:` are built
/// from (`build: ctx` or `build: {context, dockerfile}`). A check on a
/// service that only pulls an image (a database) says nothing about ours.
fn compose_checked(repo: &Repo<'_>) -> HashSet<String> {
    let mut out = HashSet::new();
    for entry in repo.files().filter(|e| is_compose(e.file_name()) && !e.is_test && e.size <= MAX_CONFIG) {
        let Some(docs) = repo.read_text(entry).ok().and_then(|t| crate::ci::parse_yaml(&t).ok()) else { continue };
        let services = docs.iter().filter_map(|d| d.get("services")).flat_map(|s| s.entries());
        for (_, svc) in services {
            let Some(check) = svc.get("healthcheck") else { continue };
            if check.get("disable").and_then(|d| d.as_str()) == Some("true") {
                continue;
            }
            let Some(build) = svc.get("build") else { continue };
            let (context, file) = match build.as_str() {
                Some(ctx) => (ctx, "Dockerfile"),
                None => (
                    build.get("context").and_then(|c| c.as_str()).unwrap_or("."),
                    build.get("dockerfile").and_then(|d| d.as_str()).unwrap_or("Dockerfile"),
                ),
            };
            out.insert(normalise(&join(&join(dir_of(&entry.path), context), file)));
        }
    }
    out
}

fn healthcheck_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    if dockerfiles(repo).is_empty() {
        return Ok(Verdict::NotApplicable("no Dockerfile".into()));
    }
    if let Some(evidence) = platform_healthcheck(repo) {
        return Ok(Verdict::Pass(vec![evidence]));
    }
    let compose = compose_checked(repo);
    per_file(
        repo,
        |df, d| {
            let path = &df.entry.path;
            let in_image = d
                .inherited(d.stages.len() - 1, "HEALTHCHECK")
                .is_some_and(|h| !h.args.trim().eq_ignore_ascii_case("none"));
            if in_image || compose.contains(path.as_str()) {
                return vec![];
            }
            let stage = d.final_stage();
            vec![stable(
                RawFinding::at(
                    Location::at(path, stage.line),
                    format!("{path} has no HEALTHCHECK, and neither compose nor the platform checks it"),
                    format!("{path}: {}", stage.from_text),
                ),
                "no HEALTHCHECK",
            )]
        },
        |path| format!("{path} is health-checked (HEALTHCHECK or its compose service)"),
    )
}
