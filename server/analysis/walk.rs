//! Turns a directory into the list of files a scan looks at, classified once
//! so every check agrees on what is a test, a doc or vendored code.
//!
//! The walk honours `.gitignore` (also outside a git repository, so plain
//! directories behave like checkouts), never follows symlinks, and keeps no
//! file contents: memory grows with the number of paths, not their size.

use crate::model::Note;
use ignore::WalkBuilder;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Directories that hold someone else's code or build output. Skipped by
/// the walk entirely: findings there are not the repository's to fix.
pub const VENDORED_DIRS: &[&str] = &[
    "node_modules",
    ".venv",
    "venv",
    "env",
    "virtualenv",
    "site-packages",
    "vendor",
    "third_party",
    "dist",
    "build",
    "target",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".git",
    ".hg",
    ".svn",
    ".next",
    ".nuxt",
    "bower_components",
    ".gradle",
    ".idea",
];

/// The source language of a file, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    Python,
    JavaScript,
    TypeScript,
    Go,
    Rust,
    Java,
    Kotlin,
}

impl Language {
    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "Python",
            Language::JavaScript => "JavaScript",
            Language::TypeScript => "TypeScript",
            Language::Go => "Go",
            Language::Rust => "Rust",
            Language::Java => "Java",
            Language::Kotlin => "Kotlin",
        }
    }

    fn from_path(path: &str) -> Option<Language> {
        let ext = path.rsplit_once('.').map(|(_, e)| e)?;
        Some(match ext {
            "py" | "pyi" => Language::Python,
            "js" | "mjs" | "cjs" | "jsx" => Language::JavaScript,
            "ts" | "mts" | "cts" | "tsx" => Language::TypeScript,
            "go" => Language::Go,
            "rs" => Language::Rust,
            "java" => Language::Java,
            "kt" | "kts" => Language::Kotlin,
            _ => return None,
        })
    }
}

/// One file of the repository and what kind of file it is.
#[derive(Debug, Clone)]
pub struct FileEntry {
    /// Absolute path, for reading.
    pub abs: PathBuf,
    /// Repo-relative, `/`-separated; lossy if the name is not UTF-8.
    pub path: String,
    pub size: u64,
    pub language: Option<Language>,
    /// A test file or a file under a tests/fixtures directory.
    pub is_test: bool,
    /// Documentation: markdown/reST/text files and anything under docs/.
    pub is_docs: bool,
    /// Examples, samples and scripts that are not the service itself.
    pub is_example: bool,
    /// A database migration file (excluded from code checks, counted by data checks).
    pub is_migration: bool,
}

impl FileEntry {
    /// Code checks look at application code only: not tests, docs, examples
    /// or migrations.
    pub fn is_app_code(&self) -> bool {
        self.language.is_some() && !self.is_test && !self.is_docs && !self.is_example && !self.is_migration
    }

    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    pub fn extension(&self) -> Option<&str> {
        let name = self.file_name();
        name.rsplit_once('.').map(|(_, e)| e).filter(|_| !name.starts_with('.') || name.matches('.').count() > 1)
    }

    /// Path components below the root, directories first.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.path.split('/')
    }

    pub fn new(abs: PathBuf, path: String, size: u64) -> Self {
        let lower = path.to_ascii_lowercase();
        let dirs: Vec<&str> = lower.split('/').collect();
        let (dirs, name) = dirs.split_at(dirs.len().saturating_sub(1));
        let name = name.first().copied().unwrap_or("");
        let language = Language::from_path(&lower);
        let in_dir = |set: &[&str]| dirs.iter().any(|d| set.contains(d));
        let is_test =
            in_dir(&["tests", "test", "testing", "__tests__", "spec", "specs", "fixtures", "testdata", "e2e"])
                || name.starts_with("test_")
                || name.ends_with("_test.py")
                || name.ends_with("_test.go")
                || name == "conftest.py"
                || name == "tests.py"
                || [".test.", ".spec."].iter().any(|m| name.contains(m));
        let is_docs = in_dir(&["docs", "doc", "documentation"])
            || [".md", ".markdown", ".rst", ".txt", ".adoc"].iter().any(|e| name.ends_with(e))
                && !name.starts_with("requirements");
        // Below a JVM source root (`src/main/java/`) directories are package
        // names: `com/example/petclinic` is the application, not an example.
        let package_root = dirs
            .windows(3)
            .position(|w| w[0] == "src" && matches!(w[2], "java" | "kotlin" | "scala" | "groovy"))
            .map_or(dirs.len(), |i| i + 3);
        let is_example = dirs[..package_root].iter().any(|d| {
            ["examples", "example", "samples", "sample", "demo", "scripts", "benchmarks", "bench"].contains(d)
        });
        let is_migration = in_dir(&["migrations", "alembic", "migrate", "db_migrations"]);
        FileEntry { abs, path, size, language, is_test, is_docs, is_example, is_migration }
    }
}

