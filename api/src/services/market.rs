//! Market data: the loaded tickers, and for charts prices, dividends and rates over a span,
//! column-wise and bounded.

use chrono::NaiveDate;
use engine::market::{Dataset, MarketData, RateSeries};

use crate::error::{ApiError, ApiResult};

/// Most points one query may return; ask with a larger `every` (or a shorter span) beyond it.
pub const MAX_POINTS: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateSeriesName {
    FedFunds,
    Tbill3m,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PriceColumns {
    pub ticker: String,
    pub every: usize,
    pub dates: Vec<NaiveDate>,
    pub open: Vec<f64>,
    pub high: Vec<f64>,
    pub low: Vec<f64>,
    pub close: Vec<f64>,
    pub adj_close: Vec<f64>,
    pub volume: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DividendRow {
    pub ex_date: NaiveDate,
    pub amount: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RateColumns {
    pub series: String,
    pub every: usize,
    pub dates: Vec<NaiveDate>,
    pub rate_pct: Vec<f64>,
}

fn check_every(every: Option<i32>) -> ApiResult<usize> {
    let every = every.unwrap_or(1);
    if !(1..=10_000).contains(&every) {
        return Err(ApiError::input("every", "must be between 1 and 10000"));
    }
    Ok(usize::try_from(every).unwrap_or(1))
}

/// Index range `[lo, hi]` of `dates` within `from..=to`, with errors that name the span.
fn span(
    dates: &[NaiveDate],
    label: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<(usize, usize)> {
    let (Some(&first), Some(&last)) = (dates.first(), dates.last()) else {
        return Err(ApiError::input("ticker", format!("{label} has no data")));
    };
    let from = from.unwrap_or(first);
    let to = to.unwrap_or(last);
    if to < from {
        return Err(ApiError::input(
            "to",
            format!("{to} is before from ({from})"),
        ));
    }
    if from > last {
        return Err(ApiError::input(
            "from",
            format!("{from} is after the {label} data, which spans {first} to {last}"),
        ));
    }
    if to < first {
        return Err(ApiError::input(
            "to",
            format!("{to} is before the {label} data, which spans {first} to {last}"),
        ));
    }
    let lo = dates.partition_point(|d| *d < from);
    let hi = dates.partition_point(|d| *d <= to);
    if hi <= lo {
        return Err(ApiError::input(
            "from",
            format!("no {label} data between {from} and {to}"),
        ));
    }
    Ok((lo, hi - 1))
}

/// Sampled indices `lo, lo+every, …` always ending with `hi`; bounded by [`MAX_POINTS`].
fn sample(lo: usize, hi: usize, every: usize) -> ApiResult<Vec<usize>> {
    let count = (hi - lo) / every + 1;
    if count > MAX_POINTS {
        let needed = (hi - lo) / (MAX_POINTS - 1) + 1;
        return Err(ApiError::input(
            "every",
            format!(
                "the span holds {} rows; at most {MAX_POINTS} points per query: use every >= {needed} or a shorter span",
                hi - lo + 1
            ),
        ));
    }
    let mut idx: Vec<usize> = (lo..=hi).step_by(every).collect();
    if idx.last() != Some(&hi) {
        idx.push(hi);
    }
    Ok(idx)
}

pub fn prices(
    market: &MarketData,
    ticker: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    every: Option<i32>,
) -> ApiResult<PriceColumns> {
    let every = check_every(every)?;
    let ds: &Dataset = market.dataset(ticker)?;
    let (lo, hi) = span(&ds.dates, &ds.symbol, from, to)?;
    let idx = sample(lo, hi, every)?;
    let pick = |col: &[f64]| idx.iter().map(|&i| col[i]).collect::<Vec<f64>>();
    Ok(PriceColumns {
        ticker: ds.symbol.clone(),
        every,
        dates: idx.iter().map(|&i| ds.dates[i]).collect(),
        open: pick(&ds.open),
        high: pick(&ds.high),
        low: pick(&ds.low),
        close: pick(&ds.close),
        adj_close: pick(&ds.adj_close),
        volume: pick(&ds.volume),
    })
}

/// Cash dividends per share on their ex-dates, derived from the close and adjusted-close
/// columns as engine/SPEC.md §3 says.
pub fn dividends(
    market: &MarketData,
    ticker: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> ApiResult<Vec<DividendRow>> {
    let ds = market.dataset(ticker)?;
    let (lo, hi) = span(&ds.dates, &ds.symbol, from, to)?;
    Ok((lo..=hi)
        .filter(|&i| ds.dividends[i] > 0.0)
        .map(|i| DividendRow {
            ex_date: ds.dates[i],
            amount: ds.dividends[i],
        })
        .collect())
}

pub fn rates(
    market: &MarketData,
    series: RateSeriesName,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    every: Option<i32>,
) -> ApiResult<RateColumns> {
    let every = check_every(every)?;
    let s: &RateSeries = match series {
        RateSeriesName::FedFunds => market.fed_funds(),
        RateSeriesName::Tbill3m => market.tbill_3m(),
    };
    let (lo, hi) = span(&s.dates, &s.name, from, to).map_err(|e| match e {
        ApiError::BadUserInput { field, message } if field == "ticker" => {
            ApiError::input("series", message)
        }
        other => other,
    })?;
    let idx = sample(lo, hi, every)?;
    Ok(RateColumns {
        series: s.name.clone(),
        every,
        dates: idx.iter().map(|&i| s.dates[i]).collect(),
        rate_pct: idx.iter().map(|&i| s.rate_pct[i]).collect(),
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct TickerSummary {
    pub symbol: String,
    pub name: String,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub last_close: f64,
    pub rows: usize,
}

/// Every loaded dataset with its span and last close, ordered by symbol.
pub fn tickers(market: &MarketData) -> Vec<TickerSummary> {
    market
        .datasets()
        .filter_map(|d| {
            Some(TickerSummary {
                symbol: d.symbol.clone(),
                name: d.name.clone(),
                first_date: *d.dates.first()?,
                last_date: *d.dates.last()?,
                last_close: *d.close.last()?,
                rows: d.dates.len(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_keep_the_last_row_and_are_bounded() {
        assert_eq!(sample(0, 10, 4).unwrap(), vec![0, 4, 8, 10]);
        assert_eq!(sample(3, 3, 1).unwrap(), vec![3]);
        let err = sample(0, 20_000, 1).unwrap_err();
        assert_eq!(err.code(), "BAD_USER_INPUT");
        assert!(sample(0, 20_000, 3).is_ok());
    }
}
