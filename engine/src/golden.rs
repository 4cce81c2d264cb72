//! The runs whose returns are exported for the quantstats/empyrical golden fixtures
//! (tests/golden/). Shared by the exporter example and the golden test so both use the same
//! inputs.

use chrono::NaiveDate;

use crate::account::AccountType;
use crate::backtest::{BacktestInput, BacktestOptions, LiquidationPolicy, Mode};

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// `(name, input)`; `"case_a"` runs on [`crate::fixtures::case_a_market`], the rest on the
/// shipped data directory.
pub fn golden_runs() -> Vec<(&'static str, BacktestInput)> {
    let base = |ticker: &str, mode, start, end, leverage, account| BacktestInput {
        ticker: ticker.into(),
        mode,
        start_date: start,
        end_date: end,
        leverage,
        account_type: account,
        initial_investment: 100_000.0,
        profit_threshold_pct: None,
        options: BacktestOptions::default(),
    };
    let mut qqq = base(
        "QQQ",
        Mode::FreshCapital,
        ymd(2000, 1, 3),
        ymd(2024, 12, 31),
        2.0,
        AccountType::RegT,
    );
    qqq.options.liquidation_policy = LiquidationPolicy::Full;
    qqq.options.intraday = true;
    qqq.options.liquidation_slippage_bps = 10.0;
    let mut pt = base(
        "SPY",
        Mode::ProfitThreshold,
        ymd(2000, 1, 3),
        ymd(2024, 12, 31),
        4.0,
        AccountType::Portfolio,
    );
    pt.profit_threshold_pct = Some(50.0);
    pt.options.liquidation_policy = LiquidationPolicy::Restore;
    pt.options.restore_buffer = 0.05;
    vec![
        (
            "case_a",
            crate::fixtures::case_a_input(Mode::LiquidationReentry),
        ),
        (
            "spy_1x_buy_and_hold_1993_2024",
            base(
                "SPY",
                Mode::LiquidationReentry,
                ymd(1993, 1, 29),
                ymd(2024, 12, 31),
                1.0,
                AccountType::RegT,
            ),
        ),
        (
            "vti_3x_portfolio_2001_2025",
            base(
                "VTI",
                Mode::LiquidationReentry,
                ymd(2001, 6, 15),
                ymd(2025, 9, 26),
                3.0,
                AccountType::Portfolio,
            ),
        ),
        ("qqq_2x_regt_fresh_capital_intraday_2000_2024", qqq),
        ("spy_4x_portfolio_profit_threshold_restore_2000_2024", pt),
    ]
}
