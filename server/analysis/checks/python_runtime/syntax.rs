//! One pass over a parsed Python file that indexes what the runtime rules
//! ask about: every call with its dotted name, every function with its
//! route (from decorators), `except` clauses, string literals, names bound
//! to calls, and full import paths. Rules then ask scope questions (is this
//! call inside an `async def`, at import time, under the `__main__` guard)
//! with the helpers below, so a nested `def` or a lambda is its own scope.

use crate::checks::python_rules::PyFile;
use crate::python::{self, Parents, call_name, dotted, keyword_arg, positional_args, string_value, text};
use std::collections::{BTreeMap, HashMap};
use tree_sitter::Node;

/// A call and the dotted name of what it calls (`requests.get`, `self.client.chat.completions.create`).
pub struct Call<'t> {
    pub node: Node<'t>,
    pub name: String,
    /// Node id of the innermost `def` or lambda around the call, if any.
    pub scope: Option<usize>,
}

/// An HTTP route declared by a decorator (`@app.get("/items")`, `@bp.route(...)`).
pub struct Route {
    pub path: Option<String>,
    /// Serves GET (list endpoints are GETs; Flask's `route` defaults to GET).
    pub get: bool,
}

/// A `def` or `async def`.
pub struct Func<'t> {
    pub node: Node<'t>,
    pub name: String,
    pub is_async: bool,
    /// Decorator names: the called or referenced dotted name (`app.get`, `login_required`).
    pub decorators: Vec<String>,
    pub route: Option<Route>,
    /// A request handler: a route, a DRF `@api_view`, or a Django view taking `request`.
    pub handler: bool,
    /// The enclosing class, for methods.
    pub class: Option<String>,
    /// Parameter names with their annotation text, if any.
    pub params: Vec<(String, Option<String>)>,
}

/// The indexed file.
pub struct Cx<'a> {
    pub py: &'a PyFile<'a>,
    pub src: &'a str,
    pub calls: Vec<Call<'a>>,
    pub funcs: Vec<Func<'a>>,
    /// Node id of a function → its index in `funcs`.
    func_index: HashMap<usize, usize>,
    /// Node id of a function → indices of the calls made directly in it.
    by_scope: HashMap<usize, Vec<usize>>,
    pub excepts: Vec<Node<'a>>,
    /// String literals that are not docstrings or bare expression statements.
    pub strings: Vec<Node<'a>>,
    /// `name = call(...)` / `with call(...) as name`: the bound name and the call's dotted name.
    pub bindings: Vec<(String, String)>,
    /// Full dotted module paths imported (`google.cloud.storage`, `opentelemetry.metrics`)
    /// with the line of their first import.
    pub modules: BTreeMap<String, u32>,
    /// Classes and their superclass text.
    pub classes: Vec<(Node<'a>, String)>,
}

const ROUTE_METHODS: &[&str] =
    &["get", "post", "put", "patch", "delete", "head", "options", "route", "api_route", "websocket"];

