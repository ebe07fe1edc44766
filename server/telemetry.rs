//! Logging and error monitoring. JSON lines in production (one object per
//! event, fields kept), readable output in development; `RUST_LOG`
//! overrides the configured filter. With a Sentry DSN configured, error
//! events and panics are also reported to Sentry, without request bodies or
//! personal data.

use crate::config::{Mode, Settings};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keeps error reporting alive; flushes pending events when dropped.
pub struct Telemetry {
    _sentry: Option<sentry::ClientInitGuard>,
}

/// Installs the global subscriber (once per process) and, when configured,
/// the Sentry client.
pub fn init(settings: &Settings) -> Telemetry {
    let sentry = settings.sentry_dsn.as_ref().map(|dsn| {
        sentry::init((
            dsn.expose(),
            sentry::ClientOptions {
                release: sentry::release_name!(),
                environment: Some(if settings.mode == Mode::Production { "production" } else { "development" }.into()),
                send_default_pii: false,
                ..Default::default()
            },
        ))
    });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log.level));
    let sentry_layer = sentry.as_ref().map(|_| sentry::integrations::tracing::layer());
    let registry = tracing_subscriber::registry().with(filter).with(sentry_layer);
    // try_init: tests and embedded uses may have installed one already.
    let _ = if settings.log_json() {
        let fmt = tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_writer(std::io::stderr);
        registry.with(fmt).try_init()
    } else {
        registry.with(tracing_subscriber::fmt::layer().compact().with_writer(std::io::stderr)).try_init()
    };
    Telemetry { _sentry: sentry }
}
