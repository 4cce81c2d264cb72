mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::{d, shipped};
use engine::AccountType;
use engine::backtest::{
    BacktestError, BacktestInput, BacktestOptions, InterestModel, LiquidationPolicy, Mode, Status,
    cache_key, cache_key_for, normalize, run_backtest,
};
use engine::figures::{FigureName, build};

fn spy(mode: Mode, start: &str, end: &str, leverage: f64) -> BacktestInput {
    BacktestInput {
        ticker: "SPY".into(),
        mode,
        start_date: d(start),
        end_date: d(end),
        leverage,
        account_type: AccountType::RegT,
        initial_investment: 100_000.0,
        profit_threshold_pct: None,
        options: BacktestOptions::default(),
    }
}

fn run(input: &BacktestInput) -> Result<engine::backtest::BacktestResult, BacktestError> {
    run_backtest(shipped(), input, &mut |_| {}, &AtomicBool::new(false))
}

fn input_err(input: &BacktestInput) -> engine::InputError {
    match run(input) {
        Err(BacktestError::Input(e)) => e,
        other => panic!(
            "expected an input error, got {:?}",
            other.map(|r| r.summary)
        ),
    }
}

#[test]
fn bad_inputs_name_field_and_range() {
    let base = spy(Mode::LiquidationReentry, "2008-01-01", "2024-12-31", 2.0);
    let cases: Vec<(BacktestInput, &str, &str)> = vec![
        (
            BacktestInput {
                leverage: 2.5,
                ..base.clone()
            },
            "leverage",
            "between 1 and 2 for REG_T",
        ),
        (
            BacktestInput {
                leverage: 0.9,
                ..base.clone()
            },
            "leverage",
            "between 1 and 2",
        ),
        (
            BacktestInput {
                leverage: 7.0,
                account_type: AccountType::Portfolio,
                ..base.clone()
            },
            "leverage",
            "between 1 and 6.666 for PORTFOLIO",
        ),
        (
            BacktestInput {
                leverage: f64::NAN,
                ..base.clone()
            },
            "leverage",
            "finite",
        ),
        (
            BacktestInput {
                end_date: d("2008-01-01"),
                ..base.clone()
            },
            "endDate",
            "must be after startDate",
        ),
        (
            BacktestInput {
                start_date: d("1990-01-01"),
                ..base.clone()
            },
            "startDate",
            "1993-01-29 to 2025-09-26",
        ),
        (
            BacktestInput {
                end_date: d("2030-01-01"),
                ..base.clone()
            },
            "endDate",
            "1993-01-29 to 2025-09-26",
        ),
        (
            BacktestInput {
                ticker: "ABC".into(),
                ..base.clone()
            },
            "ticker",
            "known tickers: QQQ, SPY, VTI",
        ),
        (
            BacktestInput {
                initial_investment: 0.0,
                ..base.clone()
            },
            "initialInvestment",
            "between",
        ),
        (
            BacktestInput {
                initial_investment: 1e13,
                ..base.clone()
            },
            "initialInvestment",
            "1000000000000",
        ),
        (
            BacktestInput {
                initial_investment: f64::INFINITY,
                ..base.clone()
            },
            "initialInvestment",
            "finite",
        ),
        (
            BacktestInput {
                mode: Mode::ProfitThreshold,
                profit_threshold_pct: Some(0.5),
                ..base.clone()
            },
            "profitThresholdPct",
            "between 1 and 1000 %",
        ),
        (
            BacktestInput {
                mode: Mode::ProfitThreshold,
                profit_threshold_pct: Some(2000.0),
                ..base.clone()
            },
            "profitThresholdPct",
            "between 1 and 1000 %",
        ),
        (
            BacktestInput {
                options: BacktestOptions {
                    interest: InterestModel::Fixed { rate_pct: 30.0 },
                    ..Default::default()
                },
                ..base.clone()
            },
            "options.interest.ratePct",
            "between 0 and 25 %",
        ),
        (
            BacktestInput {
                options: BacktestOptions {
                    day_count_basis: 364,
                    ..Default::default()
                },
                ..base.clone()
            },
            "options.dayCountBasis",
            "360 or 365",
        ),
    ];
    for (inp, field, msg) in cases {
        let e = input_err(&inp);
        assert_eq!(e.field, field, "{e}");
        assert!(
            e.message.contains(msg),
            "{field}: `{}` lacks `{msg}`",
            e.message
        );
    }
}

