//! `dev-server-in-production` (reliability): finds the command that starts
//! the service in production (final-stage Dockerfile CMD/ENTRYPOINT,
//! Procfile `web:`, fly.toml, render.yaml, railway config, package.json
//! `start` when that is what runs) and fails when it is a development server.

use super::{conclude, dockerfiles};
use crate::checks::{Check, CheckSpec, RawFinding, Verdict};
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;
use regex::Regex;
use std::sync::LazyLock;

pub fn checks() -> Vec<Check> {
    vec![Check { spec: DEV_SERVER, run: dev_server_in_production }]
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
    let (mut out, errors) = dockerfile_starts(repo);
    for entry in repo.files().filter(|e| !e.is_test && !e.is_example && !e.is_docs) {
        let name = entry.file_name();
        if !matches!(name, "Procfile" | "fly.toml" | "render.yaml" | "railway.json" | "railway.toml") {
            continue;
        }
        let Ok(text) = repo.read_text(entry) else { continue };
        let path = entry.path.as_str();
        match name {
            "Procfile" => out.extend(procfile_starts(path, &text)),
            "fly.toml" | "railway.toml" => out.extend(toml_starts(path, &text)),
            "railway.json" => out.extend(railway_json_start(path, &text)),
            _ => out.extend(render_starts(path, &text)),
        }
    }
    (out, errors)
}

/// The final stage's CMD (and ENTRYPOINT, joined) of each production Dockerfile.
fn dockerfile_starts(repo: &Repo<'_>) -> (Vec<StartCommand>, Vec<String>) {
    let (mut out, mut errors) = (Vec::new(), Vec::new());
    for df in dockerfiles(repo) {
        let d = match df.parsed {
            Ok(d) => d,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let last = d.stages.len() - 1;
        let (entry, cmd) = (d.inherited(last, "ENTRYPOINT"), d.inherited(last, "CMD"));
        let text: Vec<String> = [entry, cmd].iter().flatten().map(|i| i.command().text()).collect();
        if let Some(at) = cmd.or(entry) {
            let source = if cmd.is_some() { "Dockerfile CMD" } else { "Dockerfile ENTRYPOINT" };
            out.push(StartCommand { path: df.entry.path.clone(), line: at.line, source, text: text.join(" ") });
        }
    }
    (out, errors)
}

fn procfile_starts(path: &str, text: &str) -> Vec<StartCommand> {
    text.lines()
        .enumerate()
        .filter_map(|(i, l)| {
            let cmd = l.trim_start().strip_prefix("web:")?;
            Some(StartCommand { path: path.into(), line: i as u32 + 1, source: "Procfile web", text: cmd.into() })
        })
        .collect()
}

/// fly.toml `[processes]` and `[experimental] cmd`; railway.toml `[deploy] startCommand`.
fn toml_starts(path: &str, text: &str) -> Vec<StartCommand> {
    let Ok(doc) = toml::from_str::<toml::Table>(text) else { return vec![] };
    let mut cmds: Vec<(String, &'static str)> = Vec::new();
    if path.ends_with("fly.toml") {
        for (_, v) in doc.get("processes").and_then(|p| p.as_table()).into_iter().flatten() {
            cmds.extend(v.as_str().map(|s| (s.to_string(), "fly.toml process")));
        }
        if let Some(cmd) = doc.get("experimental").and_then(|e| e.get("cmd")) {
            cmds.push((toml_command(cmd), "fly.toml cmd"));
        }
    } else if let Some(cmd) = doc.get("deploy").and_then(|d| d.get("startCommand")).and_then(|c| c.as_str()) {
        cmds.push((cmd.to_string(), "railway startCommand"));
    }
    cmds.into_iter()
        .map(|(cmd, source)| {
            // TOML strings are usually written as-is; else the first word finds the line.
            let first = cmd.split_whitespace().next().unwrap_or("");
            let line =
                if text.contains(cmd.as_str()) { line_containing(text, &cmd) } else { line_containing(text, first) };
            StartCommand { path: path.into(), line, source, text: cmd }
        })
        .collect()
}

fn railway_json_start(path: &str, text: &str) -> Option<StartCommand> {
    let v = serde_json::from_str::<serde_json::Value>(text).ok()?;
    let cmd = v.pointer("/deploy/startCommand")?.as_str()?;
    let line = line_containing(text, "startCommand");
    Some(StartCommand { path: path.into(), line, source: "railway startCommand", text: cmd.into() })
}

/// render.yaml `services[].startCommand` / `dockerCommand`.
fn render_starts(path: &str, text: &str) -> Vec<StartCommand> {
    let Ok(docs) = crate::ci::parse_yaml(text) else { return vec![] };
    let services = docs.iter().flat_map(|d| d.get("services").map(|s| s.items()).unwrap_or(&[]));
    services
        .flat_map(|service| {
            [("startCommand", "render.yaml startCommand"), ("dockerCommand", "render.yaml dockerCommand")]
                .into_iter()
                .filter_map(|(key, source)| {
                    let (k, v) = service.entry(key)?;
                    Some(StartCommand { path: path.into(), line: k.line, source, text: v.as_str()?.to_string() })
                })
        })
        .collect()
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
