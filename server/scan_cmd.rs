//! `shipshape scan PATH`: the analysis core on one directory, no database.
//! Exit 0 when the gates pass, 1 when one fails, 2 on errors.

use shipshape_analysis::report::{self, Format};
use shipshape_analysis::{Level, Options};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// What `scan` was asked to do.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The directory to scan (a checkout or any folder).
    pub path: PathBuf,
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
    let report = shipshape_analysis::analyze(&args.path, &Options::default()).map_err(|e| e.to_string())?;
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

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
