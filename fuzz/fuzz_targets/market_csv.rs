//! The market-data CSV parsers (prices and rates) on arbitrary text: no panic; what parses
//! is valid (sorted dates, prices in range, finite numbers); the fast number and date parsers
//! agree with the standard library; and a dataset that parses can be backtested and
//! calculated on with finite results.

#![no_main]

use std::sync::atomic::AtomicBool;

use engine::backtest::{BacktestInput, BacktestOptions, Mode, run_backtest};
use engine::calculator::{CalcInput, calculate};
use engine::market::{PRICE_RANGE, parse_date, parse_f64};
use engine::{AccountType, Dataset, MarketData, PositionType, RateSeries};
use libfuzzer_sys::fuzz_target;
use margin_fuzz::{assert_backtest_finite, assert_finite};

fuzz_target!(|data: &[u8]| {
    // The loaders read files with `read_to_string`: invalid UTF-8 never reaches the parsers.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for field in text.split([',', '\n', '\r']) {
        check_number(field);
        check_date(field);
    }
    if let Ok(ds) = Dataset::parse_csv("FUZZ", "fuzz.csv", text) {
        note("prices parsed");
        check_dataset(&ds);
        run_on(ds);
    }
    if let Ok(series) = RateSeries::parse_csv("DFF", "fuzz.csv", text) {
        note("rates parsed");
        assert!(
            series.rate_pct.iter().all(|r| r.is_finite()),
            "rate not finite"
        );
        assert!(
            series.dates.windows(2).all(|w| w[0] < w[1]),
            "rate dates not increasing"
        );
        if let (Some(&first), Some(&last)) = (series.dates.first(), series.dates.last()) {
            let dates = [
                first.pred_opt().unwrap_or(first),
                first,
                last,
                last.succ_opt().unwrap_or(last),
            ];
            assert!(series.aligned(&dates).iter().all(|r| r.is_finite()));
        }
    }
});

/// `parse_f64` promises exactly `str::parse::<f64>`.
fn check_number(field: &str) {
    let fast = parse_f64(field).map(f64::to_bits);
    let std = field.parse::<f64>().ok().map(f64::to_bits);
    let both_nan =
        parse_f64(field).is_some_and(f64::is_nan) && field.parse::<f64>().is_ok_and(f64::is_nan);
    assert!(
        fast == std || both_nan,
        "parse_f64({field:?}) = {fast:?}, str::parse = {std:?}"
    );
}

/// A date that parses prints back as the same text.
fn check_date(field: &str) {
    if let Some(date) = parse_date(field) {
        assert_eq!(date.format("%Y-%m-%d").to_string(), field);
    }
}

fn check_dataset(ds: &Dataset) {
    let n = ds.dates.len();
    assert!(n > 0, "a dataset without rows parsed");
    assert!(
        ds.dates.windows(2).all(|w| w[0] < w[1]),
        "dates not strictly increasing"
    );
    for column in [&ds.open, &ds.high, &ds.low, &ds.close, &ds.adj_close] {
        assert_eq!(column.len(), n);
        assert!(
            column
                .iter()
                .all(|v| (PRICE_RANGE.0..=PRICE_RANGE.1).contains(v)),
            "a price outside PRICE_RANGE parsed"
        );
    }
    assert!(ds.volume.iter().all(|v| v.is_finite() && *v >= 0.0));
    assert_eq!(ds.dividends.len(), n);
    assert!(ds.dividends.iter().all(|d| d.is_finite() && *d >= 0.0));
    assert_eq!(ds.fingerprint.len(), 64);
}

/// The parsed dataset goes through the calculator and a full-span backtest.
fn run_on(ds: Dataset) {
    let first = ds.dates[0];
    let last = ds.dates[ds.dates.len() - 1];
    let market = MarketData::new(
        vec![ds],
        RateSeries::constant("DFF", 4.0),
        RateSeries::constant("DTB3", 3.5),
    );
    for position_type in [PositionType::Long, PositionType::Short] {
        let input = CalcInput {
            ticker: "FUZZ".into(),
            investment_amount: 100_000.0,
            leverage: 2.0,
            current_price: None,
            account_type: AccountType::RegT,
            position_type,
            interest_rate: 8.0,
            holding_period_months: 12,
            maintenance_override: None,
            day_count_basis: None,
        };
        if let Ok(result) = calculate(&input, &market) {
            assert_finite("calculator", &result);
            note("calculation computed");
        }
    }
    if last <= first {
        return;
    }
    for mode in [
        Mode::LiquidationReentry,
        Mode::FreshCapital,
        Mode::ProfitThreshold,
    ] {
        let input = BacktestInput {
            ticker: "fuzz".into(),
            mode,
            start_date: first,
            end_date: last,
            leverage: 2.0,
            account_type: AccountType::RegT,
            initial_investment: 10_000.0,
            profit_threshold_pct: None,
            options: BacktestOptions::default(),
        };
        if let Ok(result) = run_backtest(&market, &input, &mut |_| {}, &AtomicBool::new(false)) {
            assert_backtest_finite(&result);
            note("backtest computed");
        }
    }
}

/// With `FUZZ_NOTES` set, says which paths an input reached (to check a corpus's coverage).
fn note(what: &str) {
    if std::env::var_os("FUZZ_NOTES").is_some() {
        eprintln!("note: {what}");
    }
}
