//! Hostile input: what a user sees in the report when the checkout holds
//! symlinks out of the tree, huge or unreadable files, binary blobs, deep
//! trees, odd file names and configs that do not parse. The contract: a
//! clear note for the file or an `error` outcome for the check, never a
//! crash, never a silent pass, nothing read outside the checkout.

use chrono::NaiveDate;
use shipshape_analysis::{CheckResult, Options, Outcome, Report, analyze};
use shipshape_testkit::{Commit, GitRepo};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

fn scan_dir(root: &Path) -> Report {
    analyze(
        root,
        &Options { today: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), github: None, ..Default::default() },
    )
    .unwrap()
}

fn scan(r: &GitRepo) -> Report {
    scan_dir(r.path())
}

fn result<'r>(report: &'r Report, id: &str) -> &'r CheckResult {
    report.check(id).unwrap_or_else(|| panic!("no check {id}"))
}

fn outcome(report: &Report, id: &str) -> Outcome {
    result(report, id).outcome
}

/// `(path, line)` of every finding of `id`.
fn places(report: &Report, id: &str) -> Vec<(String, Option<u32>)> {
    result(report, id)
        .findings
        .iter()
        .map(|f| {
            let loc = f.location.as_ref().expect("finding has a location");
            (loc.path.clone(), loc.line)
        })
        .collect()
}

/// Notes on `path`, as `message` strings.
fn notes_on<'r>(report: &'r Report, path: &str) -> Vec<&'r str> {
    report.notes.iter().filter(|n| n.path == path).map(|n| n.message.as_str()).collect()
}

/// The whole report as JSON, to assert what it never mentions.
fn json(report: &Report) -> String {
    serde_json::to_string(report).unwrap()
}

/// An AWS key id, assembled so this file holds no secret.
fn aws() -> String {
    ["AKIA", "Z7QH3M2KXW4TLP9V"].concat()
}

const FLASK_APP: &str = "from flask import Flask\napp = Flask(__name__)\n";
const REQS: (&str, &str) = ("requirements.txt", "flask==3.0.0\n");

fn is_root() -> bool {
    let out = std::process::Command::new("id").arg("-u").output().expect("run id -u");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

// ---- 1. symlinks ------------------------------------------------------------

#[test]
fn symlinks_out_of_the_tree_are_never_followed_and_links_inside_are_not_double_counted() {
    let r = GitRepo::with_files(&[
        ("app/main.py", &format!("{FLASK_APP}KEY = \"{}\"\n", aws())),
        REQS,
        ("README.md", "# demo\n"),
    ]);
    let link = |target: &str, at: &str| {
        let full = r.path().join(at);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, full).unwrap();
    };
    link("/etc/passwd", "config/passwd");
    link("/usr/share", "ext");
    link("main.py", "app/alias.py");
    // Files whose name checks look up directly: a link must not make
    // /etc/passwd the Dockerfile, the suppression config or a manifest.
    link("/etc/passwd", "Dockerfile");
    link("/etc/passwd", ".shipshape.toml");
    link("/etc/passwd", "requirements-dev.txt");
    link("/etc/passwd", ".env");
    r.git(&["add", "-A"]);
    r.commit(Commit::new("links"));

    let report = scan(&r);
    let text = json(&report);
    for outside in ["root:x:0", "/etc/", "/usr/share", "bin/bash", "nologin"] {
        assert!(!text.contains(outside), "report mentions {outside}: {text}");
    }
    // Only the three regular files are listed and read.
    assert_eq!(report.stats.files_seen, 3, "{:?}", report.stats);
    assert!(report.stats.files_read <= 3, "{:?}", report.stats);
    // The key is reported once, in the real file, not again through the link.
    assert_eq!(places(&report, "hardcoded-secret"), vec![("app/main.py".into(), Some(3))]);
    // The linked-in Dockerfile is not a Dockerfile of this repository.
    assert_eq!(outcome(&report, "docker-root-user"), Outcome::NotApplicable);
    for path in ["config/passwd", "ext", "app/alias.py", "Dockerfile", ".env"] {
        assert!(notes_on(&report, path).iter().any(|m| m.contains("symbolic link")), "{path}: {:?}", report.notes);
    }
    // The linked config is not silently obeyed or silently dropped.
    assert!(notes_on(&report, ".shipshape.toml").iter().any(|m| m.contains("symbolic link")), "{:?}", report.notes);
}

