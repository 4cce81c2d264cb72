//! The risk lab (issue #15): the odds of a margin call over every historical entry date and
//! forward Monte Carlo, computed by `engine::risk`.
//!
//! A computation takes a compute slot shared with backtests (so the two together never run
//! more than the slots allow, and a full queue answers RATE_LIMITED), runs on this process's
//! rayon pool off the async reactor, and is cancelled when the request that asked for it goes
//! away. Results are cached under the engine's key of the normalised input (seed included):
//! in memory, where concurrent identical requests share one computation, and in Redis when
//! configured, so every replica answers from one computation.

use std::{
    sync::{
        Arc, LazyLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use engine::{
    market::MarketData,
    risk::{self, ForwardRisk, ForwardRiskInput, MarginCallOdds, OddsInput, RiskError},
};
use redis::aio::ConnectionManager;
use serde::{Serialize, de::DeserializeOwned};

use super::backtests::Backtests;
use crate::{
    cache::CircuitBreaker,
    error::{ApiError, ApiResult},
};

const REDIS_PREFIX: &str = "margin:risk:";
/// Redis calls slower than this count as misses.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// Entries kept in memory per kind (an odds result with its figures is about 150 KB).
const MEMORY_ENTRIES: u64 = 256;

/// One pool for every risk computation of the process, as wide as the machine: the compute
/// slots bound how many computations share it.
static POOL: LazyLock<Option<Arc<rayon::ThreadPool>>> = LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("risk-{i}"))
        .build()
        .ok()
        .map(Arc::new)
});

#[derive(Clone)]
pub struct RiskLab(Arc<Inner>);

struct Inner {
    market: Arc<MarketData>,
    backtests: Backtests,
    redis: Option<(ConnectionManager, CircuitBreaker)>,
    ttl: Duration,
    odds: moka::future::Cache<String, Arc<MarginCallOdds>>,
    forward: moka::future::Cache<String, Arc<ForwardRisk>>,
    max_leverage: moka::future::Cache<String, Option<f64>>,
}

/// Sets the engine's cancel flag when the request's future is dropped mid-computation.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

fn memory<V: Clone + Send + Sync + 'static>(ttl: Duration) -> moka::future::Cache<String, V> {
    moka::future::Cache::builder()
        .max_capacity(MEMORY_ENTRIES)
        .time_to_live(ttl.max(Duration::from_secs(1)))
        .build()
}

impl RiskLab {
    pub fn new(
        market: Arc<MarketData>,
        backtests: Backtests,
        redis: Option<ConnectionManager>,
        ttl: Duration,
    ) -> Self {
        Self(Arc::new(Inner {
            market,
            backtests,
            redis: redis.map(|conn| (conn, CircuitBreaker::new(3, Duration::from_secs(5)))),
            ttl,
            odds: memory(ttl),
            forward: memory(ttl),
            max_leverage: memory(ttl),
        }))
    }

    /// `marginCallOdds`: every window of the input's entry range.
    pub async fn odds(&self, input: &OddsInput) -> ApiResult<Arc<MarginCallOdds>> {
        let inner = &self.0;
        let key = format!("odds:{}", risk::odds_cache_key_for(&inner.market, input)?);
        let market = inner.market.clone();
        let input = input.clone();
        self.cached(&inner.odds, key, move |cancel| {
            risk::margin_call_odds(&market, &input, cancel).map(Arc::new)
        })
        .await
    }

    /// `maxLeverage(targetProbability)` over the windows of `input`.
    pub async fn max_leverage(&self, input: &OddsInput, target: f64) -> ApiResult<Option<f64>> {
        let inner = &self.0;
        if !(0.0..=1.0).contains(&target) {
            return Err(ApiError::input(
                "targetProbability",
                "must be between 0 and 1 (0.05 = 5 %)",
            ));
        }
        let key = format!(
            "maxlev:{target:e}:{}",
            risk::odds_cache_key_for(&inner.market, input)?
        );
        let market = inner.market.clone();
        let input = input.clone();
        self.cached(&inner.max_leverage, key, move |cancel| {
            risk::max_leverage(&market, &input, target, cancel)
        })
        .await
    }

