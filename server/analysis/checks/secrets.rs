//! The secrets category's language-neutral checks: credentials in any
//! tracked text file, committed dotenv and key files, `.env` files the
//! `.gitignore` does not cover, and a missing `.env.example`.
//!
//! One analyzer, named "secrets" so the engine hands it files up to 8 MiB,
//! reads every text file once; the checks only combine what it recorded.
//! A secret's value never leaves the analyzer unmasked.

mod env;
mod formats;
mod gitignore;
mod rules;
mod values;

use super::{Check, CheckSpec, RawFinding, Verdict, from_hits};
use crate::engine::{FileAnalyzer, FileOutput, Hit, SourceFile};
use crate::mask;
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;
use crate::walk::FileEntry;

const HARDCODED: &str = "hardcoded-secret";
const ENV_COMMITTED: &str = "env-file-committed";
const ENV_NOT_IGNORED: &str = "env-file-not-ignored";
const ENV_EXAMPLE: &str = "env-example-missing";

pub fn checks() -> Vec<Check> {
    vec![
        Check {
            spec: CheckSpec {
                id: HARDCODED,
                title: "Credentials committed in the repository",
                category: Category::Secrets,
                severity: Severity::Critical,
                pass_summary: "no live-looking credential in any tracked text file",
                rationale: "Anyone who can read the repository, its forks or an old clone can use a key that is \
                            committed to it, and deleting the line later does not remove it from history. Leaked \
                            cloud and payment keys are exploited within minutes of being pushed.",
                fix: "Revoke and rotate the credential first, then read it from an environment variable or a secret \
                      manager (Vault, AWS Secrets Manager, your platform's secret store) and keep only a \
                      placeholder in code. Purge it from history with git filter-repo if the repository is public.",
            },
            run: hardcoded_secret,
        },
        Check {
            spec: CheckSpec {
                id: ENV_COMMITTED,
                title: "Dotenv or private key file committed",
                category: Category::Secrets,
                severity: Severity::Critical,
                pass_summary: "no dotenv or key file with real secret values is tracked",
                rationale: "A committed `.env` or key file hands every reader the service's passwords, tokens and \
                            signing keys at once, and they stay in git history after the file is deleted.",
                fix: "Rotate every value the file held, `git rm --cached` it, add it to .gitignore and commit a \
                      `.env.example` with the same keys and empty or placeholder values instead.",
            },
            run: env_file_committed,
        },
        Check {
            spec: CheckSpec {
                id: ENV_NOT_IGNORED,
                title: ".env file not ignored by git",
                category: Category::Secrets,
                severity: Severity::Medium,
                pass_summary: ".env is ignored by .gitignore",
                rationale: "The application loads its secrets from a `.env` file, but nothing stops that file from \
                            being committed by the next `git add .`.",
                fix: "Add `.env` (and `.env.*` with `!.env.example`) to the root .gitignore.",
            },
            run: env_file_not_ignored,
        },
        Check {
            spec: CheckSpec {
                id: ENV_EXAMPLE,
                title: "Environment variables undocumented",
                category: Category::Secrets,
                severity: Severity::Low,
                pass_summary: "the environment the app reads is documented",
                rationale: "Code reads configuration from the environment, but nothing lists which variables it \
                            needs, so a new deployment or developer finds them by reading code or by crashing.",
                fix: "Commit a `.env.example` listing every variable with a placeholder value and a comment, or a \
                      README section (a table) describing each variable.",
            },
            run: env_example_missing,
        },
    ]
}

pub fn analyzers() -> Vec<Box<dyn FileAnalyzer>> {
    vec![Box::new(SecretsAnalyzer)]
}

struct SecretsAnalyzer;

impl FileAnalyzer for SecretsAnalyzer {
    /// The engine gives files up to 8 MiB to the analyzer with this name.
    fn name(&self) -> &'static str {
        "secrets"
    }

    fn wants(&self, _entry: &FileEntry) -> bool {
        true
    }

    fn analyze(&self, file: &SourceFile<'_>, out: &mut FileOutput) {
        for found in rules::scan(file.entry, file.text) {
            let message = format!("{} committed in {}", found.kind, file.entry.path);
            let evidence = format!("{}: {}", found.kind, mask::mask(&found.value));
            out.hit(
                Hit::new(HARDCODED, found.line, message, evidence).with_identity(mask::secret_identity(&found.value)),
            );
        }
        if let Some((line, what)) = env::committed_secret(file.entry, file.text) {
            let message = format!("{} is tracked and holds {what}", file.entry.file_name());
            out.hit(Hit::new(ENV_COMMITTED, line, message, format!("holds {what}")));
        }
        env::signal_reads(file.entry, file.text, out);
    }
}

fn hardcoded_secret(repo: &Repo<'_>) -> Result<Verdict, String> {
    let scanned = repo.files_with_facts().filter(|(_, f)| f.read && !f.binary).count();
    let pass = Evidence::new(format!("{scanned} text files scanned, no credential found"), None);
    from_hits(repo, HARDCODED, true, "", vec![pass])
}