// ---- 2. a 2 GB file -----------------------------------------------------------

#[test]
fn a_sparse_two_gigabyte_file_is_listed_not_read_and_a_note_says_why() {
    let r = GitRepo::with_files(&[("app/main.py", FLASK_APP), REQS]);
    for name in ["data/dump.sql", "Dockerfile", "requirements-big.txt", "app/huge.py", ".github/workflows/ci.yml"] {
        let path = r.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::File::create(&path).unwrap().set_len(2 << 30).unwrap();
    }
    let started = Instant::now();
    let report = scan(&r);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(10), "scan took {took:?}");
    let notes = notes_on(&report, "data/dump.sql");
    assert!(notes.iter().any(|m| m.contains("not read") && m.contains("2048 MiB")), "{:?}", report.notes);
    assert!(report.stats.bytes_read < 1024 * 1024, "{:?}", report.stats);
    // A 2 GB Dockerfile is not loaded: the docker checks say they could not run.
    let docker = result(&report, "docker-root-user");
    assert_eq!(docker.outcome, Outcome::Error, "{docker:?}");
    assert!(docker.summary.contains("Dockerfile"), "{}", docker.summary);
    assert!(!notes_on(&report, "app/huge.py").is_empty(), "{:?}", report.notes);
    // Nor is a 2 GB workflow: the CI checks say so rather than pass.
    let ci = result(&report, "ci-actions-unpinned");
    assert_eq!(ci.outcome, Outcome::Error, "{ci:?}");
    assert!(ci.summary.contains(".github/workflows/ci.yml"), "{}", ci.summary);
}

// ---- 3. unreadable files ------------------------------------------------------

#[test]
fn an_unreadable_file_is_a_note_or_read_when_the_scanner_is_root() {
    use std::os::unix::fs::PermissionsExt;
    let r =
        GitRepo::with_files(&[("app/main.py", FLASK_APP), REQS, ("app/settings.py", &format!("K = \"{}\"\n", aws()))]);
    let locked = r.path().join("app/settings.py");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let report = scan(&r);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o644)).unwrap();
    if is_root() {
        // Root reads a mode-000 file (CAP_DAC_OVERRIDE), so the honest
        // behaviour is that its contents are scanned: the key is found.
        assert_eq!(places(&report, "hardcoded-secret"), vec![("app/settings.py".into(), Some(1))]);
    } else {
        // Anyone else cannot open it: the report says so for that file and
        // the check does not claim the file is clean without a note.
        let notes = notes_on(&report, "app/settings.py");
        assert!(notes.iter().any(|m| m.contains("not read") && m.contains("ermission")), "{:?}", report.notes);
    }
}

// ---- 4. binary blobs ----------------------------------------------------------

#[test]
fn binary_blobs_are_skipped_without_findings_and_binary_code_files_get_a_note() {
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0".to_vec();
    png.extend_from_slice(format!("KEY={}\n", aws()).as_bytes());
    png.extend((0..4096u32).map(|i| (i * 7 % 251) as u8));
    let mut pyc = b"\x03\xf3\r\n\0\0\0\0".to_vec();
    pyc.extend_from_slice(b"app.run(debug=True)\n");
    let r = GitRepo::new();
    r.write("app/main.py", FLASK_APP).write(REQS.0, REQS.1);
    r.write("static/logo.png", &png).write("app/compiled.py", &pyc);
    r.commit(Commit::new("blobs"));
    let report = scan(&r);
    assert!(places(&report, "hardcoded-secret").is_empty(), "{:?}", result(&report, "hardcoded-secret"));
    assert!(result(&report, "debug-enabled").findings.is_empty());
    assert!(notes_on(&report, "static/logo.png").is_empty(), "images are not worth a note: {:?}", report.notes);
    let notes = notes_on(&report, "app/compiled.py");
    assert!(notes.iter().any(|m| m.contains("binary")), "{:?}", report.notes);
}

