//! Rate limits per caller: token buckets (GCRA) on requests and on engine runs, keyed by the
//! signed-in user (all their sessions share one bucket), the API token, or, without
//! credentials, the client address. With Redis configured the buckets live there, so every
//! replica draws from the same ones; while Redis fails, each process falls back to its own
//! buckets in memory (still limited, per replica) behind a circuit breaker.
//!
//! The GCRA state of a bucket is its "theoretical arrival time" (TAT): taking `n` tokens is
//! allowed when `max(TAT, now) + n·interval − now ≤ burst·interval`, and moves TAT there.

use std::{
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    state::keyed::DefaultKeyedStateStore,
};
use redis::aio::ConnectionManager;

use crate::{
    auth::{AuthContext, Via},
    cache::breaker::CircuitBreaker,
    config::Config,
    error::ApiError,
};

/// Whose bucket a request draws from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Subject {
    User(i64),
    Token(i64),
    /// No credentials, or credentials that were refused or could not be checked: the client
    /// address (as resolved through the trusted proxies).
    Address(String),
}

impl Subject {
    pub(crate) fn of(auth: &AuthContext) -> Self {
        match auth.caller() {
            Some(caller) => match caller.via {
                Via::Session { .. } => Subject::User(caller.user_id),
                Via::ApiToken { token_id } => Subject::Token(token_id),
            },
            None => Subject::Address(auth.client.ip.clone().unwrap_or_default()),
        }
    }

    fn is_anonymous(&self) -> bool {
        matches!(self, Subject::Address(_))
    }

    fn redis_key(&self, bucket: Bucket) -> String {
        let kind = match bucket {
            Bucket::Requests => "requests",
            Bucket::EngineRuns => "runs",
        };
        match self {
            Subject::User(id) => format!("margin:rate:{kind}:u:{id}"),
            Subject::Token(id) => format!("margin:rate:{kind}:t:{id}"),
            Subject::Address(ip) => format!("margin:rate:{kind}:a:{ip}"),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Bucket {
    Requests,
    EngineRuns,
}

/// A refusal: the whole seconds until the same request would be admitted (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RetryAfter(pub(crate) u64);

impl From<RetryAfter> for ApiError {
    fn from(RetryAfter(retry_after_secs): RetryAfter) -> Self {
        ApiError::RateLimited { retry_after_secs }
    }
}

/// One bucket's rate: a token every `interval`, at most `burst` held.
#[derive(Debug, Clone, Copy)]
struct Rate {
    per_min: NonZeroU32,
    burst: NonZeroU32,
}

impl Rate {
    /// None when the limit is off (0 per minute).
    fn new(per_min: u32, burst_secs: u32, least_burst: u64) -> Option<Self> {
        let per_min = NonZeroU32::new(per_min)?;
        let from_secs = (u64::from(per_min.get()) * u64::from(burst_secs)).div_ceil(60);
        let burst = from_secs.max(least_burst).clamp(1, u64::from(u32::MAX)) as u32;
        Some(Rate {
            per_min,
            burst: NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN),
        })
    }

    fn interval_us(&self) -> u64 {
        60_000_000 / u64::from(self.per_min.get())
    }

    fn quota(&self) -> Quota {
        Quota::per_minute(self.per_min).allow_burst(self.burst)
    }
}

type Limiter = RateLimiter<Subject, DefaultKeyedStateStore<Subject>, DefaultClock>;

/// One bucket kind for one kind of caller, in memory.
struct Local {
    rate: Rate,
    limiter: Limiter,
}

impl Local {
    fn new(rate: Rate) -> Self {
        Self {
            rate,
            limiter: RateLimiter::keyed(rate.quota()),
        }
    }

    fn take(&self, subject: &Subject, n: u32) -> Result<(), Duration> {
        let Some(n) = NonZeroU32::new(n) else {
            return Ok(());
        };
        match self.limiter.check_key_n(subject, n) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(DefaultClock::default().now())),
            // More than a full bucket: retrying after a full refill is the honest answer.
            Err(_) => Err(Duration::from_micros(
                self.rate.interval_us() * u64::from(self.rate.burst.get()),
            )),
        }
    }
}

/// The GCRA step on Redis, atomically, on Redis's clock (replicas' clocks need not agree).
/// KEYS[1]: the bucket; ARGV: interval µs, burst, tokens. Returns 0 when admitted, else the
/// microseconds until it would be.
const GCRA_SCRIPT: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local new_tat = tat + n * interval
local wait = new_tat - burst * interval - now
if wait > 0 then return wait end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.floor((new_tat - now) / 1000) + 1000)
return 0
";

struct Shared {
    connection: ConnectionManager,
    script: redis::Script,
    breaker: CircuitBreaker,
}

/// The configured limits and their buckets; cheap to clone.
#[derive(Clone)]
pub struct RateLimits {
    inner: Arc<Inner>,
}

struct Inner {
    requests_signed: Option<Local>,
    requests_anonymous: Option<Local>,
    runs_signed: Option<Local>,
    runs_anonymous: Option<Local>,
    redis: Option<Shared>,
    /// Admissions since the memory buckets were last pruned of full (forgotten) keys.
    since_prune: AtomicU64,
}

/// Memory buckets are pruned of keys that are full again every this many admissions.
const PRUNE_EVERY: u64 = 4096;

