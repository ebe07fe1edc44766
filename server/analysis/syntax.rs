//! Grammar-neutral helpers over tree-sitter trees: node text and lines, a
//! document-order walk, and a per-file parent map. The language modules
//! (`python`, `js`) describe their grammar's node kinds in a [`Kinds`] and
//! share everything else.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use tree_sitter::Node;

/// What a grammar calls the nodes the parent map cares about.
#[derive(Debug)]
pub struct Kinds {
    /// Nodes that open a scope: what [`Parents::nodes`] reports as the
    /// innermost scope around each node (Python `def`/`lambda`, JS functions).
    pub scopes: &'static [&'static str],
    /// What [`Parents::enclosing_function`] climbs to.
    pub functions: &'static [&'static str],
    /// Besides `functions`, what makes a node no longer module level (classes…).
    pub nested: &'static [&'static str],
    /// Nodes rules climb up from: counted into the nesting cost.
    pub costly: &'static [&'static str],
    /// The node kind of `await x`.
    pub await_kind: &'static str,
    /// Whether [`Parents::parent`] answers for anonymous nodes (keywords,
    /// punctuation) too; without, the map holds half as many entries.
    pub anonymous: bool,
}

/// Every node's parent, found in one cursor walk of a parsed file.
/// tree-sitter's `Node::parent()` walks down from the root each time, so a
/// rule climbing from a node to its scope pays depth² per question; this
/// map answers each step with one lookup.
pub struct Parents<'t> {
    kinds: &'static Kinds,
    map: HashMap<usize, Node<'t>, BuildHasherDefault<IdHasher>>,
    /// How deep the tree nests and the sum of depth² over its costly nodes,
    /// measured during the same walk: rules walk up from those nodes, so
    /// the sum estimates the cost of analysing the file.
    nesting: (usize, u64),
    /// Every named node in document order with the innermost scope strictly
    /// around it, so rule sets index the file from this list instead of
    /// walking the tree again.
    nodes: Vec<(Node<'t>, Option<Node<'t>>)>,
}

impl<'t> Parents<'t> {
    /// Records the parent of every node under `root`.
    pub fn build(root: Node<'t>, kinds: &'static Kinds) -> Self {
        let mut map = HashMap::with_capacity_and_hasher(root.descendant_count(), Default::default());
        let mut cursor = root.walk();
        let mut stack: Vec<Node<'t>> = Vec::new();
        let (mut max, mut cost) = (0usize, 0u64);
        let mut nodes = Vec::with_capacity(map.capacity());
        // Enclosing scopes with the stack height they were entered at.
        let mut scopes: Vec<(usize, Node<'t>)> = Vec::new();
        loop {
            let node = cursor.node();
            let kind = node.kind();
            if node.is_named() {
                nodes.push((node, scopes.last().map(|(_, s)| *s)));
            }
            if let Some(p) = stack.last() {
                if kinds.anonymous || node.is_named() {
                    map.insert(node.id(), *p);
                }
                let depth = stack.len();
                max = max.max(depth);
                if kinds.costly.contains(&kind) {
                    cost += (depth * depth) as u64;
                }
            }
            if cursor.goto_first_child() {
                if kinds.scopes.contains(&kind) {
                    scopes.push((stack.len(), node));
                }
                stack.push(node);
                continue;
            }
            loop {
                if cursor.goto_next_sibling() {
                    break;
                }
                if !cursor.goto_parent() {
                    return Parents { kinds, map, nesting: (max, cost), nodes };
                }
                stack.pop();
                if scopes.last().is_some_and(|(d, _)| *d == stack.len()) {
                    scopes.pop();
                }
            }
        }
    }

    /// Maximum depth and the depth² cost over the grammar's costly nodes.
    pub fn nesting(&self) -> (usize, u64) {
        self.nesting
    }

    /// Every named node in document order with its innermost enclosing
    /// scope, less the anonymous tokens (punctuation, keywords) no rule indexes.
    pub fn nodes(&self) -> &[(Node<'t>, Option<Node<'t>>)] {
        &self.nodes
    }

    /// The parent of `node` (a node of the tree this map was built from).
    pub fn parent(&self, node: Node<'_>) -> Option<Node<'t>> {
        self.map.get(&node.id()).copied()
    }

    /// Ancestors of `node`, innermost first.
    pub fn ancestors(&self, node: Node<'_>) -> impl Iterator<Item = Node<'t>> + '_ {
        std::iter::successors(self.parent(node), move |n| self.parent(*n))
    }

    /// The innermost function around `node`.
    pub fn enclosing_function(&self, node: Node<'_>) -> Option<Node<'t>> {
        self.ancestors(node).find(|n| self.kinds.functions.contains(&n.kind()))
    }

    /// True if `node` sits at module level (not inside a function or class).
    pub fn is_module_level(&self, node: Node<'_>) -> bool {
        !self.ancestors(node).any(|n| {
            let kind = n.kind();
            self.kinds.functions.contains(&kind) || self.kinds.nested.contains(&kind)
        })
    }

    /// True if `node` is the argument of an `await`.
    pub fn is_awaited(&self, node: Node<'_>) -> bool {
        self.parent(node).is_some_and(|p| p.kind() == self.kinds.await_kind)
    }
}

/// Hashes node ids (addresses, distinct by construction) with one multiply.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(26);
    }
}

/// The source text of a node.
pub fn text<'s>(node: Node<'_>, src: &'s str) -> &'s str {
    node.utf8_text(src.as_bytes()).unwrap_or("")
}

/// 1-based line of a node's start.
pub fn line(node: Node<'_>) -> u32 {
    node.start_position().row as u32 + 1
}

/// Visits every node in document order.
pub fn walk<'t>(root: Node<'t>, mut f: impl FnMut(Node<'t>)) {
    let mut cursor = root.walk();
    loop {
        f(cursor.node());
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return;
            }
        }
    }
}

/// The last segment of a dotted name (`cors.New` → `New`).
pub fn last(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// The arguments of a call (or `new`), without comments: the grammars of
/// JavaScript/TypeScript and Go both name them `arguments`.
pub fn args<'t>(call: Node<'t>) -> Vec<Node<'t>> {
    let Some(a) = call.child_by_field_name("arguments") else { return vec![] };
    let mut c = a.walk();
    a.named_children(&mut c).filter(|n| n.kind() != "comment").collect()
}

/// A node's text on one line, whitespace collapsed, cut at 120 characters:
/// what a finding shows as evidence.
pub fn snippet(node: Node<'_>, src: &str) -> String {
    let flat = text(node, src).split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 120 { format!("{}…", flat.chars().take(119).collect::<String>()) } else { flat }
}
