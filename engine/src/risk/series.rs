//! Per-row arrays the position model reads, computed once per call: the margin rate exactly as
//! a backtest derives it, each row's interest factor, dividend reinvestment factor, and prices.

use chrono::Datelike;

use crate::backtest::{BacktestOptions, InterestModel};
use crate::market::{Dataset, MarketData};

/// What one trading day does to a position (absolute prices).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bar {
    /// Interest factor `r_{t−1}/100/B·Δ_t`: the day's interest is `D·g`.
    pub g: f64,
    /// Dividend reinvestment `q_t/P_t`: the day's new shares are `N·qy`.
    pub qy: f64,
    pub close: f64,
    pub low: f64,
    pub open: f64,
}

/// Margin rate in percent per row of `ds`, as `run_backtest` computes it (fed funds or T-bill
/// plus the spread, floored at 0, or the fixed rate), from the rates aligned at load.
pub(crate) fn margin_rate_pct(md: &MarketData, ds: &Dataset, o: &BacktestOptions) -> Vec<f64> {
    // A dataset built by hand and never inserted has no aligned rates: align them here, as
    // the backtest does.
    let computed;
    let (fed_funds, tbill): (&[f64], &[f64]) = match md.aligned_rates(&ds.symbol) {
        Some(a) if a.fed_funds.len() == ds.len() && a.tbill_3m.len() == ds.len() => {
            (&a.fed_funds, &a.tbill_3m)
        }
        _ => {
            computed = (
                md.fed_funds().aligned(&ds.dates),
                md.tbill_3m().aligned(&ds.dates),
            );
            (&computed.0, &computed.1)
        }
    };
    match o.interest {
        InterestModel::FedFundsPlus { spread_pct } => fed_funds
            .iter()
            .map(|x| (x + spread_pct).max(0.0))
            .collect(),
        InterestModel::TbillPlus { spread_pct } => {
            tbill.iter().map(|x| (x + spread_pct).max(0.0)).collect()
        }
        InterestModel::Fixed { rate_pct } => vec![rate_pct; ds.len()],
    }
}

/// Bars for rows `from..=to` of `ds` (index `k` is row `from + k`). The first bar's `g` and
/// `qy` are 0: it is only ever an entry day, where neither applies.
pub(crate) fn bars(
    ds: &Dataset,
    margin_rate_pct: &[f64],
    basis: f64,
    from: usize,
    to: usize,
) -> Vec<Bar> {
    let mut out = Vec::with_capacity(to + 1 - from);
    let mut prev_day = ds.dates[from].num_days_from_ce();
    for t in from..=to {
        let day = ds.dates[t].num_days_from_ce();
        let p = ds.close[t];
        let (g, qy) = if t == from {
            (0.0, 0.0)
        } else {
            let dt = f64::from(day - prev_day);
            let q = ds.dividends[t];
            (
                margin_rate_pct[t - 1] / 100.0 / basis * dt,
                if q > 0.0 { q / p } else { 0.0 },
            )
        };
        out.push(Bar {
            g,
            qy,
            close: p,
            low: ds.low[t],
            open: ds.open[t],
        });
        prev_day = day;
    }
    out
}

/// One sampled day of a path, relative to the previous close (issue #15: each sampled day
/// carries its close ratio, its low and open over the previous close, its dividend and its
/// rate).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Move {
    /// `P_t/P_{t−1}`.
    pub ratio: f64,
    /// `low_t/P_{t−1}`.
    pub low: f64,
    /// `open_t/P_{t−1}`: the engine's intraday fill is `min(open, P_call)`.
    pub open: f64,
    /// `q_t/P_t` (the yield `q_t/P_{t−1}` divided by the ratio, i.e. shares bought per share).
    pub qy: f64,
    /// The day's interest factor `r_{t−1}/100/B·Δ_t` (its own rate and calendar gap).
    pub g: f64,
}

/// The day moves of rows `from+1..=to`.
pub(crate) fn moves(
    ds: &Dataset,
    margin_rate_pct: &[f64],
    basis: f64,
    from: usize,
    to: usize,
) -> Vec<Move> {
    bars(ds, margin_rate_pct, basis, from, to)
        .windows(2)
        .map(|w| {
            let prev = w[0].close;
            Move {
                ratio: w[1].close / prev,
                low: w[1].low / prev,
                open: w[1].open / prev,
                qy: w[1].qy,
                g: w[1].g,
            }
        })
        .collect()
}