#[test]
fn large_binary_blobs_are_sniffed_not_read_whole_and_text_still_is() {
    let r = GitRepo::with_files(&[("app/main.py", FLASK_APP), REQS]);
    let write = |path: &str, bytes: &[u8]| {
        let path = r.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    };
    // Three 6 MiB blobs, under the 8 MiB read limit: a NUL at the start, one
    // at the last sniffed byte, and one under a source-code name.
    let noise: Vec<u8> = (0..6 * 1024 * 1024u32).map(|i| (i % 251) as u8 | 1).collect();
    let mut archive = b"PK\x03\x04\0\0".to_vec();
    archive.extend_from_slice(&noise);
    write("dist/bundle.zip", &archive);
    let mut late = vec![b'a'; 7999];
    late.push(0);
    late.extend_from_slice(&noise);
    write("data/late-nul.bin", &late);
    let mut pyc = b"\x03\xf3\r\n\0\0\0\0".to_vec();
    pyc.extend_from_slice(&noise);
    write("app/compiled.py", &pyc);
    // 2 MiB of text is read whole.
    let text = "# notes\n".repeat(256 * 1024);
    write("docs/notes.md", text.as_bytes());

    let report = scan(&r);
    let small = (FLASK_APP.len() + REQS.1.len()) as u64;
    let whole_text = text.len() as u64 + small;
    assert!(
        report.stats.bytes_read >= whole_text && report.stats.bytes_read <= whole_text + 3 * 8000,
        "read {} bytes: the text ({whole_text}) whole, each blob only its first 8000 bytes",
        report.stats.bytes_read
    );
    let notes = notes_on(&report, "app/compiled.py");
    assert!(notes.iter().any(|m| m.contains("binary")), "{:?}", report.notes);
}

// ---- 5. deep trees ------------------------------------------------------------

#[test]
fn a_three_hundred_level_tree_is_walked_and_the_finding_has_the_long_path() {
    let dir = vec!["d"; 300].join("/");
    let path = format!("{dir}/app.py");
    assert!(path.len() < 4000);
    let r = GitRepo::with_files(&[
        REQS,
        (&path, "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)\n"),
    ]);
    let report = scan(&r);
    assert_eq!(places(&report, "debug-enabled"), vec![(path, Some(3))]);
}

// ---- 6. odd names and invalid UTF-8 ------------------------------------------

#[test]
fn odd_file_names_get_a_note_and_secrets_in_invalid_utf8_keep_their_line() {
    let r = GitRepo::with_files(&[("app/main.py", FLASK_APP), REQS]);
    let newline = "app/two\nlines.py";
    std::fs::write(r.path().join(newline), format!("K = \"{}\"\n", aws())).unwrap();
    let bad = r.path().join(OsStr::from_bytes(b"app/bad\xffname.py"));
    std::fs::write(&bad, format!("\nK = \"{}\"\n", aws())).unwrap();
    let mut latin1 = b"# caf\xe9 \xff\xfe\n".to_vec();
    latin1.extend_from_slice(format!("x = 1\nTOKEN = \"{}\"\n", aws()).as_bytes());
    std::fs::write(r.path().join("app/latin1.py"), latin1).unwrap();
    r.git(&["add", "-A"]);
    r.commit(Commit::new("odd names"));

    let report = scan(&r);
    let lossy = "app/bad\u{fffd}name.py";
    let mut got = places(&report, "hardcoded-secret");
    got.sort();
    let mut want = vec![(lossy.to_string(), Some(2)), ("app/latin1.py".into(), Some(3)), (newline.into(), Some(1))];
    want.sort();
    assert_eq!(got, want);
    assert!(notes_on(&report, lossy).iter().any(|m| m.contains("UTF-8")), "{:?}", report.notes);
    assert!(notes_on(&report, newline).iter().any(|m| m.contains("control character")), "{:?}", report.notes);
    assert!(notes_on(&report, "app/latin1.py").is_empty(), "invalid UTF-8 content is not worth a note");
}

