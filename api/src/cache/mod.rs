//! The backtest result cache: memory → Redis → the `historical_backtest_backtestcache` table.
//!
//! Keys are the engine's cache keys (SHA-256 of the normalised input, the engine version and
//! the dataset fingerprint), so an entry never goes stale: it only expires. Layers:
//!
//! - **memory** (moka, weighted by result size): always on. Without `REDIS_URL` it takes
//!   Redis's place; with Redis it sits in front of it so a hot result is not decompressed and
//!   parsed on every request.
//! - **Redis** (`REDIS_URL`, [`redis`]): gzip-compressed JSON ([`codec`]) with the TTL,
//!   behind a circuit breaker ([`breaker`]); Redis never fails a request.
//! - **table** ([`table`]): JSON with `expires_at`; expired rows are deleted when a lookup
//!   meets them and by the periodic [`ResultCache::sweep`].
//!
//! Stores go to memory at once and to Redis and the table through a bounded queue drained by
//! one background writer, so storing a computed result never makes a request wait (or fail).
//! Lookups do write on the way: a table hit is copied into Redis (when configured) before
//! [`ResultCache::get`] returns, and an expired or unreadable table row is deleted before the
//! lookup reports a miss; neither can fail the request.

pub(crate) mod breaker;
mod codec;
mod redis;
mod table;

use std::{collections::HashMap, sync::Arc, time::Duration};

use engine::backtest::BacktestResult;
use sea_orm::DatabaseConnection;
use tokio::sync::{mpsc, oneshot};

use crate::{error::ApiResult, metrics::Metrics};

pub use breaker::CircuitBreaker;
pub use table::sweep;

/// Results waiting for the background writer. Each holds a whole result in memory, so the
/// bound is small: when it is full a result stays in memory only (it can be recomputed).
const WRITE_QUEUE: usize = 32;

#[derive(Clone)]
pub struct ResultCache(Arc<Inner>);

struct Inner {
    memory: moka::future::Cache<String, Arc<BacktestResult>>,
    redis: Option<redis::Layer>,
    db: DatabaseConnection,
    ttl: Duration,
    metrics: Metrics,
    writes: mpsc::Sender<WriteJob>,
}

/// What the background writer is asked to do, in queue order.
enum WriteJob {
    Store(Arc<BacktestResult>),
    /// Answered once every job queued before it is done (see [`ResultCache::drain`]).
    Flush(oneshot::Sender<()>),
}

/// Rough in-memory size of a result, for the memory layer's weigher.
fn weight(result: &BacktestResult) -> u32 {
    let rows = result.daily.len() * 29 * 8;
    let rest = (result.rounds.len() + result.events.len()) * 256
        + (result.monthly_returns.len() + result.yearly.len()) * 160
        + 16 * 1024;
    u32::try_from(rows + rest).unwrap_or(u32::MAX)
}

impl ResultCache {
    /// Builds the cache and starts its background writer (call inside the runtime).
    pub fn new(
        db: DatabaseConnection,
        redis: Option<::redis::aio::ConnectionManager>,
        ttl: Duration,
        memory_bytes: u64,
        metrics: Metrics,
    ) -> Self {
        let memory = moka::future::Cache::builder()
            .weigher(|_key: &String, value: &Arc<BacktestResult>| weight(value))
            .max_capacity(memory_bytes.max(1))
            .time_to_live(ttl.max(Duration::from_secs(1)))
            .build();
        let (writes, queue) = mpsc::channel(WRITE_QUEUE);
        let cache = Self(Arc::new(Inner {
            memory,
            redis: redis.map(redis::Layer::new),
            db,
            ttl,
            metrics,
            writes,
        }));
        tokio::spawn(writer(Arc::downgrade(&cache.0), queue));
        cache
    }

    /// Looks `key` up layer by layer, filling the faster layers on the way back.
    pub async fn get(&self, key: &str) -> Option<Arc<BacktestResult>> {
        let inner = &self.0;
        if let Some(found) = inner.memory.get(key).await {
            inner.metrics.cache_lookup("memory", true);
            return Some(found);
        }
        inner.metrics.cache_lookup("memory", false);
        if let Some(redis) = &inner.redis {
            let found = redis::get(redis, key).await;
            inner.metrics.cache_lookup("redis", found.is_some());
            if let Some(found) = found {
                inner.memory.insert(key.to_string(), found.clone()).await;
                return Some(found);
            }
        }
        let found = table::get(&inner.db, key).await;
        inner.metrics.cache_lookup("table", found.is_some());
        let found = found?;
        inner.memory.insert(key.to_string(), found.clone()).await;
        if let Some(redis) = &inner.redis {
            redis::put(redis, key, &found, inner.ttl).await;
        }
        Some(found)
    }

