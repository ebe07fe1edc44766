//! Waivers: anyone signed in asks, from a finding's page, to stop counting
//! a finding until a date, with a reason and an owner; an admin approves or
//! rejects. Approval creates the dashboard suppression (in the same
//! transaction), so scans honour it exactly like any suppression and an
//! expired waiver reopens its finding on the next scan. Every step is in
//! the audit log.

use super::suppression::{SuppressError, SuppressRequest, suppress_in};
use crate::db::db_time;
use crate::db::entities::findings::{self, FindingState};
use crate::db::entities::waivers::{self, WaiverStatus};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

/// The longest a waiver may run: risk is accepted for a while, not forever.
pub const MAX_DAYS: i64 = 365;

#[derive(Debug, thiserror::Error)]
pub enum WaiverError {
    #[error("finding {0} does not exist")]
    UnknownFinding(i32),
    #[error("waiver {0} does not exist")]
    UnknownWaiver(i32),
    #[error("a waiver needs a reason")]
    NoReason,
    #[error("a waiver needs an owner: the person or team who answers for the accepted risk")]
    NoOwner,
    #[error("a waiver must expire between tomorrow and {MAX_DAYS} days from now, not on {0}")]
    BadExpiry(NaiveDate),
    #[error("only an open finding can be waived; this one is {0}")]
    NotOpen(&'static str),
    #[error("waiver {0} is already waiting for an admin")]
    AlreadyRequested(i32),
    #[error("waiver {0} was already decided")]
    AlreadyDecided(i32),
    #[error(transparent)]
    Suppress(#[from] SuppressError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What the person asking entered.
#[derive(Debug, Clone)]
pub struct WaiverRequest<'a> {
    pub reason: &'a str,
    pub owner: &'a str,
    /// The last day the waiver holds (UTC).
    pub expires: NaiveDate,
    pub requested_by: &'a str,
}

fn end_of(day: NaiveDate) -> DateTime<Utc> {
    db_time(day.and_hms_opt(23, 59, 59).unwrap_or_default().and_utc())
}

/// How a waiver reads on a page at `now`: approved ones past their date are expired.
pub fn status_at(w: &waivers::Model, now: DateTime<Utc>) -> &'static str {
    match w.status {
        WaiverStatus::Requested => "requested",
        WaiverStatus::Approved if w.expires_at <= now => "expired",
        WaiverStatus::Approved => "approved",
        WaiverStatus::Rejected => "rejected",
        WaiverStatus::Withdrawn => "withdrawn",
    }
}

/// Asks for a waiver.
///
/// # Errors
/// Unknown or not-open finding, a request already pending, bad input, the database.
pub async fn request(
    db: &DatabaseConnection,
    finding_id: i32,
    req: &WaiverRequest<'_>,
    now: DateTime<Utc>,
) -> Result<waivers::Model, WaiverError> {
    let now = db_time(now);
    let (reason, owner) = (req.reason.trim(), req.owner.trim());
    if reason.is_empty() {
        return Err(WaiverError::NoReason);
    }
    if owner.is_empty() {
        return Err(WaiverError::NoOwner);
    }
    let today = now.date_naive();
    if req.expires <= today || req.expires > today + Duration::days(MAX_DAYS) {
        return Err(WaiverError::BadExpiry(req.expires));
    }
    let txn = crate::db::begin_write(db).await?;
    let finding =
        findings::Entity::find_by_id(finding_id).one(&txn).await?.ok_or(WaiverError::UnknownFinding(finding_id))?;
    if finding.state != FindingState::Open {
        return Err(WaiverError::NotOpen(match finding.state {
            FindingState::Fixed => "fixed",
            _ => "suppressed",
        }));
    }
    let pending = waivers::Entity::find()
        .filter(waivers::Column::FindingId.eq(finding_id))
        .filter(waivers::Column::Status.eq(WaiverStatus::Requested))
        .one(&txn)
        .await?;
    if let Some(p) = pending {
        return Err(WaiverError::AlreadyRequested(p.id));
    }
    let made = waivers::ActiveModel {
        id: NotSet,
        finding_id: Set(finding.id),
        repository_id: Set(finding.repository_id),
        check_id: Set(finding.check_id.clone()),
        reason: Set(reason.to_string()),
        owner: Set(owner.chars().take(200).collect()),
        expires_at: Set(end_of(req.expires)),
        status: Set(WaiverStatus::Requested),
        requested_by: Set(req.requested_by.to_string()),
        requested_at: Set(now),
        decided_by: Set(None),
        decided_at: Set(None),
        decision_note: Set(None),
        suppression_id: Set(None),
    }
    .insert(&txn)
    .await?;
    let detail =
        format!("{} in finding {}: {reason} (owner {owner}, until {})", finding.check_id, finding.id, req.expires);
    super::audit::record(
        &txn,
        req.requested_by,
        "waiver.requested",
        &format!("waiver {}", made.id),
        Some(made.repository_id),
        &detail,
        now,
    )
    .await?;
    txn.commit().await?;
    Ok(made)
}

async fn pending_waiver<C: ConnectionTrait>(txn: &C, id: i32) -> Result<waivers::Model, WaiverError> {
    let w = waivers::Entity::find_by_id(id).one(txn).await?.ok_or(WaiverError::UnknownWaiver(id))?;
    if w.status != WaiverStatus::Requested {
        return Err(WaiverError::AlreadyDecided(id));
    }
    Ok(w)
}

/// Approves a waiver: its finding stops counting from the next scan until the waiver expires.
///
/// # Errors
/// Unknown or decided waiver, a finding no longer open, an expiry already past, the database.
pub async fn approve(
    db: &DatabaseConnection,
    id: i32,
    admin: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<waivers::Model, WaiverError> {
    let now = db_time(now);
    let txn = crate::db::begin_write(db).await?;
    let w = pending_waiver(&txn, id).await?;
    if w.expires_at <= now {
        return Err(WaiverError::BadExpiry(w.expires_at.date_naive()));
    }
    let reason = format!("Waiver #{id} (owner {}, approved by {admin}): {}", w.owner, w.reason);
    let request = SuppressRequest { reason: &reason, expires: Some(w.expires_at.date_naive()), actor: Some(admin) };
    let suppression = suppress_in(&txn, w.finding_id, &request, now).await?;
    let w = record_decision(&txn, w, WaiverStatus::Approved, admin, note, Some(suppression.id), now).await?;
    txn.commit().await?;
    Ok(w)
}

/// Rejects a waiver; the finding keeps counting.
///
/// # Errors
/// Unknown or decided waiver, the database.
pub async fn reject(
    db: &DatabaseConnection,
    id: i32,
    admin: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<waivers::Model, WaiverError> {
    let now = db_time(now);
    let txn = crate::db::begin_write(db).await?;
    let w = pending_waiver(&txn, id).await?;
    let w = record_decision(&txn, w, WaiverStatus::Rejected, admin, note, None, now).await?;
    txn.commit().await?;
    Ok(w)
}

/// Writes an admin's decision on the waiver and in the audit log.
async fn record_decision<C: ConnectionTrait>(
    txn: &C,
    w: waivers::Model,
    status: WaiverStatus,
    admin: &str,
    note: Option<&str>,
    suppression_id: Option<i32>,
    now: DateTime<Utc>,
) -> Result<waivers::Model, DbErr> {
    let id = w.id;
    let mut row: waivers::ActiveModel = w.into();
    row.status = Set(status);
    row.decided_by = Set(Some(admin.to_string()));
    row.decided_at = Set(Some(now));
    row.decision_note = Set(note.map(str::trim).filter(|n| !n.is_empty()).map(str::to_string));
    if suppression_id.is_some() {
        row.suppression_id = Set(suppression_id);
    }
    let w = row.update(txn).await?;
    let action = if status == WaiverStatus::Approved { "waiver.approved" } else { "waiver.rejected" };
    super::audit::record(txn, admin, action, &format!("waiver {id}"), Some(w.repository_id), note.unwrap_or(""), now)
        .await?;
    Ok(w)
}

/// An approved waiver whose suppression an admin revoked ends with it.
pub(super) async fn suppression_revoked<C: ConnectionTrait>(
    txn: &C,
    suppression_id: i32,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let Some(w) = waivers::Entity::find()
        .filter(waivers::Column::SuppressionId.eq(suppression_id))
        .filter(waivers::Column::Status.eq(WaiverStatus::Approved))
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let id = w.id;
    let mut row: waivers::ActiveModel = w.into();
    row.status = Set(WaiverStatus::Withdrawn);
    row.update(txn).await?;
    super::audit::record(
        txn,
        actor,
        "waiver.withdrawn",
        &format!("waiver {id}"),
        None,
        "its suppression was revoked",
        now,
    )
    .await
}

/// A finding's waivers, newest first.
///
/// # Errors
/// Database errors.
pub async fn for_finding<C: ConnectionTrait>(db: &C, finding_id: i32) -> Result<Vec<waivers::Model>, DbErr> {
    waivers::Entity::find()
        .filter(waivers::Column::FindingId.eq(finding_id))
        .order_by_desc(waivers::Column::Id)
        .all(db)
        .await
}

/// Waivers waiting for a decision (oldest first), then the latest decided ones.
///
/// # Errors
/// Database errors.
pub async fn queue<C: ConnectionTrait>(
    db: &C,
    decided: u64,
) -> Result<(Vec<waivers::Model>, Vec<waivers::Model>), DbErr> {
    let pending = waivers::Entity::find()
        .filter(waivers::Column::Status.eq(WaiverStatus::Requested))
        .order_by_asc(waivers::Column::Id)
        .all(db)
        .await?;
    let done = waivers::Entity::find()
        .filter(waivers::Column::Status.ne(WaiverStatus::Requested))
        .order_by_desc(waivers::Column::DecidedAt)
        .order_by_desc(waivers::Column::Id)
        .limit(decided)
        .all(db)
        .await?;
    Ok((pending, done))
}

/// Approved waivers that expired in `[from, to)`: their findings count again.
///
/// # Errors
/// Database errors.
pub async fn expired_between<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<waivers::Model>, DbErr> {
    waivers::Entity::find()
        .filter(waivers::Column::Status.eq(WaiverStatus::Approved))
        .filter(waivers::Column::ExpiresAt.gte(db_time(from)))
        .filter(waivers::Column::ExpiresAt.lt(db_time(to)))
        .order_by_asc(waivers::Column::ExpiresAt)
        .all(db)
        .await
}
