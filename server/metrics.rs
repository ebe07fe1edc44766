//! Prometheus metrics of one application instance: scans by outcome and
//! their durations (recorded by the worker), HTTP requests by route, status
//! and duration (recorded by middleware), and the queue depth by state (read
//! from the database at scrape time, so every replica reports the shared
//! queue the same way).
//!
//! Each `Metrics` owns its registry instead of using the process-wide
//! default, so two applications in one process (the tests) count apart.

use crate::jobs::queue::QueueCounts;
use prometheus::{CounterVec, Encoder, GaugeVec, HistogramOpts, HistogramVec, Opts, Registry, TextEncoder};
use std::time::Duration;

/// The content type of the text exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// How a scan job ended, as counted in `shipshape_scans_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanOutcome {
    /// A scan was recorded.
    Succeeded,
    /// The attempt failed and the job will be tried again.
    Retrying,
    /// The job gave up; a failed scan was recorded.
    Failed,
}

impl ScanOutcome {
    fn as_str(self) -> &'static str {
        match self {
            ScanOutcome::Succeeded => "succeeded",
            ScanOutcome::Retrying => "retrying",
            ScanOutcome::Failed => "failed",
        }
    }
}

/// Cheap to clone: the collectors are shared handles.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    scans: CounterVec,
    scan_seconds: HistogramVec,
    queue_jobs: GaugeVec,
    http_requests: CounterVec,
    http_seconds: HistogramVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let scans = CounterVec::new(
            Opts::new("shipshape_scans_total", "Scan jobs finished, by outcome (succeeded, retrying, failed)."),
            &["outcome"],
        )
        .expect("valid metric");
        // Scans take from well under a second (a small repository, warm
        // cache) to minutes (a large clone).
        let scan_seconds = HistogramVec::new(
            HistogramOpts::new("shipshape_scan_duration_seconds", "Time a scan job took, checkout included.")
                .buckets(vec![0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0]),
            &["outcome"],
        )
        .expect("valid metric");
        let queue_jobs = GaugeVec::new(
            Opts::new("shipshape_queue_jobs", "Jobs in the queue by state, read from the database at scrape time."),
            &["state"],
        )
        .expect("valid metric");
        let http_requests = CounterVec::new(
            Opts::new("shipshape_http_requests_total", "HTTP requests answered, by method, route pattern and status."),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let http_seconds = HistogramVec::new(
            HistogramOpts::new("shipshape_http_request_duration_seconds", "Time to answer an HTTP request.")
                .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
            &["method", "route"],
        )
        .expect("valid metric");
        for c in [
            Box::new(scans.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(scan_seconds.clone()),
            Box::new(queue_jobs.clone()),
            Box::new(http_requests.clone()),
            Box::new(http_seconds.clone()),
        ] {
            registry.register(c).expect("metric names are unique");
        }
        Metrics { registry, scans, scan_seconds, queue_jobs, http_requests, http_seconds }
    }

    /// Counts a finished scan job and its duration.
    pub fn scan_finished(&self, outcome: ScanOutcome, took: Duration) {
        self.scans.with_label_values(&[outcome.as_str()]).inc();
        self.scan_seconds.with_label_values(&[outcome.as_str()]).observe(took.as_secs_f64());
    }

    /// Counts an answered HTTP request. `route` is the matched pattern
    /// (`/api/v1/repositories/{id}`), never the raw path, so the number of
    /// series stays bounded.
    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.http_requests.with_label_values(&[method, route, &status.to_string()]).inc();
        self.http_seconds.with_label_values(&[method, route]).observe(took.as_secs_f64());
    }

    /// The text exposition of every metric, with the queue depth as given.
    pub fn render(&self, queue: QueueCounts) -> String {
        for (state, n) in [
            ("queued", queue.queued),
            ("running", queue.running),
            ("succeeded", queue.succeeded),
            ("failed", queue.failed),
        ] {
            self.queue_jobs.with_label_values(&[state]).set(n as f64);
        }
        let mut out = Vec::new();
        // Encoding into a Vec only fails on invalid metric data, which the
        // constructors above rule out.
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "could not encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
