//! Synthetic reference data from SPEC.md §3 (case A), public so tests, examples, benches and
//! the golden-fixture exporter build exactly the same market.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::account::AccountType;
use crate::backtest::{BacktestInput, BacktestOptions, InterestModel, Mode};
use crate::market::{Columns, Dataset, MarketData, RateSeries};

pub const CASE_A_CLOSES: [f64; 24] = [
    100.0, 101.0, 99.0, 97.0, 92.0, 85.0, 78.0, 70.0, 64.0, 66.0, 68.0, 70.0, 73.0, 77.0, 81.0,
    85.0, 90.0, 95.0, 99.0, 104.0, 110.0, 115.0, 121.0, 126.0,
];

/// Monday–Friday dates from `start` (no holiday calendar: the reference case trades on
/// 2024-01-15).
pub fn business_days(start: NaiveDate, n: usize) -> Vec<NaiveDate> {
    let mut out = Vec::with_capacity(n);
    let mut day = start;
    while out.len() < n {
        if !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            out.push(day);
        }
        day += Duration::days(1);
    }
    out
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// Case A market: symbol `SYN`, 24 business days from 2024-01-02, a 0.50 dividend ex
/// 2024-01-18, both rate series flat 5.5 %.
pub fn case_a_market() -> MarketData {
    let dates = business_days(ymd(2024, 1, 2), CASE_A_CLOSES.len());
    let dividends = dates
        .iter()
        .map(|d| if *d == ymd(2024, 1, 18) { 0.5 } else { 0.0 })
        .collect();
    let cols = Columns {
        dates,
        close: CASE_A_CLOSES.to_vec(),
        dividends: Some(dividends),
        ..Default::default()
    };
    let ds = Dataset::from_columns("SYN", cols).expect("the reference columns are valid");
    MarketData::new(
        vec![ds],
        RateSeries::constant("DFF", 5.5),
        RateSeries::constant("DTB3", 5.5),
    )
}

/// Case A input (B is the same with `Mode::FreshCapital`).
pub fn case_a_input(mode: Mode) -> BacktestInput {
    BacktestInput {
        ticker: "SYN".into(),
        mode,
        start_date: ymd(2024, 1, 2),
        end_date: ymd(2024, 2, 2),
        leverage: 2.0,
        account_type: AccountType::RegT,
        initial_investment: 50_000.0,
        profit_threshold_pct: None,
        options: BacktestOptions {
            interest: InterestModel::Fixed { rate_pct: 5.5 },
            ..Default::default()
        },
    }
}
