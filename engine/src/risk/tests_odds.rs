//! `marginCallOdds` / `maxLeverage` against the backtest engine and the contract.

use std::sync::atomic::AtomicBool;

use super::odds::Windows;
use super::tests_support::{d, rel, shipped};
use super::*;
use crate::account::AccountType;
use crate::backtest::{
    BacktestInput, BacktestOptions, EventKind, InterestModel, Mode, run_backtest,
};

fn odds_input(ticker: &str, leverage: f64, h: u32) -> OddsInput {
    OddsInput {
        ticker: ticker.into(),
        leverage,
        account_type: AccountType::RegT,
        horizon_days: h,
        entry_from: None,
        entry_to: None,
        initial_investment: 100_000.0,
        options: BacktestOptions::default(),
    }
}

/// Runs the backtest engine once per sampled window (every 50th entry and every entry that
/// calls) and checks the same first call on the same day, and the same final equity.
fn brute_force(input: &OddsInput) {
    let md = shipped();
    let no = AtomicBool::new(false);
    let w = Windows::new(md, input).unwrap();
    let outcomes = w.outcomes(input.leverage, &no).unwrap();
    let ds = md.dataset(&input.ticker).unwrap();
    let h = input.horizon_days as usize;
    let first = w.r.first_entry;
    let mut checked = 0;
    let mut calls = 0;
    for (k, o) in outcomes.iter().enumerate() {
        if k % 50 != 0 && o.call_day.is_none() {
            continue;
        }
        let i = first + k;
        let bt = BacktestInput {
            ticker: input.ticker.clone(),
            mode: Mode::LiquidationReentry,
            start_date: ds.dates[i],
            end_date: ds.dates[i + h],
            leverage: input.leverage,
            account_type: input.account_type,
            initial_investment: input.initial_investment,
            profit_threshold_pct: None,
            options: input.options.clone(),
        };
        let r = run_backtest(md, &bt, &mut |_| {}, &no).unwrap();
        assert_eq!(r.daily.len(), h + 1);
        let liq = r.events.iter().find(|e| e.kind == EventKind::Liquidation);
        match (o.call_day, liq) {
            (Some(day), Some(ev)) => {
                calls += 1;
                assert_eq!(ev.date, ds.dates[i + day as usize], "entry {}", ds.dates[i]);
                let tol = 1e-6 * input.initial_investment;
                assert!(
                    (ev.equity - o.equity).abs() <= tol,
                    "entry {}: liquidation equity {} vs {}",
                    ds.dates[i],
                    ev.equity,
                    o.equity
                );
            }
            (None, None) => {
                let want = r.daily.equity[h];
                assert!(
                    rel(o.equity, want) < 1e-6,
                    "entry {}: {} vs {want}",
                    ds.dates[i],
                    o.equity
                );
            }
            (got, ev) => panic!("entry {}: odds call {got:?}, backtest {ev:?}", ds.dates[i]),
        }
        checked += 1;
    }
    assert!(checked > 100, "{checked} windows checked");
    eprintln!(
        "{}: {checked} windows checked against the backtest, {calls} with a call",
        input.ticker
    );
}

#[test]
fn brute_force_spy_2x_reg_t_one_year() {
    let input = odds_input("SPY", 2.0, 252);
    brute_force(&input);
    let md = shipped();
    let odds = margin_call_odds(md, &input, &AtomicBool::new(false)).unwrap();
    let n = md.dataset("SPY").unwrap().len();
    assert_eq!(odds.windows as usize, n - 252);
    assert_eq!(odds.windows, 7_970);
    assert!(odds.windows_with_call > 0);
    assert!(odds.days_to_first_call.is_some());
}

#[test]
fn brute_force_qqq_intraday_fixed_rate() {
    let mut input = odds_input("QQQ", 1.8, 63);
    input.options.intraday = true;
    input.options.interest = InterestModel::Fixed { rate_pct: 7.0 };
    input.options.liquidation_slippage_bps = 10.0;
    brute_force(&input);
}

