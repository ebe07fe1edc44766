//! The parts of GitHub's webhook payloads Shipshape reads. Everything else
//! in a payload is ignored, so GitHub adding fields changes nothing.

use serde::Deserialize;

/// The `repository` object every repository-level event carries.
#[derive(Debug, Clone, Deserialize)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
    /// The repository name alone.
    pub name: String,
    /// `https://github.com/owner/name` (or the Enterprise host).
    #[serde(default)]
    pub html_url: Option<String>,
    /// `https://github.com/owner/name.git`.
    #[serde(default)]
    pub clone_url: Option<String>,
    /// `git@github.com:owner/name.git`.
    #[serde(default)]
    pub ssh_url: Option<String>,
    /// `git://github.com/owner/name.git`.
    #[serde(default)]
    pub git_url: Option<String>,
    /// The branch GitHub calls default.
    #[serde(default)]
    pub default_branch: Option<String>,
}

impl Repository {
    /// The owner part of `full_name`.
    pub fn owner(&self) -> &str {
        self.full_name.split_once('/').map_or("", |(o, _)| o)
    }

    /// Every URL the repository can be cloned or browsed from.
    pub fn urls(&self) -> Vec<String> {
        let mut urls: Vec<String> =
            [&self.clone_url, &self.ssh_url, &self.git_url, &self.html_url].into_iter().flatten().cloned().collect();
        if let Some(html) = &self.html_url {
            urls.push(format!("{html}.git"));
        }
        urls
    }
}

/// `push`: a ref was updated.
#[derive(Debug, Clone, Deserialize)]
pub struct Push {
    /// `refs/heads/<branch>` or `refs/tags/<tag>`.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The commit the ref points at now; all zeros when it was deleted.
    pub after: String,
    /// True when the push deleted the ref.
    #[serde(default)]
    pub deleted: bool,
    pub repository: Repository,
}

/// `ping`: sent once when the webhook is created.
#[derive(Debug, Clone, Deserialize)]
pub struct Ping {
    /// The webhook's id.
    #[serde(default)]
    pub hook_id: Option<i64>,
    /// Absent for organisation webhooks.
    #[serde(default)]
    pub repository: Option<Repository>,
}

/// `repository`: created, deleted, archived, unarchived, edited, renamed,
/// transferred, publicized or privatized.
#[derive(Debug, Clone, Deserialize)]
pub struct RepositoryEvent {
    pub action: String,
    /// The repository as it is now (new name, new owner).
    pub repository: Repository,
    #[serde(default)]
    pub changes: Changes,
}

/// What a `renamed` or `transferred` action changed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Changes {
    #[serde(default)]
    pub repository: Option<RepositoryChanges>,
    #[serde(default)]
    pub owner: Option<OwnerChange>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RepositoryChanges {
    #[serde(default)]
    pub name: Option<From>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct From {
    pub from: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OwnerChange {
    pub from: PreviousOwner,
}

/// The account a transferred repository came from.
#[derive(Debug, Clone, Deserialize)]
pub struct PreviousOwner {
    #[serde(default)]
    pub user: Option<Account>,
    #[serde(default)]
    pub organization: Option<Account>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Account {
    pub login: String,
}

impl RepositoryEvent {
    /// `owner/name` before a rename or transfer; the current one otherwise.
    pub fn previous_full_name(&self) -> String {
        let name = self
            .changes
            .repository
            .as_ref()
            .and_then(|r| r.name.as_ref())
            .map_or(self.repository.name.as_str(), |n| n.from.as_str());
        let owner = self
            .changes
            .owner
            .as_ref()
            .and_then(|o| o.from.organization.as_ref().or(o.from.user.as_ref()))
            .map_or(self.repository.owner(), |a| a.login.as_str());
        format!("{owner}/{name}")
    }
}
