//! Code that turns input into queries or objects: `sql-injection-risk` and
//! `unsafe-deserialization`.
//!
//! SQL fires when the text handed to a query sink is built by f-string
//! interpolation, `%` formatting, `.format(…)` or `+` with a non-constant
//! part, directly or through a variable assigned in the same function.
//! Parameterised queries pass the values separately and do not fire;
//! interpolating an UPPER_CASE constant, `int(…)` or a placeholder string
//! built by `", ".join("?" * n)` does not either.

use super::syntax::{Ctx, arg, last};
use crate::engine::{FileOutput, Hit};
use crate::python;
use regex::Regex;
use std::sync::LazyLock;
use tree_sitter::Node;

/// Methods/functions that run SQL text.
const SQL_SINKS: &[&str] = &[
    "execute",
    "executemany",
    "executescript",
    "exec_driver_sql",
    "raw",
    "RawSQL",
    "extra",
    "text",
    "read_sql",
    "read_sql_query",
    "fetch_all",
    "fetch_one",
    "fetch_val",
    "fetchrow",
    "fetchval",
    "mogrify",
    "query",
];

static SQL_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i-u)\b(select|insert|update|delete|drop|alter|create|truncate|merge|pragma|where|values|order by|limit)\b",
    )
    .unwrap()
});

/// Records the SQL and deserialization rules for one file.
pub(super) fn analyze(cx: &Ctx<'_>, out: &mut FileOutput) {
    for (call, name) in &cx.calls {
        let l = last(name);
        if SQL_SINKS.contains(&l) {
            sql_sink(cx, *call, l, out);
        }
        deserialization(cx, *call, name, out);
    }
}

fn sql_sink(cx: &Ctx<'_>, call: Node<'_>, sink: &str, out: &mut FileOutput) {
    // `text(...)` is SQLAlchemy's only when SQLAlchemy is imported.
    if sink == "text" && !(cx.imports("sqlalchemy") || cx.imports("sqlmodel")) {
        return;
    }
    let mut candidates: Vec<Node<'_>> = Vec::new();
    if let Some(a) = arg(call, 0, "sql", cx.src) {
        candidates.push(a);
    }
    for kw in ["query", "statement", "where"] {
        candidates.extend(python::keyword_arg(call, kw, cx.src));
    }
    // `.extra(where=["x = '%s'" % v])` holds SQL in a list.
    let expanded: Vec<Node<'_>> = candidates
        .into_iter()
        .flat_map(|n| {
            if n.kind() == "list" {
                let mut c = n.walk();
                n.named_children(&mut c).collect::<Vec<_>>()
            } else {
                vec![n]
            }
        })
        .collect();
    for sql in expanded {
        if dynamic_sql(cx, sql, 0) {
            let msg = format!("SQL text built from non-constant parts is passed to {sink}(): use bound parameters");
            out.hit(Hit::new("sql-injection-risk", python::line(call), msg, cx.snippet(call)));
            return;
        }
    }
}

