//! Market data in GraphQL: tickers, the version, and price, dividend and rate series for
//! charts, column-wise.

use async_graphql::{Enum, SimpleObject};

use super::scalars::Date;
use crate::services::market::{DividendRow, PriceColumns, RateColumns, RateSeriesName};

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

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "RateSeriesName")]
pub enum RateSeriesKind {
    /// Daily effective federal funds rate (FRED DFF).
    FedFunds,
    /// 3-month Treasury bill, secondary market (FRED DTB3).
    Tbill3m,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct PriceSeries {
    pub ticker: String,
    pub every: i32,
    pub dates: Vec<Date>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub adj_close: Vec<f64>,
    pub volume: Vec<f64>,
}

impl From<PriceColumns> for PriceSeries {
    fn from(p: PriceColumns) -> Self {
        Self {
            ticker: p.ticker,
            every: i32::try_from(p.every).unwrap_or(1),
            dates: p.dates.into_iter().map(Date).collect(),
            open: p.open,
            high: p.high,
            low: p.low,
            close: p.close,
            adj_close: p.adj_close,
            volume: p.volume,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Dividend {
    pub ex_date: Date,
    /// Cash per share.
    pub amount: f64,
}

impl From<DividendRow> for Dividend {
    fn from(d: DividendRow) -> Self {
        Self {
            ex_date: Date(d.ex_date),
            amount: d.amount,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct RateSeries {
    pub series: String,
    pub every: i32,
    pub dates: Vec<Date>,
    /// Annual percent.
    pub rate_pct: Vec<f64>,
}

impl From<RateColumns> for RateSeries {
    fn from(r: RateColumns) -> Self {
        Self {
            series: r.series,
            every: i32::try_from(r.every).unwrap_or(1),
            dates: r.dates.into_iter().map(Date).collect(),
            rate_pct: r.rate_pct,
        }
    }
}
