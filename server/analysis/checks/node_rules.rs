//! The JavaScript/TypeScript analyzer for Node web services (Express,
//! NestJS, Fastify): parses each application file of a server package once
//! and hands an index of it (calls, import bindings, routes) to the rule
//! sets, which record hits and signals under the catalogue's check ids.
//!
//! Cheap before costly: only packages whose `package.json` declares a Node
//! web framework are read (a React front end next to the API is not server
//! code), and a file whose bytes hold none of the rules' trigger tokens is
//! not parsed at all.

mod runtime;
mod security;

use crate::engine::{FileAnalyzer, FileOutput, SourceFile};
use crate::js::{self, Dialect, args, callee, last, string_value};
use crate::manifests::Manifest;
use crate::syntax::{Parents, line, text};
use crate::walk::{FileEntry, Language};
use aho_corasick::AhoCorasick;
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;
use tree_sitter::Node;

/// Dependencies that make a package a Node web server: the Node entries of
/// the stack's framework table (`crate::checks::web::NODE_WEB`).
const SERVER_DEPS: &[&str] = &["express", "@nestjs/core", "fastify"];

/// The analyzer, when some package declares a Node web framework.
pub fn analyzers(manifests: &[Manifest]) -> Vec<Box<dyn FileAnalyzer>> {
    let roots: Vec<String> = manifests
        .iter()
        .filter(|m| m.kind == "package.json" && SERVER_DEPS.iter().any(|d| m.has(d)))
        .map(|m| m.dir().to_string())
        .collect();
    if roots.is_empty() {
        return vec![];
    }
    let packages = manifests.iter().filter(|m| m.kind == "package.json").map(|m| m.dir().to_string()).collect();
    vec![Box::new(NodeAnalyzer { roots, packages })]
}

struct NodeAnalyzer {
    /// Directories of packages that declare a web framework.
    roots: Vec<String>,
    /// Directories of every package.json: a file belongs to the deepest.
    packages: Vec<String>,
}

fn under(path: &str, dir: &str) -> bool {
    dir.is_empty() || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

impl NodeAnalyzer {
    /// True if the file's own package (the deepest package.json above it) is a server.
    fn in_server_package(&self, path: &str) -> bool {
        let own = self.packages.iter().filter(|d| under(path, d)).max_by_key(|d| d.len());
        own.is_some_and(|d| self.roots.contains(d))
    }
}

/// Tokens at least one rule needs to see before it can fire; a file without
/// any is not parsed. Case-sensitive, as the code is.
const TRIGGERS: &[&str] = &[
    "cors",
    "Cors",
    "Access-Control",
    "helmet",
    "Helmet",
    "rateLimit",
    "RateLimit",
    "Throttler",
    "rate-limit",
    "createHash",
    "jwt",
    "Jwt",
    "jsonwebtoken",
    "rejectUnauthorized",
    "NODE_TLS",
    "strictSSL",
    "query",
    "raw",
    "Raw",
    "execute",
    "eval",
    "Function",
    "vm.",
    "unserialize",
    "multer",
    "process.env",
    "'env'",
    "\"env\"",
    "NODE_ENV",
    "Swagger",
    "swagger",
    "sync",
    "synchronize",
    "sqlite",
    "find",
    "Sync(",
    "axios",
    "listen",
    "SIGTERM",
    "SIGINT",
    "catch",
    "sendMail",
    "send(",
    "create(",
    "generateContent",
    "pdf",
    ".get(",
    "@Get",
    "route(",
    "health",
    "console.",
    "level",
    "Controller",
    "register(",
    "use(",
    "setHeader",
    "header(",
];

static TRIGGER_FINDER: LazyLock<AhoCorasick> =
    LazyLock::new(|| AhoCorasick::new(TRIGGERS).expect("the trigger tokens build an automaton"));

/// Trees nesting deeper than this are not analysed (see the Python analyzer's limit).
const MAX_TREE_DEPTH: usize = 400;
/// Budget for the depth² cost of climbing from every call to its scope.
const MAX_NESTING_COST: u64 = 100_000_000;

impl FileAnalyzer for NodeAnalyzer {
    fn name(&self) -> &'static str {
        "javascript"
    }

    fn wants(&self, entry: &FileEntry) -> bool {
        matches!(entry.language, Some(Language::JavaScript | Language::TypeScript))
            && entry.is_app_code()
            && !is_generated(&entry.path)
            && self.in_server_package(&entry.path)
    }

    fn analyze(&self, file: &SourceFile<'_>, out: &mut FileOutput) {
        if !TRIGGER_FINDER.is_match(file.bytes) {
            return;
        }
        let Some(dialect) = Dialect::of(&file.entry.path) else { return };
        let Some(tree) = js::parse(file.text, dialect) else { return };
        let parents = js::parents(tree.root_node());
        let (depth, cost) = parents.nesting();
        if depth > MAX_TREE_DEPTH || cost > MAX_NESTING_COST {
            out.note(format!(
                "JavaScript checks skipped: the code nests too deep to analyse in reasonable time ({depth} levels)"
            ));
            return;
        }
        let cx = Cx::new(file.entry, file.text, parents);
        security::analyze(&cx, out);
        runtime::analyze(&cx, out);
    }
}

