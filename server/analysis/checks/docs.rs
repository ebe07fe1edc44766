//! The docs category: a README worth reading, with setup instructions, an
//! owners file and a security policy. All are file-level facts read at
//! check time; no per-file analyzer is needed.

use super::{Check, CheckSpec, RawFinding, Verdict};
use crate::engine::FileAnalyzer;
use crate::model::{Category, Evidence, Location, Severity};
use crate::repo::Repo;
use crate::walk::FileEntry;

/// A README shorter than this says little beyond the project's name.
const MIN_README_LINES: usize = 10;

pub fn checks() -> Vec<Check> {
    vec![
        Check {
            spec: CheckSpec {
                id: "readme-missing",
                title: "README missing or nearly empty",
                category: Category::Docs,
                severity: Severity::Medium,
                pass_summary: "the repository has a README",
                rationale: "The README is the first thing an on-call engineer or new teammate opens. Without one, \
                            what the service does, who owns it and how to run it live only in people's heads.",
                fix: "Add a README.md at the root: what the service does, how to run it locally, how it is \
                      configured and deployed, and who to contact.",
            },
            run: readme_missing,
        },
        Check {
            spec: CheckSpec {
                id: "readme-no-setup",
                title: "README has no setup instructions",
                category: Category::Docs,
                severity: Severity::Low,
                pass_summary: "the README explains how to install and run the project",
                rationale: "A README that does not say how to install and start the project makes every new \
                            contributor rediscover the steps, and the steps drift from what CI actually does.",
                fix: "Add a \"Getting started\" section with the exact commands in a fenced shell block (```sh): \
                      install dependencies, set the environment, run the tests, start the server.",
            },
            run: readme_no_setup,
        },
        Check {
            spec: CheckSpec {
                id: "codeowners-missing",
                title: "No CODEOWNERS file",
                category: Category::Docs,
                severity: Severity::Low,
                pass_summary: "code ownership is declared in CODEOWNERS",
                rationale: "CODEOWNERS maps the repository to the people or team answerable for it, requests their \
                            review automatically, and lets a portfolio of services be sorted by team.",
                fix: "Add .github/CODEOWNERS with at least a default rule, e.g. `* @your-org/your-team`.",
            },
            run: codeowners_missing,
        },
        Check {
            spec: CheckSpec {
                id: "security-policy-missing",
                title: "No security policy",
                category: Category::Docs,
                severity: Severity::Info,
                pass_summary: "a security policy tells reporters how to disclose vulnerabilities",
                rationale: "Without a SECURITY.md, someone who finds a vulnerability has no private channel and \
                            may open a public issue instead.",
                fix: "Add SECURITY.md (or .github/SECURITY.md) with a contact address or the repository's private \
                      vulnerability reporting link, and the versions that receive fixes.",
            },
            run: security_policy_missing,
        },
    ]
}

#[allow(dead_code)]
pub fn analyzers() -> Vec<Box<dyn FileAnalyzer>> {
    Vec::new()
}

/// The root README, preferring Markdown when several exist.
fn root_readme<'a>(repo: &Repo<'a>) -> Option<&'a FileEntry> {
    let mut readmes: Vec<&FileEntry> =
        repo.files().filter(|f| !f.path.contains('/') && f.path.to_ascii_lowercase().starts_with("readme")).collect();
    readmes.sort_by_key(|f| (!f.path.to_ascii_lowercase().ends_with(".md"), f.path.len()));
    readmes.into_iter().next()
}

fn readme_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    let Some(readme) = root_readme(repo) else {
        return Ok(Verdict::Fail(vec![RawFinding::repo("no README at the repository root")]));
    };
    let text = repo.read_text(readme)?;
    let lines = text.lines().filter(|l| !l.trim().is_empty()).count();
    if lines < MIN_README_LINES {
        let message = format!("{} has only {lines} non-empty lines", readme.path);
        return Ok(Verdict::Fail(vec![RawFinding::at(Location::file(&readme.path), message, "README too short")]));
    }
    Ok(Verdict::Pass(vec![Evidence::new(
        format!("{} ({lines} non-empty lines)", readme.path),
        Some(Location::file(&readme.path)),
    )]))
}

const SHELL_LANGS: &[&str] =
    &["sh", "bash", "shell", "console", "zsh", "fish", "shell-session", "powershell", "ps1", "pwsh", "bat", "cmd"];
