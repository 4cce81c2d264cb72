//! The Redis layer: gzip-compressed JSON under `margin:bt:<key>` with the TTL. Every Redis
//! failure or timeout is a miss, behind a circuit breaker; Redis never fails a request.

use std::{sync::Arc, time::Duration};

use engine::backtest::BacktestResult;
use redis::aio::ConnectionManager;

use super::{breaker::CircuitBreaker, codec};

const REDIS_PREFIX: &str = "margin:bt:";
/// Redis calls slower than this count as failures (misses).
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

pub(super) struct Layer {
    conn: ConnectionManager,
    breaker: CircuitBreaker,
}

impl Layer {
    pub(super) fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            breaker: CircuitBreaker::new(3, Duration::from_secs(5)),
        }
    }
}

async fn call<T>(
    redis: &Layer,
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

pub(super) async fn get(redis: &Layer, key: &str) -> Option<Arc<BacktestResult>> {
    let mut conn = redis.conn.clone();
    let full = format!("{REDIS_PREFIX}{key}");
    let bytes: Vec<u8> = call(redis, async move {
        redis::cmd("GET")
            .arg(full)
            .query_async::<Option<Vec<u8>>>(&mut conn)
            .await
    })
    .await??;
    let decoded = tokio::task::spawn_blocking(move || codec::decode(&bytes))
        .await
        .ok()??;
    Some(Arc::new(decoded))
}

pub(super) async fn get_many(redis: &Layer, keys: &[String]) -> Vec<(String, Arc<BacktestResult>)> {
    let mut conn = redis.conn.clone();
    let full: Vec<String> = keys.iter().map(|k| format!("{REDIS_PREFIX}{k}")).collect();
    let Some(values) = call(redis, async move {
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
            .filter_map(|(key, bytes)| Some((key, Arc::new(codec::decode(&bytes?)?))))
            .collect()
    })
    .await
    .unwrap_or_default()
}

pub(super) async fn put(redis: &Layer, key: &str, result: &Arc<BacktestResult>, ttl: Duration) {
    let result = result.clone();
    let encoded = tokio::task::spawn_blocking(move || {
        serde_json::to_vec(&*result)
            .ok()
            .and_then(|bytes| codec::compress(&bytes))
    })
    .await;
    if let Ok(Some(bytes)) = encoded {
        set_raw(redis, key, bytes, ttl).await;
    }
}

pub(super) async fn set_raw(redis: &Layer, key: &str, bytes: Vec<u8>, ttl: Duration) {
    let mut conn = redis.conn.clone();
    let full = format!("{REDIS_PREFIX}{key}");
    let seconds = ttl.as_secs().max(1);
    let _: Option<()> = call(redis, async move {
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
