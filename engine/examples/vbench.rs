//! Hot loop for profiling one phase:
//! `cargo run -p engine --release --example vbench -- run|run_typed|load|figures|serialize [REPS] [lr|fc|pt]`
//! Under `valgrind --tool=callgrind` the inclusive count of `run_backtest` divided by REPS is the
//! repeatable per-run cost (wall clock on the shared box is not).
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::NaiveDate;
use engine::AccountType;
use engine::backtest::{BacktestInput, BacktestOptions, Mode, run_backtest};
use engine::market::MarketData;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let what = std::env::args().nth(1).unwrap_or_else(|| "run".into());
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
    let md = MarketData::load_dir(&dir)?;
    let mode = match std::env::args().nth(3).as_deref() {
        Some("fc") => Mode::FreshCapital,
        Some("pt") => Mode::ProfitThreshold,
        _ => Mode::LiquidationReentry,
    };
    let input = BacktestInput {
        ticker: "SPY".into(),
        mode,
        start_date: NaiveDate::from_ymd_opt(1993, 1, 29).ok_or("date")?,
        end_date: NaiveDate::from_ymd_opt(2025, 9, 26).ok_or("date")?,
        leverage: 2.0,
        account_type: AccountType::RegT,
        initial_investment: 100_000.0,
        profit_threshold_pct: (mode == Mode::ProfitThreshold).then_some(100.0),
        options: BacktestOptions::default(),
    };
    let cancel = AtomicBool::new(false);
    let r = run_backtest(&md, &input, &mut |_| {}, &cancel)?;
    let reps: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let t = Instant::now();
    for _ in 0..reps {
        match what.as_str() {
            "load" => drop(MarketData::load_dir(&dir)?),
            "serialize" => drop(serde_json::to_vec(&r)?),
            "figures" => drop(engine::figures::build_figures(
                &r,
                &engine::figures::FigureName::ALL,
                engine::figures::FigureOptions::default(),
            )),
            "run_typed" => {
                let r = run_backtest(&md, &input, &mut |_| {}, &cancel)?;
                drop(engine::figures::build_figures(
                    &r,
                    &engine::figures::FigureName::ALL,
                    engine::figures::FigureOptions::default(),
                ))
            }
            _ => drop(run_backtest(&md, &input, &mut |_| {}, &cancel)?),
        }
    }
    println!(
        "{what}: {:.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
    Ok(())
}
