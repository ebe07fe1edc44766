//! Discovery: the repositories of each configured GitHub organisation or
//! user, listed page by page (`Link: rel="next"`), tracked through the same
//! [`sources::track`] as configured repositories, and queued for a first
//! scan.
//!
//! Each page's ETag and contents are kept in `github_pages`. A repeat
//! discovery sends `If-None-Match`; GitHub's 304 does not count against the
//! rate limit, and the stored contents stand in for the page, so the full
//! list is known either way (needed to notice repositories that are gone).
//! Repositories are matched by GitHub's numeric id, so a rename or a
//! transfer updates the row instead of adding one.

use super::client::{Github, GithubError, Session};
use crate::config::GithubSource;
use crate::db::entities::repositories::{self, Provider};
use crate::sources::{self, Change, Synced, Tracked};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What one discovery of one source did and cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovered {
    pub source: String,
    /// Requests sent to GitHub, 304s and token exchanges included.
    pub api_calls: u32,
    /// Pages GitHub answered 304 Not Modified.
    pub not_modified: u32,
    /// Repositories listed (before include/exclude and the fork filter).
    pub repos_seen: usize,
    pub added: usize,
    pub updated: usize,
    /// Tracked repositories that are archived on GitHub.
    pub archived: usize,
    /// Previously discovered repositories no longer listed: disabled.
    pub gone: usize,
    pub scans_queued: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    #[error("discovery of {name}: {error}")]
    Github { name: String, error: GithubError },
    #[error("discovery of {name}: {error}")]
    Sources { name: String, error: sources::SourceError },
}

/// A repository as listed by GitHub, reduced to what Shipshape keeps (also
/// the shape stored per page for 304s).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Listed {
    id: i64,
    name: String,
    owner: Owner,
    clone_url: String,
    #[serde(default)]
    default_branch: Option<String>,
    #[serde(default)]
    archived: bool,
    #[serde(default)]
    fork: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Owner {
    login: String,
}

/// A page as stored for conditional requests.
struct StoredPage {
    etag: String,
    next_path: Option<String>,
    repos: Vec<Listed>,
}

/// Discovers every configured source, recording a `discovery_runs` row for
/// each. A failing source (unknown org, rate limit too long) is reported
/// and leaves its repositories as they were; the others still run.
pub async fn discover_all(db: &DatabaseConnection, github: &Github) -> Vec<Result<Discovered, DiscoveryError>> {
    let mut results = Vec::new();
    for source in &github.settings().sources {
        let started = Utc::now();
        let result = discover(db, github, source).await;
        match &result {
            Ok(d) => tracing::info!(
                source = %d.source, api_calls = d.api_calls, not_modified = d.not_modified, seen = d.repos_seen,
                added = d.added, updated = d.updated, archived = d.archived, gone = d.gone, "discovery ran"
            ),
            Err(e) => tracing::error!(error = %e, "discovery failed"),
        }
        if let Err(e) = record_run(db, &source.key(), started, &result).await {
            tracing::error!(error = %e, "could not record the discovery run");
        }
        results.push(result);
    }
    results
}

/// Discovers one source: lists its repositories and tracks them.
///
/// # Errors
/// GitHub refused or failed (nothing is changed then), or a database error.
pub async fn discover(
    db: &DatabaseConnection,
    github: &Github,
    source: &GithubSource,
) -> Result<Discovered, DiscoveryError> {
    let key = source.key();
    let gh_err = |error| DiscoveryError::Github { name: key.clone(), error };
    let db_err = |e: sea_orm::DbErr| DiscoveryError::Sources { name: key.clone(), error: e.into() };
    let session = github.session(source.login()).await.map_err(gh_err)?;
    let mut out = Discovered { source: key.clone(), ..Discovered::default() };
    let listed = list(db, &session, source, &mut out).await;
    out.api_calls = session.calls();
    let listed = listed.map_err(|e| match e {
        ListError::Github(e) => gh_err(e),
        ListError::Db(e) => db_err(e),
    })?;
    out.repos_seen = listed.len();
    track_all(db, source, &listed, &mut out).await.map_err(|error| DiscoveryError::Sources { name: key, error })?;
    Ok(out)
}

enum ListError {
    Github(GithubError),
    Db(sea_orm::DbErr),
}

