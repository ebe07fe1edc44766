//! Spring Boot at the structure level: the settings of
//! `application*.properties` / `application*.yml` that decide what the
//! catalogue's code checks decide elsewhere — Hibernate creating the schema
//! (`spring.jpa.hibernate.ddl-auto=update`), a SQLite datasource, a DEBUG
//! root log level, stack traces in error responses, and springdoc's
//! Swagger UI left on. Development, local and test profiles are not the
//! production configuration and are not judged.

use crate::checks::{RawFinding, Verdict};
use crate::model::{Evidence, Location};
use crate::repo::Repo;
use crate::walk::FileEntry;
use yaml_rust2::{Yaml, YamlLoader};

/// One setting as written: `spring.jpa.hibernate.ddl-auto = update` at a line.
#[derive(Debug, Clone)]
pub struct Setting {
    pub path: String,
    pub line: u32,
    pub key: String,
    pub value: String,
    /// The profile the file or document is for (`prod`), `None` for the default.
    pub profile: Option<String>,
}

const DEV_PROFILES: &[&str] = &["dev", "development", "local", "test", "tests", "it", "h2"];

fn is_config_file(e: &FileEntry) -> bool {
    let name = e.file_name();
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    (stem == "application" || stem.starts_with("application-") || stem == "bootstrap")
        && [".properties", ".yml", ".yaml"].iter().any(|x| name.ends_with(x))
        && !e.is_test
        && !e.is_example
        && !e.is_docs
}

fn file_profile(name: &str) -> Option<String> {
    let stem = name.rsplit_once('.').map(|(s, _)| s).unwrap_or(name);
    stem.strip_prefix("application-").map(str::to_string)
}

/// Every setting of every Spring configuration file, with its profile.
pub fn settings(repo: &Repo<'_>) -> Vec<Setting> {
    let mut out = Vec::new();
    for e in repo.files().filter(|e| is_config_file(e)) {
        let Ok(text) = repo.read_text(e) else { continue };
        let profile = file_profile(e.file_name());
        if e.file_name().ends_with(".properties") {
            for (i, l) in text.lines().enumerate() {
                let l = l.trim();
                if l.starts_with('#') || l.starts_with('!') {
                    continue;
                }
                let Some(at) = l.find(['=', ':']) else { continue };
                let (k, v) = (l[..at].trim(), l[at + 1..].trim());
                out.push(Setting {
                    path: e.path.clone(),
                    line: i as u32 + 1,
                    key: k.to_string(),
                    value: v.to_string(),
                    profile: profile.clone(),
                });
            }
            continue;
        }
        let Ok(docs) = YamlLoader::load_from_str(&text) else { continue };
        for doc in docs {
            let mut flat = Vec::new();
            flatten(&doc, String::new(), &mut flat);
            let doc_profile = flat
                .iter()
                .find(|(k, _)| k == "spring.config.activate.on-profile" || k == "spring.profiles")
                .map(|(_, v)| v.clone())
                .or_else(|| profile.clone());
            for (key, value) in flat {
                let seg = key.rsplit('.').next().unwrap_or(&key).to_string();
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(&format!("{seg}:")) && l.contains(value.as_str()))
                    .map_or(1, |i| i as u32 + 1);
                out.push(Setting { path: e.path.clone(), line, key, value, profile: doc_profile.clone() });
            }
        }
    }
    out
}

fn flatten(y: &Yaml, prefix: String, out: &mut Vec<(String, String)>) {
    match y {
        Yaml::Hash(h) => {
            for (k, v) in h {
                let k = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    _ => continue,
                };
                let key = if prefix.is_empty() { k } else { format!("{prefix}.{k}") };
                flatten(v, key, out);
            }
        }
        Yaml::String(s) => out.push((prefix, s.clone())),
        Yaml::Integer(i) => out.push((prefix, i.to_string())),
        Yaml::Boolean(b) => out.push((prefix, b.to_string())),
        Yaml::Real(r) => out.push((prefix, r.clone())),
        _ => {}
    }
}

fn production(s: &Setting) -> bool {
    s.profile
        .as_deref()
        .is_none_or(|p| !p.split(',').any(|p| DEV_PROFILES.contains(&p.trim().to_ascii_lowercase().as_str())))
}

/// Relaxed binding: `ddl-auto`, `ddlAuto` and `ddl_auto` are one key.
fn key_is(s: &Setting, key: &str) -> bool {
    let norm = |k: &str| k.to_ascii_lowercase().replace(['-', '_'], "");
    norm(&s.key) == norm(key)
}

