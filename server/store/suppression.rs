//! Suppressions made in the dashboard. Suppressing a finding records why and
//! until when, marks the finding suppressed and adds a `suppressed` event,
//! all in one transaction; every later scan applies the suppressions still
//! in force (`in_force`) before it is scored and recorded, so the finding
//! stays suppressed until the suppression expires or is revoked, and then
//! the scan's own lifecycle step reopens it with an `unsuppressed` event.

use crate::db::db_time;
use crate::db::entities::finding_events::{self, EventKind};
use crate::db::entities::findings::{self, FindingState};
use crate::db::entities::suppressions;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, Set,
};
use shipshape_analysis::suppress::DashboardIgnore;

/// Why a suppression change was refused.
#[derive(Debug, thiserror::Error)]
pub enum SuppressError {
    #[error("finding {0} does not exist")]
    UnknownFinding(i32),
    #[error("a reason is required to suppress a finding")]
    NoReason,
    #[error("the expiry date {0} is in the past")]
    ExpiryInPast(NaiveDate),
    #[error("only an open finding can be suppressed; this one is {0}")]
    NotOpen(&'static str),
    #[error("this finding is suppressed in the repository itself (inline comment or .shipshape.toml); remove it there")]
    SuppressedInRepository,
    #[error("this finding is not suppressed")]
    NotSuppressed,
    #[error("database error: {0}")]
    Db(#[from] DbErr),
}

/// What the person suppressing a finding entered.
#[derive(Debug, Clone)]
pub struct SuppressRequest<'a> {
    pub reason: &'a str,
    /// The last day the suppression holds; `None` for no expiry.
    pub expires: Option<NaiveDate>,
    /// Who did it (a login once auth exists).
    pub actor: Option<&'a str>,
}

fn state_name(s: FindingState) -> &'static str {
    match s {
        FindingState::Open => "open",
        FindingState::Fixed => "fixed",
        FindingState::Suppressed => "suppressed",
    }
}

/// A suppression expiring on `day` holds through that whole day (UTC).
fn end_of(day: NaiveDate) -> DateTime<Utc> {
    db_time(day.and_hms_opt(23, 59, 59).unwrap_or_default().and_utc())
}

fn active(now: DateTime<Utc>) -> Condition {
    Condition::all().add(suppressions::Column::RevokedAt.is_null()).add(
        Condition::any().add(suppressions::Column::ExpiresAt.is_null()).add(suppressions::Column::ExpiresAt.gt(now)),
    )
}

/// The repository's dashboard suppressions in force at `now`, as the
/// analysis core applies them.
///
/// # Errors
/// Database errors.
pub async fn in_force<C: ConnectionTrait>(
    db: &C,
    repository_id: i32,
    now: DateTime<Utc>,
) -> Result<Vec<DashboardIgnore>, DbErr> {
    let rows = suppressions::Entity::find()
        .filter(suppressions::Column::RepositoryId.eq(repository_id))
        .filter(suppressions::Column::FindingId.is_not_null())
        .filter(active(db_time(now)))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i32> = rows.iter().filter_map(|r| r.finding_id).collect();
    let found = findings::Entity::find().filter(findings::Column::Id.is_in(ids)).all(db).await?;
    Ok(rows
        .iter()
        .filter_map(|s| {
            let f = found.iter().find(|f| Some(f.id) == s.finding_id)?;
            Some(DashboardIgnore {
                fingerprint: f.fingerprint.clone(),
                check_id: f.check_id.clone(),
                content_hash: f.content_hash.clone(),
                reason: s.reason.clone(),
                expires: s.expires_at.map(|t| t.date_naive()),
            })
        })
        .collect())
}

/// The suppression in force for one finding, if it was made in the dashboard.
///
/// # Errors
/// Database errors.
pub async fn for_finding<C: ConnectionTrait>(
    db: &C,
    finding_id: i32,
    now: DateTime<Utc>,
) -> Result<Option<suppressions::Model>, DbErr> {
    suppressions::Entity::find()
        .filter(suppressions::Column::FindingId.eq(finding_id))
        .filter(active(db_time(now)))
        .one(db)
        .await
}

