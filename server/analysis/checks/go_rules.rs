//! The Go analyzer for web services (net/http, gin, echo, chi, fiber):
//! parses each application file of a Go module once and hands an index of
//! it (imports, calls, composite literals, routes, functions) to the rule
//! sets, which record hits and signals under the catalogue's check ids and
//! the same signal keys the Python and Node rules use.
//!
//! Generated code (`// Code generated … DO NOT EDIT.`, `*.pb.go`) is not
//! the service's own and is skipped.

mod runtime;
mod security;

use crate::engine::{FileAnalyzer, FileOutput, SourceFile};
use crate::go::{self, args, callee, last, string_value};
use crate::manifests::Manifest;
use crate::syntax::{Parents, line, text};
use crate::walk::{FileEntry, Language};
use std::collections::HashMap;
use tree_sitter::Node;

/// The analyzer, when the repository has a Go module.
pub fn analyzers(manifests: &[Manifest]) -> Vec<Box<dyn FileAnalyzer>> {
    if manifests.iter().any(|m| m.kind == "go.mod") { vec![Box::new(GoAnalyzer)] } else { vec![] }
}

struct GoAnalyzer;

/// Trees nesting deeper than this are not analysed (see the Python analyzer's limit).
const MAX_TREE_DEPTH: usize = 400;
/// Budget for the depth² cost of climbing from every call to its scope.
const MAX_NESTING_COST: u64 = 100_000_000;

/// Import path → framework id, for the stack (net/http has no dependency to declare).
const FRAMEWORK_IMPORTS: &[(&str, &str)] = &[
    ("github.com/gin-gonic/gin", "gin"),
    ("github.com/labstack/echo", "echo"),
    ("github.com/go-chi/chi", "chi"),
    ("github.com/gofiber/fiber", "fiber"),
];

impl FileAnalyzer for GoAnalyzer {
    fn name(&self) -> &'static str {
        "go"
    }

    fn wants(&self, entry: &FileEntry) -> bool {
        entry.language == Some(Language::Go)
            && entry.is_app_code()
            && !entry.file_name().ends_with(".pb.go")
            && !entry.file_name().ends_with("_gen.go")
    }

    fn analyze(&self, file: &SourceFile<'_>, out: &mut FileOutput) {
        // The marker sits above the package clause.
        if file.text.lines().take(30).any(|l| l.starts_with("// Code generated") && l.contains("DO NOT EDIT")) {
            return;
        }
        let Some(tree) = go::parse(file.text) else { return };
        let parents = go::parents(tree.root_node());
        let (depth, cost) = parents.nesting();
        if depth > MAX_TREE_DEPTH || cost > MAX_NESTING_COST {
            out.note(format!(
                "Go checks skipped: the code nests too deep to analyse in reasonable time ({depth} levels)"
            ));
            return;
        }
        let cx = Cx::new(file.entry, file.text, tree.root_node(), parents);
        for (path, fw) in FRAMEWORK_IMPORTS {
            if cx.imports.values().any(|p| p.starts_with(path)) {
                out.signal(fw_key(fw), 1, *path);
            }
        }
        if cx.is_http_server() {
            out.signal("framework:net-http", 1, "net/http");
        }
        security::analyze(&cx, out);
        runtime::analyze(&cx, out);
    }
}

fn fw_key(fw: &str) -> &'static str {
    match fw {
        "gin" => "framework:gin",
        "echo" => "framework:echo",
        "chi" => "framework:chi",
        _ => "framework:fiber",
    }
}

/// A call with the dotted name of what it calls.
pub struct Call<'t> {
    pub node: Node<'t>,
    pub name: String,
}

/// A route declared in the file: `r.GET("/x", h)`, `mux.HandleFunc("GET /x", h)`.
pub struct Route<'t> {
    /// Lower case; `any` when the registration does not say.
    pub method: String,
    pub path: String,
    /// The handler, when it is a literal or a function declared in this file.
    pub handler: Option<Node<'t>>,
    /// The handler's name (`health`, `h.Health`).
    pub name: Option<String>,
    pub line: u32,
}

