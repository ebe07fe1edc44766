//! Dockerfile checks on how the image is built and run: its user, health
//! check, base image pins and multi-stage builds (what goes *into* the
//! image is in `delivery_image.rs`). Each production Dockerfile is judged
//! on its own; findings are per file.

use super::{DockerFile, conclude, dockerfiles};
use crate::checks::{Check, CheckSpec, RawFinding, Verdict};
use crate::dockerfile::Dockerfile;
use crate::manifests::Ecosystem;
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;
use regex::Regex;
use std::sync::LazyLock;

const NO_DOCKERFILE: &str = "no Dockerfile";

pub fn checks() -> Vec<Check> {
    vec![
        Check { spec: ROOT_USER, run: root_user },
        Check { spec: HEALTHCHECK, run: healthcheck_missing },
        Check { spec: UNPINNED_BASE, run: unpinned_base },
        Check { spec: SINGLE_STAGE, run: single_stage },
    ]
}

/// Runs `judge` on every parsed production Dockerfile and combines the results.
pub(crate) fn per_file(
    repo: &Repo<'_>,
    judge: impl Fn(&DockerFile<'_>, &Dockerfile) -> Vec<RawFinding>,
    pass: impl Fn(&str) -> String,
) -> Result<Verdict, String> {
    let files = dockerfiles(repo);
    if files.is_empty() {
        return Ok(Verdict::NotApplicable(NO_DOCKERFILE.into()));
    }
    let (mut findings, mut errors, mut evidence) = (Vec::new(), Vec::new(), Vec::new());
    for df in &files {
        match &df.parsed {
            Ok(d) => {
                let found = judge(df, d);
                if found.is_empty() {
                    evidence.push(Evidence::new(pass(&df.entry.path), Some(Location::file(&df.entry.path))));
                }
                findings.extend(found);
            }
            Err(e) => errors.push(e.clone()),
        }
    }
    conclude(findings, errors, evidence)
}

/// A finding whose identity survives edits of the evidence line (a base
/// image bump must not make "runs as root" a new finding).
fn stable(mut finding: RawFinding, identity: &str) -> RawFinding {
    finding.identity = identity.to_string();
    finding
}

const ROOT_USER: CheckSpec = CheckSpec {
    id: "docker-root-user",
    title: "Container runs as root",
    category: Category::Delivery,
    severity: Severity::High,
    pass_summary: "the image switches to a non-root user",
    rationale: "A process running as root inside a container is root on anything mounted into it, and a container escape starts with full privileges. A non-root user turns many exploits into harmless permission errors.",
    fix: "In the final stage, create a user and switch to it: `RUN useradd --create-home app` (or `adduser -D app` on Alpine) then `USER app` after the files are copied. A `USER` in a builder stage does not carry over to the final image.",
};

fn root_user(repo: &Repo<'_>) -> Result<Verdict, String> {
    per_file(
        repo,
        |df, d| {
            let last = d.stages.len() - 1;
            let stage = d.final_stage();
            let path = &df.entry.path;
            let evidence = format!("{path}: {}", stage.from_text);
            match d.inherited(last, "USER") {
                Some(user) if is_root(&user.args) => vec![stable(
                    RawFinding::at(
                        Location::at(path, user.line),
                        format!("the final stage of {path} runs as root (`USER {}`)", user.args),
                        evidence,
                    ),
                    "final stage runs as root",
                )],
                Some(_) => vec![],
                // Distroless `:nonroot` images default to an unprivileged user.
                None if stage.image.contains("nonroot") => vec![],
                None => vec![stable(
                    RawFinding::at(
                        Location::at(path, stage.line),
                        format!("the final stage of {path} sets no USER, so it runs as root"),
                        evidence,
                    ),
                    "final stage runs as root",
                )],
            }
        },
        |path| format!("{path} runs as a non-root user"),
    )
}

fn is_root(user: &str) -> bool {
    let name = user.trim().trim_matches(['"', '\'']).split(':').next().unwrap_or("");
    name == "root" || name == "0"
}

const HEALTHCHECK: CheckSpec = CheckSpec {
    id: "docker-healthcheck-missing",
    title: "No container health check",
    category: Category::Delivery,
    severity: Severity::Low,
    pass_summary: "the container has a health check",
    rationale: "Without a health check the orchestrator only knows whether the process exists, not whether it answers: a hung server keeps receiving traffic and is never restarted.",
    fix: "Add `HEALTHCHECK CMD curl -fsS http://localhost:8000/health || exit 1` to the final stage, or declare the check where the container runs: `healthcheck:` in compose, `[[http_service.checks]]` in fly.toml, `healthCheckPath` in render.yaml, liveness/readiness probes in Kubernetes.",
};

/// Health checks declared outside the Dockerfile, by file kind.
fn platform_healthcheck(repo: &Repo<'_>) -> Option<Evidence> {
    for entry in repo.files().filter(|e| !e.is_test && !e.is_example && !e.is_docs) {
        let name = entry.file_name();
        let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
        let markers: &[&str] = match name {
            "fly.toml" => {
                &["[[http_service.checks]]", "[checks", "[[services.http_checks]]", "[[services.tcp_checks]]"]
            }
            "render.yaml" => &["healthCheckPath"],
            "railway.json" | "railway.toml" => &["healthcheckPath"],
            n if yaml && (n.contains("compose")) => &["healthcheck:"],
            _ if yaml => &["livenessProbe", "readinessProbe", "startupProbe"],
            _ => continue,
        };
        if entry.size > 512 * 1024 {
            continue;
        }
        let Ok(text) = repo.read_text(entry) else { continue };
        if markers == ["healthcheck:"] {
            if let Some(line) = compose_healthcheck(&text) {
                let at = Location::at(&entry.path, line);
                return Some(Evidence::new(format!("compose health check at {at}"), Some(at)));
            }
            continue;
        }
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

/// The line of a `healthcheck:` on a compose service built from this
/// repository (`build:`); a check on a database image says nothing about
/// the app. A compose file that does not parse falls back to any
/// uncommented `healthcheck:` line.
fn compose_healthcheck(text: &str) -> Option<u32> {
    let Ok(docs) = crate::ci::parse_yaml(text) else {
        let line = text.lines().position(|l| l.trim_start().starts_with("healthcheck:"))?;
        return Some(line as u32 + 1);
    };
    let services = docs.iter().filter_map(|d| d.get("services")).flat_map(|s| s.entries());
    services.filter(|(_, svc)| svc.get("build").is_some()).find_map(|(_, svc)| {
        let (key, check) = svc.entry("healthcheck")?;
        let disabled = check.get("disable").and_then(|d| d.as_str()) == Some("true");
        (!disabled).then_some(key.line)
    })
}

fn healthcheck_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    if dockerfiles(repo).is_empty() {
        return Ok(Verdict::NotApplicable(NO_DOCKERFILE.into()));
    }
    if let Some(evidence) = platform_healthcheck(repo) {
        return Ok(Verdict::Pass(vec![evidence]));
    }
    per_file(
        repo,
        |df, d| {
            let has = d
                .inherited(d.stages.len() - 1, "HEALTHCHECK")
                .is_some_and(|h| !h.args.trim().eq_ignore_ascii_case("none"));
            let stage = d.final_stage();
            let path = &df.entry.path;
            if has {
                return vec![];
            }
            vec![stable(
                RawFinding::at(
                    Location::at(path, stage.line),
                    format!("{path} has no HEALTHCHECK and no platform health check is configured"),
                    format!("{path}: {}", stage.from_text),
                ),
                "no HEALTHCHECK",
            )]
        },
        |path| format!("HEALTHCHECK in {path}"),
    )
}

const UNPINNED_BASE: CheckSpec = CheckSpec {
    id: "docker-unpinned-base",
    title: "Base image not pinned",
    category: Category::Delivery,
    severity: Severity::Medium,
    pass_summary: "every base image has a specific tag or digest",
    rationale: "`FROM python` or `:latest` means a different base image on every build: a rebuild of the same commit can change the OS, the language version and its bugs, and a rollback does not roll back.",
    fix: "Name a specific version tag (`python:3.12-slim`, `node:20.11-alpine`), or better a digest (`python:3.12-slim@sha256:…`) kept current by Dependabot or Renovate.",
};

fn unpinned_base(repo: &Repo<'_>) -> Result<Verdict, String> {
    per_file(
        repo,
        |df, d| {
            let mut out = Vec::new();
            for (i, stage) in d.stages.iter().enumerate() {
                if d.parent_stage(i).is_some() {
                    continue;
                }
                // An image from a build argument without a default is chosen at build time: no verdict.
                let Some(image) = d.resolved_image(stage) else { continue };
                let lower = image.to_ascii_lowercase();
                if lower == "scratch"
                    || lower.contains('@')
                    || d.stages[..i].iter().any(|s| s.name.as_deref() == Some(&lower))
                {
                    continue;
                }
                let last = lower.rsplit('/').next().unwrap_or(&lower);
                let problem = match last.split_once(':') {
                    Some((_, "latest")) => "uses the `latest` tag",
                    Some(_) => continue,
                    None => "has no tag (Docker takes `latest`)",
                };
                out.push(RawFinding::at(
                    Location::at(&df.entry.path, stage.line),
                    format!("base image `{image}` {problem}"),
                    stage.from_text.clone(),
                ));
            }
            out
        },
        |path| format!("base images pinned in {path}"),
    )
}

const SINGLE_STAGE: CheckSpec = CheckSpec {
    id: "docker-single-stage",
    title: "Built app shipped from its build stage",
    category: Category::Delivery,
    severity: Severity::Low,
    pass_summary: "the build happens in a separate stage from the runtime image",
    rationale: "Building and running in one stage ships the compiler, build tools, dev dependencies and sources: an image several times larger, slower to pull, with far more packages to patch and attack.",
    fix: "Use a multi-stage build: `FROM rust:1.82 AS build` … `RUN cargo build --release`, then `FROM debian:bookworm-slim` and `COPY --from=build /app/target/release/app /usr/local/bin/app`. The same shape works for Go, Java and `npm run build`.",
};

static BUILD_STEP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)\b(cargo\s+(build|install)|go\s+build|mvnw?\s|gradlew?\s|(npm|pnpm|yarn|bun)\s+(run\s+)?build\b|tsc\b|nest\s+build|next\s+build|dotnet\s+publish)",
    )
    .expect("valid regex")
});