#[test]
fn dates_snap_to_trading_days() {
    let n = normalize(
        &spy(Mode::LiquidationReentry, "2008-01-01", "2024-12-29", 2.0),
        shipped(),
    )
    .unwrap();
    assert_eq!(n.start_date, d("2008-01-02"));
    assert_eq!(n.end_date, d("2024-12-27"));
}

#[test]
fn buy_and_hold_1x_tracks_total_return() {
    // 1x, no loan: equity follows adj_close up to where dividends are reinvested (the ex-date
    // close here, the previous close in the adjustment factor).
    let r = run(&spy(
        Mode::LiquidationReentry,
        "1993-01-29",
        "2024-12-31",
        1.0,
    ))
    .unwrap();
    let ds = shipped().dataset("SPY").unwrap();
    let i0 = ds.index_on_or_after(d("1993-01-29")).unwrap();
    let i1 = ds.index_on_or_before(d("2024-12-31")).unwrap();
    let adj_growth = ds.adj_close[i1] / ds.adj_close[i0];
    let growth = r.summary.final_equity / 100_000.0;
    assert!(
        (growth / adj_growth - 1.0).abs() < 2e-3,
        "{growth} vs {adj_growth}"
    );
    assert_eq!(r.summary.liquidations, 0);
    assert_eq!(r.summary.total_interest, 0.0);
}

#[test]
fn leveraged_2008_liquidates_and_reenters() {
    let r = run(&spy(
        Mode::LiquidationReentry,
        "2007-01-03",
        "2012-12-31",
        2.0,
    ))
    .unwrap();
    assert!(r.summary.liquidations >= 1);
    assert_eq!(r.rounds.len() as u32, r.summary.rounds);
    assert!(r.engine_metrics.waiting_days >= 2 * r.summary.liquidations);
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("NaN") && !json.contains("inf"));
    let back: engine::backtest::BacktestResult = serde_json::from_str(&json).unwrap();
    assert_eq!(back.summary, r.summary);
}

#[test]
fn restore_policy_sells_part_and_keeps_going() {
    let mut inp = spy(Mode::LiquidationReentry, "2007-01-03", "2012-12-31", 2.0);
    inp.options.liquidation_policy = LiquidationPolicy::Restore;
    inp.options.restore_buffer = 0.05;
    let r = run(&inp).unwrap();
    assert!(r.engine_metrics.margin_calls >= 1, "{:?}", r.engine_metrics);
    assert!(r.daily.status.contains(&Status::MarginCallRestored));
}

#[test]
fn intraday_fills_at_or_below_call_price() {
    let mut inp = spy(Mode::LiquidationReentry, "2007-01-03", "2012-12-31", 2.0);
    inp.options.intraday = true;
    inp.options.liquidation_slippage_bps = 10.0;
    let r = run(&inp).unwrap();
    for e in r
        .events
        .iter()
        .filter(|e| e.kind == engine::backtest::EventKind::Liquidation)
    {
        assert!(e.fill_price.unwrap() <= e.price.max(e.fill_price.unwrap()));
    }
    assert!(r.summary.liquidations >= 1);
}

#[test]
fn profit_threshold_relevers() {
    let mut inp = spy(Mode::ProfitThreshold, "2009-03-09", "2021-12-31", 2.0);
    inp.profit_threshold_pct = Some(20.0);
    let r = run(&inp).unwrap();
    assert!(r.summary.rebalances >= 1);
    for i in 0..r.daily.len() {
        if r.daily.status[i] == Status::Rebalanced {
            assert!((r.daily.leverage[i].unwrap() - 2.0).abs() < 1e-9);
        }
    }
    assert!(r.engine_metrics.transaction_costs > 0.0);
}

