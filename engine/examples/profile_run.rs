//! Rough phase timings of a full-span SPY run (release build):
//! `cargo run -p engine --release --example profile_run`

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use chrono::NaiveDate;
use engine::AccountType;
use engine::backtest::{BacktestInput, BacktestOptions, Mode, run_backtest};
use engine::figures::{FigureName, FigureOptions, build_figures};
use engine::market::MarketData;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
    let reps = 50;
    let t = Instant::now();
    for _ in 0..10 {
        MarketData::load_dir(&dir)?;
    }
    println!(
        "load_dir       {:>9.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / 10.0
    );
    let md = MarketData::load_dir(&dir)?;
    let input = BacktestInput {
        ticker: "SPY".into(),
        mode: Mode::LiquidationReentry,
        start_date: NaiveDate::from_ymd_opt(1993, 1, 29).ok_or("date")?,
        end_date: NaiveDate::from_ymd_opt(2025, 9, 26).ok_or("date")?,
        leverage: 2.0,
        account_type: AccountType::RegT,
        initial_investment: 100_000.0,
        profit_threshold_pct: None,
        options: BacktestOptions::default(),
    };
    let cancel = AtomicBool::new(false);
    let t = Instant::now();
    for _ in 0..reps {
        run_backtest(&md, &input, &mut |_| {}, &cancel)?;
    }
    println!(
        "run_backtest   {:>9.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
    let r = run_backtest(&md, &input, &mut |_| {}, &cancel)?;
    let t = Instant::now();
    for _ in 0..reps {
        engine::metrics::compute(&r.daily.date[1..], &r.daily.daily_return[1..], 0.0);
    }
    println!(
        "  metrics      {:>9.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
    let t = Instant::now();
    for _ in 0..reps {
        engine::tables::monthly(&r.daily);
        engine::tables::yearly(&r.daily);
    }
    println!(
        "  tables       {:>9.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
    let t = Instant::now();
    for _ in 0..reps {
        engine::cushion::analyse(&r.daily, 0.25);
    }
    println!(
        "  cushion      {:>9.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
    let t = Instant::now();
    for _ in 0..reps {
        md.fed_funds().aligned(&r.daily.date);
    }
    println!(
        "  rate align   {:>9.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
    let t = Instant::now();
    for _ in 0..reps {
        build_figures(&r, &[], FigureOptions::default());
    }
    println!(
        "figure (none)  {:>9.3} ms",
        t.elapsed().as_secs_f64() * 1e3 / reps as f64
    );
    for f in FigureName::ALL {
        let t = Instant::now();
        for _ in 0..reps {
            build_figures(&r, &[f], FigureOptions::default());
        }
        println!(
            "figure {:<18?} {:>9.3} ms",
            f,
            t.elapsed().as_secs_f64() * 1e3 / reps as f64
        );
    }
    Ok(())
}
