//! Dockerfile checks on how the image is built and run: its user, base
//! image pins and multi-stage builds (health checks are in
//! `delivery_health.rs`, what goes *into* the image in `delivery_image.rs`). Each production Dockerfile is judged
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
pub(crate) fn stable(mut finding: RawFinding, identity: &str) -> RawFinding {
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
