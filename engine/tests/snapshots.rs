//! Snapshots of deterministic outputs: the headline numbers of SPEC.md §3 case A in each mode,
//! so any change to what a user sees in a summary shows up as a reviewed diff
//! (`cargo insta review`), beside the reference assertions of `reference_cases.rs`.

use std::sync::atomic::AtomicBool;

use engine::backtest::{Mode, run_backtest};
use engine::fixtures::{case_a_input, case_a_market};

fn summary_of(mode: Mode) -> engine::backtest::Summary {
    run_backtest(
        &case_a_market(),
        &case_a_input(mode),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .expect("case A runs")
    .summary
}

#[test]
fn case_a_summary_liquidation_reentry() {
    insta::assert_json_snapshot!(summary_of(Mode::LiquidationReentry));
}

#[test]
fn case_a_summary_fresh_capital() {
    insta::assert_json_snapshot!(summary_of(Mode::FreshCapital));
}

#[test]
fn case_a_summary_profit_threshold() {
    insta::assert_json_snapshot!(summary_of(Mode::ProfitThreshold));
}
