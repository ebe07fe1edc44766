//! The Rust analyzer for web services (actix-web, axum): parses each
//! application file of a repository that depends on a Rust web framework
//! once and hands an index of it (calls, macros, routes, functions) to the
//! rule sets, which record hits and signals under the catalogue's check ids
//! and the signal keys the other languages use.
//!
//! Cheap before costly: a repository with no Rust web dependency is not
//! read at all, and a file whose bytes hold none of the rules' trigger
//! tokens is not parsed.

mod runtime;
mod security;

use crate::engine::{FileAnalyzer, FileOutput, SourceFile};
use crate::manifests::Manifest;
use crate::rust::{self, args, attribute, attributes_of, callee, last, string_value};
use crate::syntax::{Parents, line, text};
use crate::walk::{FileEntry, Language};
use aho_corasick::AhoCorasick;
use std::collections::HashMap;
use std::sync::LazyLock;
use tree_sitter::Node;

/// Dependencies that make a repository a Rust web service.
const SERVER_DEPS: &[&str] = &["actix-web", "axum", "tower-http", "hyper", "warp", "poem", "rocket"];

/// The analyzer, when some Cargo.toml declares a Rust web framework.
pub fn analyzers(manifests: &[Manifest]) -> Vec<Box<dyn FileAnalyzer>> {
    let web = manifests.iter().any(|m| m.kind == "Cargo.toml" && SERVER_DEPS.iter().any(|d| m.has(d)));
    if web { vec![Box::new(RustAnalyzer)] } else { vec![] }
}

struct RustAnalyzer;

/// Tokens at least one rule needs; a file without any is not parsed.
const TRIGGERS: &[&str] = &[
    "Cors",
    "cors",
    "Access-Control",
    "ACCESS_CONTROL",
    "Swagger",
    "RapiDoc",
    "Redoc",
    "Scalar",
    "Governor",
    "governor",
    "RateLimit",
    "md5",
    "Md5",
    "sha1",
    "Sha1",
    "sha2",
    "Sha256",
    "Sha512",
    "insecure",
    "validate_exp",
    "danger_accept",
    "format!",
    "DefaultBodyLimit",
    "env::var",
    "set_default",
    "sqlite",
    "Sqlite",
    "Connection::open",
    "File::create",
    "fs::write",
    "sleep",
    "std::fs",
    "blocking",
    "reqwest",
    "ureq",
    "serve",
    "Server::bind",
    "disable_signals",
    "ctrl_c",
    "SignalKind",
    "Err(_)",
    "println!",
    "print!",
    "dbg!",
    "with_max_level",
    "filter_level",
    "route",
    "#[get",
    "#[post",
    "resource(",
    "health",
    "Health",
    "fetch_all",
    ".all(",
    ".load",
    "chat()",
    "send(",
    "FRAME_OPTIONS",
    "Frame-Options",
    "TRANSPORT_SECURITY",
    "Transport-Security",
    "SECURITY_POLICY",
    "Security-Policy",
    "CONTENT_TYPE_OPTIONS",
    "Content-Type-Options",
    "Multipart",
];

static TRIGGER_FINDER: LazyLock<AhoCorasick> =
    LazyLock::new(|| AhoCorasick::new(TRIGGERS).expect("the trigger tokens build an automaton"));

const MAX_TREE_DEPTH: usize = 400;
const MAX_NESTING_COST: u64 = 100_000_000;