/// Minified bundles and type declarations are not hand-written server code.
fn is_generated(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.ends_with(".min.js") || name.ends_with(".d.ts") || name.ends_with(".bundle.js")
}

/// A call or `new` with the dotted name of what it calls.
pub struct Call<'t> {
    pub node: Node<'t>,
    pub name: String,
}

/// A route declared in the file: `app.get('/x', handler)`, a NestJS
/// `@Get()` method, `fastify.route({ url, handler })`.
pub struct Route<'t> {
    pub method: String,
    pub path: String,
    /// The handler function, when it is written inline or declared in this file.
    pub handler: Option<Node<'t>>,
    /// The handler's name (`health`, `HealthController.check`), if it has one.
    pub name: Option<String>,
    pub line: u32,
}

/// One parsed file with what the rules look up more than once.
pub struct Cx<'a> {
    pub entry: &'a FileEntry,
    pub src: &'a str,
    pub parents: Parents<'a>,
    pub calls: Vec<Call<'a>>,
    /// Local name → module it was imported or required from (`rateLimit` →
    /// `express-rate-limit`, `jwt` → `jsonwebtoken`).
    pub bindings: HashMap<String, String>,
    pub routes: Vec<Route<'a>>,
    /// Named nodes by kind, each list in document order: the rules ask for
    /// one kind at a time, and one pass over the tree answers them all.
    by_kind: HashMap<&'a str, Vec<Node<'a>>>,
    /// Names bound to an HTTP client instance (`const api = axios.create()`).
    client_instances: HashSet<&'a str>,
}

/// HTTP client libraries: their calls send requests, they do not declare routes.
const CLIENTS: &[&str] = &["axios", "got", "superagent", "ky", "node-fetch", "undici", "supertest"];

const HTTP_METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "all", "head", "options"];

impl<'a> Cx<'a> {
    fn new(entry: &'a FileEntry, src: &'a str, parents: Parents<'a>) -> Self {
        let mut calls = Vec::new();
        let mut bindings = HashMap::new();
        let mut by_kind: HashMap<&'a str, Vec<Node<'a>>> = HashMap::new();
        for &(n, _) in parents.nodes() {
            let kind = n.kind();
            by_kind.entry(kind).or_default().push(n);
            match kind {
                "call_expression" | "new_expression" => {
                    if let Some(name) = callee(n, src) {
                        calls.push(Call { node: n, name });
                    }
                }
                "import_statement" => import_bindings(n, src, &mut bindings),
                "variable_declarator" => require_bindings(n, src, &mut bindings),
                _ => {}
            }
        }
        let mut cx =
            Cx { entry, src, parents, calls, bindings, routes: Vec::new(), by_kind, client_instances: HashSet::new() };
        cx.client_instances = cx
            .nodes_of("variable_declarator", None)
            .filter(|d| {
                d.child_by_field_name("value")
                    .and_then(|v| callee(v, src))
                    .is_some_and(|c| last(&c) == "create" && cx.from_module(&c, CLIENTS))
            })
            .filter_map(|d| d.child_by_field_name("name").map(|n| text(n, src)))
            .collect();
        cx.routes = cx.find_routes();
        cx
    }

