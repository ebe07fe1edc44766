//! Why a repository's score moved: for each pair of consecutive successful
//! scans whose score, level or versions differ, which checks changed
//! outcome and why — a new finding, a fix, a suppression or waiver, a check
//! that is new in the catalogue, or a new analyzer or policy version.

use crate::db::entities::finding_events::{self, EventKind};
use crate::db::entities::scans::{self, ScanStatus};
use crate::db::entities::{check_results, findings};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::{BTreeMap, HashMap};

/// One check whose outcome (or number of findings) changed between two scans.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckChange {
    pub check_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// For people: "new finding at app/main.py:5", "fixed", "suppressed: …", "new check".
    pub why: String,
}

/// A score change between two consecutive successful scans.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreChange {
    pub scan_id: i32,
    pub at: DateTime<Utc>,
    pub commit: Option<String>,
    pub score_before: Option<f64>,
    pub score_after: Option<f64>,
    pub level_before: Option<String>,
    pub level_after: Option<String>,
    /// `(before, after)` when the analyzer or the policy (check catalogue) changed.
    pub analyzer: Option<(String, String)>,
    pub policy: Option<(String, String)>,
    pub checks: Vec<CheckChange>,
}

impl ScoreChange {
    pub fn delta(&self) -> Option<f64> {
        Some(self.score_after? - self.score_before?)
    }
}

/// The latest `limit` changes of a repository's score, newest first.
///
/// A page view: a fixed number of queries whatever the history's length
/// (scans, then the check results of the scans that matter, then the
/// repository's findings and the events in the window).
///
/// # Errors
/// Database errors.
pub async fn recent<C: ConnectionTrait>(db: &C, repository_id: i32, limit: usize) -> Result<Vec<ScoreChange>, DbErr> {
    // A few more scans than changes: scans that changed nothing are skipped.
    let mut history = scans::Entity::find()
        .filter(scans::Column::RepositoryId.eq(repository_id))
        .filter(scans::Column::Status.eq(ScanStatus::Succeeded))
        .order_by_desc(scans::Column::FinishedAt)
        .order_by_desc(scans::Column::Id)
        .limit((limit as u64 + 1) * 4)
        .all(db)
        .await?;
    history.reverse();
    // The latest `limit` pairs that changed something, newest first.
    let pairs: Vec<(&scans::Model, &scans::Model)> = history
        .windows(2)
        .rev()
        .map(|p| (&p[0], &p[1]))
        .filter(|(prev, cur)| {
            let moved = match (prev.overall_score, cur.overall_score) {
                (Some(a), Some(b)) => (a - b).abs() >= 0.05,
                (a, b) => a.is_some() != b.is_some(),
            };
            moved
                || prev.level != cur.level
                || prev.analyzer_version != cur.analyzer_version
                || (prev.policy_version.is_some()
                    && cur.policy_version.is_some()
                    && prev.policy_version != cur.policy_version)
        })
        .take(limit)
        .collect();
    let Some(oldest) = pairs.last().map(|(prev, _)| prev.finished_at.unwrap_or(prev.queued_at)) else {
        return Ok(Vec::new());
    };
    let scan_ids: Vec<i32> = pairs.iter().flat_map(|(a, b)| [a.id, b.id]).collect();
    let mut outcomes: HashMap<i32, HashMap<String, (String, i32)>> = HashMap::new();
    for r in check_results::Entity::find().filter(check_results::Column::ScanId.is_in(scan_ids.clone())).all(db).await?
    {
        outcomes.entry(r.scan_id).or_default().insert(r.check_id, (r.outcome, r.findings_count));
    }
    let events = window_events(db, repository_id, oldest, &scan_ids).await?;
    let empty = HashMap::new();
    Ok(pairs
        .into_iter()
        .map(|(prev, cur)| {
            let analyzer = (prev.analyzer_version != cur.analyzer_version)
                .then(|| (prev.analyzer_version.clone(), cur.analyzer_version.clone()));
            let policy = match (&prev.policy_version, &cur.policy_version) {
                (Some(a), Some(b)) if a != b => Some((a.clone(), b.clone())),
                _ => None,
            };
            let since = prev.finished_at.unwrap_or(prev.queued_at);
            let until = cur.finished_at.unwrap_or(cur.queued_at);
            // Events this scan made, or made in the dashboard since the previous one.
            let between: Vec<&(finding_events::Model, findings::Model)> = events
                .iter()
                .filter(|(e, _)| match e.scan_id {
                    Some(s) => s == cur.id,
                    None => e.created_at > since && e.created_at <= until,
                })
                .collect();
            ScoreChange {
                scan_id: cur.id,
                at: until,
                commit: cur.commit_sha.clone(),
                score_before: prev.overall_score,
                score_after: cur.overall_score,
                level_before: prev.level.clone(),
                level_after: cur.level.clone(),
                checks: check_changes(
                    outcomes.get(&prev.id).unwrap_or(&empty),
                    outcomes.get(&cur.id).unwrap_or(&empty),
                    &between,
                    policy.is_some(),
                ),
                analyzer,
                policy,
            }
        })
        .collect())
}

