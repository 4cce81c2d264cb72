//! Market data in GraphQL: tickers, the version, and price, dividend and rate series for
//! charts, column-wise.

use async_graphql::{Enum, SimpleObject};

use super::{column::Column, scalars::Date};
use crate::services::market::{DividendRow, PriceColumns, RateColumns, RateSeriesName};

/// A dataset the engine can backtest: one price file in the data directory.
#[derive(SimpleObject)]
pub struct Ticker {
    /// The upper-cased symbol (the file name), to pass as `ticker`.
    pub symbol: String,
    /// The fund's name for SPY, VTI and QQQ; the symbol for other datasets.
    pub name: String,
    /// The first trading day in the dataset.
    pub first_date: Date,
    /// The last trading day in the dataset.
    pub last_date: Date,
    /// The close on the last trading day, US dollars per share: the calculator's default
    /// entry price.
    pub last_close: f64,
    /// Trading days in the dataset.
    pub rows: i32,
}

/// The versions of the running service and of its calculation engine.
#[derive(SimpleObject)]
pub struct VersionInfo {
    /// The service's version.
    pub service: String,
    /// The engine's version; results computed by another engine version are never reused.
    pub engine: String,
}

/// An interest-rate series the data directory holds.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "RateSeriesName")]
pub enum RateSeriesKind {
    /// Daily effective federal funds rate (FRED DFF).
    FedFunds,
    /// 3-month Treasury bill, secondary market (FRED DTB3).
    Tbill3m,
}

/// Daily prices of one ticker, column-wise: entry i of every list belongs to `dates[i]`.
#[derive(SimpleObject, Clone, Debug)]
pub struct PriceSeries {
    /// The dataset's symbol.
    pub ticker: String,
    /// The sampling step used: one trading day in this many (1 = every day).
    pub every: i32,
    /// The trading days, ascending; the last day of the span is always included.
    pub dates: Column<Date>,
    /// Opening price, US dollars per share, on the same basis as `close`.
    pub open: Column<f64>,
    /// Highest price of the day, US dollars per share, on the same basis as `close`.
    pub high: Column<f64>,
    /// Lowest price of the day, US dollars per share, on the same basis as `close`.
    pub low: Column<f64>,
    /// Closing price, US dollars per share: split-adjusted, not dividend-adjusted.
    pub close: Column<f64>,
    /// Closing price adjusted for splits and dividends, US dollars per share.
    pub adj_close: Column<f64>,
    /// Shares traded that day.
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

/// A cash dividend of a ticker.
#[derive(SimpleObject, Clone, Debug)]
pub struct Dividend {
    /// The ex-dividend date (a trading day).
    pub ex_date: Date,
    /// Cash per share, US dollars.
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

/// An interest-rate series, column-wise: entry i of `ratePct` belongs to `dates[i]`.
#[derive(SimpleObject, Clone, Debug)]
pub struct RateSeries {
    /// The series' FRED code: DFF or DTB3.
    pub series: String,
    /// The sampling step used: one observation in this many (1 = every one).
    pub every: i32,
    /// The observation days, ascending; the last one of the span is always included.
    pub dates: Column<Date>,
    /// The rate, percent per year (5.33 = 5.33 %).
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
