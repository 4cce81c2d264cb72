#![allow(dead_code)]
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::NaiveDate;
use engine::market::MarketData;

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

pub fn case_a_market() -> MarketData {
    engine::fixtures::case_a_market()
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