// ---- 7. configs that do not parse --------------------------------------------

#[test]
fn an_unparseable_dockerfile_and_workflow_are_errors_naming_file_and_line_and_the_rest_is_intact() {
    let r = GitRepo::with_files(&[
        ("app/main.py", &format!("{FLASK_APP}K = \"{}\"\n", aws())),
        REQS,
        ("Dockerfile", "FROM python:3.12-slim\nWORKDIR /app\nFORM oops\n"),
        (".github/workflows/ci.yml", "on: push\njobs:\n  test:\n    steps: [\n      - run: pytest\n"),
        ("pyproject.toml", "[project\nname = \"x\"\n"),
        ("web/package.json", "{\"dependencies\": {\"express\": \n"),
    ]);
    let report = scan(&r);
    let docker = result(&report, "docker-root-user");
    assert_eq!(docker.outcome, Outcome::Error, "{docker:?}");
    assert!(docker.summary.contains("Dockerfile:3"), "{}", docker.summary);
    let ci = result(&report, "ci-actions-unpinned");
    assert_eq!(ci.outcome, Outcome::Error, "{ci:?}");
    assert!(ci.summary.contains(".github/workflows/ci.yml:5"), "{}", ci.summary);
    for manifest in ["pyproject.toml", "web/package.json"] {
        assert!(
            notes_on(&report, manifest).iter().any(|m| m.starts_with("dependencies not read")),
            "{manifest}: {:?}",
            report.notes
        );
    }
    // The rest of the report is intact.
    assert_eq!(places(&report, "hardcoded-secret"), vec![("app/main.py".into(), Some(3))]);
    assert_eq!(outcome(&report, "readme-missing"), Outcome::Fail);
}

