//! The weekly digest (DESIGN.md, "Weekly digest"): for the org and for each
//! team with recipients, what changed in the last complete ISO week, mailed
//! once per week across replicas.
//!
//! `content` computes a digest from the database, `chart` and `render` turn
//! it into a PNG, HTML and text, `mail` into a MIME message sent over SMTP,
//! `recipients` says who gets it and `delivery` makes each mail go out once.
//! The scheduler's weekly slot claims the week and queues one job per run;
//! the worker's job sends it and is retried with back-off while the SMTP
//! server refuses.

pub mod chart;
pub mod content;
pub mod delivery;
pub mod mail;
pub mod period;
pub mod recipients;
pub mod render;

use crate::config::Settings;
use base64::Engine;
use chrono::{DateTime, Utc};
use content::{Digest, Links, Scope};
use mail::{Mail, Mailer};
use period::Week;
use render::View;
use sea_orm::{DatabaseConnection, DbErr};

/// Everything that can stop a digest from being built or sent.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("digest database error: {0}")]
    Db(#[from] DbErr),
    #[error(transparent)]
    Queue(#[from] crate::jobs::queue::QueueError),
    #[error(transparent)]
    Week(#[from] period::BadWeek),
    #[error("digest run {0} does not exist")]
    UnknownRun(i32),
    #[error("`{0}` is not a digest scope; use `org` or `team:<slug>`")]
    UnknownScope(String),
    #[error(transparent)]
    Chart(#[from] chart::ChartError),
    #[error("digest template failed: {0}")]
    Template(#[from] askama::Error),
    #[error(transparent)]
    Mail(#[from] mail::MailError),
    #[error("{remaining} digest mail(s) of run {run} not sent yet: {error}")]
    Unsent { run: i32, remaining: usize, error: String },
}

/// What building and sending digests needs: the SMTP pool, the dashboard's
/// address for links, and the stale threshold.
#[derive(Clone, Debug)]
pub struct Digests {
    pub mailer: Mailer,
    pub links: Links,
    pub stale_days: u32,
}

/// A digest computed and drawn once, to address to many recipients.
pub struct Prepared {
    pub digest: Digest,
    pub chart_png: Vec<u8>,
}

impl Prepared {
    /// The mail for one recipient (their own unsubscribe link).
    ///
    /// # Errors
    /// A template failing to render.
    pub fn mail(&self, unsubscribe: Option<String>) -> Result<Mail, DigestError> {
        let view = View::new(&self.digest, format!("cid:{}", mail::CHART_CID), unsubscribe.clone());
        Ok(Mail {
            subject: view.subject(),
            text: view.text()?,
            html: view.html()?,
            chart_png: self.chart_png.clone(),
            unsubscribe,
        })
    }

    /// The HTML as a page: the chart inlined as a `data:` URL.
    ///
    /// # Errors
    /// A template failing to render.
    pub fn preview_html(&self) -> Result<String, DigestError> {
        let data = base64::engine::general_purpose::STANDARD.encode(&self.chart_png);
        Ok(View::new(&self.digest, format!("data:image/png;base64,{data}"), None).html()?)
    }
}

impl Digests {
    /// # Errors
    /// SMTP settings lettre cannot use (TLS parameters for the host).
    pub fn new(settings: &Settings) -> Result<Digests, DigestError> {
        Ok(Digests {
            mailer: Mailer::new(&settings.smtp)?,
            links: Links::new(&settings.server.public_url),
            stale_days: settings.digest.stale_days,
        })
    }

    /// Computes and draws the digest of `scope` for `week`.
    ///
    /// # Errors
    /// Database or chart errors.
    pub async fn prepare(&self, db: &DatabaseConnection, scope: &Scope, week: Week) -> Result<Prepared, DigestError> {
        let digest = content::build(db, scope, week, &self.links, self.stale_days).await?;
        let chart_png = chart::trend_png(&digest.trend)?;
        Ok(Prepared { digest, chart_png })
    }

    /// Sends `scope`'s digest to one address, outside any run and without an
    /// unsubscribe link: the admin page's "send test".
    ///
    /// # Errors
    /// Building the digest or SMTP failing.
    pub async fn send_test(
        &self,
        db: &DatabaseConnection,
        scope: &Scope,
        week: Week,
        to: &str,
    ) -> Result<(), DigestError> {
        let mut mail = self.prepare(db, scope, week).await?.mail(None)?;
        mail.subject = format!("[test] {}", mail.subject);
        Ok(self.mailer.send(to, &mail).await?)
    }

    /// Sends `week`'s digests now, in this process: claims what nobody has
    /// claimed, then delivers what is still pending in every run of the
    /// week (including runs a scheduler claimed and is retrying). Safe to
    /// run concurrently with the scheduler or another `send_week`.
    ///
    /// # Errors
    /// Database or rendering errors; `Unsent` when SMTP refused some mails.
    pub async fn send_week(
        &self,
        db: &DatabaseConnection,
        settings: &Settings,
        week: Week,
        by: &str,
    ) -> Result<delivery::Delivered, DigestError> {
        delivery::claim_week(db, &settings.digest, week, by, Utc::now(), false).await?;
        let mut total = delivery::Delivered::default();
        for run in delivery::unfinished(db, week).await? {
            let d = delivery::deliver(db, self, run.id, by).await?;
            total.sent += d.sent;
            total.skipped += d.skipped;
            total.remaining += d.remaining;
            total.last_error = d.last_error.or(total.last_error);
        }
        Ok(total)
    }

    /// The worker's side of a digest job: deliver the run, and fail (to be
    /// retried with back-off) while mails remain unsent.
    ///
    /// # Errors
    /// As `delivery::deliver`, and `Unsent`.
    pub async fn run_job(
        &self,
        db: &DatabaseConnection,
        payload: Option<&serde_json::Value>,
        by: &str,
    ) -> Result<delivery::Delivered, DigestError> {
        let run = payload.and_then(|p| p.get("run_id")).and_then(serde_json::Value::as_i64).unwrap_or(0) as i32;
        let done = delivery::deliver(db, self, run, by).await?;
        if done.remaining > 0 {
            let error = done.last_error.unwrap_or_else(|| "another sender holds them".into());
            return Err(DigestError::Unsent { run, remaining: done.remaining, error });
        }
        Ok(done)
    }
}

/// The scheduler's weekly task: claim the week that ended before `slot` for
/// every scope with recipients and queue a job per run won. Returns the runs claimed.
///
/// # Errors
/// Database errors.
pub async fn schedule(
    db: &DatabaseConnection,
    settings: &Settings,
    by: &str,
    slot: DateTime<Utc>,
) -> Result<Vec<i32>, DigestError> {
    delivery::claim_week(db, &settings.digest, Week::last_complete(slot), by, slot, true).await
}
