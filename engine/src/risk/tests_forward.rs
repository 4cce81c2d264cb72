//! `forwardRisk`: the contract's checks (no call at 1x, GBM against its closed form, constant
//! returns against the deterministic run, bit-identical output whatever the thread count).

use std::sync::atomic::AtomicBool;

use chrono::Duration;
use proptest::prelude::*;

use super::forward::Prepared;
use super::series::{bars, margin_rate_pct};
use super::tests_support::{d, rel, shipped};
use super::window::{Rules, run_window};
use super::*;
use crate::account::{AccountType, PositionType, Profile};
use crate::backtest::{BacktestOptions, InterestModel};
use crate::market::{Columns, Dataset, MarketData, RateSeries};

fn fwd(
    ticker: &str,
    leverage: f64,
    h: u32,
    method: Method,
    paths: u32,
    seed: u64,
) -> ForwardRiskInput {
    ForwardRiskInput {
        ticker: ticker.into(),
        leverage,
        account_type: AccountType::RegT,
        horizon_days: h,
        paths,
        method,
        mean_block_days: 20.0,
        sample_from: None,
        sample_to: None,
        seed,
        initial_investment: 100_000.0,
        options: BacktestOptions::default(),
    }
}

fn no() -> AtomicBool {
    AtomicBool::new(false)
}

#[test]
fn leverage_one_never_calls() {
    for method in [
        Method::StationaryBootstrap,
        Method::IidBootstrap,
        Method::Gbm,
    ] {
        let mut input = fwd("QQQ", 1.0, 756, method, 2_000, 7);
        input.options.intraday = true;
        let r = forward_risk(shipped(), &input, &no()).unwrap();
        assert_eq!(r.paths_with_call, 0, "{method:?}");
        assert_eq!(r.probability, 0.0);
        assert_eq!(r.days_to_first_call, None);
        assert!(r.terminal_equity.p5 > 0.0);
    }
}

#[test]
fn gbm_without_interest_matches_the_first_passage_formula() {
    for (leverage, h) in [(4.0, 63), (3.0, 252)] {
        let mut input = fwd("SPY", leverage, h, Method::Gbm, 100_000, 2024);
        input.account_type = AccountType::Portfolio;
        input.options.interest = InterestModel::Fixed { rate_pct: 0.0 };
        let r = forward_risk(shipped(), &input, &no()).unwrap();
        let analytic = r.analytic_probability.expect("zero interest: analytic");
        let p = r.probability;
        let se = (analytic * (1.0 - analytic) / f64::from(r.paths)).sqrt();
        eprintln!(
            "GBM {leverage}x H={h}: Monte Carlo {p}, analytic {analytic}, 4 SE {}",
            4.0 * se
        );
        assert!((0.05..0.40).contains(&analytic), "{analytic}");
        assert!(
            (p - analytic).abs() <= 4.0 * se,
            "MC {p} vs analytic {analytic} (se {se})"
        );
    }
    // With interest the formula is not exact: null; and it is GBM's only.
    let mut input = fwd("SPY", 4.0, 63, Method::Gbm, 100, 2024);
    input.account_type = AccountType::Portfolio;
    input.options.interest = InterestModel::Fixed { rate_pct: 5.0 };
    assert_eq!(
        forward_risk(shipped(), &input, &no())
            .unwrap()
            .analytic_probability,
        None
    );
    input.method = Method::IidBootstrap;
    input.options.interest = InterestModel::Fixed { rate_pct: 0.0 };
    assert_eq!(
        forward_risk(shipped(), &input, &no())
            .unwrap()
            .analytic_probability,
        None
    );
}

/// Consecutive calendar days (Δ = 1, so every day's interest factor is the same), closes
/// growing by a constant factor, lows a constant fraction below, a constant dividend yield.
fn constant_market(growth: f64, dividend_yield: f64) -> MarketData {
    let n = 300;
    let start = d("2020-01-01");
    let dates: Vec<_> = (0..n).map(|k| start + Duration::days(k as i64)).collect();
    let mut close = Vec::with_capacity(n);
    let mut p = 100.0;
    for _ in 0..n {
        close.push(p);
        p *= growth;
    }
    let low: Vec<f64> = close.iter().map(|c| c * 0.99).collect();
    let dividends: Vec<f64> = (0..n)
        .map(|k| {
            if k == 0 {
                0.0
            } else {
                close[k - 1] * dividend_yield
            }
        })
        .collect();
    let ds = Dataset::from_columns(
        "CONST",
        Columns {
            dates,
            low: Some(low),
            close,
            dividends: Some(dividends),
            ..Default::default()
        },
    )
    .unwrap();
    MarketData::new(
        vec![ds],
        RateSeries::constant("DFF", 5.0),
        RateSeries::constant("DTB3", 5.0),
    )
}

