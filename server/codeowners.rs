//! Teams from CODEOWNERS. A repository that no configuration assigns to a
//! team gets the team that owns its whole tree in CODEOWNERS, so rollups
//! by team work without listing every repository in the config. A team
//! set by the configuration (or GitHub discovery) always wins.

use std::path::Path;

/// Where GitHub looks for the file, in its order.
pub const LOCATIONS: [&str; 3] = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];
/// A CODEOWNERS file larger than this is not one (GitHub's limit is 3 MB; real ones are small).
const MAX_BYTES: u64 = 512 * 1024;

/// The slug of the team owning every file: the last rule whose pattern
/// covers the whole tree (later rules win, as on GitHub), its first owner
/// that is a team (`@org/team-slug`).
pub fn root_team(text: &str) -> Option<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let pattern = parts.next()?;
            matches!(pattern, "*" | "/" | "/*" | "**" | "/**").then(|| {
                parts.find_map(|owner| {
                    let (_org, team) = owner.strip_prefix('@')?.split_once('/')?;
                    let valid =
                        !team.is_empty() && team.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                    valid.then(|| team.to_ascii_lowercase())
                })
            })
        })
        .next_back()
        .flatten()
}

/// [`root_team`] of the checkout's CODEOWNERS file, if it has one.
pub fn read_root_team(checkout: &Path) -> Option<String> {
    let file = LOCATIONS.iter().map(|l| checkout.join(l)).find(|p| p.is_file())?;
    if std::fs::metadata(&file).ok()?.len() > MAX_BYTES {
        return None;
    }
    root_team(&std::fs::read_to_string(file).ok()?)
}

#[cfg(test)]
mod tests {
    use super::root_team;

    #[test]
    fn the_last_whole_tree_rule_names_the_team() {
        let file = "# owners\n* @acme/platform @alice\n/docs/ @acme/writers\n*.js @acme/frontend\n";
        assert_eq!(root_team(file).as_deref(), Some("platform"));
        assert_eq!(root_team("* @acme/old\n* @bob @acme/Payments # moved\n").as_deref(), Some("payments"));
        assert_eq!(root_team("* @acme/platform\n* @alice\n"), None, "the last rule wins, and it names no team");
        assert_eq!(root_team("/src/ @acme/core\n"), None, "no rule covers the whole tree");
        assert_eq!(root_team("* @acme/../../etc\n"), None, "not a team slug");
        assert_eq!(root_team(""), None);
    }
}
