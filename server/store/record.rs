//! Recording a finished scan, successful or failed, in one transaction.

use super::lifecycle::{self, Known, Step};
use crate::db::db_time;
use crate::db::entities::finding_events::{self, EventKind};
use crate::db::entities::findings::{self, FindingState};
use crate::db::entities::scans::{self, ScanStatus};
use crate::db::entities::{category_scores, check_results, scan_reports};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Set,
};
use shipshape_analysis::{Finding, Report};

/// Where a scan came from and when it ran.
#[derive(Debug, Clone)]
pub struct ScanMeta<'a> {
    pub repository_id: i32,
    pub commit_sha: Option<&'a str>,
    /// schedule | webhook | manual | api | demo
    pub trigger: &'a str,
    pub queued_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// GitHub API calls the scan cost, when it used the API.
    pub github_api_calls: Option<i32>,
}

/// What a recorded scan changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    pub scan_id: i32,
    pub opened: usize,
    pub fixed: usize,
    pub reopened: usize,
    pub moved: usize,
    pub suppressed: usize,
    pub unsuppressed: usize,
    /// Rows written, all tables together (for capacity planning).
    pub rows_written: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error while recording the scan: {0}")]
    Db(#[from] DbErr),
}

fn scan_row(meta: &ScanMeta<'_>, status: ScanStatus) -> scans::ActiveModel {
    scans::ActiveModel {
        id: NotSet,
        repository_id: Set(meta.repository_id),
        commit_sha: Set(meta.commit_sha.map(str::to_string)),
        trigger: Set(meta.trigger.to_string()),
        status: Set(status),
        queued_at: Set(db_time(meta.queued_at)),
        started_at: Set(Some(db_time(meta.started_at))),
        finished_at: Set(Some(db_time(meta.finished_at))),
        duration_ms: Set(Some((meta.finished_at - meta.started_at).num_milliseconds())),
        error: Set(None),
        analyzer_version: Set(shipshape_analysis::score::ANALYZER_VERSION.to_string()),
        // A failed scan ran no policy; a successful one records its report's.
        policy_version: Set(None),
        overall_score: Set(None),
        level: Set(None),
        stack: Set(None),
        files_scanned: Set(None),
        github_api_calls: Set(meta.github_api_calls),
    }
}

