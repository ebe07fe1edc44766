//! Outgoing notifications: when a recorded scan changed a repository's
//! readiness level (up or down) or found critical findings that were not
//! open before, each configured channel that wants the event and the
//! repository's team hears about it, once per `min_interval_hours`.
//!
//! Two kinds of channel: signed webhooks (Shipshape's JSON, with
//! `X-Shipshape-Signature-256: sha256=<hex>`, GitHub's scheme, over the
//! exact body) and Slack incoming webhooks (`text` + `blocks`).
//!
//! **Where the sending happens.** The scan job only *plans*: it writes one
//! `notification_deliveries` row per (channel, event), `pending` or
//! `suppressed` by the rate limit, a few milliseconds after recording the
//! scan. The HTTP requests run in a task spawned by the worker, which
//! retries timeouts, 5xx and 429 with doubling waits (`notify.retry_secs`,
//! at most `notify.max_attempts`) under a deadline derived from those
//! settings, so a receiver that hangs or is down never holds up a scan or
//! the queue, and a worker's task can never run unbounded. The row is the
//! durable part: if the process stops before a row is finished (a deploy,
//! a crash), any worker's sweep sends it later. Rows are taken one
//! attempt at a time by a conditional UPDATE, so two senders never send
//! the same row at once; a sender that dies between the receiver's 2xx
//! and marking the row causes one repeat with the same
//! `X-Shipshape-Delivery`, which receivers can drop.
//!
//! We did not add a `notify` job kind to the queue: `jobs.kind` has a CHECK
//! constraint that SQLite can only change by rebuilding the whole `jobs`
//! table, and the queue's back-off (30 s doubling to an hour) suits scans
//! more than notifications that should land within the minute.

pub mod config;
pub mod events;
pub mod message;
pub mod outbox;

use crate::config::Settings;
use crate::db::entities::notification_deliveries::{self as deliveries, NotifyEvent};
use crate::digest::content::Links;
use chrono::{DateTime, Utc};
use config::{Channel, ChannelKind, NotifySettings};
use events::ScanEvents;
use message::{FindingRef, LevelChangeBody, Notification, RepositoryRef, ScanRef};
use outbox::{Outcome, Plan, Planned};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// `X-Shipshape-Event`: `level_changed`, `new_critical` or `test`.
pub const EVENT_HEADER: &str = "X-Shipshape-Event";
/// `X-Shipshape-Delivery`: the notification's id, the same on every retry.
pub const DELIVERY_HEADER: &str = "X-Shipshape-Delivery";
/// `X-Shipshape-Signature-256`: `sha256=` and the hex HMAC-SHA256 of the body.
pub const SIGNATURE_HEADER: &str = "X-Shipshape-Signature-256";
/// How often a worker looks for rows a stopped process left unsent.
const SWEEP_EVERY_SECS: i64 = 60;
/// A due row untouched this long has lost its sender.
const SWEEP_GRACE: chrono::Duration = chrono::Duration::seconds(60);

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notification database error: {0}")]
    Db(#[from] DbErr),
    #[error("no notification channel is named {0:?}")]
    UnknownChannel(String),
}

/// What planning the notifications of one scan did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanPlan {
    /// Rows to send (their ids).
    pub pending: Vec<i32>,
    /// Rows kept back by a rate limit.
    pub suppressed: usize,
}

/// Plans and sends notifications; one per worker, cheap to share.
#[derive(Debug)]
pub struct Notifier {
    settings: NotifySettings,
    client: reqwest::Client,
    links: Links,
    last_sweep: AtomicI64,
}