const SETUP_TOPICS: &[&str] = &[
    "getting started",
    "get started",
    "setup",
    "set up",
    "installation",
    "install",
    "usage",
    "quick start",
    "quickstart",
    "running",
    "how to run",
    "run locally",
    "development",
];
/// Commands that make an untagged fenced block a shell block.
const COMMANDS: &[&str] = &[
    "$ ",
    "pip ",
    "pipx ",
    "uv ",
    "poetry ",
    "npm ",
    "npx ",
    "yarn ",
    "pnpm ",
    "docker ",
    "make",
    "cargo ",
    "go ",
    "python",
    "git clone",
    "just ",
    "brew ",
    "apt",
    "./",
    "mvn ",
    "gradle",
    "curl ",
];

fn readme_no_setup(repo: &Repo<'_>) -> Result<Verdict, String> {
    let Some(readme) = root_readme(repo) else {
        return Ok(Verdict::NotApplicable("no README".into()));
    };
    let text = repo.read_text(readme)?;
    match setup_instructions(&text) {
        Some((line, what)) => Ok(Verdict::Pass(vec![Evidence::new(
            format!("{what} at {}:{line}", readme.path),
            Some(Location::at(&readme.path, line)),
        )])),
        None => Ok(Verdict::Fail(vec![RawFinding::at(
            Location::file(&readme.path),
            format!("{} has no install or run instructions", readme.path),
            "no setup section or shell block",
        )])),
    }
}

/// The first setup heading or shell block in a README, with its line.
fn setup_instructions(text: &str) -> Option<(u32, &'static str)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut in_fence = false;
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        let n = i as u32 + 1;
        if let Some(info) = line.strip_prefix("```").or_else(|| line.strip_prefix("~~~")) {
            if !in_fence {
                let lang = info.trim().split([' ', ',', '{']).next().unwrap_or("").to_ascii_lowercase();
                let first = lines.get(i + 1).map(|l| l.trim_start()).unwrap_or("");
                if SHELL_LANGS.contains(&lang.as_str())
                    || (lang.is_empty() && COMMANDS.iter().any(|c| first.starts_with(c)))
                {
                    return Some((n, "shell block"));
                }
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        if let Some(directive) = line.strip_prefix(".. code-block::").or_else(|| line.strip_prefix(".. code::"))
            && SHELL_LANGS.contains(&directive.trim())
        {
            return Some((n, "shell block"));
        }
        let underlined = lines.get(i + 1).is_some_and(|u| {
            let u = u.trim();
            u.len() >= 3 && u.bytes().all(|b| matches!(b, b'=' | b'-' | b'~' | b'^'))
        });
        let heading = line.starts_with('#') || (underlined && !line.is_empty());
        let lower = line.trim_start_matches('#').trim().to_ascii_lowercase();
        if heading && SETUP_TOPICS.iter().any(|t| lower.contains(t)) {
            return Some((n, "setup section"));
        }
    }
    None
}

/// The first of `names` found at the root, under .github/ or under docs/.
fn conventional_file<'a>(repo: &Repo<'a>, names: &[&str]) -> Option<&'a FileEntry> {
    repo.files().find(|f| {
        let lower = f.path.to_ascii_lowercase();
        let (dir, name) = lower.rsplit_once('/').unwrap_or(("", &lower));
        matches!(dir, "" | ".github" | "docs" | ".gitlab") && names.contains(&name)
    })
}

fn codeowners_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    Ok(match conventional_file(repo, &["codeowners"]) {
        Some(f) => {
            Verdict::Pass(vec![Evidence::new(format!("owners declared in {}", f.path), Some(Location::file(&f.path)))])
        }
        None => Verdict::Fail(vec![RawFinding::repo("no CODEOWNERS file at the root, .github/ or docs/")]),
    })
}

fn security_policy_missing(repo: &Repo<'_>) -> Result<Verdict, String> {
    Ok(match conventional_file(repo, &["security.md", "security.rst", "security.txt", "security"]) {
        Some(f) => {
            Verdict::Pass(vec![Evidence::new(format!("security policy in {}", f.path), Some(Location::file(&f.path)))])
        }
        None => Verdict::Fail(vec![RawFinding::repo("no SECURITY.md at the root, .github/ or docs/")]),
    })
}

#[cfg(test)]
mod tests {
    use super::setup_instructions;

    #[test]
    fn setup_is_a_heading_or_a_shell_block() {
        assert_eq!(setup_instructions("# App\n\n## Getting Started\n"), Some((3, "setup section")));
        assert_eq!(setup_instructions("text\n```bash\nmake\n```\n"), Some((2, "shell block")));
        assert_eq!(setup_instructions("text\n```\npip install app\n```\n"), Some((2, "shell block")));
        assert_eq!(setup_instructions("```python\n# Setup\n```\n"), None);
        assert_eq!(setup_instructions("Install\n=======\n"), Some((1, "setup section")));
    }
}
