//! Rust syntax helpers over tree-sitter: parse a file once, then ask about
//! calls (path calls `Cors::permissive`, method chains
//! `CorsLayer::new().allow_origin`), macro invocations (`format!`,
//! `println!`), attributes (`#[get("/health")]`) and string literals. The
//! rule sets in `checks::rust_rules` read only these.

use crate::syntax::{Kinds, Parents, text};
use std::cell::RefCell;
use tree_sitter::{Node, Parser, Tree};

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses Rust source. `None` only if the grammar cannot be loaded, which a
/// unit test rules out; syntax errors still yield a tree.
pub fn parse(src: &str) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut p = Parser::new();
            p.set_language(&tree_sitter_rust::LANGUAGE.into()).ok()?;
            *slot = Some(p);
        }
        slot.as_mut()?.parse(src, None)
    })
}

/// Node kinds of functions.
pub const FUNCTIONS: &[&str] = &["function_item", "closure_expression"];

/// The parent map's view of Rust: functions and closures open scopes.
pub static KINDS: Kinds = Kinds {
    scopes: FUNCTIONS,
    functions: FUNCTIONS,
    nested: &["impl_item", "mod_item", "trait_item"],
    costly: &["call_expression", "macro_invocation"],
    await_kind: "await_expression",
    anonymous: false,
};

/// The parent map of a parsed file (named nodes only).
pub fn parents(root: Node<'_>) -> Parents<'_> {
    Parents::build(root, &KINDS)
}

/// Names with more parts than this are not names any rule knows.
const MAX_NAME_PARTS: usize = 64;

/// The name of what a call calls: `Cors::permissive`, `reqwest::get`,
/// `CorsLayer::new().allow_origin`, `app.route`, `sqlx::query_as`
/// (turbofish dropped).
pub fn callee(call: Node<'_>, src: &str) -> Option<String> {
    name_of(call.child_by_field_name("function")?, src)
}

/// A name for a path or method chain; iterative and capped.
pub fn name_of(node: Node<'_>, src: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut node = node;
    let mut called = false;
    let part = |name: &str, called: bool| if called { format!("{name}()") } else { name.to_string() };
    loop {
        if parts.len() >= MAX_NAME_PARTS {
            return None;
        }
        match node.kind() {
            "identifier" | "self" | "field_identifier" | "type_identifier" | "crate" | "super" => {
                parts.push(part(text(node, src), called));
                break;
            }
            "scoped_identifier" | "scoped_type_identifier" => {
                // `a::b::C` as written, without generics.
                let flat: String = text(node, src).split_whitespace().collect();
                parts.push(part(&flat, called));
                break;
            }
            "field_expression" => {
                parts.push(part(text(node.child_by_field_name("field")?, src), called));
                called = false;
                node = node.child_by_field_name("value")?;
            }
            "generic_function" => node = node.child_by_field_name("function")?,
            // `sqlx::query!(…).fetch_all`: the macro heads the chain.
            "macro_invocation" => {
                parts.push(format!("{}!()", text(node.child_by_field_name("macro")?, src)));
                break;
            }
            "call_expression" if !parts.is_empty() && !called => {
                called = true;
                node = node.child_by_field_name("function")?;
            }
            "await_expression" | "try_expression" | "parenthesized_expression" | "reference_expression" => {
                node = node.named_child(0)?
            }
            _ => return None,
        }
    }
    let mut fixed = String::new();
    for (i, name) in parts.iter().rev().enumerate() {
        if i > 0 {
            fixed.push('.');
        }
        fixed.push_str(name);
    }
    Some(fixed)
}

/// The last segment of a name (`permissive` of `Cors::permissive`, `route` of `app.route`).
pub fn last(name: &str) -> &str {
    let tail = name.rsplit('.').next().unwrap_or(name);
    let tail = tail.rsplit("::").next().unwrap_or(tail);
    tail.trim_end_matches("()")
}

/// The arguments of a call, without comments and attributes.
pub fn args<'t>(call: Node<'t>) -> Vec<Node<'t>> {
    let Some(a) = call.child_by_field_name("arguments") else { return vec![] };
    let mut c = a.walk();
    a.named_children(&mut c)
        .filter(|n| !matches!(n.kind(), "line_comment" | "block_comment" | "attribute_item"))
        .collect()
}

