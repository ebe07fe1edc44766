//! What a delivery means for Shipshape, decided before anything is written:
//! which tracked repository it is about, whether it is acted on or ignored
//! (and why), and the one change it makes. Reads the database, never writes.

use super::payload::{self, Ping, Push, RepositoryEvent};
use crate::db::entities::repositories::{self, Provider};
use crate::db::entities::webhook_deliveries::DeliveryResult;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::de::DeserializeOwned;

/// The decision about one delivery.
#[derive(Debug)]
pub(super) struct Plan {
    /// `owner/name` as the payload named it.
    pub repository: Option<String>,
    /// The tracked repository it matched.
    pub repository_id: Option<i32>,
    pub result: DeliveryResult,
    pub reason: String,
    pub action: Action,
}

/// The change a delivery makes.
#[derive(Debug)]
pub(super) enum Action {
    None,
    /// Queue a scan of the repository; `commit` is the pushed `after`.
    Scan {
        repository_id: i32,
        commit: String,
    },
    /// Write the changed columns of a tracked repository.
    Update(Box<repositories::ActiveModel>),
}

impl Plan {
    fn new(repository: Option<&payload::Repository>, result: DeliveryResult, reason: String) -> Plan {
        Plan {
            repository: repository.map(|r| r.full_name.clone()),
            repository_id: None,
            result,
            reason,
            action: Action::None,
        }
    }

    fn on(mut self, tracked: &repositories::Model, action: Action) -> Plan {
        self.repository_id = Some(tracked.id);
        self.action = action;
        self
    }

    fn untracked(repository: &payload::Repository) -> Plan {
        let reason = format!("repository {} is not tracked by Shipshape", repository.full_name);
        Plan::new(Some(repository), DeliveryResult::Ignored, reason)
    }
}

/// Decides what `body`, a correctly signed delivery of `event`, asks for.
///
/// # Errors
/// Database errors only; an unreadable body is a `Rejected` plan.
pub(super) async fn plan<C: ConnectionTrait>(
    db: &C,
    event: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Plan, DbErr> {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let reason = format!("the body is not JSON ({e}); set the webhook's content type to application/json");
            return Ok(Plan::new(None, DeliveryResult::Rejected, reason));
        }
    };
    match event {
        "ping" => match parse::<Ping>(event, value) {
            Ok(ping) => ping_plan(db, &ping).await,
            Err(rejected) => Ok(rejected),
        },
        "push" => match parse::<Push>(event, value) {
            Ok(push) => push_plan(db, &push).await,
            Err(rejected) => Ok(rejected),
        },
        "repository" => match parse::<RepositoryEvent>(event, value) {
            Ok(change) => repository_plan(db, &change, now).await,
            Err(rejected) => Ok(rejected),
        },
        other => Ok(Plan::new(
            None,
            DeliveryResult::Ignored,
            format!("the {other} event is not used by Shipshape; the webhook needs only push and repository"),
        )),
    }
}

fn parse<T: DeserializeOwned>(event: &str, value: serde_json::Value) -> Result<T, Plan> {
    T::deserialize(value).map_err(|e| {
        Plan::new(None, DeliveryResult::Rejected, format!("the body is not a GitHub {event} payload: {e}"))
    })
}

async fn ping_plan<C: ConnectionTrait>(db: &C, ping: &Ping) -> Result<Plan, DbErr> {
    let hook = ping.hook_id.map_or_else(|| "the webhook".to_string(), |id| format!("webhook {id}"));
    let Some(repository) = &ping.repository else {
        return Ok(Plan::new(None, DeliveryResult::Accepted, format!("pong: {hook} reaches Shipshape")));
    };
    let tracked = find_tracked(db, &[repository.full_name.as_str()], &repository.urls()).await?;
    let plan = |note: &str| {
        let reason = format!("pong: {hook} reaches Shipshape; {} {note}", repository.full_name);
        Plan::new(Some(repository), DeliveryResult::Accepted, reason)
    };
    Ok(match tracked {
        Some(t) => plan("is tracked").on(&t, Action::None),
        None => plan("is not tracked yet"),
    })
}

async fn push_plan<C: ConnectionTrait>(db: &C, push: &Push) -> Result<Plan, DbErr> {
    let repository = &push.repository;
    let Some(tracked) = find_tracked(db, &[repository.full_name.as_str()], &repository.urls()).await? else {
        return Ok(Plan::untracked(repository));
    };
    let ignored =
        |reason: String| Plan::new(Some(repository), DeliveryResult::Ignored, reason).on(&tracked, Action::None);
    if push.deleted || push.after.bytes().all(|b| b == b'0') {
        return Ok(ignored(format!("{} was deleted; there is nothing to scan", push.git_ref)));
    }
    // An empty branch means "the remote's default", which the payload names.
    let branch = match (tracked.default_branch.as_str(), &repository.default_branch) {
        ("", Some(remote)) => remote.as_str(),
        (own, _) => own,
    };
    if push.git_ref != format!("refs/heads/{branch}") {
        return Ok(ignored(format!("push to {}, not to the default branch {branch}", push.git_ref)));
    }
    if tracked.archived || !tracked.enabled {
        let state = if tracked.archived { "archived" } else { "disabled" };
        return Ok(ignored(format!("repository {} is {state} and is not scanned", repository.full_name)));
    }
    let is_sha = matches!(push.after.len(), 40 | 64) && push.after.bytes().all(|b| b.is_ascii_hexdigit());
    if !is_sha {
        let reason = format!("`after` = {:?} is not a commit id", push.after);
        return Ok(Plan::new(Some(repository), DeliveryResult::Rejected, reason));
    }
    let commit = push.after.to_ascii_lowercase();
    let reason = format!("scan of {} on {branch} queued", &commit[..12]);
    Ok(Plan::new(Some(repository), DeliveryResult::Accepted, reason)
        .on(&tracked, Action::Scan { repository_id: tracked.id, commit }))
}