impl<'a> Cx<'a> {
    /// Indexes a parsed file in one walk of its tree.
    pub fn new(py: &'a PyFile<'a>) -> Self {
        let src = py.src;
        let mut cx = Cx {
            py,
            src,
            calls: Vec::new(),
            funcs: Vec::new(),
            func_index: HashMap::new(),
            by_scope: HashMap::new(),
            excepts: Vec::new(),
            strings: Vec::new(),
            bindings: Vec::new(),
            modules: BTreeMap::new(),
            classes: Vec::new(),
        };
        let view_file = py.entry.path.contains("view");
        // The scope comes with the parent walk: `scope_of` per call would climb the tree again.
        for &(n, scope) in py.parents.nodes() {
            match n.kind() {
                "call" => {
                    if let Some(name) = call_name(n, src) {
                        cx.calls.push(Call { node: n, name, scope: scope.map(|s| s.id()) });
                    }
                }
                "function_definition" => cx.funcs.push(func(&py.parents, n, src, view_file)),
                "except_clause" => cx.excepts.push(n),
                "string" if py.parents.parent(n).is_none_or(|p| p.kind() != "expression_statement") => {
                    cx.strings.push(n)
                }
                "assignment" => {
                    if let (Some(l), Some(r)) = (n.child_by_field_name("left"), n.child_by_field_name("right")) {
                        bind(&mut cx.bindings, l, r, src);
                    }
                }
                "as_pattern" => {
                    if let (Some(v), Some(a)) = (n.named_child(0), n.child_by_field_name("alias")) {
                        // `with f() as x`: the alias is an `as_pattern_target` wrapping `x`.
                        let target = if a.kind() == "as_pattern_target" { a.named_child(0).unwrap_or(a) } else { a };
                        bind(&mut cx.bindings, target, v, src);
                    }
                }
                "import_statement" | "import_from_statement" => {
                    let mut c = n.walk();
                    for m in n.named_children(&mut c) {
                        let m =
                            if m.kind() == "aliased_import" { m.child_by_field_name("name").unwrap_or(m) } else { m };
                        if m.kind() == "dotted_name" {
                            let t = text(m, src);
                            let is_module =
                                n.kind() == "import_statement" || n.child_by_field_name("module_name") == Some(m);
                            if is_module {
                                cx.modules.entry(t.to_string()).or_insert(python::line(n));
                            } else if let Some(base) = n.child_by_field_name("module_name") {
                                // `from google.cloud import storage` imports `google.cloud.storage`.
                                cx.modules.entry(format!("{}.{t}", text(base, src))).or_insert(python::line(n));
                            }
                        }
                    }
                }
                "class_definition" => {
                    let sup =
                        n.child_by_field_name("superclasses").map(|s| text(s, src).to_string()).unwrap_or_default();
                    cx.classes.push((n, sup));
                }
                _ => {}
            }
        }
        cx.func_index = cx.funcs.iter().enumerate().map(|(i, f)| (f.node.id(), i)).collect();
        for (i, c) in cx.calls.iter().enumerate() {
            if let Some(s) = c.scope {
                cx.by_scope.entry(s).or_default().push(i);
            }
        }
        cx
    }

    /// Calls made directly in `f`, not in nested functions or lambdas.
    pub fn calls_in<'s>(&'s self, f: &Func<'_>) -> impl Iterator<Item = &'s Call<'a>> + 's {
        self.by_scope.get(&f.node.id()).into_iter().flatten().map(|i| &self.calls[*i])
    }

    /// Calls anywhere inside `node`, nested scopes included. The walk is
    /// pre-order, so `calls` is sorted by start byte.
    pub fn calls_within(&self, node: Node<'_>) -> &[Call<'a>] {
        let from = self.calls.partition_point(|c| c.node.start_byte() < node.start_byte());
        let to = self.calls.partition_point(|c| c.node.start_byte() < node.end_byte());
        &self.calls[from..to.max(from)]
    }

    /// String literals anywhere inside `node`.
    pub fn strings_within(&self, node: Node<'_>) -> &[Node<'a>] {
        let from = self.strings.partition_point(|s| s.start_byte() < node.start_byte());
        let to = self.strings.partition_point(|s| s.start_byte() < node.end_byte());
        &self.strings[from..to.max(from)]
    }

    /// The line where the file first imports `module` or a submodule of it.
    pub fn import_line(&self, module: &str) -> Option<u32> {
        self.modules
            .iter()
            .filter(|(m, _)| *m == module || m.strip_prefix(module).is_some_and(|r| r.starts_with('.')))
            .map(|(_, l)| *l)
            .min()
    }

    /// Names bound to a call whose dotted name satisfies `pred`.
    pub fn bound_to(&self, pred: impl Fn(&str) -> bool) -> Vec<&str> {
        self.bindings.iter().filter(|(_, c)| pred(c)).map(|(n, _)| n.as_str()).collect()
    }

