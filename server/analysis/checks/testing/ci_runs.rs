//! Does CI run the tests? Searches the CI configuration for a test runner,
//! following indirection: a script file in the repository (and the scripts
//! it calls, up to three deep), a Makefile or justfile target, or a
//! package.json script that CI calls.

use crate::repo::Repo;
use crate::stack;
use crate::walk::FileEntry;
use regex::bytes::Regex;
use std::sync::LazyLock;

/// A place where some pattern was found.
#[derive(Debug, Clone)]
pub struct Hit {
    pub what: String,
    pub path: String,
    pub line: u32,
    /// When found through a script: where CI calls it (`path:line`).
    pub via: Option<String>,
}

impl Hit {
    /// `pytest run in ci.yml:8`, `pytest run in .ci/run:3 (called from ci.yml:12)`.
    pub fn describe(&self, verb: &str) -> String {
        let base = format!("{} {verb} {}:{}", self.what, self.path, self.line);
        match &self.via {
            Some(via) => format!("{base} (called from {via})"),
            None => base,
        }
    }
}

/// Test runner invocations.
pub static RUNNERS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:^|[\s;&|(\x22'=/])(pytest|py\.test|tox|nox|python3? -m (?:pytest|unittest)|manage\.py test",
        r"|go test|gotestsum|ginkgo|cargo (?:test|nextest|llvm-cov|tarpaulin)|(?:\./)?mvnw?(?:\s+-\S+)*\s+(?:\S+\s+)*?(?:test|verify|install|package)",
        r"|(?:\./)?gradlew?(?:\s+\S+)*?\s+(?:test|check|build)|(?:npm|yarn|pnpm|bun)(?:\s+run)?\s+test|npm t",
        r"|vitest|jest|mocha|karma|playwright test|cypress run|make (?:tests?|check)|just test|rspec|phpunit",
        r"|dotnet test|hatch (?:run )?test|bazel test|ctest)\b",
    ))
    .expect("runner regex")
});

/// Runner names that also start file and package names (`tox.ini`, `pytest-cov`).
const FILE_LIKE_RUNNERS: &[&[u8]] =
    &[b"tox", b"nox", b"jest", b"pytest", b"py.test", b"vitest", b"mocha", b"karma", b"rspec", b"phpunit", b"ctest"];

/// `make target`, `just target`, `npm run script`, `yarn script`.
static TARGETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(make|just|npm run|pnpm run|yarn run|yarn|pnpm)\s+(?:-\S+\s+)*([A-Za-z0-9_:.\-]+)")
        .expect("target regex")
});

/// `uses: ./path` — a local composite action, whose steps live in the repo.
static LOCAL_ACTION: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"uses:\s*['"]?\./([A-Za-z0-9_./\-]*)"#).expect("local action regex"));

/// CI configuration files of every supported system.
pub fn ci_files<'a>(repo: &Repo<'a>) -> Vec<&'a FileEntry> {
    repo.files().filter(|f| stack::ci_system(&f.path).is_some()).collect()
}

/// The first line of `text` matching `re`, skipping comment lines.
pub fn find_line(text: &str, re: &Regex) -> Option<(u32, String)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let t = line.trim_start();
        if t.starts_with('#') || t.starts_with("//") {
            return None;
        }
        // `tox.ini`, `jest.config.js`, `pytest-cov` name files and packages, not runs.
        re.captures_iter(line.as_bytes()).find_map(|c| {
            let m = c.get(1).or_else(|| c.get(0))?;
            let next = line.as_bytes().get(m.end()).copied();
            let names_file =
                FILE_LIKE_RUNNERS.contains(&m.as_bytes()) && matches!(next, Some(b'.' | b'-' | b'/' | b'_'));
            (!names_file).then(|| (i as u32 + 1, String::from_utf8_lossy(m.as_bytes()).trim().to_string()))
        })
    })
}

