//! Delivery checks (CI, containers, dependency hygiene, deploy config) and
//! `dev-server-in-production` (reliability), which reads the same deploy
//! files. Everything here works on configuration files read at check time;
//! there is no per-file analyzer.
//!
//! Submodules: `delivery_docker.rs` (user, base pins, stages),
//! `delivery_health.rs` (container health checks), `delivery_image.rs` (.dockerignore, secrets in ENV/ARG),
//! `delivery_ci.rs` (CI presence, actions, token, update bots),
//! `delivery_deps.rs` (lock files, pins) and `delivery_start.rs` (dev
//! servers). This module registers them and holds what they share: which
//! Dockerfiles are production ones, and how per-file results combine into
//! one verdict.

use super::{Check, CheckSpec, RawFinding, Verdict};
use crate::dockerfile::{self, Dockerfile};
use crate::engine::FileAnalyzer;
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;
use crate::walk::FileEntry;

#[path = "delivery_ci.rs"]
mod ci_checks;
#[path = "delivery_deps.rs"]
mod deps;
#[path = "delivery_docker.rs"]
mod docker;
#[path = "delivery_health.rs"]
mod health;
#[path = "delivery_image.rs"]
mod image;
#[path = "delivery_start.rs"]
mod start;

/// The delivery checks in CHECKS.md order (the catalogue sorts by category
/// only, keeping this order within it).
const ORDER: &[&str] = &[
    "ci-missing",
    "deploy-config-missing",
    "docker-root-user",
    "docker-healthcheck-missing",
    "docker-unpinned-base",
    "docker-single-stage",
    "dockerignore-missing",
    "docker-secret-in-env",
    "lockfile-missing",
    "dependencies-unpinned",
    "dependency-updates-missing",
    "ci-actions-unpinned",
    "ci-token-permissions",
];

/// Every delivery check, plus `dev-server-in-production`.
pub fn checks() -> Vec<Check> {
    let mut list = ci_checks::checks();
    list.push(Check { spec: DEPLOY_CONFIG_MISSING, run: deploy_config_missing });
    list.extend(docker::checks());
    list.extend(health::checks());
    list.extend(image::checks());
    list.extend(deps::checks());
    list.extend(start::checks());
    list.sort_by_key(|c| ORDER.iter().position(|id| *id == c.spec.id).unwrap_or(ORDER.len()));
    list
}

/// Delivery checks read config files at check time: no per-file analyzer.
pub fn analyzers() -> Vec<Box<dyn FileAnalyzer>> {
    Vec::new()
}

/// Suffixes of files named like Dockerfiles that are not Dockerfiles:
/// per-Dockerfile ignore files, templates, backups.
const NOT_DOCKERFILE_SUFFIXES: &[&str] = &[
    ".dockerignore",
    ".j2",
    ".jinja",
    ".jinja2",
    ".tmpl",
    ".tpl",
    ".template",
    ".in",
    ".erb",
    ".example",
    ".sample",
    ".orig",
    ".bak",
    ".md",
    ".txt",
];

/// A Dockerfile by name: `Dockerfile`, `Containerfile`, `Dockerfile.*`, `*.Dockerfile`.
pub(crate) fn is_dockerfile_name(name: &str) -> bool {
    let named = name == "Dockerfile"
        || name == "Containerfile"
        || name.starts_with("Dockerfile.")
        || name.ends_with(".Dockerfile")
        || name.starts_with("Containerfile.");
    named && !NOT_DOCKERFILE_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// `Dockerfile.dev`, `dev.Dockerfile`, `Dockerfile.test`: images for a
/// laptop or a CI job, not for production.
fn is_dev_variant(name: &str) -> bool {
    name.to_ascii_lowercase().split(['.', '-', '_']).any(|part| {
        matches!(
            part,
            "dev"
                | "development"
                | "local"
                | "test"
                | "tests"
                | "debug"
                | "devcontainer"
                | "e2e"
                | "playwright"
                | "cypress"
        )
    })
}

/// A production Dockerfile found in the repository, parsed or with the
/// `<path>:<line>: <what>` that stopped the parser.
pub(crate) struct DockerFile<'a> {
    pub entry: &'a FileEntry,
    pub parsed: Result<Dockerfile, String>,
}

/// The production Dockerfiles: outside tests, examples, docs and
/// `.devcontainer/`, and not named as a dev/test variant.
pub(crate) fn dockerfiles<'a>(repo: &Repo<'a>) -> Vec<DockerFile<'a>> {
    repo.files()
        .filter(|e| is_dockerfile_name(e.file_name()) && !is_dev_variant(e.file_name()))
        .filter(|e| !e.is_test && !e.is_example && !e.is_docs && !e.path.contains(".devcontainer/"))
        .map(|entry| {
            let parsed = repo.read_text(entry).and_then(|text| {
                dockerfile::parse(&text).map_err(|e| format!("{}:{}: {}", entry.path, e.line, e.message))
            });
            DockerFile { entry, parsed }
        })
        .collect()
}

