//! Hostile repositories, made by bench/hostile/make-repos.sh, scanned
//! through the worker's checkout code by the real binary: each is either
//! scanned or refused with a clear reason, nothing planted in them runs,
//! and nothing outside the checkout is read. (Time and memory per attack
//! are measured by bench/hostile.sh, not asserted here.)

use crate::helpers::*;
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};

/// (exit code, report or stderr)
fn scan(url: &str, extra: &[&str]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let out =
        shipshape(dir.path()).args(["scan", url, "--format", "json"]).args(extra).output().expect("run shipshape scan");
    let code = out.status.code().unwrap_or(-1);
    let text = if code <= 1 { out.stdout } else { out.stderr };
    (code, String::from_utf8_lossy(&text).into_owned())
}

fn scanned(name: &str, dir: &Path) -> serde_json::Value {
    let (code, text) = scan(&format!("file://{}/{name}", dir.display()), &[]);
    assert!(code <= 1, "{name} should be scanned (exit 0 or 1), got {code}: {text}");
    assert!(!text.contains("root:x:0:0"), "{name}: /etc/passwd was read through the checkout");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: the report is JSON ({e}): {text}"))
}

#[test]
fn hostile_repositories_are_scanned_or_refused_and_nothing_runs_or_leaks() {
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/hostile/make-repos.sh");
    let made = Command::new("bash")
        .arg(&script)
        .arg(dir.path())
        // Just over the default 200,000-file limit, and a smaller huge file,
        // keep the test quick; bench/hostile.sh uses the full sizes.
        .env("FILES", "200001")
        .env("HUGE_MB", "20")
        .output()
        .expect("run make-repos.sh");
    assert!(made.status.success(), "make-repos.sh: {}", String::from_utf8_lossy(&made.stderr));

    let symlinks = scanned("symlinks", dir.path());
    assert!(symlinks["stats"]["bytes_read"].as_u64().unwrap() < 1024, "symlinks are read as their short target text");
    let huge = scanned("huge-file", dir.path());
    assert!(huge["stats"]["bytes_read"].as_u64().unwrap() < 1024 * 1024, "a huge file is not read: {}", huge["stats"]);
    scanned("binary-blobs", dir.path());
    let names = scanned("bad-names", dir.path());
    assert!(names["stats"]["files_seen"].as_u64().unwrap() >= 3, "files with invalid UTF-8 names are still seen");
    scanned("hooks", dir.path());
    scanned("submodule", dir.path());

    let (code, err) = scan(&format!("file://{}/many-files", dir.path().display()), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("too many files: 200001"), "{err}");

    let mut stall = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/hostile/stall.py"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start stall.py");
    let mut port = String::new();
    std::io::BufReader::new(stall.stdout.take().unwrap()).read_line(&mut port).unwrap();
    let (code, err) = scan(&format!("http://127.0.0.1:{}/repo.git", port.trim()), &["--git-timeout", "2"]);
    let _ = stall.kill();
    let _ = stall.wait();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("took longer than 2 s and was stopped"), "{err}");

    let pwned: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("PWNED"))
        .map(|e| e.file_name())
        .collect();
    assert!(pwned.is_empty(), "planted code ran: {pwned:?}");
}