/// The columns a finding takes from the scan that just saw it.
fn seen_now(f: &Finding, scan_id: i32, now: DateTime<Utc>) -> findings::ActiveModel {
    findings::ActiveModel {
        fingerprint: Set(f.fingerprint.clone()),
        severity: Set(f.severity.as_str().to_string()),
        state: Set(lifecycle::state_of(f)),
        message: Set(f.message.clone()),
        path: Set(f.location.as_ref().map(|l| l.path.clone())),
        line: Set(f.location.as_ref().and_then(|l| l.line).map(|n| n as i32)),
        evidence: Set(f.evidence.clone()),
        last_seen_scan_id: Set(scan_id),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Records a failed scan with its reason; findings are left as they were.
///
/// # Errors
/// The database refused the write.
pub async fn record_failure(db: &DatabaseConnection, meta: &ScanMeta<'_>, error: &str) -> Result<i32, StoreError> {
    let mut row = scan_row(meta, ScanStatus::Failed);
    row.error = Set(Some(error.to_string()));
    Ok(row.insert(db).await?.id)
}

/// Records a successful scan and moves every finding along its lifecycle,
/// all in one transaction.
///
/// # Errors
/// The database refused a write; then nothing of this scan is recorded.
pub async fn record_success(
    db: &DatabaseConnection,
    meta: &ScanMeta<'_>,
    report: &Report,
) -> Result<Recorded, StoreError> {
    let txn = crate::db::begin_write(db).await?;
    let now = db_time(meta.finished_at);
    // Dashboard suppressions count as if written in the repository: the
    // report is scored again with them, and that is what gets recorded.
    let ignores = super::suppression::in_force(&txn, meta.repository_id, now).await?;
    let suppressed = shipshape_analysis::suppress::apply_dashboard(report, &ignores);
    let report = suppressed.as_ref().unwrap_or(report);
    let mut row = scan_row(meta, ScanStatus::Succeeded);
    row.overall_score = Set(Some(report.score));
    let policy = match report.policy_version.as_str() {
        "" => shipshape_analysis::Policy::default().version(),
        v => v.to_string(),
    };
    row.policy_version = Set(Some(policy));
    row.level = Set(Some(report.level.as_str().to_string()));
    row.stack = Set(serde_json::to_value(&report.stack).ok());
    row.files_scanned = Set(Some(report.stats.files_seen as i64));
    let scan = row.insert(&txn).await?;
    scan_reports::ActiveModel { scan_id: Set(scan.id), report: Set(serde_json::to_value(report).unwrap_or_default()) }
        .insert(&txn)
        .await?;
    let mut out = Recorded { scan_id: scan.id, rows_written: 2, ..Recorded::default() };

    let results: Vec<check_results::ActiveModel> = report
        .checks
        .iter()
        .map(|c| check_results::ActiveModel {
            id: NotSet,
            scan_id: Set(scan.id),
            check_id: Set(c.check_id.clone()),
            category: Set(c.category.as_str().to_string()),
            severity: Set(c.severity.as_str().to_string()),
            outcome: Set(c.outcome.as_str().to_string()),
            summary: Set(c.summary.clone()),
            evidence: Set((!c.evidence.is_empty()).then(|| serde_json::to_value(&c.evidence).unwrap_or_default())),
            findings_count: Set(c.active_findings().count() as i32),
        })
        .collect();
    out.rows_written += results.len();
    if !results.is_empty() {
        check_results::Entity::insert_many(results).exec(&txn).await?;
    }
    let scores: Vec<category_scores::ActiveModel> = report
        .categories
        .iter()
        .map(|c| category_scores::ActiveModel {
            id: NotSet,
            scan_id: Set(scan.id),
            category: Set(c.category.as_str().to_string()),
            score: Set(c.score),
        })
        .collect();
    out.rows_written += scores.len();
    if !scores.is_empty() {
        category_scores::Entity::insert_many(scores).exec(&txn).await?;
    }

    let existing =
        findings::Entity::find().filter(findings::Column::RepositoryId.eq(meta.repository_id)).all(&txn).await?;
    let known: Vec<Known<'_>> = existing
        .iter()
        .map(|f| Known {
            id: f.id,
            fingerprint: &f.fingerprint,
            content_hash: &f.content_hash,
            check_id: &f.check_id,
            state: f.state,
            path: f.path.as_deref(),
        })
        .collect();
    let current: Vec<&Finding> = report.findings().collect();
    let mut events: Vec<finding_events::ActiveModel> = Vec::new();
    let event = |finding_id: i32, kind: EventKind, f: Option<&Finding>, path: Option<String>, line: Option<i32>| {
        let (path, line) = match f.and_then(|f| f.location.as_ref()) {
            Some(l) => (Some(l.path.clone()), l.line.map(|n| n as i32)),
            None => (path, line),
        };
        let note =
            f.and_then(|f| f.suppression.as_ref()).filter(|_| kind == EventKind::Suppressed).map(|s| s.reason.clone());
        finding_events::ActiveModel {
            id: NotSet,
            finding_id: Set(finding_id),
            scan_id: Set(Some(scan.id)),
            kind: Set(kind),
            path: Set(path),
            line: Set(line),
            commit_sha: Set(meta.commit_sha.map(str::to_string)),
            actor: Set(None),
            note: Set(note),
            created_at: Set(now),
        }
    };
    for step in lifecycle::plan(&known, &current) {
        match step {
            Step::Open { index } => {
                let f = current[index];
                let inserted = findings::ActiveModel {
                    repository_id: Set(meta.repository_id),
                    content_hash: Set(f.content_hash.clone()),
                    check_id: Set(f.check_id.clone()),
                    category: Set(f.category.as_str().to_string()),
                    first_seen_scan_id: Set(scan.id),
                    created_at: Set(now),
                    ..seen_now(f, scan.id, now)
                }
                .insert(&txn)
                .await?;
                out.rows_written += 1;
                out.opened += 1;
                events.push(event(inserted.id, EventKind::Opened, Some(f), None, None));
                if f.suppression.is_some() {
                    out.suppressed += 1;
                    events.push(event(inserted.id, EventKind::Suppressed, Some(f), None, None));
                }
            }
            Step::Seen { id, index, events: kinds } => {
                let f = current[index];
                findings::ActiveModel { id: Set(id), ..seen_now(f, scan.id, now) }.update(&txn).await?;
                out.rows_written += 1;
                for kind in kinds {
                    match kind {
                        EventKind::Reopened => out.reopened += 1,
                        EventKind::Moved => out.moved += 1,
                        EventKind::Suppressed => out.suppressed += 1,
                        EventKind::Unsuppressed => out.unsuppressed += 1,
                        EventKind::Opened | EventKind::Fixed => {}
                    }
                    events.push(event(id, kind, Some(f), None, None));
                }
            }
            Step::Fix { id } => {
                let before = existing.iter().find(|e| e.id == id);
                findings::ActiveModel {
                    id: Set(id),
                    state: Set(FindingState::Fixed),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .update(&txn)
                .await?;
                out.rows_written += 1;
                out.fixed += 1;
                events.push(event(
                    id,
                    EventKind::Fixed,
                    None,
                    before.and_then(|b| b.path.clone()),
                    before.and_then(|b| b.line),
                ));
            }
        }
    }
    out.rows_written += events.len();
    if !events.is_empty() {
        finding_events::Entity::insert_many(events).exec(&txn).await?;
    }
    let update = Query::update()
        .table("repositories")
        .value("last_scan_id", scan.id)
        .value("last_scanned_at", now)
        .value("score", report.score)
        .value("level", report.level.as_str())
        .value("updated_at", now)
        .and_where(Expr::col("id").eq(meta.repository_id))
        .to_owned();
    txn.execute(&update).await?;
    out.rows_written += 1;
    txn.commit().await?;
    Ok(out)
}