/// A compiled or built project: Rust, Go, Java, or Node with a build step or TypeScript.
fn builds_something(repo: &Repo<'_>) -> bool {
    let compiled =
        repo.manifests.iter().any(|m| matches!(m.ecosystem, Ecosystem::Rust | Ecosystem::Go | Ecosystem::Java));
    let node_build = repo.manifests.iter().filter(|m| m.kind == "package.json").any(|m| {
        let text = repo.file(&m.path).and_then(|e| repo.read_text(e).ok()).unwrap_or_default();
        serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v.pointer("/scripts/build").is_some())
    });
    compiled || node_build || repo.has_language("TypeScript")
}

fn single_stage(repo: &Repo<'_>) -> Result<Verdict, String> {
    if dockerfiles(repo).is_empty() {
        return Ok(Verdict::NotApplicable(NO_DOCKERFILE.into()));
    }
    if !builds_something(repo) {
        return Ok(Verdict::NotApplicable(
            "no compiled or built app (Rust, Go, Java, TypeScript, Node build script)".into(),
        ));
    }
    per_file(
        repo,
        |df, d| {
            if d.stages.len() > 1 {
                return vec![];
            }
            let build = d.final_stage().all("RUN").find(|r| {
                BUILD_STEP.is_match(&format!("{} ", r.args)) || r.heredocs.iter().any(|h| BUILD_STEP.is_match(h))
            });
            build
                .map(|r| {
                    stable(
                        RawFinding::at(
                            Location::at(&df.entry.path, r.line),
                            format!("{} builds the app and ships it from the same stage", df.entry.path),
                            format!("RUN {}", r.args),
                        ),
                        "single-stage build",
                    )
                })
                .into_iter()
                .collect()
        },
        |path| format!("{path} builds in a separate stage or ships a prebuilt artifact"),
    )
}