/// Every repository of the source, page by page, conditional on the stored ETags.
async fn list(
    db: &DatabaseConnection,
    session: &Session,
    source: &GithubSource,
    out: &mut Discovered,
) -> Result<Vec<Listed>, ListError> {
    let key = source.key();
    let mut stored = stored_pages(db, &key).await.map_err(ListError::Db)?;
    let first = match (&source.org, &source.user) {
        (Some(org), _) => format!("/orgs/{org}/repos?type=all&per_page=100"),
        (None, user) => format!("/users/{}/repos?type=owner&per_page=100", user.as_deref().unwrap_or_default()),
    };
    let mut all = Vec::new();
    let mut path = Some(first);
    let mut page = 0;
    while let Some(p) = path.take() {
        page += 1;
        let previous = stored.remove(&page);
        let answer = session.get(&p, previous.as_ref().map(|s| s.etag.as_str())).await.map_err(ListError::Github)?;
        match previous {
            Some(prev) if answer.not_modified() => {
                out.not_modified += 1;
                path = prev.next_path;
                all.extend(prev.repos);
            }
            _ => {
                let repos: Vec<Listed> = answer.json(&p).map_err(ListError::Github)?;
                if let Some(etag) = &answer.etag {
                    save_page(db, &key, page, etag, answer.next.as_deref(), &repos).await.map_err(ListError::Db)?;
                }
                path = answer.next;
                all.extend(repos);
            }
        }
    }
    // Pages past the last one (the listing shrank) must not answer for it later.
    let stale = Query::delete()
        .from_table("github_pages")
        .and_where(Expr::col("source").eq(key.as_str()))
        .and_where(Expr::col("page").gt(page))
        .to_owned();
    db.execute(&stale).await.map_err(ListError::Db)?;
    Ok(all)
}

/// Tracks what the source lists after its filters, and disables the
/// repositories it discovered before that it no longer lists.
async fn track_all(
    db: &DatabaseConnection,
    source: &GithubSource,
    listed: &[Listed],
    out: &mut Discovered,
) -> Result<(), sources::SourceError> {
    let now = Utc::now();
    let filter = Filter::new(source);
    let team_id = match &source.team {
        Some(slug) => Some(sources::team_id(db, slug).await?),
        None => None,
    };
    let mut synced = Synced::default();
    let mut kept = HashSet::new();
    for repo in listed.iter().filter(|r| filter.keeps(r)) {
        kept.insert(repo.id);
        let wanted = Tracked {
            provider: Provider::Github,
            owner: repo.owner.login.clone(),
            name: repo.name.clone(),
            clone_url: repo.clone_url.clone(),
            default_branch: repo.default_branch.clone().unwrap_or_default(),
            team_id,
            archived: repo.archived,
            github_id: Some(repo.id),
        };
        let existing =
            match repositories::Entity::find().filter(repositories::Column::GithubId.eq(repo.id)).one(db).await? {
                Some(row) => Some(row),
                None => sources::find_by_identity(db, Provider::Github, &wanted.owner, &wanted.name).await?,
            };
        let change = sources::track(db, &wanted, existing, false, now).await?;
        synced.count(&change);
        if repo.archived {
            out.archived += 1;
        }
        if let Change::Added(row) | Change::Updated(row) | Change::Unchanged(row) = &change
            && sources::queue_first_scan(db, row, "discovery", now).await?
        {
            synced.scans_queued += 1;
        }
    }
    // Gone: deleted, transferred away, made inaccessible, or now filtered out.
    let previously = repositories::Entity::find()
        .filter(repositories::Column::Provider.eq(Provider::Github))
        .filter(repositories::Column::Owner.eq(source.login()))
        .filter(repositories::Column::GithubId.is_not_null())
        .filter(repositories::Column::Enabled.eq(true))
        .all(db)
        .await?;
    for row in previously.into_iter().filter(|r| r.github_id.is_some_and(|id| !kept.contains(&id))) {
        tracing::info!(repo = %format!("{}/{}", row.owner, row.name), "no longer listed by GitHub: disabled");
        let mut active: repositories::ActiveModel = row.into();
        active.enabled = Set(false);
        active.updated_at = Set(crate::db::db_time(now));
        sea_orm::ActiveModelTrait::update(active, db).await?;
        out.gone += 1;
    }
    out.added = synced.added;
    out.updated = synced.updated;
    out.scans_queued = synced.scans_queued;
    Ok(())
}

