//! `cargo bench -p engine --bench sweep`: the sweep speed contract (issue #16) on the shipped
//! SPY data, on the global rayon pool (every core; the contract is for 2).
//!
//! - sweep_20x20_spy_15y: leverage 1.00–1.95 × maintenance 25–44 %, SPY 2010–2024 (every cell
//!   a 15-year run). Target ≤ 300 ms.
//! - sweep_20x20_spy_start_year: leverage 1.00–1.95 × start year 1995–2014, to 2024-12-31
//!   (runs of 11–30 years, 20.5 on average: more work than 15-year cells).
//! - sweep_100x100_spy_15y: leverage 1.00–1.99 × fixed rate 0–9.9 %, SPY 2010–2024. Target ≤ 8 s.
//! - sweep_100x100_progress_gap: the same grid, but the time reported is the longest wait for
//!   a batch of finished cells (from the start to the first, or between two): what a
//!   `sweepProgress` follower waits at most. Target ≤ 250 ms.
//! - run_summary_spy_15y / run_backtest_spy_15y: one cell, and the full result it stands for.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use engine::AccountType;
use engine::backtest::{BacktestInput, BacktestOptions, Mode, run_backtest, run_summary};
use engine::market::MarketData;
use engine::sweep::{SweepAxis, SweepInput, SweepParameter, run_sweep};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn base(start: NaiveDate) -> BacktestInput {
    BacktestInput {
        ticker: "SPY".into(),
        mode: Mode::LiquidationReentry,
        start_date: start,
        end_date: date(2024, 12, 31),
        leverage: 2.0,
        account_type: AccountType::RegT,
        initial_investment: 100_000.0,
        profit_threshold_pct: None,
        options: BacktestOptions::default(),
    }
}

/// `n` values `from + k·step`, rounded to the 2 decimals every axis here is written in.
fn values(from: f64, step: f64, n: u32) -> Vec<f64> {
    (0..n)
        .map(|k| ((from + f64::from(k) * step) * 100.0).round() / 100.0)
        .collect()
}

fn axis(parameter: SweepParameter, values: Vec<f64>) -> SweepAxis {
    SweepAxis { parameter, values }
}

fn grid(x: SweepAxis, y: SweepAxis, start: NaiveDate) -> SweepInput {
    SweepInput {
        base: base(start),
        x,
        y: Some(y),
    }
}

fn benches(c: &mut Criterion) {
    let md = MarketData::load_dir(&data_dir()).unwrap();
    let cancel = AtomicBool::new(false);
    let start_15y = date(2010, 1, 1);
    let sweep = |input: &SweepInput| {
        let r = run_sweep(&md, input, &mut |_, _| {}, &cancel).unwrap();
        assert_eq!(r.completed_cells, r.cell_count);
        r
    };

    let cell = base(start_15y);
    c.bench_function("run_summary_spy_15y", |b| {
        b.iter(|| black_box(run_summary(&md, black_box(&cell), &cancel).unwrap()))
    });
    c.bench_function("run_backtest_spy_15y", |b| {
        b.iter(|| black_box(run_backtest(&md, black_box(&cell), &mut |_| {}, &cancel).unwrap()))
    });

    let mut group = c.benchmark_group("sweep");
    group.sample_size(20);
    let g20 = grid(
        axis(SweepParameter::Leverage, values(1.0, 0.05, 20)),
        axis(SweepParameter::MaintenancePct, values(25.0, 1.0, 20)),
        start_15y,
    );
    assert!(sweep(&g20).cells.iter().all(|c| c.summary.is_some()));
    group.bench_function("sweep_20x20_spy_15y", |b| b.iter(|| black_box(sweep(&g20))));
    let years = grid(
        axis(SweepParameter::Leverage, values(1.0, 0.05, 20)),
        axis(SweepParameter::StartYear, values(1995.0, 1.0, 20)),
        date(1995, 1, 1),
    );
    assert!(sweep(&years).cells.iter().all(|c| c.summary.is_some()));
    group.bench_function("sweep_20x20_spy_start_year", |b| {
        b.iter(|| black_box(sweep(&years)))
    });
    group.finish();

    let mut group = c.benchmark_group("sweep_large");
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(30));
    let g100 = grid(
        axis(SweepParameter::Leverage, values(1.0, 0.01, 100)),
        axis(SweepParameter::FixedRatePct, values(0.0, 0.1, 100)),
        start_15y,
    );
    assert!(sweep(&g100).cells.iter().all(|c| c.summary.is_some()));
    group.bench_function("sweep_100x100_spy_15y", |b| {
        b.iter(|| black_box(sweep(&g100)))
    });
    group.bench_function("sweep_100x100_progress_gap", |b| {
        b.iter_custom(|iterations| {
            let mut longest = Duration::ZERO;
            for _ in 0..iterations {
                let mut last = Instant::now();
                let mut on_cells = |_: usize, _: &[engine::sweep::SweepCell]| {
                    longest = longest.max(last.elapsed());
                    last = Instant::now();
                };
                black_box(run_sweep(&md, &g100, &mut on_cells, &cancel).unwrap());
            }
            // Criterion divides by the iterations: report the longest gap once per iteration.
            longest * u32::try_from(iterations).unwrap_or(u32::MAX)
        })
    });
    group.finish();
}

criterion_group!(sweep_benches, benches);
criterion_main!(sweep_benches);