/// True if `node` is SQL text with a non-constant part spliced in.
fn dynamic_sql(cx: &Ctx<'_>, node: Node<'_>, depth: u8) -> bool {
    if depth > 3 {
        return false;
    }
    match node.kind() {
        "string" => python::string_value(node, cx.src).is_none() && fstring_is_dynamic(cx, node),
        "concatenated_string" => {
            let mut c = node.walk();
            let parts: Vec<Node<'_>> = node.named_children(&mut c).collect();
            looks_like_sql(cx, node) && parts.iter().any(|p| fstring_is_dynamic(cx, *p))
        }
        "binary_operator" => {
            let (Some(l), Some(op), Some(r)) = (
                node.child_by_field_name("left"),
                node.child_by_field_name("operator"),
                node.child_by_field_name("right"),
            ) else {
                return false;
            };
            match op.kind() {
                "%" => looks_like_sql(cx, l) && !safe_value(cx, r),
                "+" => {
                    let parts = flatten_plus(node);
                    parts.iter().any(|p| looks_like_sql(cx, *p))
                        && parts.iter().any(|p| !python::is_constant(*p, cx.src) && !safe_value(cx, *p))
                        || dynamic_sql(cx, l, depth + 1)
                        || dynamic_sql(cx, r, depth + 1)
                }
                _ => false,
            }
        }
        "call" => {
            // "... {} ...".format(x)
            let Some(f) = node.child_by_field_name("function").filter(|f| f.kind() == "attribute") else {
                return false;
            };
            let is_format = f.child_by_field_name("attribute").is_some_and(|a| cx.text(a) == "format");
            let obj = f.child_by_field_name("object");
            is_format
                && obj.is_some_and(|o| looks_like_sql(cx, o))
                && node.child_by_field_name("arguments").is_some_and(|a| {
                    let mut c = a.walk();
                    a.named_children(&mut c).any(|x| {
                        let v = if x.kind() == "keyword_argument" { x.child_by_field_name("value") } else { Some(x) };
                        v.is_some_and(|v| !safe_value(cx, v))
                    })
                })
        }
        "identifier" => {
            // A variable built in this function: any of its assignments counts.
            let scope = cx.parents.enclosing_function(node);
            let name = cx.text(node);
            let assigns = cx.assignments_to(name, scope);
            let before: Vec<Node<'_>> = assigns.into_iter().filter(|a| a.start_byte() < node.start_byte()).collect();
            let built_up = before.iter().any(|a| a.kind() == "augmented_assignment")
                && before.iter().any(|a| a.child_by_field_name("right").is_some_and(|r| looks_like_sql(cx, r)));
            before.iter().any(|a| {
                a.child_by_field_name("right").is_some_and(|r| {
                    dynamic_sql(cx, r, depth + 1)
                        || (built_up
                            && a.kind() == "augmented_assignment"
                            && !python::is_constant(r, cx.src)
                            && !safe_value(cx, r))
                })
            })
        }
        _ => false,
    }
}

/// An f-string whose interpolations include something other than constants.
fn fstring_is_dynamic(cx: &Ctx<'_>, s: Node<'_>) -> bool {
    if s.kind() != "string" || !looks_like_sql(cx, s) {
        return false;
    }
    let mut c = s.walk();
    s.named_children(&mut c)
        .filter(|n| n.kind() == "interpolation")
        .any(|i| i.child_by_field_name("expression").is_some_and(|e| !safe_value(cx, e)))
}

/// Values that cannot carry SQL: literals, UPPER_CASE constants, `int(…)`,
/// `len(…)`, and placeholder lists built with `join` over `?`/`%s`.
fn safe_value(cx: &Ctx<'_>, node: Node<'_>) -> bool {
    safe_within(cx, node, 0)
}

fn safe_within(cx: &Ctx<'_>, node: Node<'_>, depth: u8) -> bool {
    if depth > 3 {
        return false;
    }
    match node.kind() {
        "integer" | "float" | "true" | "false" | "none" => true,
        "string" | "concatenated_string" | "list" | "tuple" => python::is_constant(node, cx.src),
        "identifier" => {
            let name = cx.text(node);
            if name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_') {
                return true;
            }
            let v = cx.resolve(node);
            v != node && (safe_within(cx, v, depth + 1) || is_placeholder_join(cx, v))
        }
        "call" => {
            let name = python::call_name(node, cx.src).unwrap_or_default();
            matches!(name.as_str(), "int" | "float" | "len" | "bool") || is_placeholder_join(cx, node)
        }
        "parenthesized_expression" => node.named_child(0).is_some_and(|n| safe_within(cx, n, depth + 1)),
        _ => false,
    }
}