/// include/exclude globs and the fork and archived switches of a source.
struct Filter {
    include: Option<globset::GlobSet>,
    exclude: Option<globset::GlobSet>,
    forks: bool,
    archived: bool,
}

impl Filter {
    fn new(source: &GithubSource) -> Filter {
        // Patterns were validated when the configuration was loaded.
        let set = |patterns: &[String]| {
            (!patterns.is_empty()).then(|| {
                let mut b = globset::GlobSetBuilder::new();
                for p in patterns {
                    if let Ok(g) = globset::Glob::new(p) {
                        b.add(g);
                    }
                }
                b.build().unwrap_or_else(|_| globset::GlobSet::empty())
            })
        };
        Filter {
            include: set(&source.include),
            exclude: set(&source.exclude),
            forks: source.forks,
            archived: source.archived,
        }
    }

    fn keeps(&self, repo: &Listed) -> bool {
        (self.forks || !repo.fork)
            && (self.archived || !repo.archived)
            && self.include.as_ref().is_none_or(|s| s.is_match(&repo.name))
            && !self.exclude.as_ref().is_some_and(|s| s.is_match(&repo.name))
    }
}

async fn stored_pages(db: &DatabaseConnection, source: &str) -> Result<HashMap<i32, StoredPage>, sea_orm::DbErr> {
    let select = Query::select()
        .columns(["page", "etag", "next_path", "repos"])
        .from("github_pages")
        .and_where(Expr::col("source").eq(source))
        .to_owned();
    let mut pages = HashMap::new();
    for row in db.query_all(&select).await? {
        let repos: serde_json::Value = row.try_get("", "repos")?;
        // A row that no longer parses is simply fetched again.
        let Ok(repos) = serde_json::from_value(repos) else { continue };
        let page = StoredPage { etag: row.try_get("", "etag")?, next_path: row.try_get("", "next_path")?, repos };
        pages.insert(row.try_get::<i32>("", "page")?, page);
    }
    Ok(pages)
}

async fn save_page(
    db: &DatabaseConnection,
    source: &str,
    page: i32,
    etag: &str,
    next_path: Option<&str>,
    repos: &[Listed],
) -> Result<(), sea_orm::DbErr> {
    let repos = serde_json::to_value(repos).unwrap_or_default();
    let now = crate::db::db_time(Utc::now());
    let insert = Query::insert()
        .into_table("github_pages")
        .columns(["source", "page", "etag", "next_path", "repos", "fetched_at"])
        .values_panic([
            source.into(),
            page.into(),
            etag.into(),
            next_path.map(str::to_string).into(),
            repos.into(),
            now.into(),
        ])
        .on_conflict(
            OnConflict::columns(["source", "page"])
                .update_columns(["etag", "next_path", "repos", "fetched_at"])
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await.map(|_| ())
}

async fn record_run(
    db: &DatabaseConnection,
    source: &str,
    started: DateTime<Utc>,
    result: &Result<Discovered, DiscoveryError>,
) -> Result<(), sea_orm::DbErr> {
    let d = result.as_ref().cloned().unwrap_or_default();
    let (status, error) = match result {
        Ok(_) => ("succeeded", None),
        Err(e) => ("failed", Some(e.to_string())),
    };
    let n = |v: usize| i32::try_from(v).unwrap_or(i32::MAX);
    let insert = Query::insert()
        .into_table("discovery_runs")
        .columns([
            "source",
            "status",
            "started_at",
            "finished_at",
            "api_calls",
            "not_modified",
            "repos_seen",
            "added",
            "updated",
            "archived",
            "gone",
            "error",
        ])
        .values_panic([
            source.into(),
            status.into(),
            crate::db::db_time(started).into(),
            crate::db::db_time(Utc::now()).into(),
            (d.api_calls as i32).into(),
            (d.not_modified as i32).into(),
            n(d.repos_seen).into(),
            n(d.added).into(),
            n(d.updated).into(),
            n(d.archived).into(),
            n(d.gone).into(),
            error.into(),
        ])
        .to_owned();
    db.execute(&insert).await.map(|_| ())
}