    pub fn text(&self, node: Node<'_>) -> &'a str {
        text(node, self.src)
    }

    pub fn snippet(&self, node: Node<'_>) -> String {
        crate::syntax::snippet(node, self.src)
    }

    /// The module a local name was imported from.
    pub fn module_of(&self, local: &str) -> Option<&str> {
        self.bindings.get(local).map(String::as_str)
    }

    /// True if the first segment of `name` was imported from one of `modules`.
    pub fn from_module(&self, name: &str, modules: &[&str]) -> bool {
        let base = name.split('.').next().unwrap_or(name).trim_end_matches("()");
        self.module_of(base).is_some_and(|m| modules.contains(&m))
    }

    /// True if some import or require names `module`.
    pub fn imports(&self, module: &str) -> bool {
        self.bindings.values().any(|m| m == module)
    }

    /// Calls whose node lies inside `scope`. Calls are listed in document
    /// order, so the ones inside a scope are one contiguous run.
    pub fn calls_within<'s>(&'s self, scope: Node<'s>) -> impl Iterator<Item = &'s Call<'a>> + 's {
        let range = scope.byte_range();
        let first = self.calls.partition_point(|c| c.node.start_byte() < range.start);
        self.calls[first..]
            .iter()
            .take_while(move |c| c.node.start_byte() < range.end)
            .filter(move |c| c.node.end_byte() <= range.end)
    }

    /// Named nodes of `kind` inside `scope` (or the whole file), found by
    /// a binary search in the document-order node list.
    pub fn nodes_of<'s>(&'s self, kind: &'s str, scope: Option<Node<'s>>) -> impl Iterator<Item = Node<'a>> + 's {
        let nodes = self.by_kind.get(kind).map(Vec::as_slice).unwrap_or_default();
        let (start, end) = scope.map_or((0, usize::MAX), |s| (s.start_byte(), s.end_byte()));
        let first = nodes.partition_point(|n| n.start_byte() < start);
        nodes[first..].iter().copied().take_while(move |n| n.start_byte() < end).filter(move |n| n.end_byte() <= end)
    }

    /// True if `node` sits in a branch chosen by the environment or a
    /// setting: an `if`/ternary up to its function whose condition names
    /// production, development, the environment, debug or test mode (or
    /// one of `words`). `origin: true` in the development branch of
    /// `if (isProduction)` is a choice, not a default.
    pub fn env_branch(&self, node: Node<'_>, words: &[&str]) -> bool {
        const ENV_WORDS: &[&str] = &["prod", "dev", "env", "local", "debug", "test", "stag"];
        for n in self.parents.ancestors(node) {
            let condition = match n.kind() {
                "if_statement" | "ternary_expression" => n.child_by_field_name("condition"),
                k if js::FUNCTIONS.contains(&k) => return false,
                _ => None,
            };
            if let Some(c) = condition {
                let t = self.text(c).to_ascii_lowercase();
                if ENV_WORDS.iter().chain(words).any(|w| t.contains(w)) {
                    return true;
                }
            }
        }
        false
    }

    /// True if `node` only runs on some branch: inside an `if`, a ternary,
    /// a `switch` case or on the right of `&&`/`||`, up to its function.
    pub fn conditional(&self, node: Node<'_>) -> bool {
        let mut child = node.id();
        for n in self.parents.ancestors(node) {
            match n.kind() {
                "if_statement" | "ternary_expression" | "switch_case" | "else_clause" => return true,
                "binary_expression"
                    if n.child_by_field_name("right").is_some_and(|r| r.id() == child)
                        && matches!(
                            n.child_by_field_name("operator").map(|o| self.text(o)),
                            Some("&&" | "||" | "??")
                        ) =>
                {
                    return true;
                }
                k if js::FUNCTIONS.contains(&k) => return false,
                _ => {}
            }
            child = n.id();
        }
        false
    }