fn event(
    finding: &findings::Model,
    kind: EventKind,
    actor: Option<&str>,
    note: Option<String>,
    now: DateTime<Utc>,
) -> finding_events::ActiveModel {
    finding_events::ActiveModel {
        id: NotSet,
        finding_id: Set(finding.id),
        scan_id: Set(None),
        kind: Set(kind),
        path: Set(finding.path.clone()),
        line: Set(finding.line),
        commit_sha: Set(None),
        actor: Set(actor.map(str::to_string)),
        note: Set(note),
        created_at: Set(now),
    }
}

/// Suppresses an open finding from the dashboard.
///
/// # Errors
/// Unknown or not-open finding, missing reason, past expiry, database errors.
pub async fn suppress(
    db: &DatabaseConnection,
    finding_id: i32,
    request: &SuppressRequest<'_>,
    now: DateTime<Utc>,
) -> Result<(), SuppressError> {
    let txn = crate::db::begin_write(db).await?;
    let made = suppress_in(&txn, finding_id, request, now).await?;
    super::audit::record(
        &txn,
        request.actor.unwrap_or("dashboard"),
        "finding.suppressed",
        &format!("finding {finding_id}"),
        Some(made.repository_id),
        &made.reason,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// [`suppress`] inside the caller's transaction (waiver approval); returns the suppression.
///
/// # Errors
/// As [`suppress`].
pub async fn suppress_in<C: ConnectionTrait>(
    txn: &C,
    finding_id: i32,
    request: &SuppressRequest<'_>,
    now: DateTime<Utc>,
) -> Result<suppressions::Model, SuppressError> {
    let now = db_time(now);
    let reason = request.reason.trim();
    if reason.is_empty() {
        return Err(SuppressError::NoReason);
    }
    if let Some(day) = request.expires.filter(|d| *d < now.date_naive()) {
        return Err(SuppressError::ExpiryInPast(day));
    }
    let finding =
        findings::Entity::find_by_id(finding_id).one(txn).await?.ok_or(SuppressError::UnknownFinding(finding_id))?;
    if finding.state != FindingState::Open {
        return Err(SuppressError::NotOpen(state_name(finding.state)));
    }
    let made = suppressions::ActiveModel {
        id: NotSet,
        repository_id: Set(finding.repository_id),
        finding_id: Set(Some(finding.id)),
        check_id: Set(Some(finding.check_id.clone())),
        path_glob: Set(None),
        reason: Set(reason.to_string()),
        expires_at: Set(request.expires.map(end_of)),
        created_by: Set(None),
        created_at: Set(now),
        revoked_at: Set(None),
    }
    .insert(txn)
    .await?;
    findings::ActiveModel {
        id: Set(finding.id),
        state: Set(FindingState::Suppressed),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(txn)
    .await?;
    let note = match request.expires {
        Some(day) => format!("{reason} (until {day})"),
        None => reason.to_string(),
    };
    event(&finding, EventKind::Suppressed, request.actor, Some(note), now).insert(txn).await?;
    Ok(made)
}

/// Revokes the dashboard suppression of a finding; it counts again at once.
///
/// # Errors
/// Unknown finding, a finding not suppressed or suppressed in the repository
/// itself, database errors.
pub async fn unsuppress(
    db: &DatabaseConnection,
    finding_id: i32,
    actor: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), SuppressError> {
    let now = db_time(now);
    let txn = crate::db::begin_write(db).await?;
    let finding =
        findings::Entity::find_by_id(finding_id).one(&txn).await?.ok_or(SuppressError::UnknownFinding(finding_id))?;
    if finding.state != FindingState::Suppressed {
        return Err(SuppressError::NotSuppressed);
    }
    let Some(row) = for_finding(&txn, finding_id, now).await? else {
        return Err(SuppressError::SuppressedInRepository);
    };
    suppressions::ActiveModel { id: Set(row.id), revoked_at: Set(Some(now)), ..Default::default() }
        .update(&txn)
        .await?;
    findings::ActiveModel {
        id: Set(finding.id),
        state: Set(FindingState::Open),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    event(&finding, EventKind::Unsuppressed, actor, None, now).insert(&txn).await?;
    // A waiver whose suppression is revoked ends with it.
    super::waiver::suppression_revoked(&txn, row.id, actor.unwrap_or("dashboard"), now).await?;
    super::audit::record(
        &txn,
        actor.unwrap_or("dashboard"),
        "finding.unsuppressed",
        &format!("finding {finding_id}"),
        Some(finding.repository_id),
        &row.reason,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
