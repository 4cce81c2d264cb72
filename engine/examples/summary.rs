//! Prints the summary, rounds and events of one run:
//! `cargo run -p engine --example summary -- SPY LIQUIDATION_REENTRY 2008-01-01 2024-12-31 2 REG_T`

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use engine::backtest::{BacktestInput, BacktestOptions, run_backtest};
use engine::market::MarketData;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let get = |i: usize, d: &str| a.get(i).cloned().unwrap_or_else(|| d.to_string());
    let md = MarketData::load_dir(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data"))?;
    let input = BacktestInput {
        ticker: get(0, "SPY"),
        mode: get(1, "liquidation-reentry").parse()?,
        start_date: get(2, "2008-01-01").parse()?,
        end_date: get(3, "2024-12-31").parse()?,
        leverage: get(4, "2").parse()?,
        account_type: get(5, "reg-t").parse()?,
        initial_investment: 100_000.0,
        profit_threshold_pct: Some(100.0),
        options: BacktestOptions::default(),
    };
    let r = run_backtest(&md, &input, &mut |_| {}, &AtomicBool::new(false))?;
    println!("{}", serde_json::to_string_pretty(&r.summary)?);
    println!("{}", serde_json::to_string_pretty(&r.engine_metrics)?);
    for rd in &r.rounds {
        println!("{}", serde_json::to_string(rd)?);
    }
    for e in r.events.iter().take(12) {
        println!("{}", serde_json::to_string(e)?);
    }
    println!("{}", serde_json::to_string_pretty(&r.cushion)?);
    Ok(())
}