/// Where `re` matches in the CI configuration, directly or one script away.
pub fn search_ci(repo: &Repo<'_>, re: &Regex) -> Option<Hit> {
    let ci: Vec<(&FileEntry, String)> =
        ci_files(repo).into_iter().filter_map(|f| repo.read_text(f).ok().map(|t| (f, t))).collect();
    for (f, text) in &ci {
        if let Some((line, what)) = find_line(text, re) {
            return Some(Hit { what, path: f.path.clone(), line, via: None });
        }
    }
    for (f, text) in &ci {
        if let Some(hit) = through_scripts(repo, f, text, re) {
            return Some(hit);
        }
    }
    None
}

/// Script files in the repository that CI invokes by path.
fn through_scripts(repo: &Repo<'_>, ci: &FileEntry, text: &str, re: &Regex) -> Option<Hit> {
    for script in repo.files().filter(|f| is_script_candidate(f)) {
        let Some(at) = mentions(text, &script.path) else { continue };
        let mut seen = vec![script.path.clone()];
        if let Some((path, line, what)) = script_runs(repo, script, re, 3, &mut seen) {
            let via = format!("{}:{}", ci.path, line_at(text, at));
            return Some(Hit { what, path, line, via: Some(via) });
        }
    }
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        if let Some(caps) = LOCAL_ACTION.captures(line.as_bytes()) {
            let dir = String::from_utf8_lossy(&caps[1]).trim_end_matches('/').to_string();
            for name in ["action.yml", "action.yaml"] {
                let path = if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") };
                let Some(action) = repo.file(&path) else { continue };
                let Ok(body) = repo.read_text(action) else { continue };
                if let Some((line_no, what)) = find_line(&body, re) {
                    let via = Some(format!("{}:{}", ci.path, i + 1));
                    return Some(Hit { what, path, line: line_no, via });
                }
            }
        }
        for caps in TARGETS.captures_iter(line.as_bytes()) {
            let tool = String::from_utf8_lossy(&caps[1]).to_string();
            let target = String::from_utf8_lossy(&caps[2]).to_string();
            let via = format!("{}:{}", ci.path, i + 1);
            if let Some(mut hit) = target_runs(repo, &tool, &target, re) {
                hit.via = Some(via);
                return Some(hit);
            }
        }
    }
    None
}

/// Whether `script`, or a script it calls (to `depth` levels, each file
/// once), runs `re`: CI often calls `.ci/run`, which calls `.ci/test`.
fn script_runs(
    repo: &Repo<'_>,
    script: &FileEntry,
    re: &Regex,
    depth: u32,
    seen: &mut Vec<String>,
) -> Option<(String, u32, String)> {
    let body = repo.read_text(script).ok()?;
    if let Some((line, what)) = find_line(&body, re) {
        return Some((script.path.clone(), line, what));
    }
    if depth <= 1 {
        return None;
    }
    for next in repo.files().filter(|f| is_script_candidate(f)) {
        if seen.contains(&next.path) || mentions(&body, &next.path).is_none() {
            continue;
        }
        seen.push(next.path.clone());
        if let Some(found) = script_runs(repo, next, re, depth - 1, seen) {
            return Some(found);
        }
    }
    None
}

fn is_script_candidate(f: &FileEntry) -> bool {
    let name = f.file_name();
    let ext = f.extension().unwrap_or("");
    let dir_ok = f.components().next().is_some_and(|d| {
        matches!(
            d,
            "scripts" | "script" | "ci" | ".ci" | "bin" | "tools" | ".github" | "hack" | "dev" | "build-support"
        )
    });
    f.size < 256 * 1024
        && (matches!(ext, "sh" | "bash" | "zsh" | "ps1") || (dir_ok && (ext.is_empty() || ext == "py")))
        && !name.is_empty()
}

/// Byte offset where `path` is mentioned as a path (not inside a longer name).
fn mentions(text: &str, path: &str) -> Option<usize> {
    text.match_indices(path).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().last();
        let after = text[i + path.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        boundary(before) && boundary(after) || before == Some('/') && boundary(after)
    })
}