/// One parsed Go file with what the rules look up more than once.
pub struct Cx<'a> {
    pub entry: &'a FileEntry,
    pub src: &'a str,
    pub parents: Parents<'a>,
    /// Local package name → import path.
    pub imports: HashMap<String, String>,
    pub calls: Vec<Call<'a>>,
    /// Composite literals with their type name (`cors.Options`, `http.Client`).
    pub composites: Vec<(Node<'a>, String)>,
    /// Top-level functions and methods by name.
    pub functions: HashMap<&'a str, Node<'a>>,
    pub routes: Vec<Route<'a>>,
    by_kind: HashMap<&'a str, Vec<Node<'a>>>,
}

/// Route-registration methods of the routers: gin/echo upper case, chi/fiber
/// capitalised, net/http and gorilla `HandleFunc`/`Handle`.
const ROUTE_METHODS: &[&str] = &[
    "GET",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
    "HEAD",
    "OPTIONS",
    "Any",
    "Get",
    "Post",
    "Put",
    "Patch",
    "Delete",
    "Head",
    "Options",
    "All",
    "HandleFunc",
    "Handle",
    "Method",
    "MethodFunc",
];

impl<'a> Cx<'a> {
    fn new(entry: &'a FileEntry, src: &'a str, root: Node<'a>, parents: Parents<'a>) -> Self {
        let imports = go::imports(root, src);
        let mut calls = Vec::new();
        let mut composites = Vec::new();
        let mut functions = HashMap::new();
        let mut by_kind: HashMap<&'a str, Vec<Node<'a>>> = HashMap::new();
        for &(n, _) in parents.nodes() {
            let kind = n.kind();
            by_kind.entry(kind).or_default().push(n);
            match kind {
                "call_expression" => {
                    if let Some(name) = callee(n, src) {
                        calls.push(Call { node: n, name });
                    }
                }
                "composite_literal" => {
                    if let Some(t) = go::composite_type(n, src) {
                        composites.push((n, t));
                    }
                }
                "function_declaration" | "method_declaration" => {
                    if let Some(name) = n.child_by_field_name("name") {
                        functions.insert(text(name, src), n);
                    }
                }
                _ => {}
            }
        }
        let mut cx = Cx { entry, src, parents, imports, calls, composites, functions, routes: vec![], by_kind };
        cx.routes = cx.find_routes();
        cx
    }

    pub fn text(&self, node: Node<'_>) -> &'a str {
        text(node, self.src)
    }

    pub fn snippet(&self, node: Node<'_>) -> String {
        crate::syntax::snippet(node, self.src)
    }

    /// The import path of a dotted name's package (`cors` of `cors.New`).
    pub fn package_of(&self, name: &str) -> Option<&str> {
        let base = name.split('.').next()?;
        self.imports.get(base).map(String::as_str)
    }

    /// True if `name` is `pkg.Func` with `pkg` imported from a path that
    /// starts with one of `paths` (so `/v2`, `/v5` majors match).
    pub fn is_pkg_call(&self, name: &str, paths: &[&str]) -> bool {
        name.matches('.').count() == 1 && self.package_of(name).is_some_and(|p| paths.iter().any(|x| p.starts_with(x)))
    }

    /// True if the file imports a path starting with `path`.
    pub fn imports_path(&self, path: &str) -> bool {
        self.imports.values().any(|p| p.starts_with(path))
    }

    /// Named nodes of `kind`, in document order, optionally only inside `within`.
    pub fn nodes_of<'s>(&'s self, kind: &str, within: Option<Node<'s>>) -> impl Iterator<Item = Node<'a>> + 's {
        let range = within.map(|w| w.byte_range());
        self.by_kind
            .get(kind)
            .into_iter()
            .flatten()
            .copied()
            .filter(move |n| range.as_ref().is_none_or(|r| r.start <= n.start_byte() && n.end_byte() <= r.end))
    }

    /// Calls inside `scope`.
    pub fn calls_within<'s>(&'s self, scope: Node<'s>) -> impl Iterator<Item = &'s Call<'a>> + 's {
        let range = scope.byte_range();
        self.calls.iter().filter(move |c| range.start <= c.node.start_byte() && c.node.end_byte() <= range.end)
    }