/// The repository's finding events made by `scans`, or in the dashboard since `since`.
async fn window_events<C: ConnectionTrait>(
    db: &C,
    repository_id: i32,
    since: DateTime<Utc>,
    scans: &[i32],
) -> Result<Vec<(finding_events::Model, findings::Model)>, DbErr> {
    let of_repo: HashMap<i32, findings::Model> = findings::Entity::find()
        .filter(findings::Column::RepositoryId.eq(repository_id))
        .all(db)
        .await?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    Ok(finding_events::Entity::find()
        .filter(finding_events::Column::FindingId.is_in(of_repo.keys().copied()))
        .filter(
            sea_orm::Condition::any().add(finding_events::Column::ScanId.is_in(scans.iter().copied())).add(
                sea_orm::Condition::all()
                    .add(finding_events::Column::ScanId.is_null())
                    .add(finding_events::Column::CreatedAt.gt(since)),
            ),
        )
        .order_by_asc(finding_events::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter_map(|e| {
            let f = of_repo.get(&e.finding_id)?.clone();
            Some((e, f))
        })
        .collect())
}

/// What happened to a check's findings between the two scans, in words.
fn events_in_words(events: &[&(finding_events::Model, findings::Model)]) -> Option<String> {
    let at = |e: &finding_events::Model| match (&e.path, e.line) {
        (Some(p), Some(l)) => format!(" at {p}:{l}"),
        (Some(p), None) => format!(" at {p}"),
        _ => String::new(),
    };
    let mut words = Vec::new();
    let count = |kind: EventKind| events.iter().filter(|(e, _)| e.kind == kind).count();
    if let Some((first, _)) = events.iter().find(|(e, _)| e.kind == EventKind::Opened) {
        let n = count(EventKind::Opened);
        words.push(if n == 1 { format!("new finding{}", at(first)) } else { format!("{n} new findings") });
    }
    if count(EventKind::Reopened) > 0 {
        words.push(format!("{} reopened", count(EventKind::Reopened)));
    }
    if count(EventKind::Unsuppressed) > 0 {
        words.push(format!("{} no longer suppressed (revoked, or its waiver expired)", count(EventKind::Unsuppressed)));
    }
    if count(EventKind::Fixed) > 0 {
        words.push(format!("{} fixed", count(EventKind::Fixed)));
    }
    if let Some((e, _)) = events.iter().find(|(e, _)| e.kind == EventKind::Suppressed) {
        let note = e.note.clone().unwrap_or_default();
        words.push(format!("suppressed: {}", note.chars().take(120).collect::<String>()));
    }
    (!words.is_empty()).then(|| words.join("; "))
}

fn check_changes(
    before: &HashMap<String, (String, i32)>,
    after: &HashMap<String, (String, i32)>,
    events: &[&(finding_events::Model, findings::Model)],
    policy_changed: bool,
) -> Vec<CheckChange> {
    let mut by_check: BTreeMap<&str, Vec<&(finding_events::Model, findings::Model)>> = BTreeMap::new();
    for ev in events {
        by_check.entry(ev.1.check_id.as_str()).or_default().push(ev);
    }
    let mut ids: Vec<&String> = before.keys().chain(after.keys()).collect();
    ids.sort();
    ids.dedup();
    let mut out = Vec::new();
    for id in ids {
        let (b, a) = (before.get(id), after.get(id));
        if b == a {
            continue;
        }
        let why = match (b, a) {
            (None, Some(_)) if policy_changed => "new check in this policy version".to_string(),
            (None, Some(_)) => "first recorded".to_string(),
            (Some(_), None) => "no longer in the catalogue".to_string(),
            (Some((bo, bn)), Some((ao, an))) => {
                let said = by_check.get(id.as_str()).and_then(|ev| events_in_words(ev));
                let words = match said {
                    Some(words) => words,
                    None if bo == ao => format!("{bn} → {an} findings"),
                    None => format!("{bo} → {ao}"),
                };
                // A check that was announced with an effective date now counts.
                if bo == "upcoming" && ao != "upcoming" { format!("took effect: {words}") } else { words }
            }
            (None, None) => continue,
        };
        out.push(CheckChange {
            check_id: id.clone(),
            before: b.map(|(o, _)| o.clone()),
            after: a.map(|(o, _)| o.clone()),
            why,
        });
    }
    out
}

/// The days a repository's scans changed analyzer or check catalogue, for
/// marks on its trend chart: `(day, "analyzer 0.2.0")`.
///
/// # Errors
/// Database errors.
pub async fn version_marks<C: ConnectionTrait>(
    db: &C,
    repository_id: i32,
) -> Result<Vec<(chrono::NaiveDate, String)>, DbErr> {
    let rows: Vec<(Option<DateTime<Utc>>, String, Option<String>)> = scans::Entity::find()
        .select_only()
        .columns([scans::Column::FinishedAt, scans::Column::AnalyzerVersion, scans::Column::PolicyVersion])
        .filter(scans::Column::RepositoryId.eq(repository_id))
        .filter(scans::Column::Status.eq(ScanStatus::Succeeded))
        .order_by_asc(scans::Column::FinishedAt)
        .order_by_asc(scans::Column::Id)
        .into_tuple()
        .all(db)
        .await?;
    let mut marks = Vec::new();
    for pair in rows.windows(2) {
        let ((_, a0, p0), (at, a1, p1)) = (&pair[0], &pair[1]);
        let Some(at) = at else { continue };
        if a0 != a1 {
            marks.push((at.date_naive(), format!("analyzer {a1}")));
        } else if p0.is_some() && p1.is_some() && p0 != p1 {
            marks.push((at.date_naive(), "new checks".to_string()));
        }
    }
    Ok(marks)
}