/// The value of a string literal (plain or raw), escapes kept as written.
pub fn string_value(node: Node<'_>, src: &str) -> Option<String> {
    match node.kind() {
        "string_literal" | "raw_string_literal" => {
            let mut c = node.walk();
            Some(node.named_children(&mut c).map(|n| text(n, src)).collect())
        }
        _ => None,
    }
}

/// The macro name of an invocation: `format`, `println`, `sqlx::query`.
pub fn macro_name<'s>(mac: Node<'_>, src: &'s str) -> Option<&'s str> {
    mac.child_by_field_name("macro").map(|m| text(m, src))
}

/// The first string literal inside a macro's token tree (`format!("…", x)`).
pub fn macro_string(mac: Node<'_>, src: &str) -> Option<String> {
    let tree = mac.named_children(&mut mac.walk()).find(|n| n.kind() == "token_tree")?;
    let mut c = tree.walk();
    let first = tree.named_children(&mut c).find(|n| matches!(n.kind(), "string_literal" | "raw_string_literal"))?;
    string_value(first, src)
}

/// `#[get("/health")]` on a function → ("get", Some("/health")).
pub fn attribute(attr_item: Node<'_>, src: &str) -> Option<(String, Option<String>)> {
    let attr = attr_item.named_child(0)?;
    let name = text(attr.named_child(0)?, src).to_string();
    let arg = attr.child_by_field_name("arguments").and_then(|tt| {
        let mut c = tt.walk();
        let first = tt.named_children(&mut c).find(|n| matches!(n.kind(), "string_literal" | "raw_string_literal"))?;
        string_value(first, src)
    });
    Some((name, arg))
}

/// The attributes written before an item (`#[get("/")] async fn …`).
pub fn attributes_of(item: Node<'_>) -> Vec<Node<'_>> {
    let mut out = Vec::new();
    let mut prev = item.prev_named_sibling();
    while let Some(p) = prev {
        match p.kind() {
            "attribute_item" => out.push(p),
            "line_comment" | "block_comment" => {}
            _ => break,
        }
        prev = p.prev_named_sibling();
    }
    out
}

/// True if a function item is `async fn`.
pub fn is_async(func: Node<'_>, src: &str) -> bool {
    let mut c = func.walk();
    func.children(&mut c)
        .find(|n| n.kind() == "function_modifiers")
        .is_some_and(|m| text(m, src).split_whitespace().any(|w| w == "async"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::walk;

    #[test]
    fn names_calls_macros_and_attributes() {
        let src = "use tower_http::cors::{Any, CorsLayer};\n#[get(\"/health\")]\nasync fn health() -> impl Responder { HttpResponse::Ok() }\nfn main() {\n    let c = CorsLayer::new().allow_origin(Any);\n    let q = sqlx::query_as::<_, User>(&format!(\"SELECT * FROM t WHERE id = {}\", id)).fetch_all(&pool).await?;\n    app.route(\"/x\", get(list));\n}\n";
        let tree = parse(src).expect("grammar loads");
        let mut calls = vec![];
        let mut macros = vec![];
        let mut attrs = vec![];
        walk(tree.root_node(), |n| match n.kind() {
            "call_expression" => calls.push(callee(n, src).unwrap_or_else(|| "?".into())),
            "macro_invocation" => {
                macros.push((macro_name(n, src).unwrap_or("").to_string(), macro_string(n, src).unwrap_or_default()))
            }
            "function_item" => {
                for a in attributes_of(n) {
                    attrs.push((attribute(a, src), is_async(n, src)));
                }
            }
            _ => {}
        });
        assert_eq!(
            calls,
            vec![
                "HttpResponse::Ok",
                "CorsLayer::new().allow_origin",
                "CorsLayer::new",
                "sqlx::query_as().fetch_all",
                "sqlx::query_as",
                "app.route",
                "get"
            ]
        );
        assert_eq!(macros, vec![("format".to_string(), "SELECT * FROM t WHERE id = {}".to_string())]);
        assert_eq!(attrs, vec![(Some(("get".to_string(), Some("/health".to_string()))), true)]);
        assert_eq!(last("CorsLayer::new().allow_origin"), "allow_origin");
        assert_eq!(last("Cors::permissive"), "permissive");
    }
}
