//! Dependency manifests: which packages a repository declares, and how
//! tightly they are pinned. Parsing is lenient: a manifest that does not
//! parse is kept with its error, so checks that depend on it can report
//! `error` instead of silently passing.

use crate::walk::FileIndex;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Python,
    Node,
    Go,
    Rust,
    Java,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dependency {
    /// Normalised: lower case, `_` and `.` folded to `-`.
    pub name: String,
    /// The version requirement as written (may be empty).
    pub spec: String,
    /// 1-based line in the manifest, where known.
    pub line: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub path: String,
    pub ecosystem: Ecosystem,
    /// `requirements.txt`, `pyproject.toml`, `package.json`, …
    pub kind: &'static str,
    pub deps: Vec<Dependency>,
    pub error: Option<String>,
}

impl Manifest {
    pub fn has(&self, name: &str) -> bool {
        let n = normalise(name);
        // Go module paths are stored as written (lower-cased), not pip-normalised.
        let raw = name.trim().to_ascii_lowercase();
        self.deps.iter().any(|d| d.name == n || d.name == raw)
    }

    /// Directory of the manifest ("" for the root).
    pub fn dir(&self) -> &str {
        self.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("")
    }
}

pub fn normalise(name: &str) -> String {
    name.trim().to_ascii_lowercase().replace(['_', '.'], "-")
}

const MAX_MANIFEST: u64 = 2 * 1024 * 1024;

/// Finds and parses every manifest outside tests, docs and examples.
pub fn load(root: &Path, index: &FileIndex) -> Vec<Manifest> {
    let _ = root;
    let mut out = Vec::new();
    for entry in &index.files {
        if entry.is_test || entry.is_example || entry.path.starts_with("docs/") {
            continue;
        }
        let name = entry.file_name();
        let kind: &'static str = match name {
            "pyproject.toml" => "pyproject.toml",
            "Pipfile" => "Pipfile",
            "setup.py" => "setup.py",
            "package.json" => "package.json",
            "go.mod" => "go.mod",
            "Cargo.toml" => "Cargo.toml",
            "pom.xml" => "pom.xml",
            "build.gradle" | "build.gradle.kts" => "build.gradle",
            n if is_requirements(n) => "requirements.txt",
            _ => continue,
        };
        let ecosystem = match kind {
            "package.json" => Ecosystem::Node,
            "go.mod" => Ecosystem::Go,
            "Cargo.toml" => Ecosystem::Rust,
            "pom.xml" | "build.gradle" => Ecosystem::Java,
            _ => Ecosystem::Python,
        };
        let mut m = Manifest { path: entry.path.clone(), ecosystem, kind, deps: vec![], error: None };
        if entry.size > MAX_MANIFEST {
            m.error = Some(format!("{} bytes is too large for a manifest", entry.size));
            out.push(m);
            continue;
        }
        match std::fs::read(&entry.abs) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                match parse(kind, &text) {
                    Ok(deps) => m.deps = deps,
                    Err(e) => m.error = Some(e),
                }
            }
            Err(e) => m.error = Some(format!("cannot read: {e}")),
        }
        out.push(m);
    }
    out
}

/// `requirements.txt`, `requirements-dev.txt`, `requirements/base.txt`, `requirements.in`.
pub fn is_requirements(name: &str) -> bool {
    name.starts_with("requirements") && (name.ends_with(".txt") || name.ends_with(".in"))
}

fn dep(name: &str, spec: &str, line: Option<u32>) -> Dependency {
    Dependency { name: normalise(name), spec: spec.trim().to_string(), line }
}

