//! `cargo bench -p engine --bench risk`: the risk lab's speed contract (issue #15) on the
//! shipped SPY data, on the global rayon pool (every core).
//!
//! - odds_spy_252_all_windows: every 252-day window of SPY 1993-2025 (7,970), figures included.
//! - max_leverage_spy_252_5pct: the bisection for a 5 % target, PORTFOLIO (the widest range).
//! - forward_10k_252 / forward_100k_252: stationary bootstrap, 2x REG_T.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use criterion::{Criterion, criterion_group, criterion_main};
use engine::AccountType;
use engine::backtest::BacktestOptions;
use engine::market::MarketData;
use engine::risk::{
    ForwardRiskInput, Method, OddsInput, forward_risk, margin_call_odds, max_leverage,
};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data")
}

fn odds(account_type: AccountType) -> OddsInput {
    OddsInput {
        ticker: "SPY".into(),
        leverage: 2.0,
        account_type,
        horizon_days: 252,
        entry_from: None,
        entry_to: None,
        initial_investment: 100_000.0,
        options: BacktestOptions::default(),
    }
}

fn forward(paths: u32) -> ForwardRiskInput {
    ForwardRiskInput {
        ticker: "SPY".into(),
        leverage: 2.0,
        account_type: AccountType::RegT,
        horizon_days: 252,
        paths,
        method: Method::StationaryBootstrap,
        mean_block_days: 20.0,
        sample_from: None,
        sample_to: None,
        seed: 15,
        initial_investment: 100_000.0,
        options: BacktestOptions::default(),
    }
}

fn benches(c: &mut Criterion) {
    let md = MarketData::load_dir(&data_dir()).unwrap();
    let cancel = AtomicBool::new(false);

    let spy = odds(AccountType::RegT);
    c.bench_function("odds_spy_252_all_windows", |b| {
        b.iter(|| black_box(margin_call_odds(&md, black_box(&spy), &cancel).unwrap()))
    });

    let pm = odds(AccountType::Portfolio);
    c.bench_function("max_leverage_spy_252_5pct", |b| {
        b.iter(|| black_box(max_leverage(&md, black_box(&pm), 0.05, &cancel).unwrap()))
    });
    let reg_t = odds(AccountType::RegT);
    c.bench_function("max_leverage_spy_252_5pct_reg_t", |b| {
        b.iter(|| black_box(max_leverage(&md, black_box(&reg_t), 0.05, &cancel).unwrap()))
    });

    let f10 = forward(10_000);
    c.bench_function("forward_10k_252", |b| {
        b.iter(|| black_box(forward_risk(&md, black_box(&f10), &cancel).unwrap()))
    });
    let mut group = c.benchmark_group("forward_large");
    group.sample_size(20);
    let f100 = forward(100_000);
    group.bench_function("forward_100k_252", |b| {
        b.iter(|| black_box(forward_risk(&md, black_box(&f100), &cancel).unwrap()))
    });
    let mut gbm = forward(100_000);
    gbm.method = Method::Gbm;
    group.bench_function("forward_100k_252_gbm", |b| {
        b.iter(|| black_box(forward_risk(&md, black_box(&gbm), &cancel).unwrap()))
    });
    group.finish();
}

criterion_group!(risk_benches, benches);
criterion_main!(risk_benches);