async fn repository_plan<C: ConnectionTrait>(
    db: &C,
    change: &RepositoryEvent,
    now: DateTime<Utc>,
) -> Result<Plan, DbErr> {
    let repository = &change.repository;
    let previous = change.previous_full_name();
    let names = [previous.as_str(), repository.full_name.as_str()];
    let Some(tracked) = find_tracked(db, &names, &repository.urls()).await? else {
        return Ok(Plan::untracked(repository));
    };
    let mut row: repositories::ActiveModel = tracked.clone().into();
    row.updated_at = Set(crate::db::db_time(now));
    let name = &repository.full_name;
    let reason = match change.action.as_str() {
        "archived" => {
            row.archived = Set(true);
            format!("{name} was archived on GitHub: no longer scanned, its history is kept")
        }
        "unarchived" => {
            row.archived = Set(false);
            format!("{name} was unarchived on GitHub: scanned again")
        }
        "deleted" => {
            row.enabled = Set(false);
            format!("{name} was deleted on GitHub: disabled, its history is kept")
        }
        "renamed" | "transferred" => {
            row.owner = Set(repository.owner().to_string());
            row.name = Set(repository.name.clone());
            row.clone_url = Set(moved_url(&tracked.clone_url, &previous, name, repository.html_url.as_deref()));
            if change.action == "renamed" {
                format!("renamed on GitHub from {previous} to {name}")
            } else {
                // The new owner may be an account Shipshape should not scan
                // (or its token cannot read): an admin decides.
                row.enabled = Set(false);
                format!("transferred on GitHub from {previous} to {name}: disabled until an admin re-enables it")
            }
        }
        other => {
            let reason = format!("repository action {other} changes nothing Shipshape tracks");
            return Ok(Plan::new(Some(repository), DeliveryResult::Ignored, reason).on(&tracked, Action::None));
        }
    };
    Ok(Plan::new(Some(repository), DeliveryResult::Accepted, reason).on(&tracked, Action::Update(Box::new(row))))
}

/// The tracked repository known under one of `full_names` (GitHub names
/// are case-insensitive) or cloned from one of `urls`; a GitHub-provider
/// row wins over a mirror of the same name.
async fn find_tracked<C: ConnectionTrait>(
    db: &C,
    full_names: &[&str],
    urls: &[String],
) -> Result<Option<repositories::Model>, DbErr> {
    let lower = |col: repositories::Column| Expr::expr(Func::lower(Expr::col(col)));
    let mut any = Condition::any().add(repositories::Column::CloneUrl.is_in(urls.iter().cloned()));
    for full_name in full_names {
        if let Some((owner, name)) = full_name.split_once('/') {
            any = any.add(
                Condition::all()
                    .add(lower(repositories::Column::Owner).eq(owner.to_lowercase()))
                    .add(lower(repositories::Column::Name).eq(name.to_lowercase())),
            );
        }
    }
    let mut found = repositories::Entity::find().filter(any).all(db).await?;
    found.sort_by_key(|r| (r.provider != Provider::Github, r.id));
    Ok(found.into_iter().next())
}

/// The clone URL after a rename or transfer: a URL on the repository's
/// GitHub host keeps its form (https, ssh, git) with the new `owner/name`;
/// any other URL (a mirror, a local path) is kept as it is.
fn moved_url(url: &str, from: &str, to: &str, html_url: Option<&str>) -> String {
    let host = html_url.and_then(|u| url::Url::parse(u).ok()?.host_str().map(str::to_ascii_lowercase));
    let lower = url.to_ascii_lowercase();
    if !host.is_some_and(|h| lower.contains(&format!("{h}/")) || lower.contains(&format!("{h}:"))) {
        return url.to_string();
    }
    let from = from.to_ascii_lowercase();
    for sep in ['/', ':'] {
        let needle = format!("{sep}{from}");
        if let Some(pos) = lower.rfind(&needle) {
            let rest = &url[pos + needle.len()..];
            if matches!(rest, "" | ".git" | "/") {
                return format!("{}{sep}{to}{rest}", &url[..pos]);
            }
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::moved_url;

    #[test]
    fn a_moved_repository_keeps_its_url_form_and_mirrors_are_left_alone() {
        let html = Some("https://github.com/acme/shop");
        assert_eq!(
            moved_url("https://github.com/Acme/API.git", "acme/api", "acme/shop", html),
            "https://github.com/acme/shop.git"
        );
        assert_eq!(
            moved_url("git@github.com:acme/api.git", "acme/api", "acme/shop", html),
            "git@github.com:acme/shop.git"
        );
        assert_eq!(
            moved_url("https://github.com/acme/api", "acme/api", "acme/shop", html),
            "https://github.com/acme/shop"
        );
        assert_eq!(
            moved_url("file:///srv/mirrors/acme/api", "acme/api", "acme/shop", html),
            "file:///srv/mirrors/acme/api"
        );
        assert_eq!(
            moved_url("https://gitlab.com/acme/api.git", "acme/api", "acme/shop", html),
            "https://gitlab.com/acme/api.git"
        );
    }
}
