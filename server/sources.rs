//! Where tracked repositories come from. Today: the `[[repositories]]`
//! entries of the configuration, synchronised into the `repositories` table
//! at start; repositories that were never scanned get a first scan queued.
//! GitHub org/user discovery (`github::discovery`) feeds the same table
//! through [`track`] and [`queue_first_scan`].

use crate::config::RepositorySource;
use crate::db::entities::repositories::{self, Provider};
use crate::jobs::queue::{self, QueueError};
use crate::jobs::scan_request::{ScanRequest, ScanTrigger};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Synced {
    pub added: usize,
    pub updated: usize,
    pub scans_queued: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("repositories[{index}]: cannot tell owner/name from url {url}; set `name = \"owner/name\"`")]
    Unnamed { index: usize, url: String },
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Provider, owner and name of a configured repository.
pub fn identify(index: usize, source: &RepositorySource) -> Result<(Provider, String, String), SourceError> {
    let url = source.url.trim();
    let provider = if url.starts_with("file://") || url.starts_with('/') || url.starts_with('.') {
        Provider::Local
    } else if url.contains("github.com") {
        Provider::Github
    } else {
        Provider::Git
    };
    let named = source.name.as_deref().and_then(|n| n.split_once('/')).map(|(o, n)| (o.to_string(), n.to_string()));
    let derived = || {
        let path = url.trim_end_matches('/').trim_end_matches(".git");
        let mut parts = path.rsplit(['/', ':']).filter(|p| !p.is_empty());
        let name = parts.next()?.to_string();
        let owner = if provider == Provider::Local { "local".to_string() } else { parts.next()?.to_string() };
        Some((owner, name))
    };
    let (owner, name) = named.or_else(derived).ok_or_else(|| SourceError::Unnamed { index, url: url.to_string() })?;
    Ok((provider, owner, name))
}

/// Upserts every configured repository and queues a first scan for those
/// never scanned. Repositories removed from the configuration are kept
/// (their history stays readable); an admin disables them.
///
/// # Errors
/// A source whose name cannot be derived, or a database error.
pub async fn sync_config(db: &DatabaseConnection, sources: &[RepositorySource]) -> Result<Synced, SourceError> {
    let mut out = Synced::default();
    let now = Utc::now();
    for (index, source) in sources.iter().enumerate() {
        let (provider, owner, name) = identify(index, source)?;
        let team_id = match &source.team {
            Some(slug) => Some(team_id(db, slug).await?),
            None => None,
        };
        let wanted = Tracked {
            provider,
            owner,
            name,
            clone_url: source.url.clone(),
            // Empty: the remote's default branch, found at checkout.
            default_branch: source.branch.clone().unwrap_or_default(),
            team_id,
            archived: false,
            github_id: None,
        };
        let existing = find_by_identity(db, provider, &wanted.owner, &wanted.name).await?;
        // Config is the source of truth for its rows: always written back.
        let change = track(db, &wanted, existing, true, now).await?;
        out.count(&change);
        if queue_first_scan(db, change.row(), "config", now).await? {
            out.scans_queued += 1;
        }
    }
    Ok(out)
}

/// A repository as a source describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    pub provider: Provider,
    pub owner: String,
    pub name: String,
    pub clone_url: String,
    pub default_branch: String,
    pub team_id: Option<i32>,
    pub archived: bool,
    pub github_id: Option<i64>,
}

/// What [`track`] did to a row.
#[derive(Debug, Clone)]
pub enum Change {
    Added(repositories::Model),
    Updated(repositories::Model),
    Unchanged(repositories::Model),
}

impl Change {
    pub fn row(&self) -> &repositories::Model {
        match self {
            Change::Added(r) | Change::Updated(r) | Change::Unchanged(r) => r,
        }
    }
}

impl Synced {
    pub fn count(&mut self, change: &Change) {
        match change {
            Change::Added(_) => self.added += 1,
            Change::Updated(_) => self.updated += 1,
            Change::Unchanged(_) => {}
        }
    }
}

/// The row of (provider, owner, name), if tracked.
///
/// # Errors
/// Database errors.
pub async fn find_by_identity(
    db: &DatabaseConnection,
    provider: Provider,
    owner: &str,
    name: &str,
) -> Result<Option<repositories::Model>, sea_orm::DbErr> {
    repositories::Entity::find()
        .filter(repositories::Column::Provider.eq(provider))
        .filter(repositories::Column::Owner.eq(owner))
        .filter(repositories::Column::Name.eq(name))
        .one(db)
        .await
}

