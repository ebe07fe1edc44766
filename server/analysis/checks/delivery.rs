//! Delivery checks (CI, containers, dependency hygiene, deploy config) and
//! `dev-server-in-production` (reliability), which reads the same deploy
//! files. Everything here works on configuration files read at check time;
//! there is no per-file analyzer.
//!
//! The Docker checks live in `delivery_docker.rs`, the CI checks in
//! `delivery_ci.rs` and the dependency checks in `delivery_deps.rs`; this
//! module registers them and holds what they share: which Dockerfiles are
//! production ones, and how per-file results combine into one verdict.

use super::{Check, CheckSpec, RawFinding, Verdict};
use crate::dockerfile::{self, Dockerfile};
use crate::engine::FileAnalyzer;
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;
use crate::walk::FileEntry;
use regex::Regex;
use std::sync::LazyLock;

#[path = "delivery_ci.rs"]
mod ci_checks;
#[path = "delivery_deps.rs"]
mod deps;
#[path = "delivery_docker.rs"]
mod docker;

/// Every delivery check, plus `dev-server-in-production`.
pub fn checks() -> Vec<Check> {
    let mut list = ci_checks::checks();
    list.push(Check { spec: DEPLOY_CONFIG_MISSING, run: deploy_config_missing });
    list.extend(docker::checks());
    list.extend(deps::checks());
    list.push(Check { spec: DEV_SERVER, run: dev_server_in_production });
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

const DEV_SERVER: CheckSpec = CheckSpec {
    id: "dev-server-in-production",
    title: "Production start command runs a development server",
    category: Category::Reliability,
    severity: Severity::High,
    pass_summary: "the production start command runs a production server",
    rationale: "Development servers (auto-reload, `flask run`, `manage.py runserver`, nodemon, `next dev`, ts-node) watch files, run one worker, print debug output and are not hardened: under real traffic they are slow, leak memory and may expose debuggers.",
    fix: "Start the app with a production server: `gunicorn -k uvicorn.workers.UvicornWorker app:app` or `uvicorn app:app --workers 4` without `--reload`, `gunicorn project.wsgi`, `node dist/server.js` after a build, `next start`. Keep the dev command in a separate `dev` script or compose file.",
};

static DEV_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u)(--reload\b|\bflask\s+run\b|manage\.py\s+runserver\b|\bnodemon\b|\bnext\s+dev\b|\bnuxt\s+dev\b|\b(npm|pnpm|yarn|bun)\s+(run\s+)?dev\b|\bts-node(-dev)?\b|\bfastapi\s+dev\b|\btsx\s+watch\b|\bwebpack-dev-server\b)",
    )
    .expect("valid regex")
});

static NPM_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)\b(npm|pnpm|yarn|bun)\s+(run\s+)?start\b|\bnpm\s+start\b").expect("valid regex")
});

/// A command that starts the service in production, and where it is written.
struct StartCommand {
    path: String,
    line: u32,
    /// `Dockerfile CMD`, `Procfile web`, …
    source: &'static str,
    text: String,
}

fn dev_server_in_production(repo: &Repo<'_>) -> Result<Verdict, String> {
    let (mut commands, errors) = start_commands(repo);
    // `npm start` is the production command only if a deploy config calls it
    // or nothing else starts the service (platforms default to it).
    let uses_npm_start = commands.is_empty() || commands.iter().any(|c| NPM_START.is_match(&c.text));
    if uses_npm_start {
        commands.extend(package_json_starts(repo));
    }
    if commands.is_empty() && errors.is_empty() {
        return Ok(Verdict::NotApplicable("no production start command found".into()));
    }
    let findings: Vec<RawFinding> = commands
        .iter()
        .filter_map(|c| {
            let m = DEV_COMMAND.find(&c.text)?;
            let evidence = format!("{}: {}", c.source, c.text.trim());
            Some(RawFinding::at(
                Location::at(&c.path, c.line),
                format!("{} runs a development server (`{}`)", c.source, m.as_str()),
                evidence,
            ))
        })
        .collect();
    let pass = commands
        .iter()
        .map(|c| Evidence::new(format!("{}: {}", c.source, c.text.trim()), Some(Location::at(&c.path, c.line))))
        .collect();
    conclude(findings, errors, pass)
}

fn line_containing(text: &str, needle: &str) -> u32 {
    text.lines().position(|l| l.contains(needle)).map_or(1, |i| i as u32 + 1)
}