fn env_file_committed(repo: &Repo<'_>) -> Result<Verdict, String> {
    let mut findings: Vec<RawFinding> = repo
        .hits(ENV_COMMITTED)
        .map(|(e, h)| RawFinding::at(Location::at(&e.path, h.line), h.message.clone(), h.evidence.clone()))
        .collect();
    // Binary key stores never reach the analyzer; their name is enough.
    for (entry, facts) in repo.files_with_facts() {
        if facts.binary && env::is_key_file_name(entry.file_name()) {
            findings.push(RawFinding::at(
                Location::file(&entry.path),
                format!("{} is a tracked key store", entry.file_name()),
                "binary key file",
            ));
        }
    }
    if !findings.is_empty() {
        return Ok(Verdict::Fail(findings));
    }
    let dotenv: Vec<&str> =
        repo.files().filter(|f| env::is_dotenv_file(f.file_name())).map(|f| f.path.as_str()).collect();
    let message = if dotenv.is_empty() {
        "no dotenv or key file is tracked".to_string()
    } else {
        let verb = if dotenv.len() == 1 { "holds" } else { "hold" };
        format!("{} {verb} no secret values", dotenv.join(", "))
    };
    Ok(Verdict::Pass(vec![Evidence::new(message, None)]))
}

fn env_file_not_ignored(repo: &Repo<'_>) -> Result<Verdict, String> {
    let reader =
        repo.signals(env::DOTENV_READ).next().map(|(e, s)| (e.path.clone(), Some(s.line), s.detail.clone())).or_else(
            || {
                ["dotenv", "python-dotenv"].iter().find_map(|d| {
                    repo.dependency_evidence(d).map(|ev| {
                        let path = ev.location.map(|l| l.path).unwrap_or_default();
                        (path, None, format!("{d} dependency"))
                    })
                })
            },
        );
    let Some((path, line, how)) = reader else {
        return Ok(Verdict::NotApplicable("the application does not load a .env file".into()));
    };
    let mut candidates = vec![".env".to_string()];
    let reader_dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    for m in &repo.manifests {
        let dir = m.dir();
        if !dir.is_empty() && reader_dir.starts_with(dir) && !candidates.contains(&format!("{dir}/.env")) {
            candidates.push(format!("{dir}/.env"));
        }
    }
    let at = match line {
        Some(l) => format!("{path}:{l}"),
        None => path.clone(),
    };
    let mut evidence = Vec::new();
    for candidate in &candidates {
        match gitignore::ignored_by(repo, candidate) {
            Some(rule) => evidence.push(Evidence::new(
                format!("{candidate} ignored by {rule} ({how} at {at})"),
                Some(Location::file(rule.split(':').next().unwrap_or(&rule))),
            )),
            None => {
                let location = match line {
                    Some(l) => Location::at(&path, l),
                    None => Location::file(&path),
                };
                let message = format!("{how} at {at} loads {candidate}, but no .gitignore ignores it");
                return Ok(Verdict::Fail(vec![RawFinding::at(location, message, format!("{candidate} not ignored"))]));
            }
        }
    }
    Ok(Verdict::Pass(evidence))
}

fn env_example_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    let Some((entry, signal)) = repo.signals(env::ENV_READ).next().or_else(|| repo.signals(env::DOTENV_READ).next())
    else {
        return Ok(Verdict::NotApplicable("the code reads no environment variables".into()));
    };
    if let Some(t) = repo.files().find(|f| env::is_env_template(f.file_name())) {
        return Ok(Verdict::Pass(vec![Evidence::new(
            format!("environment documented in {}", t.path),
            Some(Location::file(&t.path)),
        )]));
    }
    if let Some((path, line)) = documented_variables(repo) {
        return Ok(Verdict::Pass(vec![Evidence::new(
            format!("environment variables documented in {path}:{line}"),
            Some(Location::at(&path, line)),
        )]));
    }
    let message = format!(
        "code reads the environment ({} at {}:{}) but no .env.example or documented variable list exists",
        signal.detail, entry.path, signal.line
    );
    Ok(Verdict::Fail(vec![RawFinding::repo(message)]))
}

/// A README or docs page with a heading about environment variables or
/// configuration followed by at least one `UPPER_CASE` variable name.
fn documented_variables(repo: &Repo<'_>) -> Option<(String, u32)> {
    let skip = ["changelog", "changes", "history", "release", "license", "contributing", "code_of_conduct"];
    let mut docs: Vec<&FileEntry> = repo
        .files()
        .filter(|f| {
            let lower = f.file_name().to_ascii_lowercase();
            rules::is_documentation(f) && f.size < 512 * 1024 && !skip.iter().any(|s| lower.starts_with(s))
        })
        .collect();
    // The README is where a reader looks first; cite it when it qualifies.
    docs.sort_by_key(|f| (!f.file_name().to_ascii_lowercase().starts_with("readme"), f.path.matches('/').count()));
    for entry in docs {
        let Ok(text) = repo.read_text(entry) else { continue };
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let l = line.trim().to_ascii_lowercase();
            let heading =
                l.starts_with('#') || lines.get(i + 1).is_some_and(|n| n.starts_with("===") || n.starts_with("---"));
            let topic = ["environment variable", "env var", "configuration", "environment", "settings"]
                .iter()
                .any(|t| l.contains(t));
            if heading && topic && lines.iter().skip(i + 1).take(40).any(|l| names_variable(l)) {
                return Some((entry.path.clone(), i as u32 + 1));
            }
        }
    }
    None
}

/// True when the line mentions an `UPPER_CASE_NAME` with an underscore.
fn names_variable(line: &str) -> bool {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).any(|w| {
        w.len() >= 4
            && w.contains('_')
            && w.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            && w.as_bytes()[0].is_ascii_uppercase()
    })
}
