#![allow(
    clippy::inconsistent_digit_grouping,
    clippy::excessive_precision,
    clippy::unreadable_literal
)]
//! SPEC.md §3 reference cases A and B, to the printed digits.
mod common;

use std::sync::atomic::AtomicBool;

use common::{assert_close, case_a_market, d};
use engine::backtest::{BacktestResult, EventKind, Mode, Status, run_backtest};
use engine::fixtures::case_a_input;

fn run(mode: Mode) -> BacktestResult {
    let md = case_a_market();
    run_backtest(
        &md,
        &case_a_input(mode),
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .unwrap()
}

fn row(r: &BacktestResult, date: &str) -> usize {
    r.daily.date.iter().position(|x| *x == d(date)).unwrap()
}

#[test]
fn case_a_liquidation_reentry() {
    let r = run(Mode::LiquidationReentry);
    let dl = &r.daily;
    assert_eq!(dl.len(), 24);
    let i = row(&r, "2024-01-02");
    assert_eq!(dl.status[i], Status::Entered);
    assert_close("N", dl.shares[i], 1000.0, 1e-9);
    assert_close("D", dl.loan[i], 50_000.0, 1e-9);
    assert_close("call", dl.margin_call_price[i].unwrap(), 66.6667, 5e-5);
    let i = row(&r, "2024-01-08");
    assert_close("interest 01-08", dl.daily_interest[i], 22.6130, 5e-5);
    let i = row(&r, "2024-01-12");
    assert_eq!(dl.status[i], Status::Liquidated);
    let liq = r
        .events
        .iter()
        .find(|e| e.kind == EventKind::Liquidation)
        .unwrap();
    assert_eq!(liq.date, d("2024-01-12"));
    assert_close("D at liq", liq.loan.unwrap(), 50_075.3902, 5e-5);
    assert_close("E at liq", dl.equity[i], 13_924.6098, 5e-5);
    assert_close(
        "shortfall",
        liq.shortfall.unwrap(),
        16_000.0 - 13_924.6098,
        5e-5,
    );
    for day in ["2024-01-15", "2024-01-16"] {
        assert_eq!(dl.status[row(&r, day)], Status::Waiting, "{day}");
    }
    let i = row(&r, "2024-01-17");
    assert_eq!(dl.status[i], Status::Entered);
    assert_close("N re-entry", dl.shares[i], 397.8460, 5e-5);
    let i = row(&r, "2024-01-18");
    assert_close("dividend", dl.dividend[i], 198.9230, 5e-5);
    assert_close("N after div", dl.shares[i], 400.5710, 5e-5);
    let last = dl.len() - 1;
    assert_eq!(dl.date[last], d("2024-02-02"));
    assert_close("final D", dl.loan[last], 13_958.2176, 5e-5);
    assert_close("final E", dl.equity[last], 36_513.7244, 5e-5);
    assert_eq!(r.rounds.len(), 2);
    assert_close("round 1 interest", r.rounds[0].interest_paid, 75.3902, 5e-5);
    assert_close("round 2 interest", r.rounds[1].interest_paid, 33.6077, 5e-5);
    assert!(r.rounds[0].margin_call && !r.rounds[1].margin_call && r.rounds[1].open);
    assert_eq!(r.summary.liquidations, 1);
    assert_eq!(r.summary.rounds, 2);

    let m = &r.metrics;
    assert_eq!(m.n_returns, 23);
    for (name, got, want) in [
        ("total", m.total_return, -0.2697255123),
        ("cagr", m.cagr, -0.9680638322),
        ("vol", m.volatility, 1.9798147708),
        ("sharpe", m.sharpe, -0.6530103130),
        ("sortino", m.sortino, -0.7723295634),
        ("mdd", m.max_drawdown, -0.7269280936),
        ("calmar", m.calmar, -1.3317188326),
        ("ulcer", m.ulcer_index, 0.5256438522),
        ("best", m.best_day, 0.1044850271),
        ("worst", m.worst_day, -0.3013996570),
        ("win rate", m.win_rate, 0.65),
    ] {
        assert_close(name, got.unwrap(), want, 5e-11);
    }
}

#[test]
fn case_b_fresh_capital() {
    let r = run(Mode::FreshCapital);
    let last = r.daily.len() - 1;
    assert_close("end E", r.daily.equity[last], 131_112.1993, 5e-5);
    assert_close("wealth", r.daily.wealth[last], 145_036.8091, 5e-5);
    assert_close("contributed", r.daily.contributed[last], 100_000.0, 1e-9);
    assert_close(
        "return on capital %",
        r.engine_metrics.return_on_capital.unwrap() * 100.0,
        45.0368,
        5e-5,
    );
    assert_close(
        "headline",
        r.summary.headline_return.unwrap() * 100.0,
        45.0368,
        5e-5,
    );
    let entry2 = row(&r, "2024-01-17");
    assert_close("flow", r.daily.flow[entry2], 50_000.0, 0.0);
    assert_close("flow day return", r.daily.daily_return[entry2], 0.0, 1e-15);
}

#[test]
fn case_a_cushion_uses_account_maintenance() {
    let r = run(Mode::LiquidationReentry);
    // Entry: E 50,000, m·V = 25,000 → cushion 25,000 = 50 % of equity (SAFE boundary).
    assert_close("cushion $", r.daily.cushion[0].unwrap(), 25_000.0, 1e-9);
    assert_close("cushion %", r.daily.cushion_pct[0].unwrap(), 50.0, 1e-9);
    assert_eq!(r.cushion.maintenance, 0.25);
    let z = &r.cushion.zone_days;
    assert_eq!(
        z.safe + z.caution + z.warning + z.critical,
        r.cushion.days_in_position as u32
    );
    let s = &r.cushion.zone_share;
    assert_close(
        "shares sum",
        s.safe + s.caution + s.warning + s.critical,
        1.0,
        1e-12,
    );
    assert!(r.cushion.min_cushion_pct.unwrap() < 20.0);
    // Tables: one year row, one month row covering both months.
    assert_eq!(r.yearly.len(), 1);
    assert_eq!(r.yearly[0].liquidations, 1);
    assert_close(
        "year return",
        r.yearly[0].year_return,
        r.metrics.total_return.unwrap(),
        1e-12,
    );
    let jan = r.monthly_returns[0].months[0].unwrap();
    let feb = r.monthly_returns[0].months[1].unwrap();
    assert_close(
        "months compound",
        (1.0 + jan) * (1.0 + feb) - 1.0,
        r.metrics.total_return.unwrap(),
        1e-12,
    );
}

#[test]
fn risk_free_option_matches_quantstats() {
    // quantstats 0.0.86: sharpe(r, rf=0.02, periods=252), sortino(r, rf=0.02, periods=252) on
    // case A's returns (tests/golden/returns.json).
    let r = run(Mode::LiquidationReentry);
    let m = engine::metrics::compute(&r.daily.date[1..], &r.daily.daily_return[1..], 0.02);
    common::assert_rel("sharpe rf", m.sharpe.unwrap(), -0.6630129686864347, 1e-9);
    common::assert_rel("sortino rf", m.sortino.unwrap(), -0.7838846089195232, 1e-9);
}