impl Notifier {
    /// # Errors
    /// The HTTP client could not be built (no TLS roots).
    pub fn new(settings: &Settings) -> Result<Notifier, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("Shipshape-Notify/", env!("CARGO_PKG_VERSION")))
            // A receiver that redirects would get the body and signature
            // somewhere nobody configured: treat it as a refusal.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(settings.notify.timeout)
            .build()?;
        Ok(Notifier {
            settings: settings.notify.clone(),
            client,
            links: Links::new(&settings.server.public_url),
            last_sweep: AtomicI64::new(0),
        })
    }

    pub fn channels(&self) -> &[Channel] {
        &self.settings.channels
    }

    /// Plans the notifications of recorded scan `scan_id` and sends them
    /// from a spawned task; returns once the rows are written.
    ///
    /// # Errors
    /// Database errors while planning (nothing is sent then).
    pub async fn after_scan(self: &Arc<Self>, db: &DatabaseConnection, scan_id: i32) -> Result<ScanPlan, NotifyError> {
        if self.settings.channels.is_empty() {
            return Ok(ScanPlan::default());
        }
        let Some(events) = events::detect(db, scan_id).await? else { return Ok(ScanPlan::default()) };
        let now = Utc::now();
        let mut plan = ScanPlan::default();
        let txn = crate::db::begin_write(db).await?;
        for (event, notification) in self.notifications(&events, now) {
            for channel in self.settings.channels.iter().filter(|c| c.wants(event, events.team.as_deref())) {
                let mut n = notification.clone();
                n.delivery = uuid::Uuid::new_v4().to_string();
                let planned = outbox::plan(
                    &txn,
                    Plan {
                        channel: &channel.name,
                        repository_id: Some(events.repository.id),
                        scan_id: Some(scan_id),
                        event,
                        dedup_key: format!("{}/{scan_id}/{}", channel.name, event.as_str()),
                        payload: body(channel.kind, &n),
                        summary: n.summary.clone(),
                        delivery_id: n.delivery,
                        min_interval_hours: channel.min_interval_hours,
                    },
                    now,
                )
                .await?;
                match planned {
                    Planned::Pending(id) => plan.pending.push(id),
                    Planned::Suppressed(_) => plan.suppressed += 1,
                    Planned::Duplicate => {}
                }
            }
        }
        txn.commit().await?;
        if !plan.pending.is_empty() || plan.suppressed > 0 {
            tracing::info!(
                scan.id = scan_id,
                pending = plan.pending.len(),
                suppressed = plan.suppressed,
                "notifications planned"
            );
        }
        self.spawn_delivery(db.clone(), plan.pending.clone());
        Ok(plan)
    }

    /// Sends rows a stopped process left behind, at most once a minute per
    /// worker; returns at once (the sending runs in a spawned task).
    pub fn sweep_now_and_then(self: &Arc<Self>, db: &DatabaseConnection) {
        let now = Utc::now().timestamp();
        let last = self.last_sweep.load(Ordering::Relaxed);
        if self.settings.channels.is_empty()
            || now - last < SWEEP_EVERY_SECS
            || self.last_sweep.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_err()
        {
            return;
        }
        let (me, db) = (Arc::clone(self), db.clone());
        tokio::spawn(async move {
            if let Err(error) = me.sweep(&db, Utc::now()).await {
                tracing::warn!(%error, "could not look for unsent notifications");
            }
        });
    }

    /// Sends every abandoned row (see `outbox::abandoned`) and waits for them.
    ///
    /// # Errors
    /// Database errors while looking.
    pub async fn sweep(self: &Arc<Self>, db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, DbErr> {
        let ids = outbox::abandoned(db, now, SWEEP_GRACE, self.stale_before(now)).await?;
        let n = ids.len();
        if n > 0 {
            tracing::info!(rows = n, "sending notifications a stopped sender left behind");
            let _ = self.spawn_delivery(db.clone(), ids).await;
        }
        Ok(n)
    }

    /// Sends a test message to `channel` now (one attempt) and records it;
    /// the row as it ended.
    ///
    /// # Errors
    /// An unknown channel; database errors.
    pub async fn send_test(&self, db: &DatabaseConnection, channel: &str) -> Result<deliveries::Model, NotifyError> {
        let channel = self.settings.channel(channel).ok_or_else(|| NotifyError::UnknownChannel(channel.to_string()))?;
        let now = Utc::now();
        let n = Notification {
            event: NotifyEvent::Test.as_str(),
            delivery: uuid::Uuid::new_v4().to_string(),
            created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            summary: format!("Test notification from Shipshape to channel {}", channel.name),
            repository: None,
            scan: None,
            level_change: None,
            findings: Vec::new(),
        };
        let planned = outbox::plan(
            db,
            Plan {
                channel: &channel.name,
                repository_id: None,
                scan_id: None,
                event: NotifyEvent::Test,
                dedup_key: format!("{}/test/{}", channel.name, n.delivery),
                payload: body(channel.kind, &n),
                summary: n.summary.clone(),
                delivery_id: n.delivery.clone(),
                min_interval_hours: 0,
            },
            now,
        )
        .await?;
        // A test row has a key of its own and no rate limit: it is always pending.
        let (Planned::Pending(id) | Planned::Suppressed(id)) = planned else {
            return Err(NotifyError::Db(DbErr::Custom("the test notification was planned twice".into())));
        };
        self.attempt(db, id, 1).await?;
        deliveries::Entity::find_by_id(id).one(db).await?.ok_or(NotifyError::Db(DbErr::RecordNotFound(id.to_string())))
    }

    /// The notifications one scan raises, without a delivery id yet.
    fn notifications(&self, e: &ScanEvents, now: DateTime<Utc>) -> Vec<(NotifyEvent, Notification)> {
        let r = &e.repository;
        let full_name = format!("{}/{}", r.owner, r.name);
        let base = Notification {
            event: "",
            delivery: String::new(),
            created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            summary: String::new(),
            repository: Some(RepositoryRef {
                id: r.id,
                full_name: full_name.clone(),
                team: e.team.clone(),
                url: self.links.repository(&r.owner, &r.name),
            }),
            scan: Some(ScanRef {
                id: e.scan.id,
                commit: e.scan.commit_sha.clone(),
                score: e.scan.overall_score,
                level: e.scan.level.clone(),
                url: self.links.scan(e.scan.id),
            }),
            level_change: None,
            findings: Vec::new(),
        };
        let mut out = Vec::new();
        if let Some(l) = &e.level_change {
            let verb = if l.direction() == "up" { "rose" } else { "dropped" };
            out.push((
                NotifyEvent::LevelChanged,
                Notification {
                    event: NotifyEvent::LevelChanged.as_str(),
                    summary: format!("{full_name} {verb} from {} to {}", l.from, l.to),
                    level_change: Some(LevelChangeBody {
                        from: l.from.clone(),
                        to: l.to.clone(),
                        direction: l.direction(),
                        previous_score: l.previous_score,
                    }),
                    ..base.clone()
                },
            ));
        }
        if !e.new_critical.is_empty() {
            let n = e.new_critical.len();
            out.push((
                NotifyEvent::NewCritical,
                Notification {
                    event: NotifyEvent::NewCritical.as_str(),
                    summary: format!("{full_name}: {n} new critical finding{}", if n == 1 { "" } else { "s" }),
                    findings: e
                        .new_critical
                        .iter()
                        .map(|f| FindingRef {
                            id: f.id,
                            check_id: f.check_id.clone(),
                            severity: f.severity.clone(),
                            message: f.message.clone(),
                            path: f.path.clone(),
                            line: f.line,
                            url: self.links.finding(f.id),
                        })
                        .collect(),
                    ..base
                },
            ));
        }
        out
    }

    /// The longest a row's retries can take: every wait and every attempt.
    fn deadline(&self) -> Duration {
        let attempts = self.settings.max_attempts;
        let waits: Duration = (1..attempts).map(|a| self.backoff(a as i32)).sum();
        waits + (self.settings.timeout + Duration::from_secs(5)) * attempts
    }

    fn backoff(&self, attempt: i32) -> Duration {
        let doublings = u32::try_from(attempt.saturating_sub(1)).unwrap_or(0).min(16);
        self.settings.retry_base.saturating_mul(1u32 << doublings).min(Duration::from_secs(3600))
    }

    /// A `sending` row claimed before this lost its sender.
    fn stale_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::from_std(self.settings.timeout).unwrap_or_default() - SWEEP_GRACE
    }

    /// Sends `ids` concurrently (one slow receiver does not delay the
    /// others), each with its retries, the whole under `deadline()`.
    fn spawn_delivery(self: &Arc<Self>, db: DatabaseConnection, ids: Vec<i32>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            if ids.is_empty() {
                return;
            }
            let mut set = tokio::task::JoinSet::new();
            for id in ids {
                let (me, db) = (Arc::clone(&me), db.clone());
                set.spawn(async move {
                    if let Err(error) = me.attempt(&db, id, me.settings.max_attempts).await {
                        tracing::warn!(delivery.id = id, %error, "notification left for the sweep");
                    }
                });
            }
            if tokio::time::timeout(me.deadline(), async { while set.join_next().await.is_some() {} }).await.is_err() {
                tracing::warn!("notifications still unsent at their deadline; a sweep will finish them");
            }
        })
    }

    /// Sends row `id`, retrying in place up to `rounds` attempts while the
    /// row allows; stops when it is sent, refused, out of attempts, or
    /// taken by another sender.
    async fn attempt(&self, db: &DatabaseConnection, id: i32, rounds: u32) -> Result<(), DbErr> {
        for round in 1..=rounds {
            let now = Utc::now();
            let Some(row) = outbox::claim(db, id, now, self.stale_before(now)).await? else { return Ok(()) };
            let outcome = match self.settings.channel(&row.channel) {
                Some(channel) => self.post(channel, &row).await,
                None => Outcome::Failed {
                    status: None,
                    error: format!("channel {:?} is not configured on this replica any more", row.channel),
                },
            };
            let outcome = match outcome {
                Outcome::Retry { status, error, .. } if row.attempts >= self.settings.max_attempts as i32 => {
                    Outcome::Failed { status, error: format!("gave up after {} attempts: {error}", row.attempts) }
                }
                Outcome::Retry { status, error, .. } => {
                    let wait = self.backoff(row.attempts);
                    let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default();
                    Outcome::Retry { status, error, at }
                }
                other => other,
            };
            outbox::finish(db, id, &outcome, Utc::now()).await?;
            match &outcome {
                Outcome::Sent { status } => {
                    tracing::info!(delivery.id = id, channel = %row.channel, event = row.event.as_str(), status, "notification sent");
                    return Ok(());
                }
                Outcome::Failed { error, .. } => {
                    tracing::warn!(delivery.id = id, channel = %row.channel, %error, "notification failed");
                    return Ok(());
                }
                Outcome::Retry { error, at, .. } => {
                    tracing::info!(delivery.id = id, channel = %row.channel, %error, attempt = row.attempts, "notification will be retried");
                    if round == rounds {
                        return Ok(());
                    }
                    let wait = (*at - Utc::now()).to_std().unwrap_or_default();
                    tokio::time::sleep(wait).await;
                }
            }
        }
        Ok(())
    }

    /// One HTTP attempt; never says the URL (a secret) in an error.
    async fn post(&self, channel: &Channel, row: &deliveries::Model) -> Outcome {
        let mut request = self
            .client
            .post(channel.url.expose())
            .timeout(self.settings.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if channel.kind == ChannelKind::Webhook {
            let secret = channel.secret.as_ref().map(|s| s.expose().as_bytes()).unwrap_or_default();
            request = request
                .header(EVENT_HEADER, row.event.as_str())
                .header(DELIVERY_HEADER, &row.delivery_id)
                .header(SIGNATURE_HEADER, crate::webhook::signature::sign(secret, row.payload.as_bytes()));
        }
        let never = chrono::DateTime::<Utc>::MIN_UTC;
        match request.body(row.payload.clone()).send().await {
            Ok(response) => {
                let status = response.status();
                let code = status.as_u16();
                if status.is_success() {
                    return Outcome::Sent { status: code };
                }
                let text = response.text().await.unwrap_or_default();
                let said: String = text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
                let error = if said.is_empty() { format!("HTTP {code}") } else { format!("HTTP {code}: {said}") };
                if status.is_server_error() || code == 429 || code == 408 {
                    Outcome::Retry { status: Some(code), error, at: never }
                } else {
                    Outcome::Failed {
                        status: Some(code),
                        error: format!("{error} (not retried: the receiver refused it)"),
                    }
                }
            }
            Err(e) if e.is_timeout() => Outcome::Retry {
                status: None,
                error: format!("timed out after {} s", self.settings.timeout.as_secs()),
                at: never,
            },
            Err(e) => Outcome::Retry { status: None, error: describe(&e.without_url()), at: never },
        }
    }
}

/// The body for a channel's kind.
fn body(kind: ChannelKind, n: &Notification) -> String {
    match kind {
        ChannelKind::Webhook => message::webhook_body(n),
        ChannelKind::Slack => message::slack_body(n),
    }
}

/// An error and its causes on one line.
fn describe(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
