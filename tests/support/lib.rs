//! Fixtures for Shipshape's tests: real git repositories built in a
//! temporary directory, with authors and backdated commit dates, so scans,
//! history and the pipeline are tested on what they meet in production;
//! and a fake GitHub API server ([`fake_github`]) for the real octocrab client.
//!
//! ```no_run
//! use shipshape_testkit::{GitRepo, Commit};
//! let repo = GitRepo::new();
//! repo.write("app/main.py", "from fastapi import FastAPI\n");
//! repo.commit(Commit::new("first").at("2026-01-05T10:00:00Z"));
//! ```

#![forbid(unsafe_code)]

pub mod fake_github;
pub mod fake_oauth;

use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// One commit's metadata. Files are staged with [`GitRepo::write`] and
/// friends before calling [`GitRepo::commit`].
#[derive(Debug, Clone)]
pub struct Commit {
    pub message: String,
    pub author: String,
    pub email: String,
    /// ISO 8601 date for both author and committer; `None` = a fixed default.
    pub date: Option<String>,
}

impl Commit {
    pub fn new(message: impl Into<String>) -> Self {
        Commit { message: message.into(), author: "Ada Lovelace".into(), email: "ada@example.com".into(), date: None }
    }

    pub fn by(mut self, author: &str, email: &str) -> Self {
        self.author = author.into();
        self.email = email.into();
        self
    }

    /// Backdates the commit, e.g. `"2026-03-01T09:30:00Z"`.
    pub fn at(mut self, date: impl Into<String>) -> Self {
        self.date = Some(date.into());
        self
    }
}

/// A git repository in a temporary directory, removed on drop.
pub struct GitRepo {
    dir: TempDir,
}

impl Default for GitRepo {
    fn default() -> Self {
        Self::new()
    }
}

impl GitRepo {
    /// `git init -b main` in a fresh temporary directory.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("shipshape-fixture-").tempdir().expect("create temp dir");
        let repo = GitRepo { dir };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// A repository with `files` committed in one commit.
    pub fn with_files(files: &[(&str, &str)]) -> Self {
        let repo = GitRepo::new();
        for (path, contents) in files {
            repo.write(path, contents);
        }
        repo.commit(Commit::new("initial commit"));
        repo
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A `file://` URL to clone this repository from.
    pub fn url(&self) -> String {
        format!("file://{}", self.path().display())
    }

    /// Writes a file (creating directories) and stages it.
    pub fn write(&self, path: &str, contents: impl AsRef<[u8]>) -> &Self {
        self.write_all(&[(path, contents)])
    }

    /// Writes several files and stages them, with one `git add` per
    /// few hundred paths rather than one per file (big fixtures).
    pub fn write_all<C: AsRef<[u8]>>(&self, files: &[(&str, C)]) -> &Self {
        for (path, contents) in files {
            let full = self.path().join(path);
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent).expect("create dirs");
            }
            std::fs::write(&full, contents).expect("write fixture file");
        }
        for chunk in files.chunks(500) {
            let mut args = vec!["add", "--"];
            args.extend(chunk.iter().map(|(p, _)| *p));
            self.git(&args);
        }
        self
    }

    /// Removes a file from the work tree and the index.
    pub fn remove(&self, path: &str) -> &Self {
        self.git(&["rm", "-q", "--", path]);
        self
    }

    /// `git mv from to`, so git sees a rename.
    pub fn rename(&self, from: &str, to: &str) -> &Self {
        if let Some(parent) = self.path().join(to).parent() {
            std::fs::create_dir_all(parent).expect("create dirs");
        }
        self.git(&["mv", "--", from, to]);
        self
    }

    /// Commits what is staged (an empty commit is allowed) and returns its sha.
    pub fn commit(&self, c: Commit) -> String {
        let date = c.date.unwrap_or_else(|| "2026-01-01T12:00:00Z".into());
        let out = Command::new("git")
            .current_dir(self.path())
            .args(["-c", "commit.gpgsign=false", "commit", "-q", "--allow-empty", "-m", &c.message])
            .envs(isolated_env())
            .env("GIT_AUTHOR_NAME", &c.author)
            .env("GIT_AUTHOR_EMAIL", &c.email)
            .env("GIT_COMMITTER_NAME", &c.author)
            .env("GIT_COMMITTER_EMAIL", &c.email)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .output()
            .expect("run git commit");
        assert!(out.status.success(), "git commit failed: {}", String::from_utf8_lossy(&out.stderr));
        self.head()
    }

    /// The sha of HEAD.
    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }

    /// Runs git in the repository and returns stdout; panics on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out =
            Command::new("git").current_dir(self.path()).args(args).envs(isolated_env()).output().expect("run git");
        assert!(out.status.success(), "git {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keeps the directory after the test (for debugging); returns its path.
    pub fn keep(self) -> PathBuf {
        self.dir.keep()
    }
}

/// Git must not read the developer's config (signing, hooks, templates).
fn isolated_env() -> Vec<(&'static str, &'static str)> {
    vec![("GIT_CONFIG_GLOBAL", "/dev/null"), ("GIT_CONFIG_NOSYSTEM", "1"), ("GIT_TERMINAL_PROMPT", "0")]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_history_with_backdated_commits_and_renames() {
        let repo = GitRepo::new();
        repo.write("a.txt", "one\n");
        let first = repo.commit(Commit::new("add a").at("2025-06-01T08:00:00Z").by("Grace", "grace@example.com"));
        repo.rename("a.txt", "b/a.txt");
        let second = repo.commit(Commit::new("move a").at("2025-07-01T08:00:00Z"));
        assert_ne!(first, second);
        let log = repo.git(&["log", "--format=%an %aI %s"]);
        assert_eq!(log, "Ada Lovelace 2025-07-01T08:00:00Z move a\nGrace 2025-06-01T08:00:00Z add a\n");
        let status = repo.git(&["show", "--name-status", "--format=", "HEAD"]);
        assert!(status.starts_with("R100"), "{status}");
    }
}