    /// The function a node is in, if it is a `def` (not a lambda).
    pub fn func_of(&self, node: Node<'_>) -> Option<&Func<'a>> {
        self.func_by_id(scope_of(&self.py.parents, node)?.id())
    }

    /// The function whose node has this id.
    pub fn func_by_id(&self, id: usize) -> Option<&Func<'a>> {
        self.func_index.get(&id).map(|i| &self.funcs[*i])
    }

    /// 1-based line of a node.
    pub fn line(&self, node: Node<'_>) -> u32 {
        python::line(node)
    }
}

fn bind(out: &mut Vec<(String, String)>, target: Node<'_>, value: Node<'_>, src: &str) {
    if value.kind() != "call" {
        return;
    }
    if let (Some(t), Some(c)) = (dotted(target, src), call_name(value, src)) {
        out.push((t, c));
    }
}

fn func<'t>(p: &Parents<'t>, n: Node<'t>, src: &str, view_file: bool) -> Func<'t> {
    let name = n.child_by_field_name("name").map(|x| text(x, src).to_string()).unwrap_or_default();
    let mut decorators = Vec::new();
    let mut route = None;
    if let Some(parent) = p.parent(n).filter(|p| p.kind() == "decorated_definition") {
        let mut c = parent.walk();
        for d in parent.named_children(&mut c).filter(|d| d.kind() == "decorator") {
            let Some(expr) = d.named_child(0) else { continue };
            let (dname, call) = match expr.kind() {
                "call" => (call_name(expr, src), Some(expr)),
                _ => (dotted(expr, src), None),
            };
            let Some(dname) = dname else { continue };
            if let (Some(call), Some((base, method))) = (call, dname.rsplit_once('.'))
                && ROUTE_METHODS.contains(&method)
                && !base.is_empty()
            {
                let path = positional_args(call)
                    .first()
                    .copied()
                    .or_else(|| keyword_arg(call, "path", src))
                    .or_else(|| keyword_arg(call, "rule", src))
                    .and_then(|a| string_value(a, src));
                let get = match method {
                    "get" => true,
                    "route" | "api_route" => keyword_arg(call, "methods", src)
                        .is_none_or(|m| text(m, src).to_ascii_uppercase().contains("GET")),
                    _ => false,
                };
                route = Some(Route { path, get });
            }
            decorators.push(dname);
        }
    }
    let params = params(n, src);
    let class = enclosing_class(p, n).and_then(|c| c.child_by_field_name("name")).map(|x| text(x, src).to_string());
    let first_is_request = params.iter().find(|(p, _)| p != "self").is_some_and(|(p, _)| p == "request");
    let handler = route.is_some()
        || decorators.iter().any(|d| d.ends_with("api_view") || d.ends_with("action"))
        || (view_file && first_is_request && !name.starts_with('_'));
    Func { node: n, name, is_async: python::is_async(n), decorators, route, handler, class, params }
}

fn params(f: Node<'_>, src: &str) -> Vec<(String, Option<String>)> {
    let Some(ps) = f.child_by_field_name("parameters") else { return vec![] };
    let mut c = ps.walk();
    ps.named_children(&mut c)
        .filter_map(|p| {
            let ty = p.child_by_field_name("type").map(|t| text(t, src).to_string());
            let name = match p.kind() {
                "identifier" => Some(p),
                "typed_parameter" => p.named_child(0).filter(|x| x.kind() == "identifier"),
                _ => p.child_by_field_name("name"),
            }?;
            Some((text(name, src).to_string(), ty))
        })
        .collect()
}

fn enclosing_class<'t>(parents: &Parents<'t>, n: Node<'_>) -> Option<Node<'t>> {
    let mut cur = parents.parent(n);
    while let Some(p) = cur {
        match p.kind() {
            "class_definition" => return Some(p),
            "function_definition" => return None,
            _ => cur = parents.parent(p),
        }
    }
    None
}

