//! The backtest result cache: memory → Redis → the `historical_backtest_backtestcache` table.
//!
//! Keys are the engine's cache keys (SHA-256 of the normalised input, the engine version and
//! the dataset fingerprint), so an entry never goes stale: it only expires. Layers:
//!
//! - **memory** (moka, weighted by result size): always on. Without `REDIS_URL` it takes
//!   Redis's place; with Redis it sits in front of it so a hot result is not decompressed and
//!   parsed on every request.
//! - **Redis** (`REDIS_URL`): gzip-compressed JSON under `margin:bt:<key>` with the TTL. Every
//!   Redis failure or timeout is a miss, behind a circuit breaker; Redis never fails a request.
//! - **table**: JSON with `expires_at`; expired rows are deleted when a lookup meets them and by
//!   the periodic [`ResultCache::sweep`].
//!
//! Stores go to memory at once and to Redis and the table through a bounded queue drained by
//! one background writer, so storing a computed result never makes a request wait (or fail).
//! Lookups do write on the way: a table hit is copied into Redis (when configured) before
//! [`ResultCache::get`] returns, and an expired or unreadable table row is deleted before the
//! lookup reports a miss; neither can fail the request.

pub(crate) mod breaker;

use std::{
    collections::HashMap,
    io::{Read, Write},
    sync::Arc,
    time::Duration,
};

use chrono::Utc;
use engine::backtest::BacktestResult;
use entity::backtest_cache;
use flate2::{Compression, read::GzDecoder, write::GzEncoder};
use redis::aio::ConnectionManager;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict, Query},
};
use tokio::sync::mpsc;

use crate::{error::ApiResult, metrics::Metrics};

pub use breaker::CircuitBreaker;

const REDIS_PREFIX: &str = "margin:bt:";
/// Redis calls slower than this count as failures (misses).
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// Results waiting for the background writer. Each holds a whole result in memory, so the
/// bound is small: when it is full a result stays in memory only (it can be recomputed).
const WRITE_QUEUE: usize = 32;

#[derive(Clone)]
pub struct ResultCache(Arc<Inner>);

struct Inner {
    memory: moka::future::Cache<String, Arc<BacktestResult>>,
    redis: Option<RedisLayer>,
    db: DatabaseConnection,
    ttl: Duration,
    metrics: Metrics,
    writes: mpsc::Sender<Arc<BacktestResult>>,
}

struct RedisLayer {
    conn: ConnectionManager,
    breaker: CircuitBreaker,
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
        redis: Option<ConnectionManager>,
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
            redis: redis.map(|conn| RedisLayer {
                conn,
                breaker: CircuitBreaker::new(3, Duration::from_secs(5)),
            }),
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
            let found = redis_get(redis, key).await;
            inner.metrics.cache_lookup("redis", found.is_some());
            if let Some(found) = found {
                inner.memory.insert(key.to_string(), found.clone()).await;
                return Some(found);
            }
        }
        let found = table_get(&inner.db, key).await;
        inner.metrics.cache_lookup("table", found.is_some());
        let found = found?;
        inner.memory.insert(key.to_string(), found.clone()).await;
        if let Some(redis) = &inner.redis {
            redis_put(redis, key, &found, inner.ttl).await;
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
            let fetched = redis_get_many(redis, &missing).await;
            for (key, result) in fetched {
                inner.memory.insert(key.clone(), result.clone()).await;
                found.insert(key, result);
            }
            missing.retain(|k| !found.contains_key(k));
        }
        if !missing.is_empty() {
            for (key, result) in table_get_many(&inner.db, &missing).await {
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
        let queued = self.0.writes.try_send(result).is_ok();
        self.0.metrics.cache_write(queued);
        if !queued {
            tracing::debug!("cache write queue full: result kept in memory only");
        }
    }

    /// Deletes expired table rows; returns how many went.
    pub async fn sweep(&self) -> ApiResult<u64> {
        sweep(&self.0.db).await
    }
}

/// The key a result is stored under.
pub fn key_of(result: &BacktestResult) -> String {
    engine::backtest::cache_key(&result.input, &result.dataset_fingerprint)
}