/// A literal value (not `${ENV_VAR:default}`, which the deployment decides).
fn literal(s: &Setting) -> Option<String> {
    let v = s.value.trim().trim_matches(|c| c == '"' || c == '\'');
    (!v.contains("${")).then(|| v.to_ascii_lowercase())
}

fn finding(s: &Setting, msg: &str) -> RawFinding {
    RawFinding::at(Location::at(&s.path, s.line), msg, format!("{}={}", s.key, s.value))
}

/// The Spring configuration's findings for check `id`.
pub fn findings(repo: &Repo<'_>, id: &str) -> Vec<RawFinding> {
    let all = settings(repo);
    let prod = all.iter().filter(|s| production(s));
    match id {
        "schema-created-at-startup" => prod
            .filter(|s| {
                key_is(s, "spring.jpa.hibernate.ddl-auto")
                    && literal(s).is_some_and(|v| matches!(v.as_str(), "update" | "create" | "create-drop"))
                    || key_is(s, "spring.jpa.generate-ddl") && literal(s).as_deref() == Some("true")
            })
            .map(|s| {
                finding(s, "Hibernate creates or alters the schema at startup instead of Flyway/Liquibase migrations")
            })
            .collect(),
        "sqlite-in-production" => prod
            .filter(|s| key_is(s, "spring.datasource.url") && literal(s).is_some_and(|v| v.starts_with("jdbc:sqlite:")))
            .map(|s| finding(s, "the datasource is a SQLite file"))
            .collect(),
        "log-level-hardcoded" => prod
            .filter(|s| key_is(s, "logging.level.root") && literal(s).is_some_and(|v| v == "debug" || v == "trace"))
            .map(|s| finding(s, "the root log level is fixed at DEBUG instead of read from the environment"))
            .collect(),
        "debug-enabled" => prod
            .filter(|s| {
                key_is(s, "server.error.include-stacktrace") && literal(s).as_deref() == Some("always")
                    || key_is(s, "debug") && literal(s).as_deref() == Some("true")
            })
            .map(|s| finding(s, "error responses or startup include debug output (stack traces) in production"))
            .collect(),
        "api-docs-exposed" => {
            let docs = repo.manifests.iter().find_map(|m| {
                let d = m.deps.iter().find(|d| d.name.starts_with("springdoc-openapi") && d.name.contains("ui"))?;
                Some((m.path.clone(), d.line, d.name.clone()))
            });
            let disabled = all.iter().any(|s| {
                (key_is(s, "springdoc.swagger-ui.enabled") || key_is(s, "springdoc.api-docs.enabled"))
                    && literal(s).is_none_or(|v| v != "true")
            });
            match docs {
                Some((path, line, name)) if !disabled => {
                    let loc = match line {
                        Some(l) => Location::at(&path, l),
                        None => Location::file(&path),
                    };
                    vec![RawFinding::at(
                        loc,
                        "springdoc serves Swagger UI in every environment (springdoc.swagger-ui.enabled is never turned off)",
                        name,
                    )]
                }
                _ => vec![],
            }
        }
        _ => vec![],
    }
}

/// Actuator with its metrics (or Prometheus) endpoint exposed over HTTP.
pub fn actuator_metrics(repo: &Repo<'_>) -> Option<Evidence> {
    if !crate::checks::web::spring_web(repo) || !repo.has_dependency("spring-boot-starter-actuator") {
        return None;
    }
    settings(repo).into_iter().find_map(|s| {
        let exposed = key_is(&s, "management.endpoints.web.exposure.include")
            && s.value.split(',').any(|v| matches!(v.trim().trim_matches('"'), "*" | "metrics" | "prometheus"));
        exposed.then(|| {
            Evidence::new(
                format!("Actuator metrics exposed ({}={}) at {}:{}", s.key, s.value, s.path, s.line),
                Some(Location::at(&s.path, s.line)),
            )
        })
    })
}

/// Adds the Spring configuration's findings to a code check's verdict: a
/// Spring Boot app is judged from its settings where its code is not read.
pub fn with_config(repo: &Repo<'_>, id: &str, verdict: Result<Verdict, String>) -> Result<Verdict, String> {
    if !crate::checks::web::spring_web(repo) {
        return verdict;
    }
    let extra = findings(repo, id);
    Ok(match verdict? {
        Verdict::Fail(mut f) => {
            f.extend(extra);
            Verdict::Fail(f)
        }
        _ if !extra.is_empty() => Verdict::Fail(extra),
        Verdict::Pass(ev) => Verdict::Pass(ev),
        Verdict::NotApplicable(_) => {
            let files = repo.files().filter(|e| is_config_file(e)).count();
            Verdict::Pass(vec![Evidence::new(
                format!("Spring Boot configuration checked ({files} application files)"),
                None,
            )])
        }
    })
}