    /// True if `node` runs only on some branch of its function: inside an
    /// `if`, `switch` case or `select` case (configuration picks it).
    pub fn conditional(&self, node: Node<'_>) -> bool {
        for a in self.parents.ancestors(node) {
            match a.kind() {
                "function_declaration" | "method_declaration" | "func_literal" => return false,
                "if_statement" | "expression_case" | "type_case" | "communication_case" | "default_case" => {
                    return true;
                }
                _ => {}
            }
        }
        false
    }

    /// The function (declaration, method or literal) around `node`.
    pub fn function_of(&self, node: Node<'_>) -> Option<Node<'a>> {
        self.parents.enclosing_function(node)
    }

    /// True if a function takes a request context: `*gin.Context`,
    /// `echo.Context`, `*fiber.Ctx` or an `http.ResponseWriter`.
    pub fn is_handler(&self, func: Node<'_>) -> bool {
        let Some(params) = func.child_by_field_name("parameters") else { return false };
        let t = self.text(params);
        ["gin.Context", "echo.Context", "fiber.Ctx", "http.ResponseWriter", "*http.Request"]
            .iter()
            .any(|p| t.contains(p))
    }

    /// The handler function around `node`, if it is one.
    pub fn handler_of(&self, node: Node<'_>) -> Option<Node<'a>> {
        self.parents.ancestors(node).find(|a| go::FUNCTIONS.contains(&a.kind()) && self.is_handler(*a))
    }

    /// A net/http server: the file starts one or builds a mux.
    fn is_http_server(&self) -> bool {
        self.imports.get("http").is_some_and(|p| p == "net/http")
            && (self.calls.iter().any(|c| {
                matches!(
                    c.name.as_str(),
                    "http.ListenAndServe"
                        | "http.ListenAndServeTLS"
                        | "http.HandleFunc"
                        | "http.NewServeMux"
                        | "http.Handle"
                )
            }) || self.composites.iter().any(|(_, t)| t == "http.Server"))
    }

    /// A name's first segment is an imported package (`http.Get`), not a
    /// variable (`r.Get`).
    pub fn is_package(&self, name: &str) -> bool {
        name.split('.').next().is_some_and(|b| self.imports.contains_key(b))
    }

    /// Router groups: `v1 := r.Group("/api/v1")` → `v1` → (`r`, `/api/v1`).
    fn groups(&self) -> HashMap<&'a str, (String, String)> {
        let mut out = HashMap::new();
        for s in self.nodes_of("short_var_declaration", None).chain(self.nodes_of("assignment_statement", None)) {
            let (Some(l), Some(r)) = (s.child_by_field_name("left"), s.child_by_field_name("right")) else { continue };
            let Some(call) = r.named_child(0).filter(|c| c.kind() == "call_expression") else { continue };
            let Some(name) = callee(call, self.src) else { continue };
            if last(&name) != "Group" || name.contains("()") {
                continue;
            }
            let Some(prefix) = args(call).first().and_then(|p| string_value(*p, self.src)) else { continue };
            let parent = name.rsplit_once('.').map(|(p, _)| p.to_string()).unwrap_or_default();
            out.insert(self.text(l), (parent, prefix));
        }
        out
    }

    /// The path prefix of the router a route is registered on: its groups
    /// (`r.Group("/api")`) and enclosing chi `r.Route("/api", func(r chi.Router) {…})`.
    fn prefix_of(&self, call: Node<'_>, name: &str, groups: &HashMap<&'a str, (String, String)>) -> String {
        let mut parts = Vec::new();
        let mut var = name.rsplit_once('.').map(|(r, _)| r.to_string()).unwrap_or_default();
        for _ in 0..8 {
            let Some((parent, prefix)) = groups.get(var.as_str()) else { break };
            parts.push(prefix.trim_end_matches('/').to_string());
            var = parent.clone();
        }
        for a in self.parents.ancestors(call) {
            if a.kind() != "call_expression" {
                continue;
            }
            let outer = callee(a, self.src).unwrap_or_default();
            if last(&outer) == "Route"
                && let Some(p) = args(a).first().and_then(|p| string_value(*p, self.src))
            {
                parts.push(p.trim_end_matches('/').to_string());
            }
        }
        parts.reverse();
        parts.concat()
    }

    fn find_routes(&self) -> Vec<Route<'a>> {
        let groups = self.groups();
        let mut routes = Vec::new();
        for c in &self.calls {
            let method = last(&c.name);
            if !ROUTE_METHODS.contains(&method) || !c.name.contains('.') || c.name.contains("()") {
                continue;
            }
            // `http.Get(url)` is a client call; `http.HandleFunc` registers a route.
            if self.is_package(&c.name) && !matches!(c.name.as_str(), "http.HandleFunc" | "http.Handle") {
                continue;
            }
            let a = args(c.node);
            let (verb, path_arg) = match method {
                "Method" | "MethodFunc" => (a.first().and_then(|m| string_value(*m, self.src)), a.get(1)),
                "Handle" if a.len() == 3 => (a.first().and_then(|m| string_value(*m, self.src)), a.get(1)),
                _ => (None, a.first()),
            };
            let Some(path) = path_arg.and_then(|p| string_value(*p, self.src)) else { continue };
            // Go 1.22 patterns: `GET /items/{id}`; gorilla `.Methods("GET")` follows the call.
            let (verb, path) = match path.split_once(' ') {
                Some((v, p)) if v.chars().all(|c| c.is_ascii_uppercase()) => (Some(v.to_string()), p.to_string()),
                _ => (verb, path),
            };
            if !path.starts_with('/') {
                continue;
            }
            let path = self.prefix_of(c.node, &c.name, &groups) + &path;
            let method = match method {
                "HandleFunc" | "Handle" | "Method" | "MethodFunc" => {
                    verb.or_else(|| self.gorilla_methods(c.node)).unwrap_or_else(|| "any".into())
                }
                m => m.to_string(),
            };
            let target = a.last().copied().filter(|t| path_arg.is_none_or(|p| p.id() != t.id()));
            let (handler, name) = match target {
                Some(t) if t.kind() == "func_literal" => (Some(t), None),
                Some(t) => {
                    let name = go::dotted(t, self.src);
                    let func = name.as_deref().and_then(|n| self.functions.get(last(n)).copied());
                    (func, name)
                }
                None => (None, None),
            };
            routes.push(Route { method: method.to_ascii_lowercase(), path, handler, name, line: line(c.node) });
        }
        routes
    }