/// `", ".join("?" * len(ids))`, `",".join(["%s"] * n)`.
fn is_placeholder_join(cx: &Ctx<'_>, node: Node<'_>) -> bool {
    node.kind() == "call"
        && python::call_name(node, cx.src).is_none_or(|n| n.ends_with("join"))
        && cx.text(node).contains(".join")
        && ["\"?\"", "'?'", "\"%s\"", "'%s'", "[\"?\"]", "['?']"].iter().any(|p| cx.text(node).contains(p))
}

/// The operands of a chain of `+`, left to right. Iterative and capped: a
/// generated file can hold a chain thousands of operands deep.
fn flatten_plus(node: Node<'_>) -> Vec<Node<'_>> {
    let is_plus = |n: Node<'_>| {
        n.kind() == "binary_operator" && n.child_by_field_name("operator").is_some_and(|o| o.kind() == "+")
    };
    let mut parts = Vec::new();
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if parts.len() + stack.len() > 256 {
            break;
        }
        if is_plus(n) {
            stack.extend(n.child_by_field_name("right"));
            stack.extend(n.child_by_field_name("left"));
        } else {
            parts.push(n);
        }
    }
    parts
}

/// The literal text of a string (f-string parts included) reads like SQL.
fn looks_like_sql(cx: &Ctx<'_>, node: Node<'_>) -> bool {
    matches!(node.kind(), "string" | "concatenated_string") && SQL_WORDS.is_match(cx.text(node))
}

/// `pickle.loads`, `yaml.load` without a safe loader, `marshal.loads`,
/// `jsonpickle.decode`, `eval`/`exec` — on input that is not a constant.
fn deserialization(cx: &Ctx<'_>, call: Node<'_>, name: &str, out: &mut FileOutput) {
    let what = match name {
        "pickle.loads"
        | "pickle.load"
        | "cPickle.loads"
        | "cPickle.load"
        | "_pickle.loads"
        | "dill.loads"
        | "dill.load"
        | "marshal.loads"
        | "marshal.load"
        | "jsonpickle.decode"
        | "yaml.unsafe_load"
        | "yaml.unsafe_load_all" => name.to_string(),
        "loads" | "load" if cx.imports("pickle") && !cx.imports("json") => name.to_string(),
        "yaml.load" | "yaml.load_all" => {
            let loader = arg(call, 1, "Loader", cx.src).map(|l| cx.text(l)).unwrap_or("");
            let safe = ["SafeLoader", "BaseLoader", "FullLoader"].iter().any(|s| loader.contains(s));
            if safe {
                return;
            }
            format!("{name} without a safe Loader")
        }
        "eval" | "exec" => name.to_string(),
        _ => return,
    };
    let Some(input) = python::positional_args(call).first().copied() else { return };
    if python::is_constant(input, cx.src) || opens_constant_path(cx, input) {
        return;
    }
    let msg = format!("{what} on data that is not a constant can run arbitrary code");
    out.hit(Hit::new("unsafe-deserialization", python::line(call), msg, cx.snippet(call)));
}

/// `open("model.pkl", "rb")` or a name bound by `with open("model.pkl") as f`:
/// a file shipped with the code, not client input.
fn opens_constant_path(cx: &Ctx<'_>, input: Node<'_>) -> bool {
    let is_open_const = |n: Node<'_>| {
        n.kind() == "call"
            && python::call_name(n, cx.src).is_some_and(|c| c == "open")
            && python::positional_args(n).first().is_some_and(|p| python::is_constant(*p, cx.src))
    };
    if is_open_const(input) {
        return true;
    }
    if input.kind() != "identifier" {
        return false;
    }
    let name = cx.text(input);
    let mut cur = cx.parents.parent(input);
    while let Some(n) = cur {
        if n.kind() == "with_statement" {
            let mut found = false;
            python::walk(n, |item| {
                if item.kind() == "as_pattern"
                    && item.named_child(0).is_some_and(is_open_const)
                    && item.child_by_field_name("alias").is_some_and(|a| cx.text(a) == name)
                {
                    found = true;
                }
            });
            if found {
                return true;
            }
        }
        cur = cx.parents.parent(n);
    }
    false
}
