//! The read-only view of a scanned repository that repository-level checks
//! receive: the file index, what the per-file pass found, the manifests and
//! the detected stack.

use crate::engine::{Hit, Options, Signal};
use crate::manifests::Manifest;
use crate::model::{Evidence, Location, Stack};
use crate::suppress::InlineIgnore;
use crate::walk::{FileEntry, FileIndex};
use std::path::Path;

/// Files read whole by `Repo::read_text` are capped: config files are small,
/// and a 2 GB "Dockerfile" must not be loaded.
const MAX_CONFIG_READ: u64 = 1024 * 1024;

/// What the per-file pass learned about one file.
#[derive(Debug, Default)]
pub struct FileFacts {
    pub read: bool,
    pub binary: bool,
    pub bytes: u64,
    pub lines: u32,
    pub hits: Vec<Hit>,
    pub signals: Vec<Signal>,
    pub inline_ignores: Vec<InlineIgnore>,
    pub notes: Vec<String>,
}

/// The repository as checks see it.
pub struct Repo<'a> {
    pub root: &'a Path,
    pub index: &'a FileIndex,
    facts: &'a [FileFacts],
    pub stack: Stack,
    pub manifests: Vec<Manifest>,
    pub options: &'a Options,
}

impl<'a> Repo<'a> {
    pub fn new(
        root: &'a Path,
        index: &'a FileIndex,
        facts: &'a [FileFacts],
        stack: Stack,
        manifests: Vec<Manifest>,
        options: &'a Options,
    ) -> Self {
        Repo { root, index, facts, stack, manifests, options }
    }

    pub fn files(&self) -> impl Iterator<Item = &'a FileEntry> {
        self.index.files.iter()
    }

    /// Every file with what the per-file pass found in it.
    pub fn files_with_facts(&self) -> impl Iterator<Item = (&'a FileEntry, &'a FileFacts)> {
        self.index.files.iter().zip(self.facts.iter())
    }

    pub fn file(&self, path: &str) -> Option<&'a FileEntry> {
        self.index.find(path)
    }

    pub fn facts_of(&self, entry: &FileEntry) -> Option<&'a FileFacts> {
        self.index.files.binary_search_by(|f| f.path.as_str().cmp(&entry.path)).ok().map(|i| &self.facts[i])
    }

    /// Hits recorded for `check` by the per-file pass, in path order.
    pub fn hits<'s>(&'s self, check: &'s str) -> impl Iterator<Item = (&'a FileEntry, &'a Hit)> + 's {
        self.files_with_facts()
            .flat_map(move |(e, f)| f.hits.iter().filter(move |h| h.check == check).map(move |h| (e, h)))
    }

    /// Signals with `key`, in path order.
    pub fn signals<'s>(&'s self, key: &'s str) -> impl Iterator<Item = (&'a FileEntry, &'a Signal)> + 's {
        self.files_with_facts()
            .flat_map(move |(e, f)| f.signals.iter().filter(move |s| s.key == key).map(move |s| (e, s)))
    }

    pub fn has_signal(&self, key: &str) -> bool {
        self.signals(key).next().is_some()
    }

    /// Where `key` was first seen, as positive evidence for a passing check.
    pub fn signal_evidence(&self, key: &str, what: &str) -> Option<Evidence> {
        self.signals(key).next().map(|(e, s)| {
            let detail = if s.detail.is_empty() { String::new() } else { format!(" ({})", s.detail) };
            Evidence::new(format!("{what}{detail} at {}:{}", e.path, s.line), Some(Location::at(&e.path, s.line)))
        })
    }

    /// True if any manifest declares a dependency named `name` (case-insensitive,
    /// `-`/`_` folded as pip does).
    pub fn has_dependency(&self, name: &str) -> bool {
        self.manifests.iter().any(|m| m.has(name))
    }

    /// The first manifest that declares `name`, as evidence.
    pub fn dependency_evidence(&self, name: &str) -> Option<Evidence> {
        self.manifests
            .iter()
            .find(|m| m.has(name))
            .map(|m| Evidence::new(format!("{name} declared in {}", m.path), Some(Location::file(&m.path))))
    }

    /// Reads a (small) file as text; invalid UTF-8 is replaced.
    ///
    /// # Errors
    /// An I/O error, or a message when the file is over 1 MiB.
    pub fn read_text(&self, entry: &FileEntry) -> Result<String, String> {
        if entry.size > MAX_CONFIG_READ {
            return Err(format!("{} is {} bytes, over the 1 MiB limit for config files", entry.path, entry.size));
        }
        std::fs::read(&entry.abs)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| format!("cannot read {}: {e}", entry.path))
    }

    /// Non-test, non-docs application code in any language.
    pub fn app_code(&self) -> impl Iterator<Item = &'a FileEntry> {
        self.files().filter(|f| f.is_app_code())
    }

    pub fn has_language(&self, name: &str) -> bool {
        self.stack.languages.contains_key(name)
    }

    pub fn has_framework(&self, name: &str) -> bool {
        self.stack.frameworks.iter().any(|f| f == name)
    }

    /// A web service: some web framework was detected.
    pub fn is_web_service(&self) -> bool {
        !self.stack.frameworks.is_empty()
    }
}
