//! `cargo bench -p engine`: full-span SPY runs in each mode (with every metric, table and
//! figure), the calculator, and loading the data directory.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use engine::AccountType;
use engine::backtest::{BacktestInput, BacktestOptions, Mode, run_backtest};
use engine::calculator::{CalcInput, calculate};
use engine::figures::{FigureName, FigureOptions, build_figures};
use engine::market::MarketData;

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

fn full_span(mode: Mode) -> BacktestInput {
    BacktestInput {
        ticker: "SPY".into(),
        mode,
        start_date: NaiveDate::from_ymd_opt(1993, 1, 29).unwrap(),
        end_date: NaiveDate::from_ymd_opt(2025, 9, 26).unwrap(),
        leverage: 2.0,
        account_type: AccountType::RegT,
        initial_investment: 100_000.0,
        profit_threshold_pct: (mode == Mode::ProfitThreshold).then_some(100.0),
        options: BacktestOptions::default(),
    }
}

fn benches(c: &mut Criterion) {
    let md = MarketData::load_dir(&data_dir()).unwrap();
    c.bench_function("load_data_dir", |b| {
        b.iter(|| black_box(MarketData::load_dir(&data_dir()).unwrap()))
    });

    let calc = CalcInput {
        ticker: "SPY".into(),
        investment_amount: 100_000.0,
        leverage: 2.0,
        current_price: Some(450.25),
        account_type: AccountType::RegT,
        position_type: engine::PositionType::Long,
        interest_rate: 5.5,
        holding_period_months: 12,
        maintenance_override: None,
        day_count_basis: None,
    };
    c.bench_function("calculate", |b| {
        b.iter(|| black_box(calculate(black_box(&calc), &md).unwrap()))
    });

    let cancel = AtomicBool::new(false);
    for (label, mode) in [
        ("liquidation_reentry", Mode::LiquidationReentry),
        ("fresh_capital", Mode::FreshCapital),
        ("profit_threshold", Mode::ProfitThreshold),
    ] {
        let input = full_span(mode);
        c.bench_function(
            &format!("backtest_full_span_spy/{label}/run_metrics_tables"),
            |b| {
                b.iter(|| {
                    black_box(run_backtest(&md, black_box(&input), &mut |_| {}, &cancel).unwrap())
                })
            },
        );
        c.bench_function(
            &format!("backtest_full_span_spy/{label}/run_plus_all_figures"),
            |b| {
                b.iter(|| {
                    let r = run_backtest(&md, black_box(&input), &mut |_| {}, &cancel).unwrap();
                    black_box(build_figures(
                        &r,
                        &FigureName::ALL,
                        FigureOptions::default(),
                    ))
                })
            },
        );
    }
    let r = run_backtest(
        &md,
        &full_span(Mode::LiquidationReentry),
        &mut |_| {},
        &cancel,
    )
    .unwrap();
    let every_day = FigureOptions { max_points: 0 };
    for (label, options) in [
        ("1500_points", FigureOptions::default()),
        ("every_day", every_day),
    ] {
        c.bench_function(&format!("figures_only_full_span_spy/{label}"), |b| {
            b.iter(|| black_box(build_figures(black_box(&r), &FigureName::ALL, options)))
        });
        c.bench_function(&format!("figures_to_json_full_span_spy/{label}"), |b| {
            b.iter(|| {
                let figs = build_figures(black_box(&r), &FigureName::ALL, options);
                black_box(serde_json::to_vec(&figs).unwrap())
            })
        });
    }
    c.bench_function("serialize_result_full_span_spy", |b| {
        b.iter(|| black_box(serde_json::to_vec(black_box(&r)).unwrap()))
    });
}

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