fn start_commands(repo: &Repo<'_>) -> (Vec<StartCommand>, Vec<String>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for df in dockerfiles(repo) {
        let d = match df.parsed {
            Ok(d) => d,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        // CMD and ENTRYPOINT are inherited from a parent stage.
        let mut idx = Some(d.stages.len() - 1);
        let (mut entry, mut cmd) = (None, None);
        while let Some(i) = idx {
            entry = entry.or_else(|| d.stages[i].last("ENTRYPOINT").cloned());
            cmd = cmd.or_else(|| d.stages[i].last("CMD").cloned());
            idx = d.parent_stage(i);
        }
        let text = [&entry, &cmd].iter().filter_map(|i| i.as_ref()).map(|i| i.command().text()).collect::<Vec<_>>();
        if let Some(at) = cmd.as_ref().or(entry.as_ref()) {
            let source = if cmd.is_some() { "Dockerfile CMD" } else { "Dockerfile ENTRYPOINT" };
            out.push(StartCommand { path: df.entry.path.clone(), line: at.line, source, text: text.join(" ") });
        }
    }
    for entry in repo.files().filter(|e| !e.is_test && !e.is_example && !e.is_docs) {
        let name = entry.file_name();
        if !matches!(name, "Procfile" | "fly.toml" | "render.yaml" | "railway.json" | "railway.toml") {
            continue;
        }
        let Ok(text) = repo.read_text(entry) else { continue };
        let path = entry.path.clone();
        match name {
            "Procfile" => {
                for (i, l) in text.lines().enumerate() {
                    if let Some(cmd) = l.trim_start().strip_prefix("web:") {
                        out.push(StartCommand {
                            path: path.clone(),
                            line: i as u32 + 1,
                            source: "Procfile web",
                            text: cmd.into(),
                        });
                    }
                }
            }
            "fly.toml" | "railway.toml" => {
                let Ok(doc) = toml::from_str::<toml::Table>(&text) else { continue };
                let mut cmds: Vec<(String, &'static str)> = Vec::new();
                if name == "fly.toml" {
                    for (_, v) in doc.get("processes").and_then(|p| p.as_table()).into_iter().flatten() {
                        cmds.extend(v.as_str().map(|s| (s.to_string(), "fly.toml process")));
                    }
                    if let Some(cmd) = doc.get("experimental").and_then(|e| e.get("cmd")) {
                        cmds.push((toml_command(cmd), "fly.toml cmd"));
                    }
                } else if let Some(cmd) = doc.get("deploy").and_then(|d| d.get("startCommand")).and_then(|c| c.as_str())
                {
                    cmds.push((cmd.to_string(), "railway startCommand"));
                }
                for (cmd, source) in cmds {
                    let needle = cmd.split_whitespace().next().unwrap_or(&cmd).to_string();
                    out.push(StartCommand {
                        path: path.clone(),
                        line: line_containing(&text, &needle),
                        source,
                        text: cmd,
                    });
                }
            }
            "railway.json" => {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else { continue };
                if let Some(cmd) = v.pointer("/deploy/startCommand").and_then(|c| c.as_str()) {
                    let line = line_containing(&text, "startCommand");
                    out.push(StartCommand { path, line, source: "railway startCommand", text: cmd.into() });
                }
            }
            _ => {
                let Ok(docs) = crate::ci::parse_yaml(&text) else { continue };
                for service in docs.iter().flat_map(|d| d.get("services").map(|s| s.items()).unwrap_or(&[])) {
                    for key in ["startCommand", "dockerCommand"] {
                        if let Some(n) = service.get(key) {
                            let text = n.as_str().unwrap_or("").to_string();
                            out.push(StartCommand {
                                path: path.clone(),
                                line: n.line,
                                source: "render.yaml startCommand",
                                text,
                            });
                        }
                    }
                }
            }
        }
    }
    (out, errors)
}

fn toml_command(v: &toml::Value) -> String {
    match v {
        toml::Value::Array(parts) => parts.iter().filter_map(|p| p.as_str()).collect::<Vec<_>>().join(" "),
        other => other.as_str().unwrap_or("").to_string(),
    }
}

fn package_json_starts(repo: &Repo<'_>) -> Vec<StartCommand> {
    repo.manifests
        .iter()
        .filter(|m| m.kind == "package.json")
        .filter_map(|m| {
            let text = repo.read_text(repo.file(&m.path)?).ok()?;
            let v: serde_json::Value = serde_json::from_str(&text).ok()?;
            let start = v.pointer("/scripts/start")?.as_str()?.to_string();
            let line = line_containing(&text, "\"start\"");
            Some(StartCommand { path: m.path.clone(), line, source: "package.json start", text: start })
        })
        .collect()
}