/// Parses a manifest of the given kind.
///
/// # Errors
/// A message naming what does not parse.
pub fn parse(kind: &str, text: &str) -> Result<Vec<Dependency>, String> {
    match kind {
        "requirements.txt" => Ok(parse_requirements(text)),
        "pyproject.toml" => parse_pyproject(text),
        "Pipfile" => parse_toml_tables(text, &["packages", "dev-packages"]),
        "setup.py" => Ok(parse_setup_py(text)),
        "package.json" => parse_package_json(text),
        "go.mod" => Ok(parse_go_mod(text)),
        "Cargo.toml" => parse_toml_tables(
            text,
            &["dependencies", "dev-dependencies", "build-dependencies", "workspace.dependencies"],
        ),
        "pom.xml" => Ok(parse_pom(text)),
        "build.gradle" => Ok(parse_gradle(text)),
        _ => Ok(vec![]),
    }
}

/// Splits a PEP 508 requirement into name and version spec.
pub fn split_requirement(req: &str) -> Option<(&str, &str)> {
    let req = req.split(';').next()?.trim();
    let end = req.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')).unwrap_or(req.len());
    let name = &req[..end];
    if name.is_empty() {
        return None;
    }
    let rest = req[end..].trim_start();
    // Drop extras: `uvicorn[standard]>=0.29`.
    let rest = if rest.starts_with('[') { rest.find(']').map(|i| &rest[i + 1..]).unwrap_or("") } else { rest };
    Some((name, rest.trim()))
}

fn parse_requirements(text: &str) -> Vec<Dependency> {
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let line = line.split(" #").next()?.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('-') || line.contains("://") {
                return None;
            }
            let (name, spec) = split_requirement(line)?;
            Some(dep(name, spec, Some(i as u32 + 1)))
        })
        .collect()
}

fn line_of(text: &str, needle: &str) -> Option<u32> {
    text.lines().position(|l| l.contains(needle)).map(|i| i as u32 + 1)
}

fn parse_pyproject(text: &str) -> Result<Vec<Dependency>, String> {
    let doc: toml::Table =
        toml::from_str(text).map_err(|e| format!("pyproject.toml does not parse: {}", e.message()))?;
    let mut deps = Vec::new();
    let mut push_req = |req: &str| {
        if let Some((name, spec)) = split_requirement(req) {
            deps.push(dep(name, spec, line_of(text, req)));
        }
    };
    if let Some(project) = doc.get("project").and_then(|p| p.as_table()) {
        for req in project.get("dependencies").and_then(|d| d.as_array()).into_iter().flatten() {
            if let Some(s) = req.as_str() {
                push_req(s);
            }
        }
        for (_, group) in project.get("optional-dependencies").and_then(|d| d.as_table()).into_iter().flatten() {
            for req in group.as_array().into_iter().flatten().filter_map(|r| r.as_str()) {
                push_req(req);
            }
        }
    }
    for (_, group) in doc.get("dependency-groups").and_then(|d| d.as_table()).into_iter().flatten() {
        for req in group.as_array().into_iter().flatten().filter_map(|r| r.as_str()) {
            push_req(req);
        }
    }
    let poetry = doc.get("tool").and_then(|t| t.get("poetry"));
    for table in ["dependencies", "dev-dependencies"] {
        for (name, spec) in poetry.and_then(|p| p.get(table)).and_then(|d| d.as_table()).into_iter().flatten() {
            if name != "python" {
                deps.push(dep(name, &toml_spec(spec), line_of(text, name)));
            }
        }
    }
    for (_, group) in poetry.and_then(|p| p.get("group")).and_then(|g| g.as_table()).into_iter().flatten() {
        for (name, spec) in group.get("dependencies").and_then(|d| d.as_table()).into_iter().flatten() {
            deps.push(dep(name, &toml_spec(spec), line_of(text, name)));
        }
    }
    Ok(deps)
}

fn toml_spec(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Table(t) => t.get("version").and_then(|v| v.as_str()).unwrap_or("").to_string(),
        _ => String::new(),
    }
}

fn parse_toml_tables(text: &str, tables: &[&str]) -> Result<Vec<Dependency>, String> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| format!("does not parse: {}", e.message()))?;
    let mut deps = Vec::new();
    for path in tables {
        let mut node: Option<&toml::Value> = None;
        for (i, part) in path.split('.').enumerate() {
            node = if i == 0 { doc.get(part) } else { node.and_then(|n| n.get(part)) };
        }
        for (name, spec) in node.and_then(|n| n.as_table()).into_iter().flatten() {
            deps.push(dep(name, &toml_spec(spec), line_of(text, name)));
        }
    }
    Ok(deps)
}

