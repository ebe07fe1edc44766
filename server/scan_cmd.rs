//! `shipshape scan PATH|URL`: the analysis core on one directory, no
//! database. A git URL is first brought to disk by the same checkout code
//! (and limits) as the worker's. Exit 0 when the gates pass, 1 when one
//! fails, 2 on errors.

use shipshape_analysis::report::{self, Format};
use shipshape_analysis::{Level, Options};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `scan` was asked to do.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The directory to scan (a checkout or any folder), or a git URL
    /// (https://, ssh://, git@host:, file://) to clone shallowly first.
    pub path: PathBuf,
    /// For a URL: the branch to scan (default: the remote's default branch).
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// For a URL: refuse trees with more files than this.
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    pub max_files: u64,
    /// For a URL: refuse trees larger than this many MiB.
    #[arg(long, default_value_t = 1024, value_name = "MIB")]
    pub max_mb: u64,
    /// For a URL: seconds each git command may take.
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    pub git_timeout: u64,
    /// table | json | sarif | markdown
    #[arg(long, default_value = "table", value_parser = parse_format)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit 1 when the overall score is below SCORE (0-100).
    #[arg(long, value_name = "SCORE", value_parser = parse_score)]
    pub fail_under: Option<f64>,
    /// Exit 1 when the level is LEVEL or worse (not-ready, bronze, silver).
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    pub fail_on: Option<Level>,
    /// A policy file: custom checks (`[[checks]]`) and effective dates
    /// (`[effective]`), as the server's `policy.file`.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Also run the `[[checks]]` the scanned repository's `.shipshape.toml` defines.
    #[arg(long)]
    pub repository_checks: bool,
}

/// The policy of `--policy` and `--repository-checks`.
fn load_policy(args: &ScanArgs) -> Result<shipshape_analysis::Policy, String> {
    use shipshape_analysis::policy::{Origin, describe, parse_document};
    let mut documents = Vec::new();
    if let Some(path) = &args.policy {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = path.display().to_string();
        documents.push(parse_document(&name, &text, Origin::PolicyFile).map_err(|e| describe(&e))?);
    }
    shipshape_analysis::Policy::build(args.repository_checks, documents).map_err(|e| describe(&e))
}

fn parse_format(s: &str) -> Result<Format, String> {
    Format::parse(s).ok_or_else(|| format!("unknown format `{s}`; use table, json, sarif or markdown"))
}

fn parse_score(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a score between 0 and 100")),
    }
}

fn parse_level(s: &str) -> Result<Level, String> {
    match Level::parse(s) {
        Some(Level::Gold) => Err("`--fail-on gold` would fail every report; use silver to require gold".into()),
        Some(l) => Ok(l),
        None => Err(format!("unknown level `{s}`; use not-ready, bronze or silver")),
    }
}

pub fn run(args: ScanArgs) -> ExitCode {
    match scan(&args) {
        Ok(passed) => {
            if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn scan(args: &ScanArgs) -> Result<bool, String> {
    let policy = load_policy(args)?;
    let clone = match args.path.to_str().filter(|p| is_url(p)) {
        Some(url) => Some(check_out(args, url)?),
        None => None,
    };
    let dir = clone.as_ref().map_or(args.path.as_path(), |(_, checkout)| checkout.path.as_path());
    let options = Options { policy: std::sync::Arc::new(policy), ..Options::default() };
    let report = shipshape_analysis::analyze(dir, &options).map_err(|e| e.to_string())?;
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none();
    let mut text = report::render(&report, args.format, color);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    match &args.output {
        Some(path) => write_file(path, &text)?,
        None => std::io::stdout().write_all(text.as_bytes()).map_err(|e| format!("cannot write the report: {e}"))?,
    }
    let gate = report::gate(&report, args.fail_under, args.fail_on);
    for reason in &gate.reasons {
        eprintln!("gate failed: {reason}");
    }
    Ok(gate.passed)
}

fn is_url(path: &str) -> bool {
    path.contains("://") || (path.starts_with("git@") && path.contains(':'))
}

/// Clones into a temporary cache that is removed with the returned guard.
fn check_out(args: &ScanArgs, url: &str) -> Result<(tempfile::TempDir, crate::checkout::Checkout), String> {
    use crate::checkout::{CheckoutPolicy, Source, sync};
    let cache = tempfile::Builder::new()
        .prefix("shipshape-scan-")
        .tempdir()
        .map_err(|e| format!("cannot create a checkout directory: {e}"))?;
    let policy = CheckoutPolicy {
        cache_dir: cache.path().to_path_buf(),
        max_bytes: args.max_mb.saturating_mul(1024 * 1024),
        max_files: args.max_files,
        timeout: std::time::Duration::from_secs(args.git_timeout),
        // Whoever runs the CLI chose this URL; local clones are theirs to make.
        allow_local: true,
    };
    let source = Source { key: "scan", url, branch: args.branch.as_deref(), token: None };
    let checkout = tokio::runtime::Handle::current().block_on(sync(&policy, &source)).map_err(|e| e.to_string())?;
    eprintln!("scanning {} at {} ({} files)", crate::checkout::redact(url), &checkout.commit, checkout.files);
    Ok((cache, checkout))
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