    /// `forwardRisk`: Monte Carlo paths with the input's seed.
    pub async fn forward(&self, input: &ForwardRiskInput) -> ApiResult<Arc<ForwardRisk>> {
        let inner = &self.0;
        let key = format!(
            "forward:{}",
            risk::forward_cache_key_for(&inner.market, input)?
        );
        let market = inner.market.clone();
        let input = input.clone();
        self.cached(&inner.forward, key, move |cancel| {
            risk::forward_risk(&market, &input, cancel).map(Arc::new)
        })
        .await
    }

    /// Memory, then Redis, then one computation for every concurrent request of `key`.
    async fn cached<V>(
        &self,
        memory: &moka::future::Cache<String, V>,
        key: String,
        work: impl FnOnce(&AtomicBool) -> Result<V, RiskError> + Send + 'static,
    ) -> ApiResult<V>
    where
        V: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    {
        memory
            .try_get_with(key.clone(), async {
                if let Some(found) = self.redis_get::<V>(&key).await {
                    return Ok(found);
                }
                let value = self.compute(work).await?;
                self.redis_put(&key, &value).await;
                Ok(value)
            })
            .await
            .map_err(|shared: Arc<ApiError>| (*shared).clone())
    }

    async fn compute<V: Send + 'static>(
        &self,
        work: impl FnOnce(&AtomicBool) -> Result<V, RiskError> + Send + 'static,
    ) -> ApiResult<V> {
        let _slot = self.0.backtests.compute_slot().await?;
        let cancel = Arc::new(AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(cancel.clone());
        let pool = POOL.clone();
        let joined = tokio::task::spawn_blocking(move || match pool {
            Some(pool) => pool.install(|| work(&cancel)),
            None => work(&cancel),
        })
        .await;
        match joined {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(RiskError::Input(err))) => Err(err.into()),
            // Only a dropped request cancels, and nobody reads its answer; a shutdown is the
            // one other way here.
            Ok(Err(RiskError::Cancelled)) => Err(ApiError::Unavailable(None)),
            Err(err) => Err(ApiError::Internal(Arc::new(anyhow::anyhow!(
                "risk computation failed: {err}"
            )))),
        }
    }

    async fn redis_get<V: DeserializeOwned + Send + 'static>(&self, key: &str) -> Option<V> {
        let (conn, breaker) = self.0.redis.as_ref()?;
        if !breaker.allow() {
            return None;
        }
        let mut conn = conn.clone();
        let full = format!("{REDIS_PREFIX}{key}");
        let mut get = redis::cmd("GET");
        get.arg(full);
        let call = get.query_async::<Option<Vec<u8>>>(&mut conn);
        let bytes = match tokio::time::timeout(REDIS_TIMEOUT, call).await {
            Ok(Ok(bytes)) => {
                breaker.success();
                bytes?
            }
            _ => {
                breaker.failure();
                return None;
            }
        };
        tokio::task::spawn_blocking(move || serde_json::from_slice(&bytes).ok())
            .await
            .ok()?
    }

    async fn redis_put<V: Serialize>(&self, key: &str, value: &V) {
        let Some((conn, breaker)) = self.0.redis.as_ref() else {
            return;
        };
        let Ok(bytes) = serde_json::to_vec(value) else {
            return;
        };
        if !breaker.allow() {
            return;
        }
        let mut conn = conn.clone();
        let mut set = redis::cmd("SET");
        set.arg(format!("{REDIS_PREFIX}{key}"))
            .arg(bytes)
            .arg("EX")
            .arg(self.0.ttl.as_secs().max(1));
        let call = set.query_async::<()>(&mut conn);
        match tokio::time::timeout(REDIS_TIMEOUT, call).await {
            Ok(Ok(())) => breaker.success(),
            _ => breaker.failure(),
        }
    }
}