    /// Memory only: the cheapest check, used under the single-flight lock.
    pub async fn get_memory(&self, key: &str) -> Option<Arc<BacktestResult>> {
        self.0.memory.get(key).await
    }

    /// Batched lookup for DataLoaders: memory, then one Redis MGET, then one table query.
    pub async fn get_many(&self, keys: &[String]) -> HashMap<String, Arc<BacktestResult>> {
        let inner = &self.0;
        let mut found = HashMap::with_capacity(keys.len());
        let mut missing = Vec::new();
        for key in keys {
            match inner.memory.get(key).await {
                Some(result) => {
                    found.insert(key.clone(), result);
                }
                None => missing.push(key.clone()),
            }
        }
        if missing.is_empty() {
            return found;
        }
        if let Some(redis) = &inner.redis {
            let fetched = redis::get_many(redis, &missing).await;
            for (key, result) in fetched {
                inner.memory.insert(key.clone(), result.clone()).await;
                found.insert(key, result);
            }
            missing.retain(|k| !found.contains_key(k));
        }
        if !missing.is_empty() {
            for (key, result) in table::get_many(&inner.db, &missing).await {
                inner.memory.insert(key.clone(), result.clone()).await;
                found.insert(key, result);
            }
        }
        found
    }

    /// Stores a freshly computed result: memory now, Redis and the table in the background.
    /// When the write queue is full the slower layers are skipped (the result can always be
    /// recomputed).
    pub async fn put(&self, result: Arc<BacktestResult>) {
        let key = key_of(&result);
        self.0.memory.insert(key, result.clone()).await;
        let queued = self.0.writes.try_send(WriteJob::Store(result)).is_ok();
        self.0.metrics.cache_write(queued);
        if !queued {
            tracing::debug!("cache write queue full: result kept in memory only");
        }
    }

    /// Waits until every result queued so far is written to Redis and the table (shutdown
    /// calls it so queued writes are not lost with the process).
    pub async fn drain(&self) {
        let (done, written) = oneshot::channel();
        if self.0.writes.send(WriteJob::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }

    /// Deletes expired table rows; returns how many went.
    pub async fn sweep(&self) -> ApiResult<u64> {
        table::sweep(&self.0.db).await
    }
}

/// The key a result is stored under.
pub fn key_of(result: &BacktestResult) -> String {
    engine::backtest::cache_key(&result.input, &result.dataset_fingerprint)
}

/// Holds the cache weakly, so the writer (and the queue) go when the last handle does.
async fn writer(cache: std::sync::Weak<Inner>, mut queue: mpsc::Receiver<WriteJob>) {
    while let Some(job) = queue.recv().await {
        match job {
            WriteJob::Store(result) => {
                let Some(inner) = cache.upgrade() else { break };
                write_one(&inner, result).await;
                inner.metrics.cache_write_done();
            }
            WriteJob::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

async fn write_one(inner: &Inner, result: Arc<BacktestResult>) {
    let key = key_of(&result);
    let encoded = {
        let result = result.clone();
        tokio::task::spawn_blocking(move || codec::encode(&result)).await
    };
    let Ok(Some((json, compressed))) = encoded else {
        tracing::warn!("could not encode a backtest result for the cache");
        return;
    };
    if let Some(redis) = &inner.redis {
        redis::set_raw(redis, &key, compressed, inner.ttl).await;
    }
    if let Err(err) = table::put(&inner.db, &key, &result, json, inner.ttl).await {
        tracing::warn!(error = ?err, "could not store a backtest result in the cache table");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn cache() -> ResultCache {
        let db = crate::db::connect("sqlite::memory:").await.unwrap();
        crate::db::migrate_up(&db).await.unwrap();
        ResultCache::new(
            db,
            None,
            Duration::from_secs(3600),
            64 * 1024 * 1024,
            Metrics::new(),
        )
    }

    fn result() -> Arc<BacktestResult> {
        let market = engine::fixtures::case_a_market();
        let input = engine::fixtures::case_a_input(engine::backtest::Mode::LiquidationReentry);
        let normalized = engine::backtest::normalize(&input, &market).unwrap();
        let never = std::sync::atomic::AtomicBool::new(false);
        Arc::new(engine::backtest::run_backtest(&market, &normalized, &mut |_| {}, &never).unwrap())
    }

    #[tokio::test]
    async fn drain_returns_once_queued_results_are_in_the_table() {
        let cache = cache().await;
        let result = result();
        let key = key_of(&result);
        cache.put(result).await;
        cache.drain().await;
        assert!(table::get(&cache.0.db, &key).await.is_some());
    }

    #[tokio::test]
    async fn drain_with_nothing_queued_returns_at_once() {
        let cache = cache().await;
        tokio::time::timeout(Duration::from_secs(5), cache.drain())
            .await
            .unwrap();
    }
}