#[test]
fn constant_returns_give_the_deterministic_run_on_every_path() {
    for (growth, dy, leverage, h, intraday) in [
        (1.001, 0.0001, 2.0, 126, false),
        (0.995, 0.0, 2.0, 126, false),
        (0.997, 0.0002, 1.8, 252, true),
    ] {
        let md = constant_market(growth, dy);
        let ds = md.dataset("CONST").unwrap();
        let o = BacktestOptions {
            intraday,
            ..Default::default()
        };
        let rates = margin_rate_pct(&md, ds, &o);
        let m = Profile::new(AccountType::RegT, PositionType::Long, None).maintenance;
        let rules = Rules::new(m, intraday, 0.0);
        let det = run_window(
            &bars(ds, &rates, 365.0, 0, h as usize),
            100_000.0,
            leverage,
            &rules,
        );
        for method in [Method::StationaryBootstrap, Method::IidBootstrap] {
            let mut input = fwd("CONST", leverage, h, method, 500, 99);
            input.options = o.clone();
            let prep = Prepared::new(&md, &input).unwrap();
            let (outcomes, _, _) = prep.simulate(&no()).unwrap();
            for (k, out) in outcomes.iter().enumerate() {
                assert_eq!(
                    out.call_day, det.call_day,
                    "path {k} {method:?} growth {growth}"
                );
                assert!(
                    rel(out.equity, det.equity) < 1e-9,
                    "path {k}: {} vs {}",
                    out.equity,
                    det.equity
                );
            }
            let r = forward_risk(&md, &input, &no()).unwrap();
            let t = r.terminal_equity;
            assert!(rel(t.p5, t.p95) < 1e-9 && rel(r.expected_shortfall5, det.equity) < 1e-9);
        }
        eprintln!(
            "constant {growth}: deterministic call {:?}, equity {}",
            det.call_day, det.equity
        );
    }
}

#[test]
fn gbm_log_space_walk_equals_the_general_position_model() {
    use super::paths::{run_path, run_path_general};
    use super::sketch::{FanDays, Sketch};
    for (leverage, rate, intraday) in [(4.0, 0.0, false), (5.0, 6.0, true), (3.0, 3.0, false)] {
        let mut input = fwd("QQQ", leverage, 252, Method::Gbm, 100, 5);
        input.account_type = AccountType::Portfolio;
        input.options.interest = InterestModel::Fixed { rate_pct: rate };
        input.options.intraday = intraday;
        input.options.liquidation_slippage_bps = 20.0;
        let prep = Prepared::new(shipped(), &input).unwrap();
        let spec = prep.spec();
        let fan = FanDays::new(252);
        let (mut a, mut b) = (Sketch::new(fan.days.len()), Sketch::new(fan.days.len()));
        let mut calls = 0;
        for k in 0..3_000 {
            let fast = run_path(&spec, k, &fan, &mut a);
            let slow = run_path_general(&spec, k, &fan, &mut b);
            assert_eq!(fast.call_day, slow.call_day, "path {k} at {leverage}x");
            let tol = 1e-9 * input.initial_investment;
            assert!(
                (fast.equity - slow.equity).abs() <= tol,
                "path {k}: {fast:?} vs {slow:?}"
            );
            calls += usize::from(fast.call_day.is_some());
        }
        assert!(calls > 100, "{calls} calls at {leverage}x");
    }
}

fn json_with_threads(input: &ForwardRiskInput, threads: usize) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| serde_json::to_string(&forward_risk(shipped(), input, &no()).unwrap()).unwrap())
}

#[test]
fn bit_identical_whatever_the_thread_count() {
    for method in [
        Method::StationaryBootstrap,
        Method::IidBootstrap,
        Method::Gbm,
    ] {
        let mut input = fwd("SPY", 2.0, 252, method, 3_000, 11);
        input.account_type = AccountType::Portfolio;
        input.leverage = 4.0;
        let one = json_with_threads(&input, 1);
        assert_eq!(one, json_with_threads(&input, 2), "{method:?}");
        assert_eq!(one, json_with_threads(&input, 3), "{method:?}");
        let r: ForwardRisk = serde_json::from_str(&one).unwrap();
        assert!(r.paths_with_call > 0, "{method:?}: some paths call at 4x");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]
    #[test]
    fn any_seed_is_reproducible_across_thread_counts(seed in any::<u64>(), block in 1.0f64..60.0) {
        let mut input = fwd("QQQ", 1.9, 63, Method::StationaryBootstrap, 400, seed);
        input.mean_block_days = block;
        input.options.intraday = true;
        let one = json_with_threads(&input, 1);
        prop_assert_eq!(&one, &json_with_threads(&input, 2));
        prop_assert_eq!(&one, &json_with_threads(&input, 3));
        let mut other = input.clone();
        other.seed = seed.wrapping_add(1);
        prop_assert_ne!(one, json_with_threads(&other, 2));
    }
}

