//! How findings change between two scans (DESIGN.md, "Finding identity"):
//! a known fingerprint is the same finding; an unknown one whose content
//! hash matches a finding that vanished elsewhere has moved (a renamed file);
//! a vanished finding is fixed; a fixed one that comes back is reopened.
//! Suppression changes are events of their own. Nothing happens for a
//! finding that is simply seen again: history grows with changes only.

use crate::db::entities::finding_events::EventKind;
use crate::db::entities::findings::FindingState;
use shipshape_analysis::Finding;
use std::collections::{HashMap, HashSet};

/// A finding already recorded for the repository.
#[derive(Debug, Clone)]
pub struct Known<'a> {
    pub id: i32,
    pub fingerprint: &'a str,
    pub content_hash: &'a str,
    pub check_id: &'a str,
    pub state: FindingState,
    pub path: Option<&'a str>,
}

/// What to do with one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A new finding: `current[index]`.
    Open { index: usize },
    /// A known finding seen again, with the events its change produced (often none).
    Seen { id: i32, index: usize, events: Vec<EventKind> },
    /// A known, unfixed finding that is gone.
    Fix { id: i32 },
}

/// The state a finding has after this scan.
pub fn state_of(f: &Finding) -> FindingState {
    if f.suppression.is_some() { FindingState::Suppressed } else { FindingState::Open }
}

fn transition(before: FindingState, now: FindingState) -> Vec<EventKind> {
    use FindingState::*;
    match (before, now) {
        (Open, Suppressed) => vec![EventKind::Suppressed],
        (Suppressed, Open) => vec![EventKind::Unsuppressed],
        (Fixed, Open) => vec![EventKind::Reopened],
        (Fixed, Suppressed) => vec![EventKind::Reopened, EventKind::Suppressed],
        _ => vec![],
    }
}

/// Plans the changes from `known` (recorded) to `current` (this scan's findings).
pub fn plan(known: &[Known<'_>], current: &[&Finding]) -> Vec<Step> {
    let by_fingerprint: HashMap<&str, usize> = known.iter().enumerate().map(|(i, k)| (k.fingerprint, i)).collect();
    let mut matched: HashSet<usize> = HashSet::new();
    let mut steps = Vec::new();
    let mut unmatched = Vec::new();
    for (index, f) in current.iter().enumerate() {
        match by_fingerprint.get(f.fingerprint.as_str()) {
            Some(&k) if matched.insert(k) => {
                steps.push(Step::Seen { id: known[k].id, index, events: transition(known[k].state, state_of(f)) });
            }
            _ => unmatched.push(index),
        }
    }
    for index in unmatched {
        let f = current[index];
        let path = f.location.as_ref().map(|l| l.path.as_str());
        let moved = known.iter().enumerate().find(|(k, kn)| {
            !matched.contains(k)
                && kn.state != FindingState::Fixed
                && kn.check_id == f.check_id
                && kn.content_hash == f.content_hash
                && kn.path != path
        });
        match moved {
            Some((k, kn)) => {
                matched.insert(k);
                let mut events = vec![EventKind::Moved];
                events.extend(transition(kn.state, state_of(f)));
                steps.push(Step::Seen { id: kn.id, index, events });
            }
            None => steps.push(Step::Open { index }),
        }
    }
    for (k, kn) in known.iter().enumerate() {
        if !matched.contains(&k) && kn.state != FindingState::Fixed {
            steps.push(Step::Fix { id: kn.id });
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use shipshape_analysis::{Category, Location, Severity, Suppression};

    fn finding(fp: &str, hash: &str, path: &str, suppressed: bool) -> Finding {
        Finding {
            check_id: "cors-wildcard".into(),
            severity: Severity::High,
            category: Category::Security,
            message: "m".into(),
            location: Some(Location::at(path, 3)),
            evidence: "e".into(),
            fingerprint: fp.into(),
            content_hash: hash.into(),
            suppression: suppressed.then(|| Suppression { source: "inline".into(), reason: "r".into(), expires: None }),
        }
    }

    fn known<'a>(id: i32, fp: &'a str, hash: &'a str, path: &'a str, state: FindingState) -> Known<'a> {
        Known { id, fingerprint: fp, content_hash: hash, check_id: "cors-wildcard", state, path: Some(path) }
    }

    #[test]
    fn open_seen_fix_reopen_move_and_suppression_transitions() {
        let a = finding("fa", "ha", "app.py", false);
        let moved = finding("fb2", "hb", "new.py", false);
        let back = finding("fc", "hc", "app.py", true);
        let fresh = finding("fd", "hd", "app.py", false);
        let k = [
            known(1, "fa", "ha", "app.py", FindingState::Open),
            known(2, "fb", "hb", "old.py", FindingState::Open),
            known(3, "fc", "hc", "app.py", FindingState::Fixed),
            known(4, "fe", "he", "app.py", FindingState::Suppressed),
        ];
        let steps = plan(&k, &[&a, &moved, &back, &fresh]);
        assert_eq!(
            steps,
            vec![
                Step::Seen { id: 1, index: 0, events: vec![] },
                Step::Seen { id: 3, index: 2, events: vec![EventKind::Reopened, EventKind::Suppressed] },
                Step::Seen { id: 2, index: 1, events: vec![EventKind::Moved] },
                Step::Open { index: 3 },
                Step::Fix { id: 4 },
            ]
        );
    }
}
