//! Campaigns: "get these checks passing on these repositories by this
//! date". An admin picks the checks, selects repositories by team, level,
//! language or by name, and sets a deadline; the set of repositories is
//! fixed when the campaign starts, so its burn-down compares like with like.
//! Progress is read from the scans already stored: a repository is done
//! when its latest successful scan passes (or does not apply to) every
//! check of the campaign.

use crate::db::db_time;
use crate::db::entities::scans::{self, ScanStatus};
use crate::db::entities::{campaigns, check_results};
use crate::read::overview::RepoRow;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Which repositories a campaign covers. Every non-empty criterion must
/// hold; within one, any value does. Nothing chosen: every repository.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub levels: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    /// `owner/name`.
    #[serde(default)]
    pub repositories: Vec<String>,
    /// The repositories it matched when the campaign started.
    #[serde(default)]
    pub resolved: Vec<i32>,
}

impl Selection {
    pub fn matches(&self, r: &RepoRow) -> bool {
        let any = |list: &[String], value: Option<&str>| {
            list.is_empty() || value.is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v)))
        };
        let full = format!("{}/{}", r.owner, r.name);
        any(&self.teams, r.team.as_deref())
            && any(&self.levels, r.level.as_deref())
            && any(&self.languages, r.language.as_deref())
            && any(&self.repositories, Some(&full))
    }

    /// In words, for pages and the digest.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (what, list) in [
            ("team", &self.teams),
            ("level", &self.levels),
            ("language", &self.languages),
            ("repository", &self.repositories),
        ] {
            if !list.is_empty() {
                parts.push(format!("{what} {}", list.join(" or ")));
            }
        }
        if parts.is_empty() { "every repository".into() } else { parts.join(", ") }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("a campaign needs a title")]
    NoTitle,
    #[error("a campaign needs at least one check")]
    NoChecks,
    #[error("unknown check {0}: the catalogue at /checks lists them all")]
    UnknownCheck(String),
    #[error("the deadline {0} is in the past")]
    PastDeadline(NaiveDate),
    #[error("the selection matches no repository")]
    Empty,
    #[error("no campaign {0}")]
    Unknown(i32),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// What the admin asked for.
#[derive(Debug, Clone)]
pub struct NewCampaign<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub checks: Vec<String>,
    pub selection: Selection,
    pub deadline: NaiveDate,
    pub created_by: &'a str,
}

/// Starts a campaign over the repositories the selection matches now.
///
/// # Errors
/// Bad input, a selection matching nothing, the database.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    new: NewCampaign<'_>,
    policy: &shipshape_analysis::Policy,
    now: DateTime<Utc>,
) -> Result<campaigns::Model, CampaignError> {
    let title = new.title.trim();
    if title.is_empty() {
        return Err(CampaignError::NoTitle);
    }
    if new.checks.is_empty() {
        return Err(CampaignError::NoChecks);
    }
    if let Some(bad) = new.checks.iter().find(|c| policy.info(c).is_none()) {
        return Err(CampaignError::UnknownCheck(bad.clone()));
    }
    if new.deadline < now.date_naive() {
        return Err(CampaignError::PastDeadline(new.deadline));
    }
    let mut selection = new.selection;
    selection.resolved =
        crate::read::overview::rows(db, now).await?.iter().filter(|r| selection.matches(r)).map(|r| r.id).collect();
    if selection.resolved.is_empty() {
        return Err(CampaignError::Empty);
    }
    let made = campaigns::ActiveModel {
        id: NotSet,
        title: Set(title.chars().take(200).collect()),
        description: Set(new.description.trim().to_string()),
        check_ids: Set(serde_json::json!(new.checks)),
        selection: Set(serde_json::to_value(&selection).unwrap_or_default()),
        deadline: Set(new.deadline),
        created_by: Set(new.created_by.to_string()),
        created_at: Set(db_time(now)),
        closed_at: Set(None),
    }
    .insert(db)
    .await?;
    let detail = format!("{} on {} repositories by {}", new.checks.join(", "), selection.resolved.len(), new.deadline);
    crate::store::audit::record(
        db,
        new.created_by,
        "campaign.created",
        &format!("campaign {}", made.id),
        None,
        &detail,
        now,
    )
    .await?;
    Ok(made)
}

/// Ends a campaign early (or after its deadline); it leaves the overview and the digest.
///
/// # Errors
/// Unknown campaign, the database.
pub async fn close<C: ConnectionTrait>(db: &C, id: i32, by: &str, now: DateTime<Utc>) -> Result<(), CampaignError> {
    let c = campaigns::Entity::find_by_id(id).one(db).await?.ok_or(CampaignError::Unknown(id))?;
    if c.closed_at.is_none() {
        let mut row: campaigns::ActiveModel = c.into();
        row.closed_at = Set(Some(db_time(now)));
        row.update(db).await?;
        crate::store::audit::record(db, by, "campaign.closed", &format!("campaign {id}"), None, "", now).await?;
    }
    Ok(())
}

/// A repository still failing the campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Remaining {
    pub repository_id: i32,
    pub name: String,
    pub team: Option<String>,
    /// The campaign checks it fails; empty when it was never scanned.
    pub failing: Vec<String>,
}