    /// `r.HandleFunc("/x", h).Methods("GET")`.
    fn gorilla_methods(&self, call: Node<'_>) -> Option<String> {
        let sel = self.parents.parent(call).filter(|p| p.kind() == "selector_expression")?;
        let outer = self.parents.parent(sel).filter(|p| p.kind() == "call_expression")?;
        if sel.child_by_field_name("field").is_some_and(|f| self.text(f) == "Methods") {
            return args(outer).first().and_then(|m| string_value(*m, self.src));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn routes_of(src: &str) -> Vec<(String, String, bool)> {
        let entry = FileEntry::new(PathBuf::from("main.go"), "main.go".into(), src.len() as u64);
        let tree = go::parse(src).unwrap();
        let cx = Cx::new(&entry, src, tree.root_node(), go::parents(tree.root_node()));
        cx.routes.iter().map(|r| (r.method.clone(), r.path.clone(), r.handler.is_some())).collect()
    }

    #[test]
    fn routes_of_every_router() {
        let src = "package main\nimport \"net/http\"\nfunc health(w http.ResponseWriter, r *http.Request) {}\nfunc main() {\n\thttp.HandleFunc(\"/healthz\", health)\n\tmux.HandleFunc(\"GET /items/{id}\", func(w http.ResponseWriter, r *http.Request) {})\n\tr.GET(\"/users\", h.ListUsers)\n\tapp.Get(\"/ping\", func(c *fiber.Ctx) error { return nil })\n\tr.HandleFunc(\"/ready\", ready).Methods(\"GET\")\n\thttp.Get(\"/not/a/route\")\n}\n";
        let want = [
            ("any", "/healthz", true),
            ("get", "/items/{id}", true),
            ("get", "/users", false),
            ("get", "/ping", true),
            ("get", "/ready", false),
        ];
        assert_eq!(routes_of(src), want.map(|(m, p, h)| (m.to_string(), p.to_string(), h)));
    }
}