#[test]
fn progress_and_cancel() {
    let inp = spy(Mode::LiquidationReentry, "1993-01-29", "2025-09-26", 2.0);
    let mut calls = 0;
    let mut last = 0.0;
    run_backtest(
        shipped(),
        &inp,
        &mut |p| {
            calls += 1;
            assert!(p.percent >= last);
            last = p.percent;
        },
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!((90..=102).contains(&calls), "{calls} progress calls");
    assert_eq!(last, 100.0);
    let cancel = AtomicBool::new(false);
    let res = run_backtest(
        shipped(),
        &inp,
        &mut |p| {
            if p.percent > 10.0 {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    assert_eq!(res.unwrap_err(), BacktestError::Cancelled);
}

#[test]
fn cache_key_ignores_field_order_and_defaults() {
    let a: BacktestInput = serde_json::from_str(
        r#"{"ticker":"SPY","mode":"LIQUIDATION_REENTRY","startDate":"2008-01-01","endDate":"2024-12-31","leverage":2,"accountType":"REG_T","initialInvestment":100000}"#,
    )
    .unwrap();
    let b: BacktestInput = serde_json::from_str(
        r#"{"options":{"waitDays":2,"minEquity":1000,"interest":{"type":"FED_FUNDS_PLUS","spreadPct":1.5},"tcBps":5},"initialInvestment":100000.0,"leverage":2.0,"endDate":"2024-12-31","startDate":"2008-01-02","mode":"LIQUIDATION_REENTRY","ticker":"spy","profitThresholdPct":50}"#,
    )
    .unwrap();
    let ka = cache_key_for(shipped(), &a).unwrap();
    assert_eq!(ka, cache_key_for(shipped(), &b).unwrap());
    assert_eq!(ka.len(), 64);
    let c = BacktestInput {
        leverage: 1.5,
        ..a.clone()
    };
    assert_ne!(ka, cache_key_for(shipped(), &c).unwrap());
    let n = normalize(&a, shipped()).unwrap();
    assert_ne!(cache_key(&n, "other-fingerprint"), ka);
}

#[test]
fn figures_are_plotly_json() {
    let r = run(&spy(Mode::ProfitThreshold, "2007-01-03", "2012-12-31", 2.0)).unwrap();
    let figs = build(&r, &FigureName::ALL);
    assert_eq!(figs.len(), 10);
    for (name, f) in &figs {
        assert!(f["data"].is_array() && f["layout"].is_object(), "{name:?}");
        let s = f.to_string();
        assert!(!s.contains("NaN"), "{name:?}");
    }
    let only = build(&r, &[FigureName::Drawdown, FigureName::Drawdown]);
    assert_eq!(only.len(), 1);
    // The typed form serialises to exactly the same JSON.
    let typed = engine::figures::build_figures(&r, &FigureName::ALL);
    for ((n1, v), (n2, f)) in figs.iter().zip(&typed) {
        assert_eq!(n1, n2);
        assert_eq!(serde_json::to_value(f).unwrap(), *v, "{n1:?}");
    }
    let dd = &figs
        .iter()
        .find(|(n, _)| *n == FigureName::Drawdown)
        .unwrap()
        .1;
    assert_eq!(dd["data"][0]["x"].as_array().unwrap().len(), r.daily.len());
    assert_eq!(dd["layout"]["xaxis"]["type"], "date");
}

#[test]
fn fifteen_year_result_json_stays_compact() {
    let r = run(&spy(
        Mode::LiquidationReentry,
        "2010-01-01",
        "2024-12-31",
        2.0,
    ))
    .unwrap();
    let json = serde_json::to_string(&r).unwrap();
    eprintln!(
        "15-year SPY result: {} rows, {} bytes of JSON",
        r.daily.len(),
        json.len()
    );
    assert!(json.len() < 1_000_000, "{} bytes", json.len());
}

#[test]
fn cli_spellings_parse() {
    use engine::PositionType;
    assert_eq!("reg-t".parse::<AccountType>().unwrap(), AccountType::RegT);
    assert_eq!(
        "PORTFOLIO".parse::<AccountType>().unwrap(),
        AccountType::Portfolio
    );
    assert_eq!(
        "short".parse::<PositionType>().unwrap(),
        PositionType::Short
    );
    assert_eq!(
        "liquidation-reentry".parse::<Mode>().unwrap(),
        Mode::LiquidationReentry
    );
    assert_eq!("FRESH_CAPITAL".parse::<Mode>().unwrap(), Mode::FreshCapital);
    assert_eq!(
        "restore".parse::<LiquidationPolicy>().unwrap(),
        LiquidationPolicy::Restore
    );
    assert_eq!(
        "fed-funds".parse::<InterestModel>().unwrap(),
        InterestModel::FedFundsPlus { spread_pct: 1.5 }
    );
    assert_eq!(
        "fed-funds:2".parse::<InterestModel>().unwrap(),
        InterestModel::FedFundsPlus { spread_pct: 2.0 }
    );
    assert_eq!(
        "fixed:5.5".parse::<InterestModel>().unwrap(),
        InterestModel::Fixed { rate_pct: 5.5 }
    );
    assert_eq!("nope".parse::<Mode>().unwrap_err().field, "mode");
    assert_eq!(
        "fixed".parse::<InterestModel>().unwrap_err().field,
        "options.interest"
    );
}
