//! Checkouts on real git repositories: new commits and force-pushes are
//! picked up, a vanished remote and an oversized tree fail clearly, and
//! nothing in a repository runs or escapes the checkout.

use shipshape::checkout::{CheckoutError, CheckoutPolicy, Source, sync};
use shipshape_testkit::{Commit, GitRepo};
use std::time::Duration;

fn policy(cache: &std::path::Path) -> CheckoutPolicy {
    CheckoutPolicy {
        cache_dir: cache.to_path_buf(),
        max_bytes: 10 * 1024 * 1024,
        max_files: 1000,
        timeout: Duration::from_secs(20),
        allow_local: true,
    }
}

fn source<'a>(key: &'a str, url: &'a str) -> Source<'a> {
    Source { key, url, branch: None, token: None }
}

#[tokio::test]
async fn a_new_commit_and_a_force_push_are_picked_up() {
    let remote = GitRepo::with_files(&[("app.py", "print('v1')\n"), ("README.md", "# demo\n")]);
    let cache = tempfile::tempdir().unwrap();
    let url = remote.url();
    let first = sync(&policy(cache.path()), &source("acme/api", &url)).await.unwrap();
    assert_eq!(first.commit, remote.head());
    assert_eq!(first.branch, "main");
    assert_eq!((first.files, first.bytes), (2, 12 + 7));
    assert_eq!(std::fs::read_to_string(first.path.join("app.py")).unwrap(), "print('v1')\n");

    remote.write("app.py", "print('v2')\n");
    let second_sha = remote.commit(Commit::new("v2"));
    let second = sync(&policy(cache.path()), &source("acme/api", &url)).await.unwrap();
    assert_eq!(second.commit, second_sha);
    assert_eq!(second.path, first.path, "the cached clone is reused");
    assert_eq!(std::fs::read_to_string(second.path.join("app.py")).unwrap(), "print('v2')\n");

    // Rewrite history: drop v2, commit something else.
    remote.git(&["reset", "-q", "--hard", "HEAD~1"]);
    remote.write("other.py", "x = 1\n");
    let rewritten = remote.commit(Commit::new("rewritten").at("2026-02-01T00:00:00Z"));
    let third = sync(&policy(cache.path()), &source("acme/api", &url)).await.unwrap();
    assert_eq!(third.commit, rewritten);
    assert_eq!(std::fs::read_to_string(third.path.join("app.py")).unwrap(), "print('v1')\n");
    assert!(third.path.join("other.py").exists());
}

#[tokio::test]
async fn the_default_branch_is_found_and_an_unknown_branch_is_named() {
    let remote = GitRepo::new();
    remote.git(&["checkout", "-q", "-b", "trunk"]);
    remote.write("a.txt", "a\n");
    remote.commit(Commit::new("on trunk"));
    let cache = tempfile::tempdir().unwrap();
    let url = remote.url();
    let got = sync(&policy(cache.path()), &source("x", &url)).await.unwrap();
    assert_eq!(got.branch, "trunk");
    let err = sync(&policy(cache.path()), &Source { branch: Some("release"), ..source("x", &url) }).await.unwrap_err();
    assert!(matches!(err, CheckoutError::NoSuchBranch { .. }), "{err}");
    assert!(err.to_string().contains("release"), "{err}");
}