#[test]
fn summary_follows_the_definitions() {
    let md = shipped();
    let input = odds_input("SPY", 2.0, 252);
    let no = AtomicBool::new(false);
    let odds = margin_call_odds(md, &input, &no).unwrap();
    let w = Windows::new(md, &input).unwrap();
    let outcomes = w.outcomes(2.0, &no).unwrap();
    // Independent windows: entries 252 rows apart from the first.
    let ind: Vec<_> = outcomes.iter().step_by(252).collect();
    assert_eq!(odds.independent.windows as usize, ind.len());
    assert_eq!(
        odds.independent.with_call as usize,
        ind.iter().filter(|o| o.call_day.is_some()).count()
    );
    let i = odds.independent.interval;
    assert!(i.low <= odds.independent.probability && odds.independent.probability <= i.high);
    // Year rows add up; earliest calls are sorted by days then entry date.
    let sum: u32 = odds.by_entry_year.iter().map(|y| y.windows).sum();
    assert_eq!(sum, odds.windows);
    let calls: u32 = odds.by_entry_year.iter().map(|y| y.with_call).sum();
    assert_eq!(calls, odds.windows_with_call);
    assert!(odds.earliest_calls.len() <= 10 && !odds.earliest_calls.is_empty());
    for pair in odds.earliest_calls.windows(2) {
        let key = |c: &EarliestCall| (c.trading_days, c.entry_date);
        assert!(key(&pair[0]) < key(&pair[1]));
    }
    let days = odds.days_to_first_call.unwrap();
    assert!(odds.earliest_calls[0].trading_days <= days.p10);
    assert!(days.p10 <= days.p50 && days.p50 <= days.p90 && days.p90 <= 252);
    let t = odds.terminal_return.unwrap();
    assert!(t.p5 <= t.p25 && t.p25 <= t.p50 && t.p50 <= t.p75 && t.p75 <= t.p95);
    // Serialised names are the GraphQL names; no NaN can be in a JSON document anyway, and
    // the figures are Plotly documents.
    let json = serde_json::to_value(&odds).unwrap();
    for k in [
        "windows",
        "windowsWithCall",
        "probability",
        "independent",
        "daysToFirstCall",
        "terminalReturn",
        "byEntryYear",
        "earliestCalls",
        "figures",
    ] {
        assert!(json.get(k).is_some(), "missing {k}");
    }
    assert!(json["independent"]["interval"]["low"].is_number());
    assert!(json["earliestCalls"][0]["callDate"].is_string());
    assert!(json["byEntryYear"][0]["withCall"].is_number());
    let strip = &json["figures"]["probabilityByEntryDate"];
    assert_eq!(strip["data"].as_array().map(Vec::len), Some(2));
    assert!(json["figures"]["daysToFirstCall"]["data"][0]["y"].is_array());
    let back: MarginCallOdds = serde_json::from_value(json).unwrap();
    assert_eq!(back.windows, odds.windows);
}

#[test]
fn no_call_gives_null_call_days() {
    let md = shipped();
    let odds = margin_call_odds(md, &odds_input("SPY", 1.0, 252), &AtomicBool::new(false)).unwrap();
    assert_eq!(odds.windows_with_call, 0);
    assert_eq!(odds.days_to_first_call, None);
    assert!(odds.earliest_calls.is_empty());
    assert_eq!(odds.probability, 0.0);
}

#[test]
fn max_leverage_is_consistent_with_probability() {
    let md = shipped();
    let no = AtomicBool::new(false);
    for (ticker, account, h, target) in [
        ("SPY", AccountType::RegT, 252, 0.05),
        ("SPY", AccountType::Portfolio, 252, 0.05),
        ("QQQ", AccountType::Portfolio, 63, 0.10),
        ("QQQ", AccountType::RegT, 252, 0.02),
    ] {
        let mut input = odds_input(ticker, 1.5, h);
        input.account_type = account;
        let w = Windows::new(md, &input).unwrap();
        let l_max = w.r.common.profile.max_leverage();
        let l = max_leverage(md, &input, target, &no)
            .unwrap()
            .expect("1.0 never calls");
        let p = w.probability(l, &no).unwrap();
        assert!(p <= target, "{ticker} {account:?}: p({l}) = {p} > {target}");
        if l < l_max {
            let next = ((l * 100.0).round() + 1.0) / 100.0;
            let above = if next <= l_max { next } else { l_max };
            let q = w.probability(above, &no).unwrap();
            assert!(
                q > target,
                "{ticker} {account:?}: p({above}) = {q} <= {target}"
            );
            assert_eq!((l * 100.0).round() / 100.0, l, "rounded to cents");
        }
        eprintln!("{ticker} {account:?} H={h}: max leverage {l} for {target} (p = {p})");
    }
    // Everything passes at a target of 1: the account maximum itself.
    let input = odds_input("SPY", 2.0, 252);
    assert_eq!(max_leverage(md, &input, 1.0, &no).unwrap(), Some(2.0));
    let err = max_leverage(md, &input, 1.5, &no).unwrap_err();
    assert!(
        matches!(err, RiskError::Input(ref e) if e.field == "targetProbability"),
        "{err:?}"
    );
}

fn field_of(input: &OddsInput) -> String {
    match margin_call_odds(shipped(), input, &AtomicBool::new(false)) {
        Err(RiskError::Input(e)) => e.field,
        other => panic!(
            "expected an input error, got {:?}",
            other.map(|o| o.windows)
        ),
    }
}

