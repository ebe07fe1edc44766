//! CI configuration as checks read it: every CI file of a supported system
//! as raw text, and GitHub Actions workflows parsed (with `yaml-rust2`) into
//! jobs, steps, `uses:`/`run:` and `permissions:`, each with its line so
//! findings point at the right place.
//!
//! A workflow that is not valid YAML is kept with a [`WorkflowError`]: the
//! checks that need it report `error` instead of passing on it.

use crate::repo::Repo;
use crate::stack::ci_system;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// A YAML node with the line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// 1-based.
    pub line: u32,
    pub value: Value,
}

/// A YAML value. Scalars stay text: checks compare them as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    /// An alias (`*anchor`); workflows rarely use them and the checks
    /// do not need to see through them.
    Alias,
}

impl Node {
    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value under `key` in a mapping (the key has the
    /// line a reader looks for: a block value starts on the next line).
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries().iter().find(|(k, _)| k.as_str() == Some(key)).map(|(k, v)| (k, v))
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.value {
            Value::Map(pairs) => pairs,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.value {
            Value::Seq(items) => items,
            _ => &[],
        }
    }
}

/// Why a YAML file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct WorkflowError {
    pub line: u32,
    pub message: String,
}

/// Builds [`Node`]s from parser events, keeping the marks that
/// `yaml_rust2::YamlLoader` throws away.
#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    /// Open collections; a map's pending key is kept beside it.
    stack: Vec<(Node, Option<Node>)>,
}

impl Builder {
    fn insert(&mut self, node: Node) {
        let Some((parent, pending)) = self.stack.last_mut() else {
            self.docs.push(node);
            return;
        };
        match &mut parent.value {
            Value::Seq(items) => items.push(node),
            Value::Map(pairs) => match pending.take() {
                Some(key) => pairs.push((key, node)),
                None => *pending = Some(node),
            },
            _ => {}
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line() as u32;
        match ev {
            Event::SequenceStart(..) => self.stack.push((Node { line, value: Value::Seq(vec![]) }, None)),
            Event::MappingStart(..) => self.stack.push((Node { line, value: Value::Map(vec![]) }, None)),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((node, _)) = self.stack.pop() {
                    self.insert(node);
                }
            }
            Event::Scalar(v, style, ..) => {
                // A plain `~`/`null`/empty scalar is YAML null: keep it as an empty string.
                let v = if style == TScalarStyle::Plain && (v == "~" || v == "null") { String::new() } else { v };
                self.insert(Node { line, value: Value::Scalar(v) });
            }
            Event::Alias(_) => self.insert(Node { line, value: Value::Alias }),
            _ => {}
        }
    }
}

/// Parses YAML text into its documents.
///
/// # Errors
/// The scanner's message and line when the text is not valid YAML.
pub fn parse_yaml(text: &str) -> Result<Vec<Node>, WorkflowError> {
    too_deep(text)?;
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser
        .load(&mut builder, true)
        .map_err(|e| WorkflowError { line: e.marker().line() as u32, message: e.info().to_string() })?;
    Ok(builder.docs)
}

/// Block nesting deeper than any real config can have. The YAML parser
/// recurses once per level and a stack overflow aborts the whole scan (it
/// cannot be caught), so a hostile `- - - - …` line is refused up front.
const MAX_NESTING_COLUMNS: usize = 256;

fn too_deep(text: &str) -> Result<(), WorkflowError> {
    for (i, line) in text.lines().enumerate() {
        let b = line.as_bytes();
        let mut indent = 0;
        while indent < b.len() {
            match b[indent] {
                b' ' => indent += 1,
                b'-' | b'?' if b.get(indent + 1) == Some(&b' ') => indent += 2,
                _ => break,
            }
        }
        if indent > MAX_NESTING_COLUMNS {
            return Err(WorkflowError { line: i as u32 + 1, message: "nesting too deep to be a real config".into() });
        }
    }
    Ok(())
}

/// A step of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub line: u32,
    pub name: Option<String>,
    /// `uses:` and its line.
    pub uses: Option<(String, u32)>,
    /// `run:` script and its line.
    pub run: Option<(String, u32)>,
}

/// A job of a workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: String,
    pub line: u32,
    /// A reusable workflow call (`jobs.<id>.uses`) and its line.
    pub uses: Option<(String, u32)>,
    /// `permissions:` as written (`read-all`, `write-all`, or a mapping
    /// rendered as `key: value` pairs) and its line.
    pub permissions: Option<(String, u32)>,
    pub steps: Vec<Step>,
}

/// A GitHub Actions workflow.
#[derive(Debug, Clone, PartialEq)]
pub struct Workflow {
    /// Top-level `permissions:` and its line.
    pub permissions: Option<(String, u32)>,
    pub jobs: Vec<Job>,
}

impl Workflow {
    /// Every `uses:` reference of the workflow (steps and reusable-workflow jobs), with lines.
    pub fn uses(&self) -> impl Iterator<Item = (&str, u32)> {
        self.jobs.iter().flat_map(|j| {
            j.uses.iter().chain(j.steps.iter().filter_map(|s| s.uses.as_ref())).map(|(u, l)| (u.as_str(), *l))
        })
    }