#[tokio::test]
async fn a_deleted_remote_fails_with_a_clear_reason() {
    let remote = GitRepo::with_files(&[("a.txt", "a\n")]);
    let url = remote.url();
    let cache = tempfile::tempdir().unwrap();
    sync(&policy(cache.path()), &source("gone", &url)).await.unwrap();
    drop(remote);
    let err = sync(&policy(cache.path()), &source("gone", &url)).await.unwrap_err();
    assert!(matches!(err, CheckoutError::RemoteGone { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("unreachable or no longer exists") && msg.contains(&url), "{msg}");
}

#[tokio::test]
async fn an_over_limit_tree_is_refused_before_it_is_written() {
    let remote = GitRepo::with_files(&[("a.txt", "a\n"), ("b.txt", "b\n"), ("big.bin", &"x".repeat(5000))]);
    let cache = tempfile::tempdir().unwrap();
    let url = remote.url();
    let few = CheckoutPolicy { max_files: 2, ..policy(cache.path()) };
    let err = sync(&few, &source("big", &url)).await.unwrap_err();
    assert!(matches!(err, CheckoutError::TooManyFiles { files: 3, limit: 2, .. }), "{err}");
    assert!(!cache.path().join("checkouts/big/big.bin").exists(), "nothing was checked out");
    let small = CheckoutPolicy { max_bytes: 1000, ..policy(cache.path()) };
    let err = sync(&small, &source("big", &url)).await.unwrap_err();
    assert!(err.to_string().contains("too large: 5004 bytes"), "{err}");
}

#[tokio::test]
async fn hooks_never_run_symlinks_stay_inside_and_submodules_are_not_fetched() {
    let inner = GitRepo::with_files(&[("secret.txt", "from the submodule\n")]);
    let remote = GitRepo::with_files(&[("app.py", "x = 1\n")]);
    std::os::unix::fs::symlink("/etc/passwd", remote.path().join("passwd")).unwrap();
    remote.git(&["add", "passwd"]);
    remote.git(&["-c", "protocol.file.allow=always", "submodule", "add", "-q", &inner.url(), "vendor/inner"]);
    remote.commit(Commit::new("symlink and submodule"));

    let cache = tempfile::tempdir().unwrap();
    let url = remote.url();
    let first = sync(&policy(cache.path()), &source("hostile", &url)).await.unwrap();
    // A hook planted in the cached clone would run on the next checkout if hooks were enabled.
    let marker = cache.path().join("hook-ran");
    let hook = first.path.join(".git/hooks/post-checkout");
    std::fs::create_dir_all(hook.parent().unwrap()).unwrap();
    std::fs::write(&hook, format!("#!/bin/sh\ntouch {}\n", marker.display())).unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    remote.write("app.py", "x = 2\n");
    remote.commit(Commit::new("next"));
    let second = sync(&policy(cache.path()), &source("hostile", &url)).await.unwrap();
    assert!(!marker.exists(), "a git hook ran");

    let link = second.path.join("passwd");
    let meta = std::fs::symlink_metadata(&link).unwrap();
    assert!(meta.file_type().is_file(), "symlinks are checked out as plain files");
    assert_eq!(std::fs::read_to_string(&link).unwrap(), "/etc/passwd");
    assert!(!second.path.join("vendor/inner/secret.txt").exists(), "submodules are not fetched");
}

#[tokio::test]
async fn local_urls_are_refused_unless_allowed_and_credentials_never_show() {
    let cache = tempfile::tempdir().unwrap();
    let strict = CheckoutPolicy { allow_local: false, ..policy(cache.path()) };
    let err = sync(&strict, &source("x", "file:///etc")).await.unwrap_err();
    assert!(matches!(err, CheckoutError::LocalNotAllowed { .. }), "{err}");

    // A URL with a password that cannot be reached: the error never repeats the password.
    let err = sync(&policy(cache.path()), &source("y", "http://bot:hunter2@127.0.0.1:9/x.git")).await.unwrap_err();
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

#[tokio::test]
async fn a_remote_that_never_answers_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accept connections and never answer.
    let _held = std::thread::spawn(move || {
        let conns: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(10));
        drop(conns);
    });
    let cache = tempfile::tempdir().unwrap();
    let quick = CheckoutPolicy { timeout: Duration::from_secs(1), ..policy(cache.path()) };
    let url = format!("http://127.0.0.1:{port}/slow.git");
    let started = std::time::Instant::now();
    let err = sync(&quick, &source("slow", &url)).await.unwrap_err();
    assert!(matches!(err, CheckoutError::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

/// What a worker killed mid-fetch leaves: a commit object whose tree never
/// arrived, which the next fetch claims to have, so the remote sends
/// nothing and git reports "did not send all necessary objects". The next
/// sync starts the clone over within the same attempt instead of failing
/// until someone cleans up.
#[tokio::test]
async fn a_cached_clone_with_missing_objects_is_cloned_afresh() {
    let remote = GitRepo::with_files(&[("app.py", "print('v1')\n")]);
    let cache = tempfile::tempdir().unwrap();
    let url = remote.url();
    let first = sync(&policy(cache.path()), &source("acme/api", &url)).await.unwrap();
    let git = |args: &[&str], dir: &std::path::Path, input: Option<&[u8]>| {
        use std::io::Write;
        let mut child = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(bytes) = input {
            child.stdin.take().unwrap().write_all(bytes).unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?}");
        out.stdout
    };
    let commit = git(&["cat-file", "commit", "HEAD"], remote.path(), None);
    let objects = first.path.join(".git/objects");
    for entry in std::fs::read_dir(&objects).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != "info") {
            std::fs::remove_dir_all(&path).unwrap();
        }
    }
    git(&["hash-object", "-w", "-t", "commit", "--stdin"], &first.path, Some(&commit));
    let again =
        sync(&policy(cache.path()), &source("acme/api", &url)).await.expect("a broken cache is rebuilt, not an error");
    assert_eq!(again.commit, remote.head());
    assert_eq!(std::fs::read_to_string(again.path.join("app.py")).unwrap(), "print('v1')\n");

    // A remote that is really gone still fails, after one fresh try.
    drop(remote);
    let gone = sync(&policy(cache.path()), &source("acme/api", &url)).await.unwrap_err();
    assert!(matches!(gone, CheckoutError::RemoteGone { .. }), "{gone}");
}
