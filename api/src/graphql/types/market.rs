//! Market data in GraphQL: tickers, the version, and price, dividend and rate series for
//! charts, column-wise.

use async_graphql::{Enum, SimpleObject};

use super::{column::Column, scalars::Date};
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
    pub dates: Column<Date>,
    pub open: Column<f64>,
    pub high: Column<f64>,
    pub low: Column<f64>,
    pub close: Column<f64>,
    pub adj_close: Column<f64>,
    pub volume: Column<f64>,
}

impl From<PriceColumns> for PriceSeries {
    fn from(p: PriceColumns) -> Self {
        Self {
            ticker: p.ticker,
            every: i32::try_from(p.every).unwrap_or(1),
            dates: p.dates.into_iter().map(Date).collect(),
            open: p.open.into(),
            high: p.high.into(),
            low: p.low.into(),
            close: p.close.into(),
            adj_close: p.adj_close.into(),
            volume: p.volume.into(),
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
    pub dates: Column<Date>,
    /// Annual percent.
    pub rate_pct: Column<f64>,
}

impl From<RateColumns> for RateSeries {
    fn from(r: RateColumns) -> Self {
        Self {
            series: r.series,
            every: i32::try_from(r.every).unwrap_or(1),
            dates: r.dates.into_iter().map(Date).collect(),
            rate_pct: r.rate_pct.into(),
        }
    }
}
