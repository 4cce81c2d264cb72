//! Prints the JSON size of a stored result, per top-level section and per daily column.
//! `cargo run -p engine --release --example result_size -- [START END]`

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use engine::AccountType;
use engine::backtest::{BacktestInput, BacktestOptions, Mode, run_backtest};
use engine::market::MarketData;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let start = args
        .get(1)
        .map_or("2010-01-01", String::as_str)
        .parse::<NaiveDate>()?;
    let end = args
        .get(2)
        .map_or("2024-12-31", String::as_str)
        .parse::<NaiveDate>()?;
    let md = MarketData::load_dir(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data"))?;
    let input = BacktestInput {
        ticker: "SPY".into(),
        mode: Mode::LiquidationReentry,
        start_date: start,
        end_date: end,
        leverage: 2.0,
        account_type: AccountType::RegT,
        initial_investment: 100_000.0,
        profit_threshold_pct: None,
        options: BacktestOptions::default(),
    };
    let r = run_backtest(&md, &input, &mut |_| {}, &AtomicBool::new(false))?;
    let v = serde_json::to_value(&r)?;
    println!(
        "total {} bytes, {} rows",
        serde_json::to_string(&r)?.len(),
        r.daily.len()
    );
    if let Some(obj) = v.as_object() {
        for (k, x) in obj {
            println!("  {k:<20} {:>8}", x.to_string().len());
        }
    }
    if let Some(obj) = v["daily"].as_object() {
        for (k, x) in obj {
            println!("    daily.{k:<24} {:>8}", x.to_string().len());
        }
    }
    Ok(())
}
