//! Building and running the server: the same code path for `margin-api serve` and the tests,
//! which bind port 0 and read the chosen address back.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use engine::market::MarketData;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};

use crate::{config::Config, db, graphql, http, metrics::Metrics, state::AppState};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    shutdown_tx: watch::Sender<bool>,
    state: AppState,
    /// The periodic jobs (cache sweep, run recovery, retention purge); each stops at shutdown
    /// and is awaited, so none is cut off in the middle of its database work.
    tasks: Vec<JoinHandle<()>>,
}

/// How long shutdown waits for the periodic jobs and then for queued cache writes.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Stops a running application: HTTP requests drain, subscription sockets close with 1001.
#[derive(Clone)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let market = MarketData::load_dir(&config.data_dir)
            .with_context(|| format!("loading market data from {}", config.data_dir.display()))?;
        let database_url = config.database_url();
        let db = db::connect_with(&database_url, config.db_acquire_timeout())
            .await
            .with_context(|| {
                format!(
                    "connecting to the database {}",
                    crate::redact::mask_url(&database_url)
                )
            })?;
        if config.migrate {
            db::migrate_up(&db).await.context("applying migrations")?;
        }
        let redis = match &config.redis_url {
            Some(url) => Some(redis_connection(url)?),
            None => None,
        };
        let listener = TcpListener::bind(config.bind)
            .await
            .with_context(|| format!("binding {}", config.bind))?;
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let market = Arc::new(market);
        let metrics = Metrics::with_max_operations(config.metrics_max_operations);
        let (backtests, sweeper) =
            margin_backtests(&config, &db, &redis, &market, &metrics, &shutdown_rx)?;
        let loaders = graphql::loaders::Loaders::new(backtests.cache.clone());
        let risk = crate::services::risk::RiskLab::new(
            market.clone(),
            backtests.clone(),
            redis.clone(),
            Duration::from_secs(config.cache_ttl_secs),
        );
        let rate_limits = crate::rate_limit::RateLimits::new(&config, redis.clone());
        let distribution = match (&config.redis_url, &redis) {
            (Some(url), Some(conn)) => Some(crate::services::sweeps::Distribution {
                client: redis_client(url)?,
                conn: conn.clone(),
                stream: config.sweep_stream.clone(),
                claim_idle: Duration::from_millis(config.sweep_claim_idle_ms),
                chunk_delay: Duration::from_millis(config.sweep_chunk_delay_ms),
            }),
            _ => None,
        };
        let sweeps = crate::services::sweeps::Sweeps::new(
            db.clone(),
            market.clone(),
            backtests.clone(),
            metrics.clone(),
            distribution,
        );
        let state = AppState {
            db,
            market,
            config: Arc::new(config),
            metrics,
            redis,
            backtests,
            risk,
            sweeps,
            loaders,
            rate_limits,
            shutdown: shutdown_rx,
        };
        let mut tasks = vec![sweeper];
        tasks.extend(state.sweeps.worker(state.shutdown.clone()));
        tasks.extend(operations(&state).await);
        let router = http::router(state.clone(), graphql::schema(&state.config));
        Ok(Self {
            listener,
            router,
            shutdown_tx,
            state,
            tasks,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.state.config.bind)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown_tx.clone())
    }

    /// Serves until SIGINT/SIGTERM or the shutdown handle fires, then drains: requests, the
    /// periodic jobs, and the cache writes still queued.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let trigger = self.shutdown_tx.clone();
        let signal = tokio::spawn(async move {
            wait_for_signal().await;
            trigger.send_replace(true);
        });
        let limits = http::serve::ConnectionLimits {
            header_read_timeout: self.state.config.header_read_timeout(),
            max_connections: http::serve::effective_max_connections(
                self.state.config.max_connections,
            ),
        };
        http::serve::serve(
            self.listener,
            self.router,
            limits,
            self.shutdown_tx.subscribe(),
        )
        .await;
        signal.abort();
        self.shutdown_tx.send_replace(true);
        let jobs = futures_util::future::join_all(self.tasks);
        if tokio::time::timeout(SHUTDOWN_GRACE, jobs).await.is_err() {
            tracing::warn!("shutdown: periodic jobs still running, leaving them");
        }
        let writes = self.state.backtests.cache.drain();
        if tokio::time::timeout(SHUTDOWN_GRACE, writes).await.is_err() {
            tracing::warn!("shutdown: cache writes still queued, leaving them");
        }
        Ok(())
    }
}

