//! Where tracked repositories come from. Today: the `[[repositories]]`
//! entries of the configuration, synchronised into the `repositories` table
//! at start; repositories that were never scanned get a first scan queued.
//! GitHub org/user discovery will feed the same table.

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
        let team = match &source.team {
            Some(slug) => Some(team_id(db, slug).await?),
            None => None,
        };
        let existing = repositories::Entity::find()
            .filter(repositories::Column::Provider.eq(provider))
            .filter(repositories::Column::Owner.eq(&owner))
            .filter(repositories::Column::Name.eq(&name))
            .one(db)
            .await?;
        // Empty: the remote's default branch, found at checkout.
        let branch = source.branch.clone().unwrap_or_default();
        let row = match existing {
            Some(row) => {
                let mut active: repositories::ActiveModel = row.clone().into();
                active.clone_url = Set(source.url.clone());
                active.default_branch = Set(branch);
                active.team_id = Set(team);
                active.updated_at = Set(crate::db::db_time(now));
                out.updated += 1;
                active.update(db).await?
            }
            None => {
                out.added += 1;
                repositories::ActiveModel {
                    provider: Set(provider),
                    owner: Set(owner),
                    name: Set(name),
                    clone_url: Set(source.url.clone()),
                    default_branch: Set(branch),
                    team_id: Set(team),
                    archived: Set(false),
                    enabled: Set(true),
                    created_at: Set(crate::db::db_time(now)),
                    updated_at: Set(crate::db::db_time(now)),
                    ..Default::default()
                }
                .insert(db)
                .await?
            }
        };
        if row.last_scan_id.is_none() && row.enabled && !row.archived {
            let request =
                ScanRequest { trigger: ScanTrigger::Schedule, commit_sha: None, requested_by: Some("config".into()) };
            queue::enqueue_scan(db, row.id, &request, now).await?;
            out.scans_queued += 1;
        }
    }
    Ok(out)
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