/// Where a campaign stands.
#[derive(Debug, Clone)]
pub struct Progress {
    pub campaign: campaigns::Model,
    pub checks: Vec<String>,
    pub selection: Selection,
    pub total: usize,
    pub remaining: Vec<Remaining>,
    /// Repositories not yet done at the end of each day, from the start to today (or the deadline).
    pub burn_down: Vec<(NaiveDate, usize)>,
}

impl Progress {
    pub fn active(&self) -> bool {
        self.campaign.closed_at.is_none()
    }

    /// Who owns what is left: team → repositories.
    pub fn by_owner(&self) -> BTreeMap<String, Vec<&Remaining>> {
        let mut out: BTreeMap<String, Vec<&Remaining>> = BTreeMap::new();
        for r in &self.remaining {
            out.entry(r.team.clone().unwrap_or_else(|| "no team".into())).or_default().push(r);
        }
        out
    }
}

fn parse(c: &campaigns::Model) -> (Vec<String>, Selection) {
    let checks = serde_json::from_value(c.check_ids.clone()).unwrap_or_default();
    let selection = serde_json::from_value(c.selection.clone()).unwrap_or_default();
    (checks, selection)
}

/// The progress of one campaign as of `now`.
///
/// # Errors
/// Database errors.
pub async fn progress<C: ConnectionTrait>(
    db: &C,
    campaign: campaigns::Model,
    now: DateTime<Utc>,
) -> Result<Progress, DbErr> {
    let (checks, selection) = parse(&campaign);
    let ids: Vec<i32> = selection.resolved.clone();
    let history: Vec<scans::Model> = scans::Entity::find()
        .filter(scans::Column::RepositoryId.is_in(ids.clone()))
        .filter(scans::Column::Status.eq(ScanStatus::Succeeded))
        .filter(scans::Column::FinishedAt.lte(db_time(now)))
        .order_by_asc(scans::Column::FinishedAt)
        .order_by_asc(scans::Column::Id)
        .all(db)
        .await?;
    // Which scans fail which campaign checks.
    let mut failing_in: HashMap<i32, Vec<String>> = HashMap::new();
    let scan_ids: Vec<i32> = history.iter().map(|s| s.id).collect();
    for chunk in scan_ids.chunks(500) {
        let rows = check_results::Entity::find()
            .filter(check_results::Column::ScanId.is_in(chunk.iter().copied()))
            .filter(check_results::Column::CheckId.is_in(checks.iter().cloned()))
            .filter(check_results::Column::Outcome.eq("fail"))
            .all(db)
            .await?;
        for r in rows {
            failing_in.entry(r.scan_id).or_default().push(r.check_id);
        }
    }
    let teams = crate::read::team_names(db).await?;
    let names: HashMap<i32, (String, Option<String>)> = crate::db::entities::repositories::Entity::find()
        .filter(crate::db::entities::repositories::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, (format!("{}/{}", r.owner, r.name), r.team_id.and_then(|t| teams.get(&t).cloned()))))
        .collect();

    // The latest scan of each repository at the end of each day.
    let start = campaign.created_at.date_naive();
    let end = now.date_naive().min(campaign.deadline.max(start));
    let mut burn_down = Vec::new();
    let mut day = start;
    let mut latest: HashMap<i32, i32> = HashMap::new();
    let mut next = history.iter().peekable();
    while day <= end {
        let day_end = (day + Duration::days(1)).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
        while let Some(s) = next.next_if(|s| s.finished_at.is_some_and(|f| f < day_end)) {
            latest.insert(s.repository_id, s.id);
        }
        let open = ids.iter().filter(|r| latest.get(r).is_none_or(|scan| failing_in.contains_key(scan))).count();
        burn_down.push((day, open));
        day += Duration::days(1);
    }
    // Where each repository stands now (its latest scan overall).
    for s in next {
        latest.insert(s.repository_id, s.id);
    }
    let remaining: Vec<Remaining> = ids
        .iter()
        .filter_map(|id| {
            let failing = match latest.get(id) {
                None => Vec::new(),
                Some(scan) => failing_in.get(scan)?.clone(),
            };
            let (name, team) = names.get(id).cloned().unwrap_or_else(|| (format!("repository {id}"), None));
            Some(Remaining { repository_id: *id, name, team, failing })
        })
        .collect();
    Ok(Progress { total: ids.len(), checks, selection, remaining, burn_down, campaign })
}

/// Every campaign, active first, newest first.
///
/// # Errors
/// Database errors.
pub async fn all<C: ConnectionTrait>(db: &C) -> Result<Vec<campaigns::Model>, DbErr> {
    let mut list = campaigns::Entity::find().order_by_desc(campaigns::Column::Id).all(db).await?;
    list.sort_by_key(|c| c.closed_at.is_some());
    Ok(list)
}

/// The active campaigns with their progress (overview, digest).
///
/// # Errors
/// Database errors.
pub async fn active<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> Result<Vec<Progress>, DbErr> {
    let mut out = Vec::new();
    for c in campaigns::Entity::find()
        .filter(campaigns::Column::ClosedAt.is_null())
        .order_by_asc(campaigns::Column::Deadline)
        .all(db)
        .await?
    {
        out.push(progress(db, c, now).await?);
    }
    Ok(out)
}

/// Check ids named in a form, deduplicated, in the order given.
pub fn check_list(raw: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    raw.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty() && seen.insert(s.clone())).collect()
}