fn parse_setup_py(text: &str) -> Vec<Dependency> {
    let Some(start) = text.find("install_requires") else { return vec![] };
    let rest = &text[start..];
    let Some(open) = rest.find('[') else { return vec![] };
    let Some(close) = rest[open..].find(']') else { return vec![] };
    rest[open + 1..open + close]
        .split(',')
        .filter_map(|s| {
            let s = s.trim().trim_matches(|c| c == '"' || c == '\'');
            split_requirement(s).map(|(n, v)| dep(n, v, line_of(text, s)))
        })
        .collect()
}

fn parse_package_json(text: &str) -> Result<Vec<Dependency>, String> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("package.json does not parse: {e}"))?;
    let mut deps = Vec::new();
    for table in ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"] {
        for (name, spec) in v.get(table).and_then(|d| d.as_object()).into_iter().flatten() {
            deps.push(dep(name, spec.as_str().unwrap_or(""), line_of(text, &format!("\"{name}\""))));
        }
    }
    Ok(deps)
}

fn parse_go_mod(text: &str) -> Vec<Dependency> {
    let mut deps = Vec::new();
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.split("//").next().unwrap_or("").trim();
        if line.starts_with("require (") {
            in_block = true;
            continue;
        }
        if in_block && line == ")" {
            in_block = false;
            continue;
        }
        let body = if in_block { Some(line) } else { line.strip_prefix("require ") };
        if let Some(body) = body {
            let mut parts = body.split_whitespace();
            if let (Some(name), Some(ver)) = (parts.next(), parts.next()) {
                deps.push(Dependency {
                    name: name.to_ascii_lowercase(),
                    spec: ver.to_string(),
                    line: Some(i as u32 + 1),
                });
            }
        }
    }
    deps
}

fn xml_values<'a>(text: &'a str, tag: &str) -> Vec<(&'a str, u32)> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let (Some(a), Some(b)) = (line.find(&open), line.find(&close))
            && a + open.len() <= b
        {
            out.push((line[a + open.len()..b].trim(), i as u32 + 1));
        }
    }
    out
}

fn parse_pom(text: &str) -> Vec<Dependency> {
    xml_values(text, "artifactId").into_iter().map(|(n, line)| dep(n, "", Some(line))).collect()
}

fn parse_gradle(text: &str) -> Vec<Dependency> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for quote in ['"', '\''] {
            let mut parts = line.split(quote);
            parts.next();
            if let Some(coord) = parts.next() {
                let mut segs = coord.split(':');
                if let (Some(_group), Some(artifact)) = (segs.next(), segs.next()) {
                    out.push(dep(artifact, segs.next().unwrap_or(""), Some(i as u32 + 1)));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_pyproject_and_package_json() {
        let d = parse("requirements.txt", "# c\nFastAPI==0.110.0\nuvicorn[standard]>=0.29\n-r base.txt\npython_jose\n")
            .unwrap();
        let names: Vec<_> = d.iter().map(|d| (d.name.as_str(), d.spec.as_str())).collect();
        assert_eq!(names, vec![("fastapi", "==0.110.0"), ("uvicorn", ">=0.29"), ("python-jose", "")]);
        let d =
            parse("pyproject.toml", "[project]\nname='x'\ndependencies=['django>=5', 'psycopg[binary]']\n").unwrap();
        assert_eq!(d[0].name, "django");
        assert_eq!(d[1].name, "psycopg");
        assert!(parse("pyproject.toml", "[project\n").is_err());
        let d = parse("package.json", r#"{"dependencies":{"express":"^4"},"devDependencies":{"jest":"29"}}"#).unwrap();
        assert_eq!(d.len(), 2);
    }
}