#[test]
fn pathological_markdown_and_yaml_neither_hang_nor_blow_up() {
    let deep_list = format!("# demo\n\n{}x\n", "- ".repeat(50_000));
    let quotes = format!("{}x\n", "> ".repeat(50_000));
    let mut laughs = String::from("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    for (name, prev) in ('b'..='j').zip('a'..='i') {
        laughs.push_str(&format!(
            "{name}: &{name} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    let workflow =
        format!("on: push\n{laughs}jobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest\n");
    let flow = format!("on: push\njobs: {}\n", "[".repeat(100_000));
    // Block nesting just under the parser's guard, then flow nesting up to
    // the scanner's own limit (255): the deepest recursion YAML can reach.
    let mut both = String::from("on: push\njobs:\n");
    for i in 1..250 {
        both.push_str(&format!("{}k{i}:\n", " ".repeat(i)));
    }
    both.push_str(&format!("{}k: {}1{}\n", " ".repeat(250), "[".repeat(250), "]".repeat(250)));
    let started = Instant::now();
    let r = GitRepo::with_files(&[
        ("app/main.py", FLASK_APP),
        REQS,
        ("README.md", &deep_list),
        ("docs/quotes.md", &quotes),
        (".github/workflows/laughs.yml", &workflow),
        (".github/workflows/flow.yml", &flow),
        ("docker-compose.yml", &format!("{laughs}services:\n  web:\n    build: .\n")),
        ("config/flow.yaml", &flow),
        (".github/workflows/deep.yml", &both),
        ("deploy/deep.yaml", &both),
    ]);
    let report = scan(&r);
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
    let ci = result(&report, "ci-actions-unpinned");
    assert_eq!(ci.outcome, Outcome::Error, "{ci:?}");
    assert!(ci.summary.contains("flow.yml"), "{}", ci.summary);
    assert!(report.checks.iter().all(|c| !c.summary.contains("crashed")), "{:?}", report.checks);
}

// ---- 8. broken Python -----------------------------------------------------------

#[test]
fn broken_and_absurdly_nested_python_does_not_stop_the_other_files() {
    let nested = format!("x = {}1{}\n", "(".repeat(10_000), ")".repeat(10_000));
    let unclosed = format!("def f(:\n    return [1, 2, {{\n{}", "(".repeat(10_000));
    let r = GitRepo::with_files(&[
        REQS,
        ("app/nested.py", &nested),
        ("app/unclosed.py", &unclosed),
        ("app/calls.py", &format!("{}\n", "f(".repeat(5_000))),
        ("app/main.py", "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)\n"),
    ]);
    let report = scan(&r);
    assert_eq!(places(&report, "debug-enabled"), vec![("app/main.py".into(), Some(3))]);
    assert!(report.checks.iter().all(|c| c.outcome != Outcome::Error), "{:?}", report.checks);
}

// ---- 9. many files ----------------------------------------------------------------

#[test]
fn twenty_thousand_small_files_are_all_counted() {
    let r = GitRepo::with_files(&[("app/main.py", FLASK_APP), REQS]);
    for i in 0..20_000 {
        let dir = r.path().join(format!("pkg/m{}", i / 500));
        if i % 500 == 0 {
            std::fs::create_dir_all(&dir).unwrap();
        }
        std::fs::write(dir.join(format!("f{i}.py")), format!("X_{i} = {i}\n")).unwrap();
    }
    r.git(&["add", "-A"]);
    r.commit(Commit::new("many"));
    let started = Instant::now();
    let report = scan(&r);
    println!("20,000 files scanned in {:?} ({:?})", started.elapsed(), report.stats);
    assert_eq!(report.stats.files_seen, 20_002);
    assert_eq!(report.stats.files_read, 20_002);
}

// ---- 10. .shipshape.toml ---------------------------------------------------------

#[test]
fn a_bad_or_expired_shipshape_toml_explains_itself_and_suppresses_nothing() {
    let app =
        ("app/main.py", "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)\n");
    let configs = [
        ("[[ignore]\ncheck = \"debug-enabled\"\n", "does not parse"),
        ("[[ignore]]\ncheck = \"debug-enabled\"\nreason = \"dev only\"\nwhen = \"always\"\n", "unknown field"),
        ("[[ignore]]\ncheck = \"debug-enabled\"\nreason = \"dev only\"\nexpires = 2026-01-31\n", "expired"),
        ("\u{0}\u{1}binary", "does not parse"),
    ];
    for (config, says) in configs {
        let r = GitRepo::with_files(&[app, REQS, (".shipshape.toml", config)]);
        let report = scan(&r);
        let debug = result(&report, "debug-enabled");
        assert_eq!(debug.outcome, Outcome::Fail, "{config:?}: {debug:?}");
        assert!(debug.findings.iter().all(|f| f.suppression.is_none()), "{config:?}");
        let notes = notes_on(&report, ".shipshape.toml");
        assert!(notes.iter().any(|m| m.contains(says)), "{config:?}: {notes:?}");
    }
}

// ---- 11. .gitignore of everything, nested repositories ---------------------------

#[test]
fn a_gitignore_of_everything_does_not_make_a_silent_pass() {
    let r = GitRepo::new();
    let app = "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)\n";
    std::fs::create_dir_all(r.path().join("app")).unwrap();
    for (path, text) in [(".gitignore", "*\n"), ("app/main.py", app), REQS] {
        std::fs::write(r.path().join(path), text).unwrap();
    }
    r.git(&["add", "-f", "-A", "."]);
    r.commit(Commit::new("force-added"));
    let report = scan(&r);
    // The walk honours .gitignore (a local checkout has untracked build
    // output), so force-added files are not scanned; the report says so
    // instead of a quiet run of passes and not-applicables.
    assert!(result(&report, "debug-enabled").findings.is_empty());
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.message.starts_with("3 file(s) not scanned because .gitignore rules exclude them")),
        "{:?}",
        report.notes
    );
}

#[test]
fn ignore_files_that_link_out_of_the_tree_or_are_ripgrep_only_are_not_honoured() {
    let r = GitRepo::with_files(&[
        ("app/main.py", "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)\n"),
        REQS,
        // Git does not know `.ignore`: it must not hide code from the scan.
        (".ignore", "*\n"),
        ("lib/a.log", "x\n"),
        ("lib/keep.log", "x\n"),
        ("lib/.gitignore", "*.log\n!keep.log\n"),
    ]);
    // Followed, /dev/zero would be read as one endless line.
    std::os::unix::fs::symlink("/dev/zero", r.path().join(".gitignore")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", r.path().join("app/.gitignore")).unwrap();
    let started = Instant::now();
    let report = scan(&r);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(places(&report, "debug-enabled"), vec![("app/main.py".into(), Some(3))]);
    for path in [".gitignore", "app/.gitignore"] {
        assert!(notes_on(&report, path).iter().any(|m| m.contains("symbolic link")), "{path}: {:?}", report.notes);
    }
    // A real nested .gitignore still applies, negation included.
    // main.py, requirements.txt, .ignore, lib/.gitignore, lib/keep.log.
    assert_eq!(report.stats.files_seen, 5, "{:?} {:?}", report.stats, report.notes);
    assert!(
        report.notes.iter().any(|n| n.message.starts_with("1 file(s) not scanned") && n.message.contains("lib/a.log"))
    );
}

#[test]
fn a_vendored_repository_with_its_own_git_directory_is_skipped_with_a_note() {
    let r = GitRepo::with_files(&[("app/main.py", FLASK_APP), REQS]);
    let vendored = r.path().join("libs/upstream");
    std::fs::create_dir_all(vendored.join(".git/objects")).unwrap();
    std::fs::write(vendored.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(vendored.join(".git/config"), format!("[aws]\nkey = {}\n", aws())).unwrap();
    std::fs::write(vendored.join("lib.py"), format!("K = \"{}\"\n", aws())).unwrap();
    let report = scan(&r);
    assert!(places(&report, "hardcoded-secret").iter().all(|(p, _)| !p.contains(".git/")), "{report:?}");
    assert!(
        report.notes.iter().any(|n| n.path == "libs/upstream" && n.message.contains("git repository")),
        "{:?}",
        report.notes
    );
    assert!(places(&report, "hardcoded-secret").is_empty());
}

#[test]
fn deep_python_expressions_do_not_overflow_the_stack() {
    let n = 50_000;
    let cases = [
        ("app/attrs.py", format!("import os\nx = os{}\ny = os{}()\n", ".a".repeat(n), ".a".repeat(n))),
        ("app/calls.py", format!("x = {}1{}\n", "f(".repeat(n / 5), ")".repeat(n / 5))),
        ("app/binops.py", format!("x = 1{}\n", " + 1".repeat(n))),
        ("app/subscripts.py", format!("x = a{}\n", "[0]".repeat(n))),
        ("app/lists.py", format!("x = {}{}\n", "[".repeat(n), "]".repeat(n))),
        ("app/nots.py", format!("x = {}True\n", "not ".repeat(n))),
        ("app/strings.py", format!("x = {}\n", "\"a\" ".repeat(n))),
        ("app/lambdas.py", format!("x = {}1\n", "lambda: ".repeat(n / 5))),
        ("app/chain.py", format!("x = requests{}\n", ".get(1)".repeat(n / 2))),
        (
            "app/ifs.py",
            (0..400).map(|i| format!("{}if x:\n", " ".repeat(i))).collect::<String>() + &" ".repeat(400) + "pass\n",
        ),
    ];
    let mut files: Vec<(&str, &str)> = cases.iter().map(|(p, t)| (*p, t.as_str())).collect();
    files.push(REQS);
    files.push((
        "app/main.py",
        "from flask import Flask\napp = Flask(__name__)\napp.run(host=\"0.0.0.0\", debug=True)\n",
    ));
    let report = scan(&GitRepo::with_files(&files));
    assert_eq!(places(&report, "debug-enabled"), vec![("app/main.py".into(), Some(3))]);
}

#[test]
fn a_large_flat_python_file_is_analysed_in_reasonable_time() {
    let body = "print(len([1]))\n".repeat(60_000);
    let r = GitRepo::with_files(&[REQS, ("app/flat.py", &body), ("app/main.py", FLASK_APP)]);
    let started = Instant::now();
    let report = scan(&r);
    println!("flat 60,000-statement file: {:?} {:?}", started.elapsed(), report.notes);
    assert!(notes_on(&report, "app/flat.py").is_empty(), "{:?}", report.notes);
}

#[test]
fn a_megabyte_of_deep_nesting_is_skipped_with_a_note_but_one_deep_line_is_analysed() {
    // ~128 nested calls per line (tree depth ~260), filling 1 MiB: analysing
    // it would take minutes, so it is skipped and the report says so.
    let line = format!("x = {}1{}\n", "f(".repeat(128), ")".repeat(128));
    let body = line.repeat((1024 * 1024 - 200) / line.len());
    let one_line = format!("{line}from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n");
    let r = GitRepo::with_files(&[REQS, ("app/deep.py", &body), ("app/main.py", &one_line)]);
    let started = Instant::now();
    let report = scan(&r);
    println!("1 MiB of deep nesting: {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(notes_on(&report, "app/deep.py").iter().any(|m| m.contains("nests too deep")), "{:?}", report.notes);
    assert_eq!(places(&report, "debug-enabled"), vec![("app/main.py".into(), Some(4))]);
}

const EXPRESS_PKG: (&str, &str) = ("package.json", r#"{"dependencies":{"express":"4"}}"#);

#[test]
fn deep_javascript_expressions_do_not_overflow_the_stack_and_the_rest_is_analysed() {
    let n = 50_000;
    let cases = [
        ("src/members.js", format!("const x = app{};\nconst y = app{}();\n", ".a".repeat(n), ".a".repeat(n))),
        ("src/calls.ts", format!("const x = {}1{};\n", "f(".repeat(n / 5), ")".repeat(n / 5))),
        (
            "src/plus.mjs",
            format!("const sql = 'SELECT * FROM t WHERE a = ' + id{};\ndb.query(sql);\n", " + id".repeat(n)),
        ),
        ("src/arrays.cjs", format!("const x = {}{};\n", "[".repeat(n), "]".repeat(n))),
        ("src/arrows.tsx", format!("const x = {}1;\n", "() => ".repeat(n / 5))),
        ("src/chain.js", format!("const x = axios{};\n", ".get(1)".repeat(n / 2))),
        ("src/ors.ts", format!("const s = process.env.JWT_SECRET{} || 'x';\n", " || a".repeat(n))),
    ];
    let mut files: Vec<(&str, &str)> = cases.iter().map(|(p, t)| (*p, t.as_str())).collect();
    files.push(EXPRESS_PKG);
    files.push(("src/server.js", "const app = express();\napp.set('env', 'development');\n"));
    let started = Instant::now();
    let report = scan(&GitRepo::with_files(&files));
    println!("deep JavaScript: {:?}", started.elapsed());
    assert_eq!(places(&report, "debug-enabled"), vec![("src/server.js".into(), Some(2))]);
}

#[test]
fn a_megabyte_of_flat_typescript_is_analysed_in_reasonable_time() {
    let route =
        "const h = (x) => x;\napp.get('/x', async (req, res) => res.json(await db.items.findMany({ take: 10 })));\n";
    let body = route.repeat(8_000);
    let r = GitRepo::with_files(&[EXPRESS_PKG, ("src/routes.ts", &body)]);
    let started = Instant::now();
    let report = scan(&r);
    println!("flat 8,000-route file: {:?}", started.elapsed());
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(notes_on(&report, "src/routes.ts").is_empty(), "{:?}", report.notes);
}
