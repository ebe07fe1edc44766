//! Python syntax helpers over tree-sitter: parse once per file, then ask
//! questions about calls, arguments, strings and enclosing scopes. Rules
//! built on these see code, not text, so a pattern inside a comment, a
//! docstring or another scope does not match.

use crate::syntax::Kinds;
pub use crate::syntax::{line, text, walk};
use std::cell::RefCell;
use tree_sitter::{Node, Parser, Tree};

thread_local! {
    // A parser per scanning thread: creating one per file costs more than parsing small files.
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses Python source. `None` only if the grammar cannot be loaded, which
/// a unit test rules out; syntax errors still yield a tree with ERROR nodes.
pub fn parse(src: &str) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut p = Parser::new();
            p.set_language(&tree_sitter_python::LANGUAGE.into()).ok()?;
            *slot = Some(p);
        }
        slot.as_mut()?.parse(src, None)
    })
}

/// The parent map's view of Python: `def` and `lambda` open scopes.
pub static KINDS: Kinds = Kinds {
    scopes: &["function_definition", "lambda"],
    functions: &["function_definition"],
    nested: &["class_definition", "lambda"],
    costly: &["call", "string"],
    await_kind: "await",
    anonymous: true,
};

/// Every node's parent in a Python tree (see [`crate::syntax::Parents`]).
pub type Parents<'t> = crate::syntax::Parents<'t>;

/// The parent map of a parsed Python file, built in one walk.
pub fn parents(root: Node<'_>) -> Parents<'_> {
    Parents::build(root, &KINDS)
}

/// The dotted name of what a `call` node calls: `os.getenv`, `app.add_middleware`,
/// `CORSMiddleware`. `None` for calls of computed expressions.
pub fn call_name(call: Node<'_>, src: &str) -> Option<String> {
    let func = call.child_by_field_name("function")?;
    dotted(func, src)
}

/// A dotted name for an identifier or attribute chain.
///
/// Iterative and capped: a hostile `a.a.a…` chain 50,000 links long must
/// neither recurse once per link (a stack overflow aborts the whole scan)
/// nor build an ever longer name for every call along it. No name a rule
/// looks for has anywhere near [`MAX_NAME_PARTS`] parts.
pub fn dotted(node: Node<'_>, src: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut node = node;
    // The part about to be pushed was called (`name()`), and `node` was
    // reached as the object of an attribute (only there is a call allowed).
    let (mut called, mut via_attr) = (false, false);
    loop {
        if parts.len() >= MAX_NAME_PARTS {
            return None;
        }
        let (name, next) = match node.kind() {
            "identifier" => (text(node, src), None),
            "attribute" => {
                let obj = node.child_by_field_name("object")?;
                (text(node.child_by_field_name("attribute")?, src), Some(obj))
            }
            "call" if via_attr && !called => {
                node = node.child_by_field_name("function")?;
                called = true;
                continue;
            }
            _ => return None,
        };
        parts.push(if called { format!("{name}()") } else { name.to_string() });
        called = false;
        match next {
            Some(obj) => {
                node = obj;
                via_attr = true;
            }
            None => break,
        }
    }
    parts.reverse();
    Some(parts.join("."))
}

/// Dotted names with more parts than this are not names any rule knows.
pub const MAX_NAME_PARTS: usize = 64;

/// The value node of keyword argument `name` in a call.
pub fn keyword_arg<'t>(call: Node<'t>, name: &str, src: &str) -> Option<Node<'t>> {
    let args = call.child_by_field_name("arguments")?;
    let mut cursor = args.walk();
    args.named_children(&mut cursor).find_map(|arg| {
        (arg.kind() == "keyword_argument" && arg.child_by_field_name("name").is_some_and(|n| text(n, src) == name))
            .then(|| arg.child_by_field_name("value"))
            .flatten()
    })
}

/// Positional (non-keyword) arguments of a call.
pub fn positional_args<'t>(call: Node<'t>) -> Vec<Node<'t>> {
    let Some(args) = call.child_by_field_name("arguments") else { return vec![] };
    let mut cursor = args.walk();
    args.named_children(&mut cursor)
        .filter(|a| !matches!(a.kind(), "keyword_argument" | "comment" | "list_splat" | "dictionary_splat"))
        .collect()
}

/// The value of a plain string literal (no f-string interpolation), without
/// quotes or prefix. `None` for anything else.
pub fn string_value(node: Node<'_>, src: &str) -> Option<String> {
    if node.kind() != "string" {
        return None;
    }
    let mut out = String::new();
    let mut cursor = node.walk();
    for child in node.named_children(&mut cursor) {
        match child.kind() {
            "string_content" | "escape_sequence" => out.push_str(text(child, src)),
            "string_start" | "string_end" => {}
            // An interpolation makes the value dynamic.
            _ => return None,
        }
    }
    Some(out)
}

