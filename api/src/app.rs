//! Building and running the server: the same code path for `margin-api serve` and the tests,
//! which bind port 0 and read the chosen address back.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use engine::market::MarketData;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::{net::TcpListener, sync::watch};

use crate::{config::Config, db, graphql, http, metrics::Metrics, state::AppState};

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    shutdown_tx: watch::Sender<bool>,
    state: AppState,
}

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
            .context("connecting to the database")?;
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
        let metrics = Metrics::new();
        let backtests = margin_backtests(&config, &db, &redis, &market, &metrics, &shutdown_rx)?;
        let loaders = graphql::loaders::Loaders::new(backtests.cache.clone());
        let state = AppState {
            db,
            market,
            config: Arc::new(config),
            metrics,
            redis,
            backtests,
            loaders,
            shutdown: shutdown_rx,
        };
        let router = http::router(state.clone(), graphql::schema(&state.config));
        Ok(Self {
            listener,
            router,
            shutdown_tx,
            state,
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

    /// Serves until SIGINT/SIGTERM or the shutdown handle fires, then drains.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let trigger = self.shutdown_tx.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            trigger.send_replace(true);
        });
        let mut stopping = self.shutdown_tx.subscribe();
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = stopping.wait_for(|stop| *stop).await;
            tracing::info!("shutting down: draining requests, closing subscriptions");
        })
        .await
        .context("serving HTTP")
    }
}

/// Margin: the result cache (memory → Redis → table), the progress bus (with Redis: one
/// pub/sub connection per process), the compute runner, and the periodic sweep of expired
/// cache rows.
fn margin_backtests(
    config: &Config,
    db: &sea_orm::DatabaseConnection,
    redis: &Option<ConnectionManager>,
    market: &Arc<MarketData>,
    metrics: &Metrics,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<crate::services::backtests::Backtests> {
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
            redis::Client::open(url.as_str()).context("parsing REDIS_URL")?,
            publisher.clone(),
            shutdown.clone(),
        ),
        _ => ProgressBus::local(config.subscription_buffer),
    };
    let sweep_every = Duration::from_secs(config.cache_sweep_secs.max(1));
    let sweeper = cache.clone();
    let mut stop = shutdown.clone();
    tokio::spawn(async move {
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + sweep_every, sweep_every);
        loop {
            tokio::select! {
                _ = tick.tick() => match sweeper.sweep().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "swept expired backtest cache rows"),
                    Err(err) => tracing::warn!(error = %err, "cache sweep failed"),
                },
                _ = async { let _ = stop.wait_for(|s| *s).await; } => break,
            }
        }
    });
    Ok(backtests::Backtests::new(
        db.clone(),
        market.clone(),
        cache,
        bus,
        backtests::RunnerSettings {
            concurrency: config.compute_concurrency,
            queue: config.compute_queue,
            step_delay: Duration::from_millis(config.progress_step_delay_ms),
        },
    ))
}

/// A lazy connection: the service starts and serves without Redis, and Redis calls made while
/// it is down fail fast (short timeouts) so callers can treat them as cache misses.
fn redis_connection(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url).context("parsing REDIS_URL")?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(500)))
        .set_response_timeout(Some(Duration::from_millis(500)))
        .set_number_of_retries(1)
        .set_max_delay(Duration::from_secs(2));
    ConnectionManager::new_lazy_with_config(client, config).context("configuring Redis")
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