    /// The route whose handler encloses `node`, if any.
    pub fn route_of(&self, node: Node<'_>) -> Option<&Route<'a>> {
        let at = node.start_byte();
        self.routes.iter().find(|r| r.handler.is_some_and(|h| h.start_byte() <= at && at < h.end_byte()))
    }

    /// Functions declared in the file by name: `function list() {}`, `const list = () => …`.
    fn named_functions(&self) -> HashMap<&'a str, Node<'a>> {
        let mut map = HashMap::new();
        for n in self.nodes_of("function_declaration", None) {
            if let Some(name) = n.child_by_field_name("name") {
                map.insert(self.text(name), n);
            }
        }
        for n in self.nodes_of("variable_declarator", None) {
            if let (Some(name), Some(v)) = (n.child_by_field_name("name"), n.child_by_field_name("value"))
                && js::FUNCTIONS.contains(&v.kind())
            {
                map.insert(self.text(name), v);
            }
        }
        map
    }

    fn find_routes(&self) -> Vec<Route<'a>> {
        let named = self.named_functions();
        let resolve = |n: Node<'a>| -> (Option<Node<'a>>, Option<String>) {
            if js::FUNCTIONS.contains(&n.kind()) {
                (Some(n), None)
            } else {
                let name = self.text(n);
                (named.get(name).copied(), Some(name.to_string()))
            }
        };
        let mut routes = Vec::new();
        for c in &self.calls {
            let method = last(&c.name);
            let a = args(c.node);
            if method == "route" && a.first().is_some_and(|o| o.kind() == "object") {
                // Fastify: `fastify.route({ method: 'GET', url: '/health', handler })`.
                let o = a[0];
                let path = js::prop(o, "url", self.src).and_then(|v| string_value(v, self.src));
                let verb = js::prop(o, "method", self.src).and_then(|v| string_value(v, self.src));
                if let Some(path) = path {
                    let (handler, name) = js::prop(o, "handler", self.src).map(resolve).unwrap_or((None, None));
                    let method = verb.unwrap_or_else(|| "get".into()).to_ascii_lowercase();
                    routes.push(Route { method, path, handler, name, line: line(c.node) });
                }
                continue;
            }
            if !HTTP_METHODS.contains(&method) || !c.name.contains('.') {
                continue;
            }
            // `router.route('/x').get(h)` takes its path from the inner call.
            let receiver = &c.name[..c.name.len() - method.len() - 1];
            if a.len() < if receiver.ends_with("route()") { 1 } else { 2 } {
                continue;
            }
            let path = if receiver.ends_with("route()") {
                c.node
                    .child_by_field_name("function")
                    .and_then(|f| f.child_by_field_name("object"))
                    .and_then(|inner| args(inner).first().and_then(|p| string_value(*p, self.src)))
            } else {
                string_value(a[0], self.src)
            };
            let Some(path) = path.filter(|p| p.starts_with('/') || p == "*") else { continue };
            if self.is_http_client(receiver) {
                continue;
            }
            let Some(last_arg) = a.last().copied() else { continue };
            let (handler, name) = resolve(last_arg);
            routes.push(Route { method: method.to_string(), path, handler, name, line: line(c.node) });
        }
        routes.extend(self.nest_routes());
        routes
    }

    /// NestJS: `@Get('x')` methods of `@Controller('prefix')` classes.
    fn nest_routes(&self) -> Vec<Route<'a>> {
        let mut routes = Vec::new();
        for m in self.nodes_of("method_definition", None) {
            for d in decorators(m) {
                let Some((verb, arg)) = decorator_call(d, self.src) else { continue };
                let verb = verb.to_ascii_lowercase();
                if !HTTP_METHODS.contains(&verb.as_str()) {
                    continue;
                }
                let prefix = self.controller_prefix(m).unwrap_or_default();
                let own = arg.unwrap_or_default();
                let path = format!("/{}/{}", prefix.trim_matches('/'), own.trim_matches('/'));
                let path = path.replace("//", "/");
                let path = if path.len() > 1 { path.trim_end_matches('/').to_string() } else { path };
                let name = m.child_by_field_name("name").map(|n| self.text(n).to_string());
                routes.push(Route { method: verb, path, handler: Some(m), name, line: line(d) });
            }
        }
        routes
    }

    /// Receivers that send requests rather than declare routes: an HTTP
    /// client library, an instance it created, or a name that says so
    /// (`this.httpService`, `apiClient`).
    fn is_http_client(&self, receiver: &str) -> bool {
        let own = last(receiver).to_ascii_lowercase();
        self.from_module(receiver, CLIENTS)
            || own.contains("http")
            || own.contains("client")
            || matches!(own.as_str(), "axios" | "request" | "instance" | "fetcher" | "got" | "superagent")
            || self.client_instances.contains(receiver)
    }

    fn controller_prefix(&self, method: Node<'_>) -> Option<String> {
        let class = self.parents.ancestors(method).find(|n| matches!(n.kind(), "class_declaration" | "class"))?;
        let mut holders = vec![class];
        holders.extend(self.parents.parent(class).filter(|p| p.kind() == "export_statement"));
        holders.into_iter().flat_map(decorators).find_map(|d| {
            let (name, arg) = decorator_call(d, self.src)?;
            (name == "Controller").then(|| arg.unwrap_or_default())
        })
    }
}

