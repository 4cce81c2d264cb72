#![allow(dead_code)]
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use engine::market::{Columns, Dataset, MarketData, RateSeries};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

pub fn shipped() -> &'static MarketData {
    static MD: OnceLock<MarketData> = OnceLock::new();
    MD.get_or_init(|| MarketData::load_dir(&data_dir()).expect("shipped data loads"))
}

pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

pub const CASE_A_CLOSES: [f64; 24] = [
    100.0, 101.0, 99.0, 97.0, 92.0, 85.0, 78.0, 70.0, 64.0, 66.0, 68.0, 70.0, 73.0, 77.0, 81.0,
    85.0, 90.0, 95.0, 99.0, 104.0, 110.0, 115.0, 121.0, 126.0,
];

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

/// ENGINE.md §3 reference case A market: 24 business days, a 0.50 dividend ex 2024-01-18,
/// rates flat 5.5 % (both series; the case uses FIXED 5.5 anyway).
pub fn case_a_market() -> MarketData {
    let dates = business_days(d("2024-01-02"), 24);
    let mut div = vec![0.0; 24];
    let ex = dates
        .iter()
        .position(|x| *x == d("2024-01-18"))
        .expect("ex-date");
    div[ex] = 0.5;
    let ds = Dataset::from_columns(
        "SYN",
        Columns {
            dates,
            close: CASE_A_CLOSES.to_vec(),
            dividends: Some(div),
            ..Default::default()
        },
    )
    .expect("synthetic dataset");
    MarketData::new(
        vec![ds],
        RateSeries::constant("DFF", 5.5),
        RateSeries::constant("DTB3", 5.5),
    )
}

pub fn assert_close(name: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{name}: got {got}, want {want} (tol {tol})"
    );
}

pub fn assert_rel(name: &str, got: f64, want: f64, rel: f64) {
    let scale = want.abs().max(1e-300);
    assert!(
        (got - want).abs() / scale <= rel || (got - want).abs() < 1e-15,
        "{name}: got {got:.15e}, want {want:.15e}"
    );
}