/// The directory of a repo-relative path ("" for the root).
pub(crate) fn dir_of(path: &str) -> &str {
    path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
}

/// `dir/name`, or `name` at the root.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") }
}

/// Combines per-file results: findings are definite whatever else failed
/// to parse; otherwise a file that did not parse makes the check an error
/// (it might have failed), and only then is the check a pass.
pub(crate) fn conclude(findings: Vec<RawFinding>, errors: Vec<String>, pass: Vec<Evidence>) -> Result<Verdict, String> {
    if !findings.is_empty() {
        Ok(Verdict::Fail(findings))
    } else if !errors.is_empty() {
        Err(errors.join("; "))
    } else {
        Ok(Verdict::Pass(pass))
    }
}

const DEPLOY_CONFIG_MISSING: CheckSpec = CheckSpec {
    id: "deploy-config-missing",
    title: "No deployment configuration",
    category: Category::Delivery,
    severity: Severity::Medium,
    pass_summary: "the service has a container image or platform deploy config",
    rationale: "A service whose build and start are not written down is deployed from someone's memory: the next deploy, or the next person, gets it wrong. A Dockerfile or platform config makes the release reproducible and reviewable.",
    fix: "Add a Dockerfile (multi-stage, non-root) or the config of the platform you deploy to (Procfile, fly.toml, render.yaml, railway.json, app.yaml, Kubernetes manifests or a Helm chart, serverless.yml) and commit it.",
};

/// Platform deploy files, by name.
const DEPLOY_FILES: &[&str] = &[
    "Procfile",
    "fly.toml",
    "render.yaml",
    "railway.json",
    "railway.toml",
    "app.yaml",
    "vercel.json",
    "netlify.toml",
    "serverless.yml",
    "serverless.yaml",
    "Chart.yaml",
    "kustomization.yaml",
    "skaffold.yaml",
    "Dockerrun.aws.json",
    "zappa_settings.json",
    "nixpacks.toml",
];

/// A platform deploy file: by name, or a YAML file under a Kubernetes directory.
fn is_deploy_file(entry: &FileEntry) -> bool {
    let yaml = entry.path.ends_with(".yaml") || entry.path.ends_with(".yml");
    DEPLOY_FILES.contains(&entry.file_name())
        || yaml
            && ["k8s", "kubernetes", "helm", "charts", "manifests"].iter().any(|d| entry.components().any(|c| c == *d))
}

fn deploy_config_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    if !repo.is_web_service() {
        return Ok(Verdict::NotApplicable("no web service detected (a library or tool needs no deploy config)".into()));
    }
    if let Some(publish) = publishes_package(repo) {
        return Ok(Verdict::NotApplicable(format!("a library published to a package registry ({publish})")));
    }
    if let Some(df) = dockerfiles(repo).first() {
        let path = &df.entry.path;
        return Ok(Verdict::Pass(vec![Evidence::new(format!("container image: {path}"), Some(Location::file(path)))]));
    }
    let deploy_file = repo.files().filter(|e| !e.is_test && !e.is_example && !e.is_docs).find(|e| is_deploy_file(e));
    match deploy_file {
        Some(e) => {
            Ok(Verdict::Pass(vec![Evidence::new(format!("deploy config: {}", e.path), Some(Location::file(&e.path)))]))
        }
        None => Ok(Verdict::Fail(vec![RawFinding::repo(format!(
            "web service ({}) with no Dockerfile and no platform deploy config",
            repo.stack.frameworks.join(", ")
        ))])),
    }
}

/// Commands that publish a package to a registry.
const PUBLISH_COMMANDS: &[&str] = &[
    "pypi-publish",
    "twine upload",
    "uv publish",
    "poetry publish",
    "flit publish",
    "hatch publish",
    "npm publish",
    "pnpm publish",
    "yarn npm publish",
    "cargo publish",
];

/// Where CI publishes the repository as a package: a framework's or
/// library's own repository detects its framework but deploys nothing.
fn publishes_package(repo: &Repo<'_>) -> Option<String> {
    crate::ci::load(repo).into_iter().find_map(|f| {
        let cmd = PUBLISH_COMMANDS.iter().find(|c| f.text.contains(**c))?;
        Some(format!("`{cmd}` in {}", f.path))
    })
}
