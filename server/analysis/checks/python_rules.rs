//! The Python analyzer: parses each Python application file once with
//! tree-sitter and hands the tree to the rule sets (`python_security`,
//! `python_runtime`), which record hits and signals. Test files, docs,
//! examples and migrations are not parsed (CHECKS.md: excluded from code
//! checks).

use super::{Check, python_runtime, python_security};
use crate::engine::{FileAnalyzer, FileOutput, SourceFile};
use crate::python;
use crate::walk::{FileEntry, Language};
use std::collections::BTreeSet;
use tree_sitter::Tree;

/// A parsed Python file, as rule sets see it.
pub struct PyFile<'a> {
    pub entry: &'a FileEntry,
    pub src: &'a str,
    pub tree: &'a Tree,
    /// Top-level module names imported anywhere in the file (`fastapi`, `os`, …).
    pub imports: BTreeSet<String>,
    /// Every node's parent: climbing with `Node::parent()` is quadratic in depth.
    pub parents: python::Parents<'a>,
}

impl PyFile<'_> {
    pub fn imports(&self, module: &str) -> bool {
        self.imports.contains(module)
    }
}

pub fn checks() -> Vec<Check> {
    let mut v = python_security::checks();
    v.extend(python_runtime::checks());
    v
}

pub fn analyzers() -> Vec<Box<dyn FileAnalyzer>> {
    vec![Box::new(PythonAnalyzer)]
}

struct PythonAnalyzer;

/// Syntax trees nesting deeper than this are not analysed. Real code stays
/// under 100 (a 2,000-file sample of installed packages peaks at 88; CPython
/// itself refuses 200 nested brackets), while the rules walk up from nodes
/// to their enclosing function, and tree-sitter finds a node's parent from
/// the root: cost grows with the square of the depth, so a 50,000-deep
/// `a.a.a…` or `f(f(f(…` would stall the scan.
pub const MAX_TREE_DEPTH: usize = 400;

/// Budget for [`python::Parents::nesting`]'s cost estimate. A megabyte of ordinary
/// code (100,000 calls at depth 15–20) costs a few times 10⁷; a megabyte of
/// `f(f(f(…` 100 deep costs over 10⁹ and would take minutes.
pub const MAX_NESTING_COST: u64 = 100_000_000;

/// Import root → framework or ORM signal key.
const IMPORT_SIGNALS: &[(&str, &str)] = &[
    ("fastapi", "framework:fastapi"),
    ("starlette", "framework:starlette"),
    ("flask", "framework:flask"),
    ("django", "framework:django"),
    ("rest_framework", "framework:drf"),
    ("sqlalchemy", "orm:sqlalchemy"),
    ("flask_sqlalchemy", "orm:sqlalchemy"),
    ("sqlmodel", "orm:sqlmodel"),
    ("tortoise", "orm:tortoise"),
    ("peewee", "orm:peewee"),
];

impl FileAnalyzer for PythonAnalyzer {
    fn name(&self) -> &'static str {
        "python"
    }

    fn wants(&self, entry: &FileEntry) -> bool {
        entry.language == Some(Language::Python) && entry.is_app_code()
    }

    fn analyze(&self, file: &SourceFile<'_>, out: &mut FileOutput) {
        let Some(tree) = python::parse(file.text) else { return };
        // One walk records every parent, lists the nodes and measures the nesting.
        let parents = python::parents(tree.root_node());
        let imports = imported_modules(&parents, file.text);
        for (module, key) in IMPORT_SIGNALS {
            if imports.contains(*module) {
                out.signal(key, 1, *module);
            }
        }
        let (depth, cost) = parents.nesting();
        if depth > MAX_TREE_DEPTH || cost > MAX_NESTING_COST {
            out.note(format!(
                "Python checks skipped: the code nests too deep to analyse in reasonable time \
                 ({depth} levels; real code stays under 100)"
            ));
            return;
        }
        let py = PyFile { entry: file.entry, src: file.text, tree: &tree, imports, parents };
        python_security::analyze(&py, out);
        python_runtime::analyze(&py, out);
    }
}

/// Root module names of every `import x.y` and `from x.y import z`.
fn imported_modules(parents: &python::Parents<'_>, src: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for &(n, _) in parents.nodes() {
        match n.kind() {
            "import_statement" => {
                let mut c = n.walk();
                for name in n.named_children(&mut c) {
                    let target =
                        if name.kind() == "aliased_import" { name.child_by_field_name("name") } else { Some(name) };
                    if let Some(t) = target {
                        out.insert(root_of(python::text(t, src)));
                    }
                }
            }
            "import_from_statement" => {
                if let Some(m) = n.child_by_field_name("module_name") {
                    let t = python::text(m, src);
                    if !t.starts_with('.') {
                        out.insert(root_of(t));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn root_of(dotted: &str) -> String {
    dotted.split('.').next().unwrap_or(dotted).trim().to_string()
}
