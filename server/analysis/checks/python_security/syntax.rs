//! The shared view of one Python file for the security rules: a single walk
//! collects the calls, assignments, classes and functions every rule looks
//! at, plus helpers to resolve a name to its one literal value and to tell
//! whether code only runs under an environment condition.
//!
//! Nothing here records findings; the rule modules do.

use crate::checks::python_rules::PyFile;
use crate::python;
use std::collections::BTreeSet;
use tree_sitter::Node;

/// Django settings every project has; two of them assigned at module level
/// make a file a settings module whatever its name.
const DJANGO_SETTINGS: &[&str] = &[
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECRET_KEY",
    "INSTALLED_APPS",
    "MIDDLEWARE",
    "DATABASES",
    "ROOT_URLCONF",
    "CORS_ALLOWED_ORIGINS",
    "CORS_ALLOW_ALL_ORIGINS",
    "CORS_ORIGIN_ALLOW_ALL",
];

/// Words in an `if` condition that make the guarded code depend on the
/// environment (`if settings.DEBUG:`, `if os.getenv("ENV") == "dev":`).
/// `__name__ == "__main__"` contains none of them on purpose.
const ENV_WORDS: &[&str] = &["env", "settings", "config", "debug", "dev", "local", "test", "prod", "stag"];

/// Methods that change a list or dict in place: a name mutated this way has
/// no single literal value.
const MUTATORS: &[&str] = &["append", "extend", "insert", "update", "add", "setdefault", "remove", "pop", "clear"];