    /// Every `run:` script, with lines.
    pub fn runs(&self) -> impl Iterator<Item = (&str, u32)> {
        self.jobs.iter().flat_map(|j| j.steps.iter().filter_map(|s| s.run.as_ref()).map(|(r, l)| (r.as_str(), *l)))
    }
}

fn permissions_of(node: &Node) -> Option<(String, u32)> {
    let (key, p) = node.entry("permissions")?;
    let text = match &p.value {
        Value::Scalar(s) => s.clone(),
        Value::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| format!("{}: {}", k.as_str().unwrap_or("?"), v.as_str().unwrap_or("?")))
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    Some((text, key.line))
}

fn scalar_at(node: &Node, key: &str) -> Option<(String, u32)> {
    node.entry(key).and_then(|(k, v)| v.as_str().map(|s| (s.to_string(), k.line)))
}

/// Parses a GitHub Actions workflow.
///
/// # Errors
/// Invalid YAML, or a document that is not a mapping.
pub fn parse_workflow(text: &str) -> Result<Workflow, WorkflowError> {
    let docs = parse_yaml(text)?;
    let Some(doc) = docs.first() else {
        return Err(WorkflowError { line: 1, message: "empty workflow".into() });
    };
    if !matches!(doc.value, Value::Map(_)) {
        return Err(WorkflowError { line: doc.line, message: "a workflow must be a mapping".into() });
    }
    let jobs = doc
        .get("jobs")
        .map(|jobs| {
            jobs.entries()
                .iter()
                .map(|(k, job)| Job {
                    id: k.as_str().unwrap_or("").to_string(),
                    line: k.line,
                    uses: scalar_at(job, "uses"),
                    permissions: permissions_of(job),
                    steps: job
                        .get("steps")
                        .map(|s| s.items())
                        .unwrap_or(&[])
                        .iter()
                        .map(|step| Step {
                            line: step.line,
                            name: scalar_at(step, "name").map(|(n, _)| n),
                            uses: scalar_at(step, "uses"),
                            run: scalar_at(step, "run"),
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Workflow { permissions: permissions_of(doc), jobs })
}

/// One CI configuration file.
#[derive(Debug, Clone)]
pub struct CiFile {
    pub path: String,
    /// The system id of `stack::ci_system` (`github-actions`, `gitlab-ci`, …).
    pub system: &'static str,
    pub text: String,
    /// For GitHub Actions workflows: the parsed workflow or why it did not parse.
    pub workflow: Option<Result<Workflow, WorkflowError>>,
}

/// Every CI configuration file of the repository, read and (for GitHub
/// Actions) parsed. Other files that cannot be read are skipped; a workflow
/// that cannot be read (over 1 MiB, unreadable) is kept as an error, so the
/// checks that need it do not pass without having seen it.
pub fn load(repo: &Repo<'_>) -> Vec<CiFile> {
    repo.files()
        .filter_map(|entry| {
            let system = ci_system(&entry.path)?;
            let text = match repo.read_text(entry) {
                Ok(text) => text,
                Err(message) if system == "github-actions" => {
                    let workflow = Some(Err(WorkflowError { line: 1, message }));
                    return Some(CiFile { path: entry.path.clone(), system, text: String::new(), workflow });
                }
                Err(_) => return None,
            };
            let workflow = (system == "github-actions").then(|| parse_workflow(&text));
            Some(CiFile { path: entry.path.clone(), system, text, workflow })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const WF: &str = "name: ci\non: [push]\npermissions:\n  contents: read\njobs:\n  test:\n    runs-on: ubuntu-latest\n    permissions: write-all\n    steps:\n      - uses: actions/checkout@v4\n      - name: test\n        run: |\n          pytest -q\n  call:\n    uses: org/repo/.github/workflows/x.yml@main\n";

    #[test]
    fn workflow_jobs_steps_and_lines() {
        let wf = parse_workflow(WF).unwrap();
        assert_eq!(wf.permissions, Some(("contents: read".into(), 3)));
        assert_eq!(wf.jobs.len(), 2);
        assert_eq!(wf.jobs[0].permissions, Some(("write-all".into(), 8)));
        let uses: Vec<_> = wf.uses().collect();
        assert_eq!(uses, vec![("actions/checkout@v4", 10), ("org/repo/.github/workflows/x.yml@main", 15)]);
        let runs: Vec<_> = wf.runs().collect();
        assert_eq!(runs, vec![("pytest -q\n", 12)]);
    }

    #[test]
    fn invalid_yaml_has_a_line() {
        let err = parse_workflow("on: push\njobs:\n  a:\n    steps: [\n").unwrap_err();
        assert!(err.line >= 4, "{err}");
        assert!(parse_workflow("- a\n- b\n").is_err());
        let hostile = "- ".repeat(100_000);
        assert_eq!(parse_yaml(&hostile).unwrap_err().line, 1);
    }
}