/// True for literals: strings, numbers, booleans, None, and lists/tuples of them.
pub fn is_constant(node: Node<'_>, src: &str) -> bool {
    match node.kind() {
        "string" => string_value(node, src).is_some(),
        "integer" | "float" | "true" | "false" | "none" => true,
        "list" | "tuple" | "set" => {
            let mut c = node.walk();
            node.named_children(&mut c).all(|n| is_constant(n, src))
        }
        "concatenated_string" => {
            let mut c = node.walk();
            node.named_children(&mut c).all(|n| is_constant(n, src))
        }
        _ => false,
    }
}

/// The innermost function definition containing `node`.
pub fn enclosing_function(node: Node<'_>) -> Option<Node<'_>> {
    let mut cur = node.parent();
    while let Some(n) = cur {
        if n.kind() == "function_definition" {
            return Some(n);
        }
        cur = n.parent();
    }
    None
}

/// True if a `function_definition` is `async def`.
pub fn is_async(func: Node<'_>) -> bool {
    func.child(0).is_some_and(|c| c.kind() == "async")
}

/// True if `node` sits at module level (not inside a function or class body).
pub fn is_module_level(node: Node<'_>) -> bool {
    let mut cur = node.parent();
    while let Some(n) = cur {
        if matches!(n.kind(), "function_definition" | "class_definition" | "lambda") {
            return false;
        }
        cur = n.parent();
    }
    true
}

/// True if `node` is the argument of an `await`.
pub fn is_awaited(node: Node<'_>) -> bool {
    node.parent().is_some_and(|p| p.kind() == "await")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_names_through_calls_and_capped_chains() {
        let names = |src: &str| {
            let tree = parse(src).unwrap();
            let mut v = vec![];
            walk(tree.root_node(), |n| {
                if n.kind() == "call" {
                    v.push(call_name(n, src));
                }
            });
            v
        };
        assert_eq!(names("a.b().c(x)\n"), vec![Some("a.b().c".to_string()), Some("a.b".to_string())]);
        assert_eq!(names("f()()\n"), vec![None, Some("f".to_string())]);
        let long = format!("os{}()\n", ".a".repeat(10_000));
        assert_eq!(names(&long), vec![None]);
    }

    #[test]
    fn parses_and_names_calls_across_lines() {
        let src = "import os\nSECRET = os.getenv(\n    \"SECRET_KEY\",\n    \"dev\",\n)\n";
        let tree = parse(src).expect("python grammar loads");
        let mut names = vec![];
        walk(tree.root_node(), |n| {
            if n.kind() == "call" {
                names.push((
                    call_name(n, src).unwrap(),
                    positional_args(n).iter().filter_map(|a| string_value(*a, src)).collect::<Vec<_>>(),
                ));
            }
        });
        assert_eq!(names, vec![("os.getenv".to_string(), vec!["SECRET_KEY".to_string(), "dev".to_string()])]);
    }

    #[test]
    fn parent_map_agrees_with_tree_sitter() {
        let src = "import os\n@app.get('/x')\nasync def f(a=lambda: g(h(1))):\n    if __name__ == '__main__':\n        await x.y(z)[0]\nclass C:\n    def m(self): return [i for i in f(\"s\")]\n(\n";
        let tree = parse(src).unwrap();
        let parents = parents(tree.root_node());
        // The same answers the slow way, climbing with Node::parent().
        let (mut max, mut cost, mut scoped) = (0usize, 0u64, vec![]);
        walk(tree.root_node(), |n| {
            let ancestors: Vec<Node<'_>> = std::iter::successors(n.parent(), |p| p.parent()).collect();
            max = max.max(ancestors.len());
            if matches!(n.kind(), "call" | "string") {
                cost += (ancestors.len() * ancestors.len()) as u64;
            }
            if n.is_named() {
                scoped.push((n, ancestors.into_iter().find(|a| matches!(a.kind(), "function_definition" | "lambda"))));
            }
        });
        assert_eq!(parents.nesting(), (max, cost));
        assert_eq!(parents.nodes(), scoped.as_slice());
        walk(tree.root_node(), |n| {
            assert_eq!(parents.parent(n), n.parent());
            assert_eq!(parents.enclosing_function(n), enclosing_function(n));
            assert_eq!(parents.is_module_level(n), is_module_level(n));
            assert_eq!(parents.is_awaited(n), is_awaited(n));
        });
    }

    #[test]
    fn async_scope_and_module_level() {
        let src = "async def f():\n    g()\nh()\n";
        let tree = parse(src).unwrap();
        let mut seen = vec![];
        walk(tree.root_node(), |n| {
            if n.kind() == "call" {
                seen.push((text(n, src).to_string(), enclosing_function(n).is_some_and(is_async), is_module_level(n)));
            }
        });
        assert_eq!(seen, vec![("g()".into(), true, false), ("h()".into(), false, true)]);
    }
}