impl FileAnalyzer for RustAnalyzer {
    fn name(&self) -> &'static str {
        "rust"
    }

    fn wants(&self, entry: &FileEntry) -> bool {
        // `build.rs` runs at compile time, not in the service.
        entry.language == Some(Language::Rust) && entry.is_app_code() && entry.file_name() != "build.rs"
    }

    fn analyze(&self, file: &SourceFile<'_>, out: &mut FileOutput) {
        let imports_framework = file.text.contains("axum") || file.text.contains("actix_web");
        if !TRIGGER_FINDER.is_match(file.bytes) && !imports_framework {
            return;
        }
        let Some(tree) = rust::parse(file.text) else { return };
        let parents = rust::parents(tree.root_node());
        let (depth, cost) = parents.nesting();
        if depth > MAX_TREE_DEPTH || cost > MAX_NESTING_COST {
            out.note(format!(
                "Rust checks skipped: the code nests too deep to analyse in reasonable time ({depth} levels)"
            ));
            return;
        }
        let cx = Cx::new(file.entry, file.text, parents);
        // Frameworks from `use` declarations, not from text: a string that
        // mentions `axum::serve` imports nothing.
        for u in cx.nodes_of("use_declaration", None) {
            let path = u.child_by_field_name("argument").map(|a| cx.text(a)).unwrap_or("");
            if path.starts_with("actix_web") {
                out.signal("framework:actix-web", line(u), "actix_web");
            } else if path.starts_with("axum") {
                out.signal("framework:axum", line(u), "axum");
            }
        }
        if !TRIGGER_FINDER.is_match(file.bytes) {
            return;
        }
        let (hits, signals) = (out.hits.len(), out.signals.len());
        security::analyze(&cx, out);
        runtime::analyze(&cx, out);
        // Unit tests live next to the code: what they do is not the service's behaviour.
        let tests = cx.test_lines();
        if !tests.is_empty() {
            let in_test = |l: u32| tests.iter().any(|r| r.contains(&l));
            let mut i = 0;
            out.hits.retain(|h| {
                i += 1;
                i <= hits || !in_test(h.line)
            });
            let mut j = 0;
            out.signals.retain(|s| {
                j += 1;
                j <= signals || !in_test(s.line)
            });
        }
    }
}

/// A call with the name of what it calls.
pub struct Call<'t> {
    pub node: Node<'t>,
    pub name: String,
}

/// A route declared in the file: axum `.route("/x", get(h))`, actix
/// `#[get("/x")]`, `web::resource("/x")`, `.route("/x", web::get().to(h))`.
pub struct Route<'t> {
    pub methods: Vec<String>,
    pub path: String,
    pub handler: Option<Node<'t>>,
    pub name: Option<String>,
    pub line: u32,
}

/// One parsed Rust file with what the rules look up more than once.
pub struct Cx<'a> {
    pub entry: &'a FileEntry,
    pub src: &'a str,
    pub parents: Parents<'a>,
    pub calls: Vec<Call<'a>>,
    /// Macro invocations with their macro name (`format`, `sqlx::query`).
    pub macros: Vec<(Node<'a>, &'a str)>,
    /// Functions by name (the last one wins when names repeat across impls).
    pub functions: HashMap<&'a str, Node<'a>>,
    pub routes: Vec<Route<'a>>,
    by_kind: HashMap<&'a str, Vec<Node<'a>>>,
}

const VERBS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "any"];

