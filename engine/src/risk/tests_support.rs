//! Shared test helpers: the shipped data, loaded once.

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::NaiveDate;

use crate::market::MarketData;

pub(crate) fn shipped() -> &'static MarketData {
    static MD: OnceLock<MarketData> = OnceLock::new();
    MD.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
        MarketData::load_dir(&dir).expect("shipped data loads")
    })
}

pub(crate) fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

pub(crate) fn rel(got: f64, want: f64) -> f64 {
    (got - want).abs() / want.abs().max(1e-300)
}
