//! Go syntax helpers over tree-sitter: parse a file once, then ask about
//! imports, calls (by dotted name), composite literals (`cors.Options{…}`)
//! and string literals. The rule sets in `checks::go_rules` read only these.

use crate::syntax::{Kinds, Parents, text};
use std::cell::RefCell;
use std::collections::HashMap;
use tree_sitter::{Node, Parser, Tree};

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses Go source. `None` only if the grammar cannot be loaded, which a
/// unit test rules out; syntax errors still yield a tree.
pub fn parse(src: &str) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut p = Parser::new();
            p.set_language(&tree_sitter_go::LANGUAGE.into()).ok()?;
            *slot = Some(p);
        }
        slot.as_mut()?.parse(src, None)
    })
}

/// Node kinds of functions.
pub const FUNCTIONS: &[&str] = &["function_declaration", "method_declaration", "func_literal"];

/// The parent map's view of Go: every function form opens a scope.
pub static KINDS: Kinds = Kinds {
    scopes: FUNCTIONS,
    functions: FUNCTIONS,
    nested: &[],
    costly: &["call_expression", "composite_literal"],
    await_kind: "",
    anonymous: false,
};

/// The parent map of a parsed file (named nodes only).
pub fn parents(root: Node<'_>) -> Parents<'_> {
    Parents::build(root, &KINDS)
}

/// Dotted names with more parts than this are not names any rule knows.
const MAX_NAME_PARTS: usize = 64;

/// The dotted name of what a call calls: `http.ListenAndServe`,
/// `r.Use`, `cors.New`, `c.Request().Context` (a call inside the chain
/// keeps its `()`).
pub fn callee(call: Node<'_>, src: &str) -> Option<String> {
    dotted(call.child_by_field_name("function")?, src)
}

/// A dotted name for an identifier or selector chain; iterative and capped.
pub fn dotted(node: Node<'_>, src: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut node = node;
    let mut called = false;
    let part = |name: &str, called: bool| if called { format!("{name}()") } else { name.to_string() };
    loop {
        if parts.len() >= MAX_NAME_PARTS {
            return None;
        }
        match node.kind() {
            "identifier" | "field_identifier" | "package_identifier" | "type_identifier" => {
                parts.push(part(text(node, src), called));
                break;
            }
            "selector_expression" => {
                parts.push(part(text(node.child_by_field_name("field")?, src), called));
                called = false;
                node = node.child_by_field_name("operand")?;
            }
            "call_expression" if !parts.is_empty() && !called => {
                called = true;
                node = node.child_by_field_name("function")?;
            }
            "parenthesized_expression" => node = node.named_child(0)?,
            "unary_expression" => node = node.child_by_field_name("operand")?,
            "qualified_type" => {
                let pkg = node.child_by_field_name("package")?;
                let name = node.child_by_field_name("name")?;
                parts.push(text(name, src).to_string());
                parts.push(text(pkg, src).to_string());
                break;
            }
            _ => return None,
        }
    }
    parts.reverse();
    Some(parts.join("."))
}

pub use crate::syntax::{args, last};

/// The value of a string literal (interpreted or raw); escapes are kept
/// as written. `None` for anything else.
pub fn string_value(node: Node<'_>, src: &str) -> Option<String> {
    match node.kind() {
        "interpreted_string_literal" | "raw_string_literal" => {
            let t = text(node, src);
            Some(t.get(1..t.len().saturating_sub(1)).unwrap_or("").to_string())
        }
        _ => None,
    }
}

/// The package name an import path binds by default: its last segment,
/// skipping a `/vN` major and a `go-` prefix or `.vN` suffix
/// (`github.com/redis/go-redis/v9` → `redis`, `gopkg.in/yaml.v3` → `yaml`).
pub fn default_package_name(path: &str) -> String {
    let mut segs: Vec<&str> = path.split('/').collect();
    if segs.len() > 1
        && segs.last().is_some_and(|s| s.len() > 1 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit()))
    {
        segs.pop();
    }
    let seg = segs.last().copied().unwrap_or(path);
    let seg = seg.strip_prefix("go-").unwrap_or(seg);
    let seg = match seg.rsplit_once(".v") {
        Some((base, v)) if v.chars().all(|c| c.is_ascii_digit()) => base,
        _ => seg,
    };
    seg.trim_end_matches("-go").replace('-', "")
}