/// The files of a repository, sorted by path.
#[derive(Debug, Default)]
pub struct FileIndex {
    pub files: Vec<FileEntry>,
    pub notes: Vec<Note>,
}

impl FileIndex {
    pub fn find(&self, path: &str) -> Option<&FileEntry> {
        self.files.binary_search_by(|f| f.path.as_str().cmp(path)).ok().map(|i| &self.files[i])
    }

    /// Files whose name (last component) satisfies `pred`.
    pub fn by_name<'a>(&'a self, pred: impl Fn(&str) -> bool + 'a) -> impl Iterator<Item = &'a FileEntry> + 'a {
        self.files.iter().filter(move |f| pred(f.file_name()))
    }
}

/// Walks `root`. Errors on individual entries become notes; only an
/// unreadable root is an error.
pub fn walk(root: &Path) -> std::io::Result<FileIndex> {
    let meta = std::fs::metadata(root)?;
    if !meta.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is not a directory", root.display()),
        ));
    }
    let mut index = FileIndex::default();
    let shared = Arc::new(Shared::default());
    let walker = builder(root, true, Arc::clone(&shared)).build();
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                index.notes.push(Note { path: String::new(), message: format!("could not list an entry: {err}") });
                continue;
            }
        };
        // Symlinks are listed by the walker but never followed or read: a
        // link to /etc/passwd must not become repository content.
        let Some(ft) = entry.file_type() else { continue };
        if ft.is_symlink() {
            // Said without the target: where a link points (/etc/passwd)
            // is none of the report's business.
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            index.notes.push(Note {
                path: rel.to_string_lossy().replace('\\', "/"),
                message: "symbolic link: not followed, its target is not scanned".into(),
            });
        }
        if !ft.is_file() {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let rel_str = rel.to_string_lossy().replace('\\', "/");
        if rel.to_str().is_none() {
            index.notes.push(Note {
                path: rel_str.clone(),
                message: "file name is not valid UTF-8; shown with replacement characters".into(),
            });
        }
        // A newline in a name breaks every `path:line` a reader or a tool
        // parses from the text report; say so next to the findings.
        if rel_str.chars().any(char::is_control) {
            index.notes.push(Note {
                path: rel_str.clone(),
                message: "file name contains a control character (such as a newline); \
                          line-based output of this path is ambiguous"
                    .into(),
            });
        }
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        index.files.push(FileEntry::new(entry.path().to_path_buf(), rel_str, size));
    }
    index.files.sort_by(|a, b| a.path.cmp(&b.path));
    index.notes.append(&mut lock(&shared.notes));
    let mut nested = std::mem::take(&mut *lock(&shared.nested_repos));
    nested.sort();
    for dir in nested {
        index.notes.push(Note {
            path: dir,
            message: "skipped: a nested git repository (vendored or a submodule), not this repository's code".into(),
        });
    }
    if let Some(note) = excluded_by_ignore_rules(root, &index) {
        index.notes.push(note);
    }
    Ok(index)
}

/// What the walker's filter learns while it runs: nested repositories it
/// skipped, git's ignore rules per directory, and notes about them.
#[derive(Default)]
struct Shared {
    nested_repos: Mutex<Vec<String>>,
    notes: Mutex<Vec<Note>>,
    /// For a directory: the ignore rules that apply in it, outermost first.
    rules: Mutex<HashMap<PathBuf, Rules>>,
}

/// Ignore rules in force in a directory, outermost first; shared with the
/// subdirectories that add none of their own.
type Rules = Arc<Vec<Arc<Gitignore>>>;