/// Deletes every expired row of the cache table.
pub async fn sweep(db: &DatabaseConnection) -> ApiResult<u64> {
    let deleted = backtest_cache::Entity::delete_many()
        .filter(backtest_cache::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

async fn writer(cache: std::sync::Weak<Inner>, mut queue: mpsc::Receiver<Arc<BacktestResult>>) {
    while let Some(result) = queue.recv().await {
        let Some(inner) = cache.upgrade() else { break };
        write_one(&inner, result).await;
        inner.metrics.cache_write_done();
    }
}

async fn write_one(inner: &Inner, result: Arc<BacktestResult>) {
    let key = key_of(&result);
    let encoded = {
        let result = result.clone();
        tokio::task::spawn_blocking(move || encode(&result)).await
    };
    let Ok(Some((json, compressed))) = encoded else {
        tracing::warn!("could not encode a backtest result for the cache");
        return;
    };
    if let Some(redis) = &inner.redis {
        redis_set_raw(redis, &key, compressed, inner.ttl).await;
    }
    if let Err(err) = table_put(&inner.db, &key, &result, json, inner.ttl).await {
        tracing::warn!(error = ?err, "could not store a backtest result in the cache table");
    }
}

/// The JSON text (for the table) and its compressed form (for Redis), serialised once: a
/// `serde_json::Value` of a 15-year result is a quarter of a million small allocations.
fn encode(result: &BacktestResult) -> Option<(String, Vec<u8>)> {
    let json = serde_json::to_string(result).ok()?;
    let compressed = compress(json.as_bytes())?;
    Some((json, compressed))
}

fn compress(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

fn decode(compressed: &[u8]) -> Option<BacktestResult> {
    let mut json = Vec::with_capacity(compressed.len() * 4);
    GzDecoder::new(compressed).read_to_end(&mut json).ok()?;
    serde_json::from_slice(&json).ok()
}

async fn redis_call<T>(
    redis: &RedisLayer,
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Option<T> {
    if !redis.breaker.allow() {
        return None;
    }
    match tokio::time::timeout(REDIS_TIMEOUT, call).await {
        Ok(Ok(value)) => {
            redis.breaker.success();
            Some(value)
        }
        Ok(Err(err)) => {
            tracing::debug!(error = %err, "redis call failed (cache miss)");
            redis.breaker.failure();
            None
        }
        Err(_) => {
            tracing::debug!("redis call timed out (cache miss)");
            redis.breaker.failure();
            None
        }
    }
}

async fn redis_get(redis: &RedisLayer, key: &str) -> Option<Arc<BacktestResult>> {
    let mut conn = redis.conn.clone();
    let full = format!("{REDIS_PREFIX}{key}");
    let bytes: Vec<u8> = redis_call(redis, async move {
        redis::cmd("GET")
            .arg(full)
            .query_async::<Option<Vec<u8>>>(&mut conn)
            .await
    })
    .await??;
    let decoded = tokio::task::spawn_blocking(move || decode(&bytes))
        .await
        .ok()??;
    Some(Arc::new(decoded))
}

async fn redis_get_many(redis: &RedisLayer, keys: &[String]) -> Vec<(String, Arc<BacktestResult>)> {
    let mut conn = redis.conn.clone();
    let full: Vec<String> = keys.iter().map(|k| format!("{REDIS_PREFIX}{k}")).collect();
    let Some(values) = redis_call(redis, async move {
        redis::cmd("MGET")
            .arg(full)
            .query_async::<Vec<Option<Vec<u8>>>>(&mut conn)
            .await
    })
    .await
    else {
        return Vec::new();
    };
    let keys = keys.to_vec();
    tokio::task::spawn_blocking(move || {
        keys.into_iter()
            .zip(values)
            .filter_map(|(key, bytes)| Some((key, Arc::new(decode(&bytes?)?))))
            .collect()
    })
    .await
    .unwrap_or_default()
}

async fn redis_put(redis: &RedisLayer, key: &str, result: &Arc<BacktestResult>, ttl: Duration) {
    let result = result.clone();
    let encoded = tokio::task::spawn_blocking(move || {
        serde_json::to_vec(&*result)
            .ok()
            .and_then(|bytes| compress(&bytes))
    })
    .await;
    if let Ok(Some(bytes)) = encoded {
        redis_set_raw(redis, key, bytes, ttl).await;
    }
}

async fn redis_set_raw(redis: &RedisLayer, key: &str, bytes: Vec<u8>, ttl: Duration) {
    let mut conn = redis.conn.clone();
    let full = format!("{REDIS_PREFIX}{key}");
    let seconds = ttl.as_secs().max(1);
    let _: Option<()> = redis_call(redis, async move {
        redis::cmd("SET")
            .arg(full)
            .arg(bytes)
            .arg("EX")
            .arg(seconds)
            .query_async(&mut conn)
            .await
    })
    .await;
}

async fn table_get(db: &DatabaseConnection, key: &str) -> Option<Arc<BacktestResult>> {
    let row = match backtest_cache::Entity::find()
        .filter(backtest_cache::Column::CacheKey.eq(key))
        .one(db)
        .await
    {
        Ok(row) => row?,
        Err(err) => {
            tracing::warn!(error = %err, "cache table lookup failed (miss)");
            return None;
        }
    };
    usable_row(db, row).await
}

/// The row's result, or None (and the row deleted) when it has expired or does not parse.
async fn usable_row(
    db: &DatabaseConnection,
    row: backtest_cache::Model,
) -> Option<Arc<BacktestResult>> {
    let id = row.id;
    let parsed = if row.expires_at <= Utc::now() {
        None
    } else {
        tokio::task::spawn_blocking(move || {
            serde_json::from_value::<BacktestResult>(row.results).ok()
        })
        .await
        .ok()
        .flatten()
    };
    if parsed.is_none() {
        let _ = backtest_cache::Entity::delete_by_id(id).exec(db).await;
    }
    parsed.map(Arc::new)
}

async fn table_get_many(
    db: &DatabaseConnection,
    keys: &[String],
) -> Vec<(String, Arc<BacktestResult>)> {
    let rows = match backtest_cache::Entity::find()
        .filter(backtest_cache::Column::CacheKey.is_in(keys.iter().cloned()))
        .all(db)
        .await
    {
        Ok(rows) => rows,
        Err(err) => {
            tracing::warn!(error = %err, "cache table lookup failed (miss)");
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let key = row.cache_key.clone();
        if let Some(result) = usable_row(db, row).await {
            out.push((key, result));
        }
    }
    out
}

/// Upserts the row with the result's JSON text bound as it is (PostgreSQL casts it to jsonb),
/// so the text is not parsed back into a tree just to be written.
async fn table_put(
    db: &DatabaseConnection,
    key: &str,
    result: &BacktestResult,
    json: String,
    ttl: Duration,
) -> ApiResult<()> {
    use backtest_cache::Column;
    let now = Utc::now();
    let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
    let parameters = serde_json::to_value(&result.input).unwrap_or_default();
    let results = match db.get_database_backend() {
        DbBackend::Postgres => Expr::cust_with_values("CAST($1 AS jsonb)", [json]),
        _ => Expr::value(json),
    };
    let mut insert = Query::insert();
    insert
        .into_table(backtest_cache::Entity)
        .columns([
            Column::CacheKey,
            Column::Etf,
            Column::Mode,
            Column::Parameters,
            Column::Results,
            Column::CreatedAt,
            Column::ExpiresAt,
        ])
        .values([
            Expr::value(key.to_string()),
            Expr::value(result.input.ticker.clone()),
            Expr::value(result.input.mode.as_str().to_string()),
            Expr::value(parameters),
            results,
            Expr::value(now),
            Expr::value(expires),
        ])
        .map_err(crate::error::ApiError::internal)?
        .on_conflict(
            OnConflict::column(Column::CacheKey)
                .update_columns([
                    Column::Results,
                    Column::Parameters,
                    Column::CreatedAt,
                    Column::ExpiresAt,
                ])
                .to_owned(),
        );
    db.execute(&insert).await?;
    Ok(())
}