impl RateLimits {
    pub fn new(config: &Config, redis: Option<ConnectionManager>) -> Self {
        let burst = config.rate_burst_secs;
        let runs_least = config.max_engine_runs;
        let local = |per_min, least| Rate::new(per_min, burst, least).map(Local::new);
        Self {
            inner: Arc::new(Inner {
                requests_signed: local(config.rate_requests_per_min, 1),
                requests_anonymous: local(config.rate_requests_per_min_anonymous, 1),
                runs_signed: local(config.rate_engine_runs_per_min, runs_least),
                runs_anonymous: local(config.rate_engine_runs_per_min_anonymous, runs_least),
                redis: redis.map(|connection| Shared {
                    connection,
                    script: redis::Script::new(GCRA_SCRIPT),
                    breaker: CircuitBreaker::new(3, Duration::from_secs(5)),
                }),
                since_prune: AtomicU64::new(0),
            }),
        }
    }

    /// Takes one request and `engine_runs` engine runs from `subject`'s buckets, or refuses
    /// with the seconds after which the same request would be admitted.
    pub(crate) async fn admit(
        &self,
        subject: &Subject,
        engine_runs: u64,
    ) -> Result<(), RetryAfter> {
        let inner = &self.inner;
        if inner.since_prune.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            inner.prune();
        }
        let (requests, runs) = if subject.is_anonymous() {
            (&inner.requests_anonymous, &inner.runs_anonymous)
        } else {
            (&inner.requests_signed, &inner.runs_signed)
        };
        let runs_wanted = u32::try_from(engine_runs).unwrap_or(u32::MAX);
        let checks = [
            (Bucket::Requests, requests, 1),
            (Bucket::EngineRuns, runs, runs_wanted),
        ];
        for (bucket, local, n) in checks {
            let Some(local) = local else { continue };
            if n == 0 {
                continue;
            }
            if let Err(wait) = inner.take(bucket, local, subject, n).await {
                return Err(RetryAfter(wait.as_secs_f64().ceil().max(1.0) as u64));
            }
        }
        Ok(())
    }
}

impl Inner {
    async fn take(
        &self,
        bucket: Bucket,
        local: &Local,
        subject: &Subject,
        n: u32,
    ) -> Result<(), Duration> {
        if let Some(shared) = &self.redis
            && shared.breaker.allow()
        {
            let mut connection = shared.connection.clone();
            let outcome: redis::RedisResult<u64> = shared
                .script
                .key(subject.redis_key(bucket))
                .arg(local.rate.interval_us())
                .arg(local.rate.burst.get())
                .arg(n)
                .invoke_async(&mut connection)
                .await;
            match outcome {
                Ok(0) => {
                    shared.breaker.success();
                    return Ok(());
                }
                Ok(wait_us) => {
                    shared.breaker.success();
                    return Err(Duration::from_micros(wait_us));
                }
                Err(err) => {
                    shared.breaker.failure();
                    tracing::warn!(error = %err, "rate limit: Redis failed, using this process's buckets");
                }
            }
        }
        local.take(subject, n)
    }

    fn prune(&self) {
        for local in [
            &self.requests_signed,
            &self.requests_anonymous,
            &self.runs_signed,
            &self.runs_anonymous,
        ]
        .into_iter()
        .flatten()
        {
            local.limiter.retain_recent();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_min: u32, runs_per_min: u32) -> RateLimits {
        let mut config = Config::defaults();
        config.rate_requests_per_min = per_min;
        config.rate_requests_per_min_anonymous = per_min;
        config.rate_engine_runs_per_min = runs_per_min;
        config.rate_engine_runs_per_min_anonymous = runs_per_min;
        config.rate_burst_secs = 10;
        RateLimits::new(&config, None)
    }

    #[tokio::test]
    async fn a_full_bucket_admits_its_burst_then_refuses_with_the_wait() {
        // 60 per minute, 10 s of burst: 10 requests at once, then one per second.
        let limits = limits(60, 0);
        let me = Subject::Address("192.0.2.1".into());
        for _ in 0..10 {
            assert!(limits.admit(&me, 0).await.is_ok());
        }
        assert_eq!(limits.admit(&me, 0).await, Err(RetryAfter(1)));
        // Another caller has its own bucket.
        assert!(limits.admit(&Subject::User(7), 0).await.is_ok());
    }

    #[tokio::test]
    async fn engine_runs_draw_from_their_own_bucket() {
        // 30 runs per minute with a 10 s burst holds 5 runs (also the per-request cap).
        let limits = limits(0, 30);
        let me = Subject::Token(3);
        assert!(limits.admit(&me, 5).await.is_ok());
        assert!(
            limits.admit(&me, 0).await.is_ok(),
            "requests are not limited"
        );
        assert_eq!(limits.admit(&me, 1).await, Err(RetryAfter(2)));
    }

    #[test]
    fn a_burst_is_never_smaller_than_one_request_may_ask_for() {
        let rate = Rate::new(6, 10, 5).expect("limit on");
        assert_eq!(rate.burst.get(), 5);
        assert_eq!(rate.interval_us(), 10_000_000);
        assert!(Rate::new(0, 10, 5).is_none(), "0 turns the limit off");
    }
}