/// The decorators written on a class, method or export. The TypeScript
/// grammar puts a method's decorators before it in the class body, the
/// JavaScript grammar inside it: both are read.
fn decorators(node: Node<'_>) -> Vec<Node<'_>> {
    let mut c = node.walk();
    let mut out: Vec<Node<'_>> = node.children(&mut c).filter(|n| n.kind() == "decorator").collect();
    let mut prev = node.prev_named_sibling();
    while let Some(d) = prev.filter(|p| p.kind() == "decorator") {
        out.push(d);
        prev = d.prev_named_sibling();
    }
    out
}

/// `@Get('x')` → ("Get", Some("x")); `@Get()` → ("Get", None).
fn decorator_call(d: Node<'_>, src: &str) -> Option<(String, Option<String>)> {
    let expr = d.named_child(0)?;
    match expr.kind() {
        "call_expression" => {
            let name = callee(expr, src)?;
            let arg = args(expr).first().and_then(|a| string_value(*a, src));
            Some((last(&name).to_string(), arg))
        }
        "identifier" => Some((text(expr, src).to_string(), None)),
        _ => None,
    }
}

/// `import x from 'm'`, `import { a as b } from 'm'`, `import * as m from 'm'`.
fn import_bindings(n: Node<'_>, src: &str, out: &mut HashMap<String, String>) {
    let Some(module) = n.child_by_field_name("source").and_then(|s| string_value(s, src)) else { return };
    crate::syntax::walk(n, |m| {
        let local = match m.kind() {
            "import_specifier" => m.child_by_field_name("alias").or_else(|| m.child_by_field_name("name")),
            "namespace_import" => m.named_child(0),
            "import_clause" => m.named_child(0).filter(|c| c.kind() == "identifier"),
            _ => None,
        };
        if let Some(l) = local {
            out.insert(text(l, src).to_string(), module.clone());
        }
    });
    // A side-effect import (`import 'dotenv/config'`) still names the module.
    out.entry(format!("import:{module}")).or_insert(module);
}

/// `const x = require('m')`, `const { a, b: c } = require('m')`.
fn require_bindings(n: Node<'_>, src: &str, out: &mut HashMap<String, String>) {
    let (Some(name), Some(value)) = (n.child_by_field_name("name"), n.child_by_field_name("value")) else { return };
    let mut call = value;
    // `require('m').default`, `require('m')()`.
    while matches!(call.kind(), "member_expression" | "call_expression")
        && callee(call, src).as_deref() != Some("require")
    {
        match call.child_by_field_name("object").or_else(|| call.child_by_field_name("function")) {
            Some(inner) => call = inner,
            None => return,
        }
    }
    if call.kind() != "call_expression" {
        return;
    }
    let Some(module) = args(call).first().and_then(|a| string_value(*a, src)) else { return };
    match name.kind() {
        "identifier" => {
            out.insert(text(name, src).to_string(), module);
        }
        "object_pattern" => crate::syntax::walk(name, |m| {
            let local = match m.kind() {
                "shorthand_property_identifier_pattern" => Some(m),
                "pair_pattern" => m.child_by_field_name("value").filter(|v| v.kind() == "identifier"),
                _ => None,
            };
            if let Some(l) = local {
                out.insert(text(l, src).to_string(), module.clone());
            }
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn cx_of<R>(path: &str, src: &str, f: impl FnOnce(&Cx<'_>) -> R) -> R {
        let entry = FileEntry::new(PathBuf::from(path), path.to_string(), src.len() as u64);
        let tree = js::parse(src, Dialect::of(path).unwrap()).unwrap();
        let cx = Cx::new(&entry, src, js::parents(tree.root_node()));
        f(&cx)
    }

    #[test]
    fn routes_of_express_fastify_and_nest() {
        let express = "const express = require('express');\nconst { Router } = require('express');\nconst app = express();\nfunction list(req, res) { res.json([]) }\napp.get('/items', list);\nrouter.route('/users').post(async (req, res) => {});\naxios.post('/api/x', body);\nfastify.route({ method: 'GET', url: '/healthz', handler: async () => ({}) });\n";
        let got = cx_of("src/app.js", express, |cx| {
            assert_eq!(cx.module_of("Router"), Some("express"));
            cx.routes.iter().map(|r| (r.method.clone(), r.path.clone(), r.handler.is_some())).collect::<Vec<_>>()
        });
        let want = [("get", "/items", true), ("post", "/users", true), ("get", "/healthz", true)];
        assert_eq!(got, want.map(|(m, p, h)| (m.to_string(), p.to_string(), h)));
        let nest = "import { Controller, Get } from '@nestjs/common';\n@Controller('health')\nexport class HealthController {\n  @Get()\n  check() { return { ok: true }; }\n  @Get('db/')\n  db() {}\n}\n";
        let got = cx_of("src/health.controller.ts", nest, |cx| {
            cx.routes.iter().map(|r| (r.path.clone(), r.name.clone().unwrap_or_default(), r.line)).collect::<Vec<_>>()
        });
        assert_eq!(got, vec![("/health".to_string(), "check".to_string(), 4), ("/health/db".into(), "db".into(), 6)]);
    }
}