/// Margin: the result cache (memory → Redis → table), the progress bus (with Redis: one
/// pub/sub connection per process), the compute runner, and the periodic sweep of expired
/// cache rows (its task is returned for shutdown to await).
fn margin_backtests(
    config: &Config,
    db: &sea_orm::DatabaseConnection,
    redis: &Option<ConnectionManager>,
    market: &Arc<MarketData>,
    metrics: &Metrics,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<(crate::services::backtests::Backtests, JoinHandle<()>)> {
    use crate::{bus::ProgressBus, cache::ResultCache, services::backtests};
    let ttl = Duration::from_secs(config.cache_ttl_secs.max(1));
    let cache = ResultCache::new(
        db.clone(),
        redis.clone(),
        ttl,
        config.memory_cache_mb.saturating_mul(1024 * 1024),
        metrics.clone(),
    );
    let bus = match (&config.redis_url, redis) {
        (Some(url), Some(publisher)) => ProgressBus::with_redis(
            config.subscription_buffer,
            redis_client(url)?,
            publisher.clone(),
            shutdown.clone(),
        ),
        _ => ProgressBus::local(config.subscription_buffer),
    };
    let sweep_every = Duration::from_secs(config.cache_sweep_secs.max(1));
    let sweeper = cache.clone();
    let mut stop = shutdown.clone();
    let sweep_task = tokio::spawn(async move {
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + sweep_every, sweep_every);
        loop {
            tokio::select! {
                _ = tick.tick() => match sweeper.sweep().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "swept expired backtest cache rows"),
                    Err(err) => tracing::warn!(error = ?err, "cache sweep failed"),
                },
                _ = async { let _ = stop.wait_for(|s| *s).await; } => break,
            }
        }
    });
    let lease = Duration::from_secs(config.run_lease_secs);
    let backtests = backtests::Backtests::new(
        db.clone(),
        market.clone(),
        cache,
        bus,
        backtests::RunnerSettings {
            concurrency: config.compute_concurrency,
            queue: config.compute_queue,
            step_delay: Duration::from_millis(config.progress_step_delay_ms),
        },
    )
    .with_lease(lease);
    Ok((backtests, sweep_task))
}

/// A Redis client for `url`; an error shows the URL with its password masked.
fn redis_client(url: &str) -> anyhow::Result<redis::Client> {
    redis::Client::open(url).map_err(|err| {
        anyhow::anyhow!(
            "parsing REDIS_URL {}: {}",
            crate::redact::mask_url(url),
            crate::redact::scrub(&err.to_string(), url)
        )
    })
}

/// A lazy connection: the service starts and serves without Redis, and Redis calls made while
/// it is down fail fast (short timeouts) so callers can treat them as cache misses.
fn redis_connection(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis_client(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(500)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(2));
    ConnectionManager::new_lazy_with_config(client, config).context("configuring Redis")
}

/// Operations: marks runs interrupted by a dead process (once now, then every third of the
/// run lease, renewing this process's own lease each time) and purges old rows every
/// `MARGIN_PURGE_INTERVAL_SECS`. Returns the tasks, for shutdown to await.
async fn operations(state: &AppState) -> Vec<JoinHandle<()>> {
    use crate::services::{recovery, retention};
    let backtests = state.backtests.clone();
    let recover = move || {
        let backtests = backtests.clone();
        async move {
            match recovery::recover(&backtests.db, &backtests.bus, &backtests.lease).await {
                Ok(ids) if ids.is_empty() => {}
                Ok(ids) => tracing::warn!(sessions = ids.len(), "marked interrupted backtest runs"),
                Err(err) => tracing::warn!(error = ?err, "run lease renewal failed"),
            }
        }
    };
    recover().await;
    let every = state.backtests.lease.renew_every();
    let mut tasks = vec![spawn_every(every, state.shutdown.clone(), recover)];

    let every = Duration::from_secs(state.config.purge_interval_secs);
    if every.is_zero() {
        return tasks;
    }
    let settings = retention::RetentionSettings::from_config(&state.config);
    let (db, metrics) = (state.db.clone(), state.metrics.clone());
    tasks.push(spawn_every(every, state.shutdown.clone(), move || {
        let (db, metrics, settings) = (db.clone(), metrics.clone(), settings.clone());
        async move {
            match retention::purge(&db, &settings, chrono::Utc::now()).await {
                Ok(counts) => {
                    for (table, rows) in counts.by_table() {
                        metrics.retention_deleted(table, rows);
                    }
                    if counts.total() > 0 {
                        tracing::info!(?counts, "retention purge");
                    }
                }
                Err(err) => tracing::warn!(error = ?err, "retention purge failed"),
            }
        }
    }));
    tasks
}

/// Runs `job` every `every` (first after one period) until shutdown.
fn spawn_every<F, Fut>(every: Duration, mut stop: watch::Receiver<bool>, job: F) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => job().await,
                _ = async { let _ = stop.wait_for(|s| *s).await; } => break,
            }
        }
    })
}

async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
