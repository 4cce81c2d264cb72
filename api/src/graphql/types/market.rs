use async_graphql::SimpleObject;

use super::scalars::Date;

/// A dataset the engine can backtest: one price file in the data directory.
#[derive(SimpleObject)]
pub struct Ticker {
    pub symbol: String,
    pub name: String,
    pub first_date: Date,
    pub last_date: Date,
    pub last_close: f64,
    /// Trading days in the dataset.
    pub rows: i32,
}

#[derive(SimpleObject)]
pub struct VersionInfo {
    /// The service's version.
    pub service: String,
    /// The engine's version; results computed by another engine version are never reused.
    pub engine: String,
}