#[test]
fn bad_inputs_are_typed_errors() {
    let base = odds_input("SPY", 2.0, 252);
    let with = |f: &dyn Fn(&mut OddsInput)| {
        let mut i = base.clone();
        f(&mut i);
        i
    };
    assert_eq!(field_of(&with(&|i| i.horizon_days = 4)), "horizonDays");
    assert_eq!(field_of(&with(&|i| i.horizon_days = 2521)), "horizonDays");
    assert_eq!(field_of(&with(&|i| i.leverage = 2.5)), "leverage");
    assert_eq!(field_of(&with(&|i| i.leverage = 0.9)), "leverage");
    assert_eq!(field_of(&with(&|i| i.ticker = "NOPE".into())), "ticker");
    assert_eq!(
        field_of(&with(&|i| i.entry_from = Some(d("1980-01-02")))),
        "entryFrom"
    );
    assert_eq!(
        field_of(&with(&|i| i.entry_to = Some(d("2030-01-02")))),
        "entryTo"
    );
    assert_eq!(
        field_of(&with(&|i| i.entry_from = Some(d("2025-06-02")))),
        "entryFrom"
    );
    assert_eq!(
        field_of(&with(&|i| {
            i.entry_from = Some(d("2010-06-02"));
            i.entry_to = Some(d("2010-01-04"));
        })),
        "entryTo"
    );
    assert_eq!(
        field_of(&with(&|i| i.options.maintenance_override = Some(0.99))),
        "options.maintenanceOverride"
    );
    assert_eq!(
        field_of(&with(
            &|i| i.options.interest = InterestModel::Fixed { rate_pct: 30.0 }
        )),
        "options.interest.ratePct"
    );
    // A horizon longer than the data.
    let md = crate::fixtures::case_a_market();
    let mut short = base.clone();
    short.ticker = "SYN".into();
    short.horizon_days = 30;
    let err = margin_call_odds(&md, &short, &AtomicBool::new(false)).unwrap_err();
    assert!(
        matches!(err, RiskError::Input(ref e) if e.field == "horizonDays" && e.message.contains("too long")),
        "{err:?}"
    );
    // RESTORE-only settings cannot reject a one-round input: they are reset.
    let mut restore = base.clone();
    restore.options.liquidation_policy = crate::backtest::LiquidationPolicy::Restore;
    restore.options.liquidation_slippage_bps = 1000.0;
    assert!(normalize_odds(&restore, shipped()).is_ok());
}

#[test]
fn entry_range_and_cache_key() {
    let md = shipped();
    let mut input = odds_input("spy", 2.0, 252);
    input.entry_from = Some(d("2008-01-05")); // a Saturday: snaps to Monday
    input.entry_to = Some(d("2025-09-26")); // clipped to the last full window
    let norm = normalize_odds(&input, md).unwrap();
    assert_eq!(norm.ticker, "SPY");
    assert_eq!(norm.entry_from, Some(d("2008-01-07")));
    let ds = md.dataset("SPY").unwrap();
    assert_eq!(norm.entry_to, Some(ds.dates[ds.len() - 1 - 252]));
    assert_eq!(normalize_odds(&norm, md).unwrap(), norm, "idempotent");
    let key = odds_cache_key_for(md, &input).unwrap();
    assert_eq!(key, odds_cache_key_for(md, &norm).unwrap());
    let mut irrelevant = input.clone();
    irrelevant.options.wait_days = 7;
    irrelevant.options.tc_bps = 50.0;
    assert_eq!(key, odds_cache_key_for(md, &irrelevant).unwrap());
    let mut other = input.clone();
    other.leverage = 1.9;
    assert_ne!(key, odds_cache_key_for(md, &other).unwrap());
    let odds = margin_call_odds(md, &input, &AtomicBool::new(false)).unwrap();
    assert_eq!(odds.input, norm);
    assert_eq!(odds.by_entry_year[0].year, 2008);
    let json: OddsInput =
        serde_json::from_str(r#"{"ticker":"SPY","leverage":2,"horizonDays":63}"#).unwrap();
    assert_eq!(json.initial_investment, 100_000.0);
    assert_eq!(json.account_type, AccountType::RegT);
}

#[test]
fn the_same_whatever_the_thread_count_and_cancellable() {
    let md = shipped();
    let input = odds_input("QQQ", 1.9, 126);
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            serde_json::to_string(&margin_call_odds(md, &input, &AtomicBool::new(false)).unwrap())
                .unwrap()
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
    let cancelled = AtomicBool::new(true);
    assert_eq!(
        margin_call_odds(md, &input, &cancelled).map(|o| o.windows),
        Err(RiskError::Cancelled)
    );
    assert_eq!(
        max_leverage(md, &input, 0.05, &cancelled),
        Err(RiskError::Cancelled)
    );
}

#[test]
fn entry_at_the_account_maximum_is_compliant() {
    // At exactly L = 1/m the engine's float entry check would call on day 0 for most prices
    // (0.15·V0 rounds above E0); a window is checked from the day after entry on.
    let mut input = odds_input("SPY", 1.0 / 0.15, 63);
    input.account_type = AccountType::Portfolio;
    let odds = margin_call_odds(shipped(), &input, &AtomicBool::new(false)).unwrap();
    assert!(odds.earliest_calls.iter().all(|c| c.trading_days >= 1));
    assert!(odds.days_to_first_call.is_some_and(|d| d.p10 >= 1));
}
