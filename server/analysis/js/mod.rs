//! JavaScript and TypeScript syntax helpers over tree-sitter: parse a file
//! once with the grammar its extension calls for (JavaScript for
//! `.js/.mjs/.cjs/.jsx`, TypeScript for `.ts/.mts/.cts`, TSX for `.tsx`),
//! then ask about calls, arguments, object literals and strings. Both
//! grammars share these node kinds, so one set of rules reads all of them.

use crate::syntax::{Kinds, Parents, text};
use std::cell::RefCell;
use tree_sitter::{Language, Node, Parser, Tree};

/// Which grammar parses a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    JavaScript,
    TypeScript,
    Tsx,
}

impl Dialect {
    /// The dialect of a path by its extension; `None` for non-JS files.
    pub fn of(path: &str) -> Option<Dialect> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match ext.as_str() {
            "js" | "mjs" | "cjs" | "jsx" => Dialect::JavaScript,
            "ts" | "mts" | "cts" => Dialect::TypeScript,
            "tsx" => Dialect::Tsx,
            _ => return None,
        })
    }

    fn index(self) -> usize {
        self as usize
    }

    fn language(self) -> Language {
        match self {
            Dialect::JavaScript => tree_sitter_javascript::LANGUAGE.into(),
            Dialect::TypeScript => tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
            Dialect::Tsx => tree_sitter_typescript::LANGUAGE_TSX.into(),
        }
    }
}

thread_local! {
    // One parser per dialect and scanning thread: creating one per file costs more than parsing small files.
    static PARSERS: RefCell<[Option<Parser>; 3]> = const { RefCell::new([None, None, None]) };
}

/// Parses source in `dialect`. `None` only if the grammar cannot be loaded,
/// which a unit test rules out; syntax errors still yield a tree.
pub fn parse(src: &str, dialect: Dialect) -> Option<Tree> {
    PARSERS.with(|cell| {
        let mut slots = cell.borrow_mut();
        let slot = &mut slots[dialect.index()];
        if slot.is_none() {
            let mut p = Parser::new();
            p.set_language(&dialect.language()).ok()?;
            *slot = Some(p);
        }
        slot.as_mut()?.parse(src, None)
    })
}

/// Node kinds of functions in both grammars.
pub const FUNCTIONS: &[&str] = &[
    "function_declaration",
    "function_expression",
    "function",
    "arrow_function",
    "method_definition",
    "generator_function_declaration",
    "generator_function",
];

/// The parent map's view of JavaScript: every function form opens a scope.
pub static KINDS: Kinds = Kinds {
    scopes: FUNCTIONS,
    functions: FUNCTIONS,
    nested: &["class_declaration", "class"],
    costly: &["call_expression", "new_expression"],
    await_kind: "await_expression",
    // Rules only climb from named nodes.
    anonymous: false,
};

