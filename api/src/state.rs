//! What every request can reach: database, market data, configuration, metrics.

use std::sync::Arc;

use engine::market::MarketData;
use sea_orm::DatabaseConnection;
use tokio::sync::watch;

use crate::{config::Config, metrics::Metrics};

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub market: Arc<MarketData>,
    pub config: Arc<Config>,
    pub metrics: Metrics,
    pub redis: Option<redis::aio::ConnectionManager>,
    /// Margin: backtest runs, with the result cache and the progress bus.
    pub backtests: crate::services::backtests::Backtests,
    /// Risk lab: margin-call odds and forward Monte Carlo, on the backtests' compute slots.
    pub risk: crate::services::risk::RiskLab,
    /// Sweeps: grids of backtests as one session, on the backtests' compute slots.
    pub sweeps: crate::services::sweeps::Sweeps,
    /// Margin: batching loaders shared by all requests (no caching across requests).
    pub loaders: crate::graphql::loaders::Loaders,
    /// Token buckets per user, API token and client address (`rate_limit`).
    pub rate_limits: crate::rate_limit::RateLimits,
    /// Flips to true when the server starts shutting down; long-lived sockets watch it.
    pub shutdown: watch::Receiver<bool>,
}
