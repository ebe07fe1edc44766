//! One outgoing notification to one channel (a signed webhook or a Slack
//! incoming webhook), or one kept back by the channel's rate limit.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The `name` of the `[[notify.channels]]` entry.
    pub channel: String,
    /// `None` for a test sent from the admin page.
    pub repository_id: Option<i32>,
    /// The scan that raised the event.
    pub scan_id: Option<i32>,
    pub event: NotifyEvent,
    /// `channel/scan/event`: planning one scan twice adds nothing.
    pub dedup_key: String,
    /// `X-Shipshape-Delivery`: the same on every attempt, so receivers can
    /// drop a repeat.
    pub delivery_id: String,
    pub status: DeliveryStatus,
    /// HTTP attempts made.
    pub attempts: i32,
    /// The exact body sent (and signed).
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// One line for the admin page.
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    /// The receiver's answer to the latest attempt.
    pub response_status: Option<i32>,
    /// Why the latest attempt failed, or why the row was suppressed.
    #[sea_orm(column_type = "Text", nullable)]
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    /// When a `pending` or `retrying` row is due.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// When a sender took the row (`sending`).
    pub claimed_at: Option<DateTimeUtc>,
    pub sent_at: Option<DateTimeUtc>,
}

/// What happened, as named in `events = [..]` and `X-Shipshape-Event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum NotifyEvent {
    /// A repository's readiness level went up or down.
    #[sea_orm(string_value = "level_changed")]
    LevelChanged,
    /// A scan found critical findings that were not open before.
    #[sea_orm(string_value = "new_critical")]
    NewCritical,
    /// Sent from the admin page to check a channel.
    #[sea_orm(string_value = "test")]
    Test,
}

impl NotifyEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::LevelChanged => "level_changed",
            NotifyEvent::NewCritical => "new_critical",
            NotifyEvent::Test => "test",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeliveryStatus {
    /// Not tried yet.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Taken by a sender that is talking to the receiver now.
    #[sea_orm(string_value = "sending")]
    Sending,
    /// The last attempt failed (timeout, 5xx, 429); tried again at `next_attempt_at`.
    #[sea_orm(string_value = "retrying")]
    Retrying,
    /// The receiver answered 2xx.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Refused (4xx) or out of attempts.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Not sent: the same event went to this channel for this repository
    /// within `min_interval_hours`.
    #[sea_orm(string_value = "suppressed")]
    Suppressed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Suppressed => "suppressed",
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