/// Ignore files larger than this are not a real `.gitignore`.
const MAX_IGNORE_FILE: u64 = 1024 * 1024;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn note(&self, root: &Path, path: &Path, message: &str) {
        let rel = path.strip_prefix(root).unwrap_or(path).to_string_lossy().replace('\\', "/");
        lock(&self.notes).push(Note { path: rel, message: message.into() });
    }

    /// Reads one ignore file the way the rest of the scan reads files: never
    /// through a link and never a huge one (the `ignore` crate's own reader
    /// would follow `.gitignore -> /dev/zero` and fill memory).
    fn ignore_file(&self, root: &Path, dir: &Path, path: &Path) -> Option<Gitignore> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        if meta.file_type().is_symlink() {
            self.note(root, path, "not honoured: it is a symbolic link, and links are never followed");
            return None;
        }
        if !meta.is_file() || meta.len() > MAX_IGNORE_FILE {
            self.note(root, path, "not honoured: not a regular file of at most 1 MiB");
            return None;
        }
        let bytes = std::fs::read(path).ok()?;
        let mut builder = GitignoreBuilder::new(dir);
        for line in String::from_utf8_lossy(&bytes).lines() {
            // A pattern git cannot use is skipped by git too.
            let _ = builder.add_line(Some(path.to_path_buf()), line.trim_start_matches('\u{feff}'));
        }
        builder.build().ok()
    }

    /// The rules that apply to entries of `dir` (a directory under `root`),
    /// built once per directory from its parent's.
    fn rules_for(&self, root: &Path, dir: &Path) -> Rules {
        if let Some(r) = lock(&self.rules).get(dir) {
            return Arc::clone(r);
        }
        let inherited: Rules = if dir == root || !dir.starts_with(root) {
            // `.git/info/exclude` ranks below every `.gitignore`.
            let exclude = root.join(".git/info/exclude");
            Arc::new(self.ignore_file(root, root, &exclude).map(Arc::new).into_iter().collect())
        } else {
            self.rules_for(root, dir.parent().unwrap_or(root))
        };
        let rules = match self.ignore_file(root, dir, &dir.join(".gitignore")) {
            None => inherited,
            Some(own) => {
                let mut v = inherited.as_ref().clone();
                v.push(Arc::new(own));
                Arc::new(v)
            }
        };
        lock(&self.rules).insert(dir.to_path_buf(), Arc::clone(&rules));
        rules
    }

    /// True if git's ignore rules exclude `path`; the closest rule decides.
    fn ignored(&self, root: &Path, path: &Path, is_dir: bool) -> bool {
        let rules = self.rules_for(root, path.parent().unwrap_or(root));
        for rule in rules.iter().rev() {
            match rule.matched(path, is_dir) {
                ignore::Match::Ignore(_) => return true,
                ignore::Match::Whitelist(_) => return false,
                ignore::Match::None => {}
            }
        }
        false
    }
}

/// The walker: never follows links, skips vendored directories and nested
/// git repositories, and honours git's ignore files (read by [`Shared`])
/// when `gitignore` is set. `.ignore`/`.rgignore` files are not honoured:
/// git does not know them, so they could hide code from a scan.
fn builder(root: &Path, gitignore: bool, shared: Arc<Shared>) -> WalkBuilder {
    let base = root.to_path_buf();
    let mut b = WalkBuilder::new(root);
    b.standard_filters(false).hidden(false).follow_links(false).parents(false).filter_entry(move |e| {
        if e.depth() == 0 {
            return true;
        }
        let is_dir = e.file_type().is_some_and(|t| t.is_dir());
        if is_dir {
            if e.file_name().to_str().is_some_and(|n| VENDORED_DIRS.contains(&n)) {
                return false;
            }
            // `.git` as a directory (a clone) or a file (a submodule's gitlink).
            if std::fs::symlink_metadata(e.path().join(".git")).is_ok() {
                let rel = e.path().strip_prefix(&base).unwrap_or(e.path());
                lock(&shared.nested_repos).push(rel.to_string_lossy().replace('\\', "/"));
                return false;
            }
        }
        !(gitignore && shared.ignored(&base, e.path(), is_dir))
    });
    b
}

/// Files git's ignore rules kept out of the scan. In a fresh clone every
/// file is tracked, so a broad rule (`*`) with force-added files would
/// otherwise turn into a silent pass; a note says how many and gives one.
fn excluded_by_ignore_rules(root: &Path, index: &FileIndex) -> Option<Note> {
    let mut excluded = 0usize;
    let mut example = None;
    for entry in builder(root, false, Arc::default()).build().flatten() {
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        let rel = rel.to_string_lossy().replace('\\', "/");
        if index.find(&rel).is_none() {
            excluded += 1;
            // The smallest path, so the note does not depend on listing order.
            if example.as_ref().is_none_or(|e: &String| rel < *e) {
                example = Some(rel);
            }
        }
    }
    let example = example?;
    Some(Note {
        path: String::new(),
        message: format!(
            "{excluded} file(s) not scanned because .gitignore rules exclude them (e.g. {example}); \
             a tracked file matching them is not checked"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_tests_docs_and_migrations() {
        let e = |p: &str| FileEntry::new(PathBuf::from(p), p.to_string(), 1);
        assert!(e("tests/test_api.py").is_test);
        assert!(e("app/test_models.py").is_test);
        assert!(e("pkg/handler_test.go").is_test);
        assert!(e("web/src/app.spec.ts").is_test);
        assert!(!e("app/main.py").is_test);
        assert!(e("app/main.py").is_app_code());
        assert!(e("docs/deploy.md").is_docs);
        assert!(e("README.md").is_docs);
        assert!(!e("requirements.txt").is_docs);
        assert!(e("alembic/versions/001_init.py").is_migration);
        assert!(!e("alembic/versions/001_init.py").is_app_code());
        assert_eq!(e("app/main.py").language, Some(Language::Python));
        assert!(e("src/main/java/com/example/demo/App.java").is_app_code());
        assert!(e("src/test/java/com/example/AppTests.java").is_test);
        assert!(e("examples/petclinic/src/main/java/App.java").is_example);
    }
}