/// One parsed file, indexed for the rules.
pub(super) struct Ctx<'a> {
    pub src: &'a str,
    pub imports: &'a BTreeSet<String>,
    /// Every node's parent (see [`python::Parents`]).
    pub parents: &'a python::Parents<'a>,
    /// Every call with its dotted name ("" when the callee is computed).
    pub calls: Vec<(Node<'a>, String)>,
    /// `assignment` and `augmented_assignment` nodes.
    pub assigns: Vec<Node<'a>>,
    pub classes: Vec<Node<'a>>,
    pub functions: Vec<Node<'a>>,
    /// `attribute` nodes (`request.files`, `ssl.CERT_NONE`).
    pub attributes: Vec<Node<'a>>,
    /// Short plain string literals (header names, setting names).
    pub short_strings: Vec<(Node<'a>, String)>,
    pub or_operators: Vec<Node<'a>>,
    /// A Django (or Flask `from_pyfile`) settings module.
    pub settings_module: bool,
    /// A settings/config file meant for development or tests (`settings/dev.py`, `local_settings.py`).
    pub dev_config: bool,
}

impl<'a> Ctx<'a> {
    /// Indexes `file` with one walk of its tree.
    pub fn new(file: &'a PyFile<'_>) -> Self {
        let src = file.src;
        let mut cx = Ctx {
            src,
            imports: &file.imports,
            parents: &file.parents,
            calls: Vec::new(),
            assigns: Vec::new(),
            classes: Vec::new(),
            functions: Vec::new(),
            attributes: Vec::new(),
            short_strings: Vec::new(),
            or_operators: Vec::new(),
            settings_module: false,
            dev_config: false,
        };
        // The parent walk already listed every node in document order.
        for &(n, _) in file.parents.nodes() {
            match n.kind() {
                "call" => cx.calls.push((n, python::call_name(n, src).unwrap_or_default())),
                "assignment" | "augmented_assignment" => cx.assigns.push(n),
                "class_definition" => cx.classes.push(n),
                "function_definition" => cx.functions.push(n),
                "attribute" => cx.attributes.push(n),
                "boolean_operator" if n.child_by_field_name("operator").is_some_and(|o| o.kind() == "or") => {
                    cx.or_operators.push(n)
                }
                "string" if n.byte_range().len() < 64 => {
                    if let Some(v) = python::string_value(n, src) {
                        cx.short_strings.push((n, v));
                    }
                }
                _ => {}
            }
        }
        let names: BTreeSet<&str> = cx
            .assigns
            .iter()
            .filter(|a| file.parents.is_module_level(**a))
            .filter_map(|a| cx.target_name(*a))
            .filter(|n| DJANGO_SETTINGS.contains(n))
            .collect();
        cx.settings_module = is_settings_path(&file.entry.path) || names.len() >= 2;
        cx.dev_config = is_dev_name(file.entry.file_name().trim_end_matches(".py"));
        cx
    }

    /// True if the file imports the top-level module `module`.
    pub fn imports(&self, module: &str) -> bool {
        self.imports.contains(module)
    }

    /// The source text of `node`.
    pub fn text(&self, node: Node<'_>) -> &'a str {
        python::text(node, self.src)
    }

    /// The node's text on one line, shortened, for evidence.
    pub fn snippet(&self, node: Node<'_>) -> String {
        let flat = self.text(node).split_whitespace().collect::<Vec<_>>().join(" ");
        if flat.chars().count() > 120 { format!("{}…", flat.chars().take(119).collect::<String>()) } else { flat }
    }

    /// The name assigned by `x = …` / `x += …` when the target is a plain name.
    pub fn target_name(&self, assign: Node<'_>) -> Option<&'a str> {
        assign.child_by_field_name("left").filter(|l| l.kind() == "identifier").map(|l| self.text(l))
    }

    /// Module-level `NAME = value` assignments: (name, value, assignment).
    pub fn module_assignments(&self) -> impl Iterator<Item = (&'a str, Node<'a>, Node<'a>)> + '_ {
        self.assigns.iter().filter(|a| a.kind() == "assignment" && self.parents.is_module_level(**a)).filter_map(|a| {
            let name = self.target_name(*a)?;
            Some((name, a.child_by_field_name("right")?, *a))
        })
    }

    /// Assignments to `name` in `scope` (a function, or `None` for the module).
    pub fn assignments_to(&self, name: &str, scope: Option<Node<'a>>) -> Vec<Node<'a>> {
        self.assigns
            .iter()
            .copied()
            .filter(|a| self.target_name(*a) == Some(name) && self.parents.enclosing_function(*a) == scope)
            .collect()
    }

    /// True if `name` is changed in place anywhere in the file (`name.append(…)`, `name[k] = …`).
    pub fn mutated(&self, name: &str) -> bool {
        let by_call = self.calls.iter().any(|(_, c)| {
            c.strip_prefix(name).and_then(|r| r.strip_prefix('.')).is_some_and(|m| MUTATORS.contains(&m))
        });
        by_call
            || self.assigns.iter().any(|a| {
                a.child_by_field_name("left").is_some_and(|l| {
                    l.kind() == "subscript" && l.child_by_field_name("value").is_some_and(|v| self.text(v) == name)
                })
            })
    }

    /// Follows a plain name to the value of its single, never-mutated
    /// assignment (in its function, else at module level). Any other node,
    /// or a name with several assignments, comes back unchanged: a value
    /// that can change at run time is not a literal.
    pub fn resolve(&self, node: Node<'a>) -> Node<'a> {
        if node.kind() != "identifier" {
            return node;
        }
        let name = self.text(node);
        let scope = self.parents.enclosing_function(node);
        let mut found = self.assignments_to(name, scope);
        if found.is_empty() && scope.is_some_and(|f| !is_param(f, name, self.src)) {
            found = self.assignments_to(name, None);
        }
        match found.as_slice() {
            [one] if one.kind() == "assignment" && !self.mutated(name) => {
                one.child_by_field_name("right").unwrap_or(node)
            }
            _ => node,
        }
    }

    /// The strings of a literal list/tuple/set (or a single string), after
    /// resolving a name. `None` when any element is not a plain literal.
    pub fn string_list(&self, node: Node<'a>) -> Option<Vec<String>> {
        let node = self.resolve(node);
        match node.kind() {
            "string" => python::string_value(node, self.src).map(|s| vec![s]),
            "list" | "tuple" | "set" => {
                let mut c = node.walk();
                node.named_children(&mut c)
                    .filter(|n| n.kind() != "comment")
                    .map(|n| python::string_value(n, self.src))
                    .collect()
            }
            _ => None,
        }
    }

    /// True if `node` only runs under a condition on the environment,
    /// settings or a debug flag (an `if`/`elif` or conditional expression
    /// around it). `if __name__ == "__main__":` is not such a condition.
    pub fn env_guarded(&self, node: Node<'_>) -> bool {
        let mut cur = self.parents.parent(node);
        while let Some(n) = cur {
            let cond = match n.kind() {
                "if_statement" | "elif_clause" => n.child_by_field_name("condition"),
                "conditional_expression" => n.named_child(1),
                _ => None,
            };
            if let Some(c) = cond {
                let t = self.text(c).to_ascii_lowercase();
                if ENV_WORDS.iter().any(|w| t.contains(w)) {
                    return true;
                }
            }
            cur = self.parents.parent(n);
        }
        false
    }

    /// An environment read: `os.getenv("KEY", default)`, `os.environ.get`,
    /// `os.environ.setdefault`, python-decouple `config("KEY", default=…)`,
    /// django-environ `env("KEY", default=…)`/`env.bool(…)`, or a project
    /// helper named like one (`envbool("DEBUG", "True")`, `get_env("KEY", "x")`)
    /// whose key is an UPPER_CASE variable name. Returns the key and the
    /// default, if one is given.
    pub fn env_read<'t>(&self, call: Node<'t>, name: &str) -> Option<(String, Option<Node<'t>>)> {
        let key = arg(call, 0, "key", self.src).and_then(|k| python::string_value(k, self.src))?;
        let is_os_env = matches!(name, "os.getenv" | "getenv")
            || name.ends_with("environ.get")
            || name.ends_with("environ.setdefault");
        if is_os_env {
            return Some((key, arg(call, 1, "default", self.src)));
        }
        let decouple = self.imports("decouple") && matches!(name, "config" | "decouple.config");
        let environ = self.imports("environ") && (name == "env" || name.starts_with("env."));
        if decouple || environ {
            return Some((key, python::keyword_arg(call, "default", self.src)));
        }
        let helper = last(name).to_ascii_lowercase().contains("env")
            && !key.is_empty()
            && key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        helper.then(|| (key, arg(call, 1, "default", self.src)))
    }

    /// An Alembic revision file (`from alembic import op` and a module-level
    /// `down_revision`), wherever it lives: migrations are not app code.
    pub fn is_alembic_revision(&self) -> bool {
        self.imports("alembic") && self.module_assignments().any(|(n, _, _)| n == "down_revision")
    }

    /// True if `inner` lies inside `outer`.
    pub fn within(inner: Node<'_>, outer: Node<'_>) -> bool {
        outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
    }
}

/// True if `name` is a parameter of the function `func` (which then shadows any module-level value).
fn is_param(func: Node<'_>, name: &str, src: &str) -> bool {
    let Some(params) = func.child_by_field_name("parameters") else { return false };
    let mut c = params.walk();
    params.named_children(&mut c).any(|p| {
        let id = match p.kind() {
            "identifier" => Some(p),
            "default_parameter" | "typed_default_parameter" => p.child_by_field_name("name"),
            "typed_parameter" => p.named_child(0),
            _ => None,
        };
        id.is_some_and(|i| python::text(i, src) == name)
    })
}

/// The last component of a dotted name: `app.add_middleware` → `add_middleware`.
pub(super) fn last(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// The value of keyword `name`, or else the positional argument at `pos`.
pub(super) fn arg<'t>(call: Node<'t>, pos: usize, name: &str, src: &str) -> Option<Node<'t>> {
    python::keyword_arg(call, name, src).or_else(|| python::positional_args(call).get(pos).copied())
}

/// True for the literal `True`.
pub(super) fn is_true(node: Option<Node<'_>>) -> bool {
    node.is_some_and(|n| n.kind() == "true")
}

/// `settings.py`, `production_settings.py`, `settings/prod.py`, `config.py`…
fn is_settings_path(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    let name = parts.pop().unwrap_or("");
    let stem = name.trim_end_matches(".py");
    matches!(stem, "settings" | "config" | "conf" | "configuration")
        || stem.ends_with("_settings")
        || stem.ends_with("_config")
        || parts.last().is_some_and(|d| matches!(*d, "settings" | "config" | "conf"))
}

/// A file or class name meant for development or tests: `dev`, `local_settings`, `TestingConfig`.
pub(super) fn is_dev_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if ["development", "testing", "localsettings"].iter().any(|w| lower.contains(w)) {
        return true;
    }
    // Split `DevConfig`/`dev_settings` into words.
    let mut words = Vec::new();
    let mut cur = String::new();
    for ch in name.chars() {
        if ch == '_' || ch == '-' || ch == '.' || (ch.is_ascii_uppercase() && !cur.is_empty()) {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur).to_ascii_lowercase());
            }
            if ch.is_ascii_uppercase() {
                cur.push(ch);
            }
        } else {
            cur.push(ch);
        }
    }
    if !cur.is_empty() {
        words.push(cur.to_ascii_lowercase());
    }
    words.iter().any(|w| matches!(w.as_str(), "dev" | "develop" | "local" | "test" | "tests" | "ci"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_names() {
        for n in ["dev", "local_settings", "DevConfig", "TestingConfig", "settings_test", "development"] {
            assert!(is_dev_name(n), "{n}");
        }
        for n in ["settings", "prod", "ProductionConfig", "Settings", "social", "config", "base"] {
            assert!(!is_dev_name(n), "{n}");
        }
    }

    #[test]
    fn settings_paths() {
        assert!(is_settings_path("mysite/settings.py"));
        assert!(is_settings_path("mysite/settings/prod.py"));
        assert!(is_settings_path("app/core/config.py"));
        assert!(!is_settings_path("app/main.py"));
    }
}