fn line_at(text: &str, at: usize) -> usize {
    text[..at].matches('\n').count() + 1
}

/// Whether a Makefile/justfile target or package.json script runs `re`.
fn target_runs(repo: &Repo<'_>, tool: &str, target: &str, re: &Regex) -> Option<Hit> {
    let files: &[&str] = match tool {
        "make" => &["Makefile", "makefile", "GNUmakefile"],
        "just" => &["justfile", "Justfile", ".justfile"],
        _ => &["package.json"],
    };
    for entry in repo.files().filter(|f| files.contains(&f.file_name())) {
        let Ok(text) = repo.read_text(entry) else { continue };
        let found = if files == ["package.json"] {
            script_in_package_json(&text, target, re)
        } else {
            recipe_of(&text, target, re)
        };
        if let Some((line, what)) = found {
            return Some(Hit { what, path: entry.path.clone(), line, via: None });
        }
    }
    None
}

/// Lines of the recipe of `target` (Make or just syntax) that match `re`.
fn recipe_of(text: &str, target: &str, re: &Regex) -> Option<(u32, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| {
        let head = l.split(':').next().unwrap_or("");
        !l.starts_with([' ', '\t']) && head.split_whitespace().any(|t| t == target) && l.contains(':')
    })?;
    if let Some(m) = re.captures(lines[start].split_once(':').map_or("", |(_, r)| r).as_bytes()) {
        let what = String::from_utf8_lossy(m.get(1).or_else(|| m.get(0))?.as_bytes()).trim().to_string();
        return Some((start as u32 + 1, what));
    }
    for (i, line) in lines.iter().enumerate().skip(start + 1) {
        if !line.starts_with([' ', '\t']) && !line.trim().is_empty() {
            break;
        }
        if let Some(c) = re.captures(line.as_bytes()) {
            let what = String::from_utf8_lossy(c.get(1).or_else(|| c.get(0))?.as_bytes()).trim().to_string();
            return Some((i as u32 + 1, what));
        }
    }
    None
}

fn script_in_package_json(text: &str, script: &str, re: &Regex) -> Option<(u32, String)> {
    let json: serde_json::Value = serde_json::from_str(text).ok()?;
    let command = json.get("scripts")?.get(script)?.as_str()?;
    let c = re.captures(command.as_bytes())?;
    let what = String::from_utf8_lossy(c.get(1).or_else(|| c.get(0))?.as_bytes()).trim().to_string();
    let key = format!("\"{script}\"");
    let line = text.lines().position(|l| l.contains(&key)).map_or(1, |i| i as u32 + 1);
    Some((line, what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runners_are_recognised() {
        for line in [
            "run: pytest -q",
            "  - uv run pytest",
            "run: npm test",
            "cargo nextest run",
            "./gradlew clean test",
            "mvn -B verify",
            "go test ./...",
            "run: tox -e py312",
        ] {
            assert!(RUNNERS.is_match(line.as_bytes()), "{line}");
        }
        for line in ["run: npm run build", "echo protox", "uses: actions/checkout@v4", "java -jar app.jar"] {
            assert!(!RUNNERS.is_match(line.as_bytes()), "{line}");
        }
        assert_eq!(find_line("key: ${{ hashFiles('tox.ini') }}\nrun: pip install pytest-cov\n", &RUNNERS), None);
        assert_eq!(find_line("run: pytest -q\n", &RUNNERS), Some((1, "pytest".into())));
    }

    #[test]
    fn make_recipes_are_followed() {
        let mk = "build:\n\tgo build ./...\n\ntest: build\n\tgo test ./...\n";
        assert_eq!(recipe_of(mk, "test", &RUNNERS), Some((5, "go test".into())));
        assert_eq!(recipe_of(mk, "build", &RUNNERS), None);
    }
}