/// The parent map of a parsed file (named nodes only).
pub fn parents(root: Node<'_>) -> Parents<'_> {
    Parents::build(root, &KINDS)
}

/// Dotted names with more parts than this are not names any rule knows.
const MAX_NAME_PARTS: usize = 64;

/// The dotted name of what a call or `new` calls: `app.use`, `crypto.createHash`,
/// `axios.create().get` (a call inside the chain keeps its `()`), `cors`.
pub fn callee(call: Node<'_>, src: &str) -> Option<String> {
    let func = call.child_by_field_name("function").or_else(|| call.child_by_field_name("constructor"))?;
    dotted(func, src)
}

/// A dotted name for an identifier, `this`, or a member chain; iterative and
/// capped so a hostile `a.a.a…` chain costs nothing.
pub fn dotted(node: Node<'_>, src: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut node = node;
    // The part about to be pushed was called (`b` in `a.b().c`).
    let mut called = false;
    let part = |name: &str, called: bool| if called { format!("{name}()") } else { name.to_string() };
    loop {
        if parts.len() >= MAX_NAME_PARTS {
            return None;
        }
        match node.kind() {
            "identifier" | "this" | "property_identifier" | "super" => {
                parts.push(part(text(node, src), called));
                break;
            }
            "member_expression" => {
                parts.push(part(text(node.child_by_field_name("property")?, src), called));
                called = false;
                node = node.child_by_field_name("object")?;
            }
            "call_expression" if !parts.is_empty() && !called => {
                called = true;
                node = node.child_by_field_name("function")?;
            }
            "non_null_expression" | "parenthesized_expression" => node = node.named_child(0)?,
            _ => return None,
        }
    }
    parts.reverse();
    Some(parts.join("."))
}

pub use crate::syntax::{args, last};

/// The value of a string literal, or of a template literal without
/// substitutions. `None` for anything dynamic.
pub fn string_value(node: Node<'_>, src: &str) -> Option<String> {
    match node.kind() {
        "string" | "template_string" => {
            let mut out = String::new();
            let mut c = node.walk();
            for child in node.named_children(&mut c) {
                match child.kind() {
                    "string_fragment" | "escape_sequence" => out.push_str(text(child, src)),
                    _ => return None,
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// A template literal with at least one `${…}`.
pub fn is_interpolated(node: Node<'_>) -> bool {
    if node.kind() != "template_string" {
        return false;
    }
    let mut c = node.walk();
    node.named_children(&mut c).any(|n| n.kind() == "template_substitution")
}

/// The name of an object literal's key: `origin`, `"origin"`.
pub fn key_name<'s>(key: Node<'_>, src: &'s str) -> &'s str {
    let t = text(key, src);
    t.trim_matches(|c| c == '"' || c == '\'')
}

/// The value of property `name` in an object literal (`{ origin: … }`); a
/// shorthand `{ origin }` answers the identifier itself.
pub fn prop<'t>(object: Node<'t>, name: &str, src: &str) -> Option<Node<'t>> {
    if object.kind() != "object" {
        return None;
    }
    let mut c = object.walk();
    object.named_children(&mut c).find_map(|p| match p.kind() {
        "pair" if p.child_by_field_name("key").is_some_and(|k| key_name(k, src) == name) => {
            p.child_by_field_name("value")
        }
        "shorthand_property_identifier" if text(p, src) == name => Some(p),
        _ => None,
    })
}

/// True if an object literal spreads another object (`{ ...defaults }`):
/// its missing keys may come from there.
pub fn spreads(object: Node<'_>) -> bool {
    let mut c = object.walk();
    object.named_children(&mut c).any(|p| p.kind() == "spread_element")
}

/// The first object-literal argument of a call.
pub fn options_arg(call: Node<'_>) -> Option<Node<'_>> {
    args(call).into_iter().find(|a| a.kind() == "object")
}

/// True for literals: strings without substitutions, numbers, booleans,
/// null/undefined, and arrays of them.
pub fn is_constant(node: Node<'_>, src: &str) -> bool {
    match node.kind() {
        "string" | "template_string" => string_value(node, src).is_some(),
        "number" | "true" | "false" | "null" | "undefined" => true,
        "array" => {
            let mut c = node.walk();
            node.named_children(&mut c).all(|n| is_constant(n, src))
        }
        _ => false,
    }
}

/// The reference `process.env.NAME` or `process.env["NAME"]` reads: `NAME`.
pub fn env_var<'s>(node: Node<'_>, src: &'s str) -> Option<&'s str> {
    if !matches!(node.kind(), "member_expression" | "subscript_expression") {
        return None;
    }
    let object = text(node.child_by_field_name("object")?, src);
    let spaced = || object.starts_with("process") && object.replace(char::is_whitespace, "") == "process.env";
    if object != "process.env" && !spaced() {
        return None;
    }
    match node.kind() {
        "member_expression" => Some(text(node.child_by_field_name("property")?, src)),
        "subscript_expression" => {
            let idx = node.child_by_field_name("index")?;
            matches!(idx.kind(), "string").then(|| key_name(idx, src))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::walk;

    fn calls(src: &str, dialect: Dialect) -> Vec<String> {
        let tree = parse(src, dialect).expect("grammar loads");
        let mut v = vec![];
        walk(tree.root_node(), |n| {
            if matches!(n.kind(), "call_expression" | "new_expression") {
                v.push(callee(n, src).unwrap_or_else(|| "?".into()));
            }
        });
        v
    }

    #[test]
    fn every_dialect_parses_and_names_calls() {
        assert_eq!(calls("app.use(cors());\n", Dialect::JavaScript), vec!["app.use", "cors"]);
        assert_eq!(
            calls("const x: number = axios.create().get(u as string);\n", Dialect::TypeScript),
            vec!["axios.create().get", "axios.create"]
        );
        assert_eq!(calls("const A = () => <div onClick={() => f(1)} />;\n", Dialect::Tsx), vec!["f"]);
        let long = format!("a{}();\n", ".b".repeat(5_000));
        assert_eq!(calls(&long, Dialect::JavaScript), vec!["?"]);
    }

    #[test]
    fn strings_objects_and_env_reads() {
        let src = "const o = { origin: '*', credentials: true, ...rest };\nconst s = process.env.JWT_SECRET;\nconst t = `a${b}`;\n";
        let tree = parse(src, Dialect::JavaScript).unwrap();
        let mut seen = vec![];
        walk(tree.root_node(), |n| match n.kind() {
            "object" => {
                seen.push(prop(n, "origin", src).and_then(|v| string_value(v, src)).unwrap_or_default());
                seen.push(format!("spreads={}", spreads(n)));
            }
            "member_expression" => {
                if let Some(v) = env_var(n, src) {
                    seen.push(v.to_string());
                }
            }
            "template_string" => seen.push(format!("interpolated={}", is_interpolated(n))),
            _ => {}
        });
        assert_eq!(seen, vec!["*", "spreads=true", "JWT_SECRET", "interpolated=true"]);
    }
}
