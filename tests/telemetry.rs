//! Error monitoring speaks Sentry's real protocol: an error logged by the
//! application arrives as an envelope at the DSN's ingestion endpoint, here
//! a local HTTP server standing in for sentry.io.

use shipshape::config::{Environment, Settings};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

struct Env(Vec<(String, String)>);

impl Environment for Env {
    fn var(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

/// Accepts HTTP requests and forwards (request line, body) to a channel.
async fn sink(listener: TcpListener, tx: tokio::sync::mpsc::UnboundedSender<(String, String)>) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else { return };
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            loop {
                let n = sock.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        let request_line = text.lines().next().unwrap_or_default().to_string();
                        let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
                        let _ = tx.send((request_line, body));
                        let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").await;
                        break;
                    }
                }
            }
        });
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_reported_to_the_configured_sentry_dsn() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(sink(listener, tx));

    let dsn = format!("http://0123456789abcdef@127.0.0.1:{port}/42");
    let env = Env(vec![("SHIPSHAPE__OBSERVABILITY__SENTRY_DSN".into(), dsn.clone())]);
    let settings = Settings::build(None, &[], &env, |f| f).unwrap();
    assert!(!format!("{settings:?}").contains("0123456789abcdef"), "the DSN is redacted in Debug");

    let telemetry = tokio::task::spawn_blocking(move || {
        let t = shipshape::telemetry::init(&settings);
        tracing::error!(repo.name = "acme/api", "scan crashed: checkout vanished");
        t
    })
    .await
    .unwrap();
    // Dropping the guard flushes pending events.
    tokio::task::spawn_blocking(move || drop(telemetry)).await.unwrap();

    let (line, body) =
        tokio::time::timeout(Duration::from_secs(10), rx.recv()).await.expect("an event within 10 s").unwrap();
    assert!(line.starts_with("POST /api/42/envelope/"), "{line}");
    assert!(body.contains("scan crashed: checkout vanished"), "{body}");
    assert!(body.contains("\"repo.name\":\"acme/api\""), "structured fields travel with the event: {body}");
    assert!(body.contains("\"release\":\"shipshape@"), "{body}");
}
