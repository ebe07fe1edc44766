//! Language-neutral evidence from manifests and file paths: "does this
//! repository declare one of these packages", across Python, Node, Go, Rust
//! and Java. Go module paths are compared as written (they are not
//! normalised like pip names) and match their sub-packages and `/vN`
//! majors; a pattern ending in `*` matches a name prefix (`@sentry/*`).

use crate::manifests::normalise;
use crate::model::{Evidence, Location};
use crate::repo::Repo;

/// The first declared dependency among `patterns`, as evidence.
pub fn first(repo: &Repo<'_>, patterns: &[&str]) -> Option<Evidence> {
    for m in &repo.manifests {
        for d in &m.deps {
            if patterns.iter().any(|p| matches(&d.name, p)) {
                let loc = match d.line {
                    Some(l) => Location::at(&m.path, l),
                    None => Location::file(&m.path),
                };
                return Some(Evidence::new(format!("{} declared in {}", d.name, m.path), Some(loc)));
            }
        }
    }
    None
}

fn matches(dep: &str, pattern: &str) -> bool {
    let lower = pattern.to_ascii_lowercase();
    if let Some(prefix) = lower.strip_suffix('*') {
        return dep.starts_with(prefix) || dep.starts_with(&normalise(prefix));
    }
    dep == lower
        || dep == normalise(&lower)
        || (lower.contains('/') && dep.strip_prefix(lower.as_str()).is_some_and(|r| r.starts_with('/')))
}

/// Evidence from a signal recorded by the per-file pass.
pub fn signal(repo: &Repo<'_>, key: &str, what: &str) -> Option<Evidence> {
    repo.signals(key).next().map(|(e, s)| {
        let detail = if s.detail.is_empty() { String::new() } else { format!(" ({})", s.detail) };
        Evidence::new(format!("{what}{detail} at {}:{}", e.path, s.line), Some(Location::at(&e.path, s.line)))
    })
}

/// A Rust dependency declared with a given feature (`tracing-subscriber` with `json`).
pub fn cargo_feature(repo: &Repo<'_>, krate: &str, feature: &str) -> Option<Evidence> {
    for m in repo.manifests.iter().filter(|m| m.kind == "Cargo.toml" && m.has(krate)) {
        let Some(entry) = repo.file(&m.path) else { continue };
        let Ok(text) = repo.read_text(entry) else { continue };
        let Ok(doc) = toml::from_str::<toml::Table>(&text) else { continue };
        let tables = [doc.get("dependencies"), doc.get("workspace").and_then(|w| w.get("dependencies"))];
        for t in tables.into_iter().flatten() {
            let has = t
                .get(krate)
                .and_then(|d| d.get("features"))
                .and_then(|f| f.as_array())
                .is_some_and(|fs| fs.iter().any(|f| f.as_str() == Some(feature)));
            if has {
                return Some(Evidence::new(
                    format!("{krate} with the {feature} feature in {}", m.path),
                    Some(Location::file(&m.path)),
                ));
            }
        }
    }
    None
}

/// The first file (any depth) whose repo-relative path satisfies `pred`.
pub fn file(repo: &Repo<'_>, what: &str, pred: impl Fn(&str) -> bool) -> Option<Evidence> {
    repo.files()
        .find(|f| pred(&f.path))
        .map(|f| Evidence::new(format!("{what}: {}", f.path), Some(Location::file(&f.path))))
}

/// The first Go file that mentions one of `needles` (needle, description):
/// stdlib APIs such as `slog.NewJSONHandler` have no dependency to declare.
/// Bounded: small app files, at most 2000, read once for all needles.
pub fn go_code_mentions(repo: &Repo<'_>, needles: &[(&str, &str)]) -> Option<Evidence> {
    code_mentions(repo, &[crate::walk::Language::Go], needles, false)
}

/// The first mention of any needle in application code of `languages`
/// (case-insensitive when `fold_case`, for header names), as evidence.
pub fn code_mentions(
    repo: &Repo<'_>,
    languages: &[crate::walk::Language],
    needles: &[(&str, &str)],
    fold_case: bool,
) -> Option<Evidence> {
    let finders: Vec<_> = needles.iter().map(|(n, what)| (memchr::memmem::Finder::new(n.as_bytes()), *what)).collect();
    repo.app_code()
        .filter(|f| f.language.is_some_and(|l| languages.contains(&l)) && f.size < 256 * 1024)
        .take(2000)
        .find_map(|f| {
            let text = repo.read_text(f).ok()?;
            let text = if fold_case { text.to_ascii_lowercase() } else { text };
            finders.iter().find_map(|(finder, what)| {
                let at = finder.find(text.as_bytes())?;
                let line = text[..at].matches('\n').count() as u32 + 1;
                Some(Evidence::new(format!("{what} at {}:{line}", f.path), Some(Location::at(&f.path, line))))
            })
        })
}