/// The innermost `def` or `lambda` around a node.
pub fn scope_of<'t>(p: &Parents<'t>, node: Node<'_>) -> Option<Node<'t>> {
    let mut cur = p.parent(node);
    while let Some(n) = cur {
        if matches!(n.kind(), "function_definition" | "lambda") {
            return Some(n);
        }
        cur = p.parent(n);
    }
    None
}

/// The `async def` a node runs in directly (not through a nested `def` or lambda).
pub fn async_scope<'t>(p: &Parents<'t>, node: Node<'_>) -> Option<Node<'t>> {
    scope_of(p, node).filter(|s| s.kind() == "function_definition" && python::is_async(*s))
}

/// True if the node is inside an `if __name__ == "__main__":` block.
pub fn in_main_guard(p: &Parents<'_>, node: Node<'_>, src: &str) -> bool {
    main_guard(p, node, src).is_some()
}

/// The `if __name__ == "__main__":` statement around a node.
pub fn main_guard<'t>(p: &Parents<'t>, node: Node<'_>, src: &str) -> Option<Node<'t>> {
    let mut cur = p.parent(node);
    while let Some(n) = cur {
        if n.kind() == "if_statement" && n.child_by_field_name("condition").is_some_and(|c| is_main_test(c, src)) {
            return Some(n);
        }
        cur = p.parent(n);
    }
    None
}

fn is_main_test(cond: Node<'_>, src: &str) -> bool {
    let t = text(cond, src);
    t.contains("__name__") && t.contains("__main__")
}

/// True if the node runs when the module is imported: no enclosing function
/// or lambda (class bodies run at import), not under the `__main__` guard.
pub fn at_import_time(p: &Parents<'_>, node: Node<'_>, src: &str) -> bool {
    scope_of(p, node).is_none() && !in_main_guard(p, node, src)
}

/// True if an ancestor below `stop` is an `if`, `elif`/`else`, or conditional expression.
pub fn conditional(p: &Parents<'_>, node: Node<'_>, stop: Option<Node<'_>>) -> bool {
    let mut cur = p.parent(node);
    while let Some(n) = cur {
        if stop.is_some_and(|s| s.id() == n.id()) {
            return false;
        }
        if matches!(n.kind(), "if_statement" | "conditional_expression" | "elif_clause" | "else_clause") {
            return true;
        }
        cur = p.parent(n);
    }
    false
}

/// True if an enclosing call (up to the scope) is one of `wrappers` by its last name segment.
pub fn wrapped_in(p: &Parents<'_>, node: Node<'_>, src: &str, wrappers: &[&str]) -> bool {
    let mut cur = p.parent(node);
    while let Some(n) = cur {
        if matches!(n.kind(), "function_definition" | "lambda") {
            return false;
        }
        if n.kind() == "call"
            && call_name(n, src).is_some_and(|c| wrappers.contains(&c.rsplit('.').next().unwrap_or(&c)))
        {
            return true;
        }
        cur = p.parent(n);
    }
    false
}

/// True if the call has keyword `name` or a `**kwargs` splat (which may carry it).
pub fn has_kwarg_or_splat(call: Node<'_>, name: &str, src: &str) -> bool {
    if keyword_arg(call, name, src).is_some() {
        return true;
    }
    let Some(args) = call.child_by_field_name("arguments") else { return false };
    let mut c = args.walk();
    args.named_children(&mut c).any(|a| a.kind() == "dictionary_splat")
}

/// The first line of a node's text, trimmed to a readable length.
pub fn snippet(node: Node<'_>, src: &str) -> String {
    let t = text(node, src).lines().next().unwrap_or("").trim();
    if t.len() > 100 {
        let mut end = 100;
        while !t.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &t[..end])
    } else {
        t.to_string()
    }
}

/// Last segment of a dotted name.
pub fn last(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}
