//! Every shipped ticker, mode and a spread of leverages and policies over the full span: no
//! error, no panic, nothing non-finite, invariants hold on real data.
mod common;

use std::sync::atomic::AtomicBool;

use engine::AccountType;
use engine::backtest::{
    BacktestInput, BacktestOptions, LiquidationPolicy, Mode, Status, run_backtest,
};

#[test]
fn full_span_sweep() {
    let md = common::shipped();
    let mut runs = 0;
    for ds in md.datasets() {
        for mode in [
            Mode::LiquidationReentry,
            Mode::FreshCapital,
            Mode::ProfitThreshold,
        ] {
            for (account, leverage) in [
                (AccountType::RegT, 1.0),
                (AccountType::RegT, 2.0),
                (AccountType::Portfolio, 4.0),
                (AccountType::Portfolio, 1.0 / 0.15),
            ] {
                for (policy, intraday) in [
                    (LiquidationPolicy::Full, false),
                    (LiquidationPolicy::Restore, true),
                ] {
                    let input = BacktestInput {
                        ticker: ds.symbol.clone(),
                        mode,
                        start_date: ds.first_date(),
                        end_date: ds.last_date(),
                        leverage,
                        account_type: account,
                        initial_investment: 100_000.0,
                        profit_threshold_pct: Some(50.0),
                        options: BacktestOptions {
                            liquidation_policy: policy,
                            intraday,
                            liquidation_slippage_bps: if intraday { 10.0 } else { 0.0 },
                            ..Default::default()
                        },
                    };
                    let label = format!(
                        "{} {:?} {:?} {leverage} {:?}",
                        ds.symbol, mode, account, policy
                    );
                    let r = run_backtest(md, &input, &mut |_| {}, &AtomicBool::new(false))
                        .expect(&label);
                    let d = &r.daily;
                    assert_eq!(d.len(), ds.len(), "{label}");
                    for col in [
                        &d.equity,
                        &d.wealth,
                        &d.loan,
                        &d.position_value,
                        &d.daily_return,
                        &d.drawdown,
                    ] {
                        assert!(col.iter().all(|v| v.is_finite()), "{label}");
                    }
                    for i in 0..d.len() {
                        if d.status[i] == Status::Entered {
                            assert!(
                                (d.leverage[i].unwrap() / leverage - 1.0).abs() < 1e-9,
                                "{label} row {i}"
                            );
                        }
                        if d.status[i] == Status::Liquidated {
                            assert!(d.equity[i] >= 0.0, "{label} row {i}");
                        }
                    }
                    if leverage == 1.0 {
                        assert_eq!(r.summary.liquidations, 0, "{label}");
                        assert_eq!(r.summary.total_interest, 0.0, "{label}");
                    }
                    let json = serde_json::to_string(&r).unwrap();
                    assert!(!json.contains("NaN"), "{label}");
                    runs += 1;
                }
            }
        }
    }
    assert_eq!(runs, 3 * 3 * 4 * 2);
}