impl<'a> Cx<'a> {
    fn new(entry: &'a FileEntry, src: &'a str, parents: Parents<'a>) -> Self {
        let mut calls = Vec::new();
        let mut macros = Vec::new();
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
                "macro_invocation" => {
                    if let Some(m) = rust::macro_name(n, src) {
                        macros.push((n, m));
                    }
                }
                "function_item" => {
                    if let Some(name) = n.child_by_field_name("name") {
                        functions.insert(text(name, src), n);
                    }
                }
                _ => {}
            }
        }
        let mut cx = Cx { entry, src, parents, calls, macros, functions, routes: vec![], by_kind };
        cx.routes = cx.find_routes();
        cx
    }

    /// Line ranges of `#[cfg(test)]` modules and `#[test]` functions.
    pub fn test_lines(&self) -> Vec<std::ops::RangeInclusive<u32>> {
        let is_test_attr = |a: Node<'_>| {
            let t: String = self.text(a).split_whitespace().collect();
            t == "#[cfg(test)]"
                || t == "#[test]"
                || t.starts_with("#[tokio::test")
                || t.starts_with("#[actix_web::test")
                || t.starts_with("#[actix_rt::test")
                || t.starts_with("#[sqlx::test")
        };
        ["mod_item", "function_item"]
            .iter()
            .flat_map(|k| self.nodes_of(k, None))
            .filter(|item| attributes_of(*item).into_iter().any(is_test_attr))
            .map(|item| line(item)..=item.end_position().row as u32 + 1)
            .collect()
    }

    pub fn text(&self, node: Node<'_>) -> &'a str {
        text(node, self.src)
    }

    pub fn snippet(&self, node: Node<'_>) -> String {
        crate::syntax::snippet(node, self.src)
    }

    pub fn nodes_of<'s>(&'s self, kind: &str, within: Option<Node<'s>>) -> impl Iterator<Item = Node<'a>> + 's {
        let range = within.map(|w| w.byte_range());
        self.by_kind
            .get(kind)
            .into_iter()
            .flatten()
            .copied()
            .filter(move |n| range.as_ref().is_none_or(|r| r.start <= n.start_byte() && n.end_byte() <= r.end))
    }

    pub fn calls_within<'s>(&'s self, scope: Node<'s>) -> impl Iterator<Item = &'s Call<'a>> + 's {
        let range = scope.byte_range();
        self.calls.iter().filter(move |c| range.start <= c.node.start_byte() && c.node.end_byte() <= range.end)
    }

    /// True if `node` runs only on some branch of its function (`if`, `match` arm).
    pub fn conditional(&self, node: Node<'_>) -> bool {
        for a in self.parents.ancestors(node) {
            match a.kind() {
                "function_item" | "closure_expression" => return false,
                "if_expression" | "match_arm" | "else_clause" => return true,
                _ => {}
            }
        }
        false
    }

    /// The outermost call of the method chain `node` is part of
    /// (`Cors::default().allow_any_origin().supports_credentials()`).
    pub fn chain_top(&self, node: Node<'a>) -> Node<'a> {
        let mut top = node;
        for a in self.parents.ancestors(node) {
            match a.kind() {
                "call_expression" => top = a,
                "field_expression" | "await_expression" | "try_expression" => {}
                _ => break,
            }
        }
        top
    }

    /// The `async fn` around `node`, or an async block.
    pub fn in_async(&self, node: Node<'_>) -> bool {
        for a in self.parents.ancestors(node) {
            match a.kind() {
                "async_block" => return true,
                "function_item" => return rust::is_async(a, self.src),
                "closure_expression" => return self.text(a).trim_start().starts_with("async"),
                _ => {}
            }
        }
        false
    }

    /// True if a function is a request handler: routed by an attribute, or
    /// async and taking an extractor or returning a response.
    pub fn is_handler(&self, func: Node<'_>) -> bool {
        if attributes_of(func)
            .iter()
            .any(|a| attribute(*a, self.src).is_some_and(|(n, _)| VERBS.contains(&n.as_str()) || n == "route"))
        {
            return true;
        }
        if !rust::is_async(func, self.src) {
            return false;
        }
        let params = func.child_by_field_name("parameters").map(|p| self.text(p)).unwrap_or("");
        let ret = func.child_by_field_name("return_type").map(|r| self.text(r)).unwrap_or("");
        ["State<", "Json<", "Path<", "Query<", "Form<", "web::", "HttpRequest", "Extension<", "Multipart"]
            .iter()
            .any(|p| params.contains(p))
            || ["IntoResponse", "Responder", "HttpResponse", "Json<", "StatusCode"].iter().any(|p| ret.contains(p))
    }

    /// The handler function around `node`, if it is one.
    pub fn handler_of(&self, node: Node<'_>) -> Option<Node<'a>> {
        self.parents.ancestors(node).find(|a| a.kind() == "function_item" && self.is_handler(*a))
    }

    fn find_routes(&self) -> Vec<Route<'a>> {
        let mut routes = Vec::new();
        let mut chained = Vec::new();
        // actix attribute routes.
        for f in self.nodes_of("function_item", None) {
            for a in attributes_of(f) {
                let Some((verb, Some(path))) = attribute(a, self.src) else { continue };
                if VERBS.contains(&verb.as_str()) || verb == "route" {
                    let name = f.child_by_field_name("name").map(|n| self.text(n).to_string());
                    routes.push(Route { methods: vec![verb], path, handler: Some(f), name, line: line(a) });
                }
            }
        }
        for c in &self.calls {
            let m = last(&c.name);
            let a = args(c.node);
            let Some(path) = a.first().and_then(|p| string_value(*p, self.src)) else { continue };
            if !matches!(m, "route" | "resource") {
                continue;
            }
            let prefix = self.scope_prefix(c.node);
            let scoped_root = path.is_empty() && !prefix.is_empty();
            if !(path.starts_with('/') || scoped_root) {
                continue;
            }
            let path = if path.is_empty() { prefix } else { prefix + &path };
            let (methods, target) = match m {
                // axum `.route("/x", get(h).post(g))`, actix `.route("/x", web::get().to(h))`.
                "route" if c.name.contains('.') => match a.get(1) {
                    Some(t) => (self.verbs_in(*t), Some(*t)),
                    None => continue,
                },
                // actix `web::resource("/x").route(…)` / `.to(h)`.
                "resource" => {
                    let top = self.chain_top(c.node);
                    (self.verbs_in(top), Some(top))
                }
                _ => continue,
            };
            let (handler, name) = target.and_then(|t| self.handler_in(t)).unzip();
            let at = a[0].start_byte();
            chained.push((at, Route { methods, path, handler: handler.flatten(), name, line: line(a[0]) }));
        }
        // A chain lists its outermost call first; order routes as written.
        chained.sort_by_key(|(at, _)| *at);
        routes.extend(chained.into_iter().map(|(_, r)| r));
        routes
    }

    /// The actix `web::scope("/api")` prefixes around a route: scopes heading
    /// its own chain and the chains it is registered in (`.service(…)`).
    fn scope_prefix(&self, call: Node<'_>) -> String {
        let chain_scopes = |mut node: Node<'_>| {
            let mut found = Vec::new();
            for _ in 0..64 {
                let Some(func) = node.child_by_field_name("function") else { break };
                let Some(recv) =
                    (func.kind() == "field_expression").then(|| func.child_by_field_name("value")).flatten()
                else {
                    break;
                };
                if recv.kind() != "call_expression" {
                    break;
                }
                if callee(recv, self.src).is_some_and(|n| last(&n) == "scope")
                    && let Some(p) = args(recv).first().and_then(|p| string_value(*p, self.src))
                {
                    found.push(p.trim_end_matches('/').to_string());
                }
                node = recv;
            }
            found
        };
        let mut parts = chain_scopes(call);
        let mut inner = call;
        for a in self.parents.ancestors(call) {
            if a.kind() == "arguments" {
                inner = a;
                continue;
            }
            if a.kind() == "call_expression" && a.child_by_field_name("arguments").is_some_and(|x| x.id() == inner.id())
            {
                parts.extend(chain_scopes(a));
            }
        }
        parts.reverse();
        parts.concat()
    }

    /// HTTP verbs called inside a route's method router (`get(h).post(g)`).
    fn verbs_in(&self, node: Node<'_>) -> Vec<String> {
        let mut out: Vec<String> = self
            .calls_within(node)
            .map(|c| last(&c.name).to_string())
            .filter(|m| VERBS.contains(&m.as_str()))
            .collect();
        out.sort();
        out.dedup();
        if out.is_empty() {
            out.push("any".into());
        }
        out
    }

    /// The handler a method router names: `h` in `get(h)` or `.to(h)`.
    fn handler_in(&self, node: Node<'a>) -> Option<(Option<Node<'a>>, String)> {
        // `get(h)` first: in `get(list).post(create)` the GET handler is the one rules ask about.
        let mut calls: Vec<&Call<'a>> = self.calls_within(node).collect();
        calls.sort_by_key(|c| last(&c.name) != "get");
        calls.into_iter().find_map(|c| {
            let m = last(&c.name);
            if !(VERBS.contains(&m) || m == "to") {
                return None;
            }
            let target = args(c.node).into_iter().next()?;
            match target.kind() {
                "closure_expression" => Some((Some(target), String::new())),
                "identifier" | "scoped_identifier" | "field_expression" => {
                    let name = rust::name_of(target, self.src)?;
                    Some((self.functions.get(last(&name)).copied(), name))
                }
                _ => None,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn routes_of(src: &str) -> Vec<(Vec<String>, String, bool)> {
        let entry = FileEntry::new(PathBuf::from("src/main.rs"), "src/main.rs".into(), src.len() as u64);
        let tree = rust::parse(src).unwrap();
        let cx = Cx::new(&entry, src, rust::parents(tree.root_node()));
        cx.routes.iter().map(|r| (r.methods.clone(), r.path.clone(), r.handler.is_some())).collect()
    }

    #[test]
    fn routes_of_axum_and_actix() {
        let src = "#[get(\"/health\")]\nasync fn health() -> impl Responder { HttpResponse::Ok() }\nasync fn list() {}\nfn app() -> Router {\n    Router::new().route(\"/items\", get(list).post(create)).route(\"/ready\", get(|| async { \"ok\" }))\n}\nfn cfg(c: &mut web::ServiceConfig) {\n    c.route(\"/users\", web::get().to(users)).service(web::resource(\"/ping\").to(ping));\n}\n";
        let got = routes_of(src);
        let want = [
            (vec!["get"], "/health", true),
            (vec!["get", "post"], "/items", true),
            (vec!["get"], "/ready", true),
            (vec!["get"], "/users", false),
            (vec!["any"], "/ping", false),
        ];
        let want: Vec<_> =
            want.iter().map(|(m, p, h)| (m.iter().map(|s| s.to_string()).collect(), p.to_string(), *h)).collect();
        assert_eq!(got, want);
    }
}