#[test]
fn summary_fields_and_names() {
    let mut input = fwd("SPY", 2.0, 252, Method::StationaryBootstrap, 5_000, 3);
    input.sample_from = Some(d("2000-01-01"));
    input.sample_to = Some(d("2012-12-31"));
    let r = forward_risk(shipped(), &input, &no()).unwrap();
    assert_eq!(r.seed, 3);
    assert_eq!(r.paths, 5_000);
    assert_eq!(r.input.sample_from, Some(d("2000-01-03")));
    assert!(r.interval.low <= r.probability && r.probability <= r.interval.high);
    let t = r.terminal_equity;
    assert!(t.p5 <= t.p25 && t.p25 <= t.p50 && t.p50 <= t.p75 && t.p75 <= t.p95);
    assert!(r.expected_shortfall5 <= t.p5 + 1e-9);
    let json = serde_json::to_value(&r).unwrap();
    for k in [
        "paths",
        "seed",
        "probability",
        "interval",
        "daysToFirstCall",
        "terminalEquity",
        "expectedShortfall5",
        "analyticProbability",
        "figures",
    ] {
        assert!(json.get(k).is_some(), "missing {k}");
    }
    let fan = &json["figures"]["fan"]["data"];
    assert_eq!(fan.as_array().map(Vec::len), Some(6));
    assert_eq!(fan[0]["x"].as_array().map(Vec::len), Some(64));
    // Day H of the bands is the exact terminal distribution.
    assert_eq!(
        fan[4]["y"][63].as_f64(),
        Some(crate::serde_round::sig(t.p50, 6))
    );
    let back: ForwardRisk = serde_json::from_value(json).unwrap();
    assert_eq!(back.paths_with_call, r.paths_with_call);
    let parsed: ForwardRiskInput =
        serde_json::from_str(r#"{"ticker":"SPY","leverage":2,"seed":5,"method":"GBM"}"#).unwrap();
    assert_eq!((parsed.paths, parsed.horizon_days), (10_000, 252));
    assert_eq!("iid".parse::<Method>().unwrap(), Method::IidBootstrap);
}

#[test]
fn bad_forward_inputs_are_typed_errors() {
    let base = fwd("SPY", 2.0, 252, Method::StationaryBootstrap, 1_000, 1);
    let field = |f: &dyn Fn(&mut ForwardRiskInput)| {
        let mut i = base.clone();
        f(&mut i);
        match forward_risk(shipped(), &i, &no()) {
            Err(RiskError::Input(e)) => e.field,
            other => panic!("expected an input error, got {:?}", other.map(|r| r.paths)),
        }
    };
    assert_eq!(field(&|i| i.paths = 99), "paths");
    assert_eq!(field(&|i| i.paths = 100_001), "paths");
    assert_eq!(field(&|i| i.horizon_days = 2_521), "horizonDays");
    assert_eq!(field(&|i| i.leverage = 2.01), "leverage");
    assert_eq!(field(&|i| i.mean_block_days = 0.5), "meanBlockDays");
    assert_eq!(
        field(&|i| i.sample_from = Some(d("1900-01-01"))),
        "sampleFrom"
    );
    assert_eq!(field(&|i| i.sample_to = Some(d("2099-01-01"))), "sampleTo");
    assert_eq!(
        field(&|i| {
            i.sample_from = Some(d("2020-03-02"));
            i.sample_to = Some(d("2020-03-13"));
        }),
        "sampleFrom"
    );
    assert_eq!(
        field(&|i| {
            i.sample_from = Some(d("2020-03-14"));
            i.sample_to = Some(d("2020-03-15"));
        }),
        "sampleFrom"
    );
    // Not used by GBM, so not checked there (and reset in the canonical form).
    let mut gbm = base.clone();
    gbm.method = Method::Gbm;
    gbm.mean_block_days = 0.0;
    let norm = normalize_forward(&gbm, shipped()).unwrap();
    assert_eq!(norm.mean_block_days, DEFAULT_MEAN_BLOCK_DAYS);
    assert_eq!(normalize_forward(&norm, shipped()).unwrap(), norm);
}

#[test]
fn cache_key_includes_the_seed_and_cancel_stops() {
    let md = shipped();
    let input = fwd("spy", 2.0, 252, Method::StationaryBootstrap, 1_000, 1);
    let key = forward_cache_key_for(md, &input).unwrap();
    let mut upper = input.clone();
    upper.ticker = "SPY".into();
    upper.options.wait_days = 9;
    assert_eq!(key, forward_cache_key_for(md, &upper).unwrap());
    let mut seeded = input.clone();
    seeded.seed = 2;
    assert_ne!(key, forward_cache_key_for(md, &seeded).unwrap());
    let cancelled = AtomicBool::new(true);
    assert_eq!(
        forward_risk(md, &input, &cancelled).map(|r| r.paths),
        Err(RiskError::Cancelled)
    );
}