/// Inserts `wanted`, or brings `existing` in line with it. Without `force`
/// an existing row that already matches is not written.
///
/// # Errors
/// Database errors.
pub async fn track(
    db: &DatabaseConnection,
    wanted: &Tracked,
    existing: Option<repositories::Model>,
    force: bool,
    now: chrono::DateTime<Utc>,
) -> Result<Change, sea_orm::DbErr> {
    let now = crate::db::db_time(now);
    let Some(row) = existing else {
        let row = repositories::ActiveModel {
            provider: Set(wanted.provider),
            owner: Set(wanted.owner.clone()),
            name: Set(wanted.name.clone()),
            clone_url: Set(wanted.clone_url.clone()),
            default_branch: Set(wanted.default_branch.clone()),
            team_id: Set(wanted.team_id),
            archived: Set(wanted.archived),
            enabled: Set(true),
            github_id: Set(wanted.github_id),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await?;
        return Ok(Change::Added(row));
    };
    let same = row.owner == wanted.owner
        && row.name == wanted.name
        && row.clone_url == wanted.clone_url
        && row.default_branch == wanted.default_branch
        && row.team_id == wanted.team_id
        && row.archived == wanted.archived
        && row.github_id == wanted.github_id;
    if same && !force {
        return Ok(Change::Unchanged(row));
    }
    let mut active: repositories::ActiveModel = row.into();
    active.owner = Set(wanted.owner.clone());
    active.name = Set(wanted.name.clone());
    active.clone_url = Set(wanted.clone_url.clone());
    active.default_branch = Set(wanted.default_branch.clone());
    active.team_id = Set(wanted.team_id);
    active.archived = Set(wanted.archived);
    active.github_id = Set(wanted.github_id);
    active.updated_at = Set(now);
    Ok(Change::Updated(active.update(db).await?))
}

/// Queues a first scan of a repository that was never scanned and is
/// active; `true` when one was queued.
///
/// # Errors
/// Database errors.
pub async fn queue_first_scan(
    db: &DatabaseConnection,
    row: &repositories::Model,
    by: &str,
    now: chrono::DateTime<Utc>,
) -> Result<bool, QueueError> {
    if row.last_scan_id.is_some() || !row.enabled || row.archived {
        return Ok(false);
    }
    let request = ScanRequest { trigger: ScanTrigger::Schedule, commit_sha: None, requested_by: Some(by.into()) };
    queue::enqueue_scan(db, row.id, &request, now).await?;
    Ok(true)
}

/// The id of the team with `slug`, created if it does not exist yet.
///
/// # Errors
/// Database errors.
pub async fn team_id(db: &DatabaseConnection, slug: &str) -> Result<i32, sea_orm::DbErr> {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
    let insert = Query::insert()
        .into_table("teams")
        .columns(["slug", "name", "created_at"])
        .values_panic([slug.into(), slug.into(), crate::db::db_time(Utc::now()).into()])
        .on_conflict(OnConflict::column("slug").do_nothing().to_owned())
        .to_owned();
    db.execute(&insert).await?;
    let select = Query::select().column("id").from("teams").and_where(Expr::col("slug").eq(slug)).to_owned();
    let row = db.query_one(&select).await?.ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("team {slug}")))?;
    row.try_get::<i32>("", "id")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(url: &str, name: Option<&str>) -> RepositorySource {
        RepositorySource { url: url.into(), name: name.map(String::from), branch: None, team: None }
    }

    #[test]
    fn owner_and_name_come_from_the_url_or_the_name() {
        let id = |s| identify(0, &s).unwrap();
        assert_eq!(id(src("https://github.com/acme/api.git", None)), (Provider::Github, "acme".into(), "api".into()));
        assert_eq!(id(src("git@gitlab.com:team/svc.git", None)), (Provider::Git, "team".into(), "svc".into()));
        assert_eq!(id(src("file:///srv/repos/billing", None)), (Provider::Local, "local".into(), "billing".into()));
        assert_eq!(
            id(src("https://git.example.com/x", Some("payments/core"))),
            (Provider::Git, "payments".into(), "core".into())
        );
    }
}
