//! Registers Shipshape's push + repository webhook on every tracked GitHub
//! repository that lacks it. Idempotent: each repository's hooks are listed
//! first and one whose config URL is ours counts as present.

use super::client::{Github, GithubError};
use crate::db::entities::repositories::{self, Provider};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

/// What a registration pass did and cost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Registered {
    pub repositories: usize,
    pub created: usize,
    pub already_present: usize,
    /// Repositories that could not be handled, with the reason.
    pub failed: Vec<String>,
    pub api_calls: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("server.public_url must be reachable by GitHub to receive webhooks; it is {0}")]
    LocalUrl(String),
    #[error("github.webhook_secret is not set: GitHub must sign deliveries; set SHIPSHAPE__GITHUB__WEBHOOK_SECRET")]
    NoSecret,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

#[derive(Deserialize)]
struct Hook {
    #[serde(default)]
    config: HookConfig,
}

#[derive(Deserialize, Default)]
struct HookConfig {
    #[serde(default)]
    url: Option<String>,
}

/// The URL GitHub delivers to.
pub fn hook_url(public_url: &url::Url) -> String {
    format!("{}/webhooks/github", public_url.as_str().trim_end_matches('/'))
}

/// Creates the webhook where it is missing on every enabled, unarchived GitHub repository.
///
/// # Errors
/// No webhook secret configured, or the database failed. GitHub failures
/// per repository are listed in [`Registered::failed`].
pub async fn register_all(
    db: &DatabaseConnection,
    github: &Github,
    public_url: &url::Url,
) -> Result<Registered, HookError> {
    let secret = github.settings().webhook_secret.clone().ok_or(HookError::NoSecret)?;
    let url = hook_url(public_url);
    let repos = repositories::Entity::find()
        .filter(repositories::Column::Provider.eq(Provider::Github))
        .filter(repositories::Column::Enabled.eq(true))
        // Archived repositories are read-only on GitHub.
        .filter(repositories::Column::Archived.eq(false))
        .all(db)
        .await?;
    let mut out = Registered { repositories: repos.len(), ..Registered::default() };
    for repo in repos {
        let full = format!("{}/{}", repo.owner, repo.name);
        let result = async {
            let session = github.session(&repo.owner).await?;
            let result = ensure(&session, &full, &url, secret.expose()).await;
            out.api_calls += session.calls();
            result
        }
        .await;
        match result {
            Ok(true) => out.created += 1,
            Ok(false) => out.already_present += 1,
            Err(e) => out.failed.push(format!("{full}: {e}")),
        }
    }
    tracing::info!(
        created = out.created,
        present = out.already_present,
        failed = out.failed.len(),
        api_calls = out.api_calls,
        "webhooks registered"
    );
    Ok(out)
}

/// `true` when the hook was created, `false` when it was already there.
async fn ensure(session: &super::client::Session, full: &str, url: &str, secret: &str) -> Result<bool, GithubError> {
    let mut path = Some(format!("/repos/{full}/hooks?per_page=100"));
    while let Some(p) = path {
        let answer = session.get(&p, None).await?;
        let hooks: Vec<Hook> = answer.json(&p)?;
        if hooks.iter().any(|h| h.config.url.as_deref() == Some(url)) {
            return Ok(false);
        }
        path = answer.next;
    }
    let body = serde_json::json!({
        "name": "web",
        "active": true,
        "events": ["push", "repository"],
        "config": { "url": url, "content_type": "json", "secret": secret, "insecure_ssl": "0" },
    });
    session.post(&format!("/repos/{full}/hooks"), &body).await?;
    Ok(true)
}
