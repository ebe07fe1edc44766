//! Logging setup: JSON lines in production (one object per event, fields
//! kept), readable output in development. `RUST_LOG` overrides the
//! configured filter.

use crate::config::Settings;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber. Safe to call once per process.
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // try_init: tests and embedded uses may have installed one already.
    let _ = if settings.log_json() {
        builder.json().flatten_event(true).with_current_span(true).with_span_list(false).try_init()
    } else {
        builder.compact().try_init()
    };
}
