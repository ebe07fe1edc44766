//! /metrics over HTTP: valid Prometheus text, a scan the worker ran counted
//! with its duration, the queue depth from the database, and the HTTP
//! requests made before the scrape under their route patterns.

use crate::helpers::*;
use crate::on_both_databases;
use crate::rest::finished_job;
use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};
use shipshape_testkit::GitRepo;

type Exposition = MetricsExposition<PrometheusType, PrometheusValue>;

/// Scrapes /metrics and parses it with a grammar of the text format.
async fn scrape(app: &TestApp) -> Exposition {
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = res.text().await.unwrap();
    parse_prometheus(&text).unwrap_or_else(|e| panic!("not Prometheus text format ({e:?}):\n{text}"))
}

/// The value of the series of `family` that has `labels` (among others).
fn sample<'a>(exp: &'a Exposition, family: &str, labels: &[(&str, &str)]) -> Option<&'a PrometheusValue> {
    exp.families
        .get(family)?
        .iter_samples()
        .find(|s| {
            let set = s.get_labelset().expect("labels bound to the family");
            labels.iter().all(|(k, v)| set.get_label_value(k) == Some(*v))
        })
        .map(|s| &s.value)
}

fn number(v: Option<&PrometheusValue>) -> f64 {
    match v {
        Some(PrometheusValue::Counter(c)) => c.value.as_f64(),
        Some(PrometheusValue::Gauge(n) | PrometheusValue::Unknown(n)) => n.as_f64(),
        other => panic!("not a number: {other:?}"),
    }
}

/// Every label value of every series.
fn label_values(exp: &Exposition) -> Vec<String> {
    exp.families
        .values()
        .flat_map(|f| f.iter_samples())
        .flat_map(|s| s.get_labelset().map(|l| l.iter_values().cloned().collect::<Vec<_>>()).unwrap_or_default())
        .collect()
}

on_both_databases! {
    async fn metrics_count_the_workers_scan_the_queue_and_http_requests(backend) {
        let app = spawn_app_with(backend, |s| {
            s.worker.enabled = true;
            s.worker.idle_secs = 1;
        })
        .await;
        let remote = GitRepo::with_files(&[("requirements.txt", "flask==3.0.0\n"), ("app.py", "import flask\n")]);
        let repo = add_repository(&app.db, "api", &remote.url()).await;
        let before = scrape(&app).await;
        assert_eq!(sample(&before, "shipshape_scans_total", &[("outcome", "succeeded")]), None, "nothing scanned yet");

        let queued = app.post(&format!("/api/v1/repositories/{repo}/scans")).send().await.unwrap();
        assert_eq!(queued.status(), 202);
        let location = queued.headers()["location"].to_str().unwrap().to_string();
        let job = finished_job(&app, &location).await;
        assert_eq!(job["status"], "succeeded", "{job}");

        let after = scrape(&app).await;
        assert_eq!(number(sample(&after, "shipshape_scans_total", &[("outcome", "succeeded")])), 1.0);
        match sample(&after, "shipshape_scan_duration_seconds", &[("outcome", "succeeded")]) {
            Some(PrometheusValue::Histogram(h)) => {
                assert_eq!(h.count, Some(1));
                assert!(h.sum.as_ref().is_some_and(|s| s.as_f64() > 0.0));
            }
            other => panic!("no scan duration histogram: {other:?}"),
        }
        assert_eq!(number(sample(&after, "shipshape_queue_jobs", &[("state", "succeeded")])), 1.0);
        assert_eq!(number(sample(&after, "shipshape_queue_jobs", &[("state", "queued")])), 0.0);
        let rescans = [("method", "POST"), ("route", "/api/v1/repositories/{id}/scans"), ("status", "202")];
        assert_eq!(number(sample(&after, "shipshape_http_requests_total", &rescans)), 1.0);
        let polls = [("method", "GET"), ("route", "/api/v1/jobs/{id}"), ("status", "200")];
        assert!(number(sample(&after, "shipshape_http_requests_total", &polls)) >= 1.0);
        assert!(sample(&after, "shipshape_http_request_duration_seconds", &[("route", "/api/v1/jobs/{id}")]).is_some());
        // Raw paths never become labels.
        app.get("/no/such/page/12345").await;
        let last = scrape(&app).await;
        assert!(!label_values(&last).iter().any(|v| v.contains("12345")));
        assert!(sample(&last, "shipshape_http_requests_total", &[("route", "unmatched"), ("status", "404")]).is_some());
        app.stop().await;
    }

    async fn metrics_can_be_switched_off(backend) {
        let app = spawn_app_with(backend, |s| s.metrics.enabled = false).await;
        assert_eq!(app.get("/metrics").await.status(), 404);
        app.stop().await;
    }
}
