//! Short-lived memos of the heaviest reads: the overview's repository rows
//! and the org trend. A dashboard that many people keep open would
//! otherwise recompute them on every view, and they change only when scans
//! land. Each replica keeps its own; a memo is at most `ttl` old, which a
//! readiness dashboard tolerates (a Rescan's own page polls the database).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Past this many entries, expired ones are swept on insert.
const MAX_ENTRIES: usize = 4096;

/// Values by key, each kept for `ttl`.
pub struct Memo<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (Instant, Arc<V>)>>,
}

impl<K: Eq + Hash + Clone, V> Memo<K, V> {
    pub fn new(ttl: Duration) -> Memo<K, V> {
        Memo { ttl, entries: Mutex::new(HashMap::new()) }
    }

    /// The memo of `key`, computed by `make` when missing or too old.
    /// Concurrent misses may compute it twice; the last one is kept.
    ///
    /// # Errors
    /// Whatever `make` returns; nothing is memoised then.
    pub async fn get_or_try<E, F, Fut>(&self, key: K, make: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        if let Some((at, v)) = self.entries.lock().unwrap_or_else(|e| e.into_inner()).get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(v.clone());
        }
        let value = Arc::new(make().await?);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Keys that carry a scan id never come back once a newer scan lands:
        // drop what has expired before the map grows without bound.
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        entries.insert(key, (Instant::now(), value.clone()));
        Ok(value)
    }
}

/// The memos the pages share (one set per process, in `AppState`).
pub struct Memos {
    /// `overview::rows`, for the overview and the teams page.
    pub rows: Memo<(), Vec<super::overview::RepoRow>>,
    /// The org trend's daily series by range in days.
    pub org_trend: Memo<i64, Vec<(chrono::NaiveDate, f64)>>,
    /// A repository's score chart (SVG) by (repository, its latest scan, range in days).
    pub repo_trend: Memo<(i32, Option<i32>, i64), String>,
}

impl Default for Memos {
    fn default() -> Memos {
        Memos {
            rows: Memo::new(Duration::from_secs(5)),
            org_trend: Memo::new(Duration::from_secs(60)),
            repo_trend: Memo::new(Duration::from_secs(60)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Memo;
    use std::time::Duration;

    #[tokio::test]
    async fn a_memo_is_reused_until_it_is_too_old_and_errors_are_not_kept() {
        let memo: Memo<u8, u32> = Memo::new(Duration::from_millis(50));
        let one = memo.get_or_try(1, || async { Ok::<_, ()>(10) }).await.unwrap();
        let again = memo.get_or_try(1, || async { Ok::<_, ()>(20) }).await.unwrap();
        assert_eq!((*one, *again), (10, 10));
        assert!(memo.get_or_try(2, || async { Err::<u32, _>("down") }).await.is_err());
        assert_eq!(*memo.get_or_try(2, || async { Ok::<_, ()>(5) }).await.unwrap(), 5, "an error is not memoised");
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(*memo.get_or_try(1, || async { Ok::<_, ()>(30) }).await.unwrap(), 30, "too old: made again");
    }
}
