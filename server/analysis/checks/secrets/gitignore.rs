//! Would git ignore a path? Answered from the repository's own `.gitignore`
//! files with the `ignore` crate's matcher, so negations and anchoring
//! behave as git's do.

use crate::repo::Repo;
use ignore::Match;
use ignore::gitignore::GitignoreBuilder;

/// The `.gitignore` rule (as `path:line`) that ignores `path`, if any.
/// The closest `.gitignore` decides, as in git.
pub fn ignored_by(repo: &Repo<'_>, path: &str) -> Option<String> {
    let mut dirs: Vec<&str> = path.match_indices('/').map(|(i, _)| &path[..i]).collect();
    dirs.reverse();
    dirs.push("");
    for dir in dirs {
        let file = if dir.is_empty() { ".gitignore".to_string() } else { format!("{dir}/.gitignore") };
        // Through the index, which lists regular files only: a `.gitignore`
        // that links to /etc/passwd is not read.
        let Some(entry) = repo.file(&file) else { continue };
        let abs = entry.abs.clone();
        let mut builder = GitignoreBuilder::new(repo.root.join(dir));
        if builder.add(&abs).is_some() {
            continue;
        }
        let Ok(matcher) = builder.build() else { continue };
        let rel = if dir.is_empty() { path } else { &path[dir.len() + 1..] };
        match matcher.matched_path_or_any_parents(rel, false) {
            Match::Ignore(glob) => {
                let text = std::fs::read_to_string(&abs).unwrap_or_default();
                let line = text.lines().position(|l| l.trim() == glob.original()).map_or(1, |i| i + 1);
                return Some(format!("{file}:{line}"));
            }
            Match::Whitelist(_) => return None,
            Match::None => {}
        }
    }
    None
}