/// Local package name → import path of every import in the file.
pub fn imports(root: Node<'_>, src: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    crate::syntax::walk(root, |n| {
        if n.kind() != "import_spec" {
            return;
        }
        let Some(path) = n.child_by_field_name("path").and_then(|p| string_value(p, src)) else { return };
        let local = match n.child_by_field_name("name") {
            Some(name) if name.kind() == "package_identifier" => text(name, src).to_string(),
            Some(_) => return, // `_` and `.` imports bind no name
            None => default_package_name(&path),
        };
        out.insert(local, path);
    });
    out
}

/// The value of key `key` in a composite literal (`cors.Options{AllowedOrigins: …}`),
/// or in its `literal_value` body.
pub fn keyed<'t>(lit: Node<'t>, key: &str, src: &str) -> Option<Node<'t>> {
    let body = if lit.kind() == "composite_literal" { lit.child_by_field_name("body")? } else { lit };
    let mut c = body.walk();
    let found = body.named_children(&mut c).find(|e| {
        e.kind() == "keyed_element" && e.child_by_field_name("key").is_some_and(|k| text(k, src).trim() == key)
    })?;
    let value = found.child_by_field_name("value")?;
    // `literal_element` wraps the expression.
    Some(if value.kind() == "literal_element" { value.named_child(0).unwrap_or(value) } else { value })
}

/// The string elements of a `[]string{"a", "b"}` literal (or one string).
pub fn string_list(node: Node<'_>, src: &str) -> Option<Vec<String>> {
    if let Some(s) = string_value(node, src) {
        return Some(vec![s]);
    }
    let body = match node.kind() {
        "composite_literal" => node.child_by_field_name("body")?,
        "literal_value" => node,
        _ => return None,
    };
    let mut c = body.walk();
    body.named_children(&mut c)
        .filter(|e| e.kind() != "comment")
        .map(|e| {
            let inner = if e.kind() == "literal_element" { e.named_child(0)? } else { e };
            string_value(inner, src)
        })
        .collect()
}

/// The type name of a composite literal: `cors.Options`, `http.Client`, `Config`.
pub fn composite_type(lit: Node<'_>, src: &str) -> Option<String> {
    let t = lit.child_by_field_name("type")?;
    match t.kind() {
        "qualified_type" | "type_identifier" => dotted(t, src),
        "generic_type" => t.child_by_field_name("type").and_then(|n| dotted(n, src)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::walk;

    #[test]
    fn parses_calls_imports_and_literals() {
        let src = "package main\n\nimport (\n\t\"net/http\"\n\tgcors \"github.com/gin-contrib/cors\"\n\t\"github.com/go-chi/chi/v5\"\n\t\"github.com/redis/go-redis/v9\"\n)\n\nfunc main() {\n\tr := chi.NewRouter()\n\tr.Use(gcors.New(gcors.Config{AllowOrigins: []string{\"*\"}, AllowCredentials: true}))\n\thttp.ListenAndServe(\":8080\", r)\n\tc.Request().Context()\n}\n";
        let tree = parse(src).expect("grammar loads");
        let imports = imports(tree.root_node(), src);
        assert_eq!(imports.get("gcors").map(String::as_str), Some("github.com/gin-contrib/cors"));
        assert_eq!(imports.get("chi").map(String::as_str), Some("github.com/go-chi/chi/v5"));
        assert_eq!(imports.get("redis").map(String::as_str), Some("github.com/redis/go-redis/v9"));
        let mut calls = vec![];
        let mut lists = vec![];
        walk(tree.root_node(), |n| match n.kind() {
            "call_expression" => calls.push(callee(n, src).unwrap_or_else(|| "?".into())),
            "composite_literal" if composite_type(n, src).as_deref() == Some("gcors.Config") => {
                lists.push(keyed(n, "AllowOrigins", src).and_then(|v| string_list(v, src)));
                lists.push(keyed(n, "AllowCredentials", src).map(|v| vec![text(v, src).to_string()]));
            }
            _ => {}
        });
        assert_eq!(
            calls,
            vec!["chi.NewRouter", "r.Use", "gcors.New", "http.ListenAndServe", "c.Request().Context", "c.Request"]
        );
        assert_eq!(lists, vec![Some(vec!["*".to_string()]), Some(vec!["true".to_string()])]);
        assert_eq!(default_package_name("gopkg.in/yaml.v3"), "yaml");
    }
}
