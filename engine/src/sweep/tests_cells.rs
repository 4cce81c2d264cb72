//! Every cell is the backtest: summaries bit-identical to `run_backtest` on the shipped data.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;

use chrono::NaiveDate;

use super::*;
use crate::account::AccountType;
use crate::backtest::{
    BacktestError, BacktestInput, BacktestOptions, InterestModel, LiquidationPolicy, Mode, Summary,
    run_backtest, run_summary,
};

pub(super) fn shipped() -> &'static MarketData {
    static MD: OnceLock<MarketData> = OnceLock::new();
    MD.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data");
        MarketData::load_dir(&dir).expect("shipped data loads")
    })
}

pub(super) fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")
}

pub(super) fn base(ticker: &str, mode: Mode, from: &str, to: &str, lev: f64) -> BacktestInput {
    BacktestInput {
        ticker: ticker.into(),
        mode,
        start_date: d(from),
        end_date: d(to),
        leverage: lev,
        account_type: AccountType::RegT,
        initial_investment: 100_000.0,
        profit_threshold_pct: None,
        options: BacktestOptions::default(),
    }
}

pub(super) fn axis(parameter: SweepParameter, values: &[f64]) -> SweepAxis {
    SweepAxis {
        parameter,
        values: values.to_vec(),
    }
}

/// Bit-identical: the shortest round-trip JSON of every float is the same (finite values).
fn same_bits(a: &Summary, b: &Summary) {
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_string(a).unwrap(),
        serde_json::to_string(b).unwrap()
    );
}

/// Runs the sweep and checks each cell against a full single run of its input; returns it.
fn cells_are_runs(input: &SweepInput) -> SweepResult {
    let md = shipped();
    let no = AtomicBool::new(false);
    let r = run_sweep(md, input, &mut |_, _| {}, &no).unwrap();
    let specs = cell_inputs(md, input).unwrap();
    assert_eq!(specs.len(), r.cells.len());
    assert_eq!(r.cell_count, r.cells.len());
    assert_eq!(r.completed_cells, r.cell_count);
    for (k, (spec, cell)) in specs.iter().zip(&r.cells).enumerate() {
        assert_eq!(spec.index, k);
        assert_eq!((spec.x, spec.y), (cell.x, cell.y));
        let want = spec
            .input
            .clone()
            .map_err(BacktestError::Input)
            .and_then(|i| run_backtest(md, &i, &mut |_| {}, &no));
        match want {
            Ok(full) => same_bits(cell.summary.as_ref().expect("a summary"), &full.summary),
            Err(BacktestError::Input(e)) => {
                assert!(cell.summary.is_none());
                assert_eq!(cell.error.as_ref(), Some(&e), "cell {k}");
            }
            Err(e) => panic!("cell {k}: {e}"),
        }
    }
    r
}

fn errors(r: &SweepResult) -> Vec<(f64, Option<f64>, String)> {
    r.cells
        .iter()
        .filter_map(|c| c.error.as_ref().map(|e| (c.x, c.y, e.field.clone())))
        .collect()
}

#[test]
fn run_summary_is_the_summary_of_run_backtest() {
    let md = shipped();
    let no = AtomicBool::new(false);
    let mut inputs = Vec::new();
    for (ticker, from, to) in [
        ("SPY", "1993-01-29", "2025-09-26"),
        ("QQQ", "2000-01-01", "2012-06-30"),
        ("VTI", "2005-03-01", "2020-12-31"),
    ] {
        for mode in [
            Mode::LiquidationReentry,
            Mode::FreshCapital,
            Mode::ProfitThreshold,
        ] {
            for lev in [1.0, 1.7, 2.0] {
                let mut b = base(ticker, mode, from, to, lev);
                b.profit_threshold_pct = (mode == Mode::ProfitThreshold).then_some(35.0);
                inputs.push(b.clone());
                b.options.liquidation_policy = LiquidationPolicy::Restore;
                b.options.restore_buffer = 0.05;
                b.options.intraday = true;
                b.options.liquidation_slippage_bps = 20.0;
                b.options.interest = InterestModel::TbillPlus { spread_pct: 0.75 };
                b.options.risk_free_rate_pct = 2.0;
                b.account_type = AccountType::Portfolio;
                b.leverage = lev * 2.5;
                inputs.push(b);
            }
        }
    }
    for input in &inputs {
        let full = run_backtest(md, input, &mut |_| {}, &no).unwrap();
        same_bits(&run_summary(md, input, &no).unwrap(), &full.summary);
    }
    // Errors are the same errors.
    let bad = base(
        "SPY",
        Mode::LiquidationReentry,
        "2000-01-01",
        "2010-01-01",
        3.0,
    );
    assert_eq!(
        run_summary(md, &bad, &no).unwrap_err(),
        run_backtest(md, &bad, &mut |_| {}, &no).unwrap_err()
    );
}

#[test]
fn leverage_by_start_year_cells_are_single_runs() {
    let input = SweepInput {
        base: base(
            "SPY",
            Mode::LiquidationReentry,
            "1995-01-01",
            "2024-12-31",
            2.0,
        ),
        x: axis(SweepParameter::Leverage, &[1.0, 1.5, 2.0, 1.85]),
        y: Some(axis(
            SweepParameter::StartYear,
            &[1993.0, 2000.0, 2008.0, 2024.0, 2025.0, 1990.0, 2001.5],
        )),
    };
    let r = cells_are_runs(&input);
    // 1993 starts on SPY's first trading day; 2008 on its first of that year.
    let s = |k: usize| r.cells[k].summary.as_ref().unwrap();
    assert_eq!(s(0).start_date, d("1993-01-29"));
    assert_eq!(s(2 * 4).start_date, d("2008-01-02"));
    assert_eq!(s(3 * 4).end_date, d("2024-12-31"));
    // 2025 is after the end, 1990 before the data, 2001.5 no year: whole rows of errors.
    let errs = errors(&r);
    assert_eq!(errs.len(), 12);
    assert!(
        errs.iter()
            .all(|(_, y, f)| f == "startDate" && y.unwrap() >= 1990.0)
    );
    let msg = |k: usize| r.cells[k].error.as_ref().unwrap().message.clone();
    assert!(
        msg(4 * 4).contains("not before endDate 2024-12-31"),
        "{}",
        msg(16)
    );
    assert!(msg(5 * 4).contains("no trading day in 1990 in the SPY data"));
    assert!(msg(6 * 4).contains("no trading day in 2001.5"));
}

#[test]
fn maintenance_by_fixed_rate_cells_are_single_runs() {
    let input = SweepInput {
        base: base(
            "SPY",
            Mode::LiquidationReentry,
            "2005-01-01",
            "2020-12-31",
            1.8,
        ),
        x: axis(
            SweepParameter::MaintenancePct,
            &[25.0, 30.0, 40.0, 60.0, 3.0],
        ),
        y: Some(axis(SweepParameter::FixedRatePct, &[0.0, 3.5, 8.0, 30.0])),
    };
    let r = cells_are_runs(&input);
    let spec = &cell_inputs(shipped(), &input).unwrap()[1 + 5];
    let i = spec.input.as_ref().unwrap();
    assert_eq!(i.options.maintenance_override, Some(0.3));
    assert_eq!(i.options.interest, InterestModel::Fixed { rate_pct: 3.5 });
    // 60 % caps leverage at 1.667 (< 1.8), 3 % is below the override range, 30 % is above
    // the rate range; the rest run.
    let errs = errors(&r);
    assert!(errs.contains(&(60.0, Some(0.0), "leverage".into())));
    assert!(errs.contains(&(3.0, Some(3.5), "options.maintenanceOverride".into())));
    assert!(errs.contains(&(25.0, Some(30.0), "options.interest.ratePct".into())));
    // Two columns and one row, the backtest's first complaint where they cross.
    assert_eq!(errs.len(), 4 + 4 + 5 - 2);
    assert!(errs.contains(&(60.0, Some(30.0), "leverage".into())));
    // Higher rates cost more interest.
    let interest = |k: usize| r.cells[k].summary.as_ref().unwrap().total_interest;
    assert!(interest(5) > interest(0) && interest(10) > interest(5));
}

#[test]
fn profit_threshold_cells_are_single_runs() {
    let mut b = base(
        "QQQ",
        Mode::ProfitThreshold,
        "2002-01-01",
        "2016-12-31",
        1.8,
    );
    b.profit_threshold_pct = Some(100.0);
    let input = SweepInput {
        base: b,
        x: axis(
            SweepParameter::ProfitThresholdPct,
            &[10.0, 25.0, 50.0, 100.0, 0.5],
        ),
        y: Some(axis(SweepParameter::ReleverBand, &[0.9, 0.95, 1.0])),
    };
    let r = cells_are_runs(&input);
    assert!(r.warnings.is_empty());
    let rebalances = |k: usize| r.cells[k].summary.as_ref().unwrap().rebalances;
    assert!(
        rebalances(0) > rebalances(3),
        "{} vs {}",
        rebalances(0),
        rebalances(3)
    );
    let errs = errors(&r);
    assert_eq!(errs.len(), 3);
    assert!(
        errs.iter()
            .all(|(x, _, f)| *x == 0.5 && f == "profitThresholdPct")
    );
}

#[test]
fn wait_days_in_liquidation_reentry_cells_are_single_runs() {
    let input = SweepInput {
        base: base(
            "VTI",
            Mode::LiquidationReentry,
            "2001-06-15",
            "2016-06-15",
            2.0,
        ),
        x: axis(SweepParameter::WaitDays, &[0.0, 2.0, 5.0, 20.0, 2.5, 300.0]),
        y: Some(axis(SweepParameter::Leverage, &[1.6, 2.0])),
    };
    let r = cells_are_runs(&input);
    let errs = errors(&r);
    assert_eq!(errs.len(), 4);
    assert!(errs.iter().all(|(_, _, f)| f == "options.waitDays"));
    let msg = r.cells[4].error.as_ref().unwrap().message.clone();
    assert_eq!(msg, "must be a whole number of days (got 2.5)");
    let msg = r.cells[5].error.as_ref().unwrap().message.clone();
    assert_eq!(msg, "must be between 0 and 252 days (got 300)");
    let liq = r.cells[6 + 3].summary.as_ref().unwrap().liquidations;
    assert!(liq > 0, "2x VTI through 2008 is liquidated");
}

#[test]
fn the_other_parameters_are_single_runs() {
    // FRESH_CAPITAL on T-bills: spread × minimum equity.
    let mut b = base("SPY", Mode::FreshCapital, "2000-01-01", "2015-12-31", 2.0);
    b.options.interest = InterestModel::TbillPlus { spread_pct: 1.0 };
    cells_are_runs(&SweepInput {
        base: b,
        x: axis(SweepParameter::InterestSpreadPct, &[0.0, 1.5, 4.0, -1.0]),
        y: Some(axis(SweepParameter::MinEquity, &[0.0, 50_000.0, 150_000.0])),
    });
    // RESTORE: buffer × slippage.
    let mut b = base(
        "QQQ",
        Mode::LiquidationReentry,
        "2000-01-01",
        "2015-12-31",
        1.9,
    );
    b.options.liquidation_policy = LiquidationPolicy::Restore;
    cells_are_runs(&SweepInput {
        base: b,
        x: axis(SweepParameter::RestoreBuffer, &[0.0, 0.05, 0.2, 0.6]),
        y: Some(axis(
            SweepParameter::LiquidationSlippageBps,
            &[0.0, 25.0, 2900.0],
        )),
    });
    // Starting equity, one axis.
    let r = cells_are_runs(&SweepInput {
        base: base(
            "SPY",
            Mode::LiquidationReentry,
            "2008-01-01",
            "2023-12-31",
            2.0,
        ),
        x: axis(
            SweepParameter::InitialInvestment,
            &[500.0, 10_000.0, 1e6, 0.0],
        ),
        y: None,
    });
    assert_eq!(errors(&r), vec![(0.0, None, "initialInvestment".into())]);
}

#[test]
fn a_spread_on_a_fixed_base_is_an_error_cell() {
    let mut b = base(
        "SPY",
        Mode::LiquidationReentry,
        "2008-01-01",
        "2023-12-31",
        2.0,
    );
    b.options.interest = InterestModel::Fixed { rate_pct: 5.0 };
    let r = cells_are_runs(&SweepInput {
        base: b,
        x: axis(SweepParameter::InterestSpreadPct, &[1.0, 2.0]),
        y: Some(axis(SweepParameter::Leverage, &[1.5, 2.0])),
    });
    assert_eq!(r.completed_cells, 4);
    for c in &r.cells {
        let e = c.error.as_ref().unwrap();
        assert_eq!(e.field, "options.interest.spreadPct");
        assert!(e.message.contains("FIXED"));
    }
}

#[test]
fn leverage_above_the_account_maximum_is_an_error_cell_and_the_rest_complete() {
    let r = cells_are_runs(&SweepInput {
        base: base(
            "SPY",
            Mode::LiquidationReentry,
            "2005-01-01",
            "2020-12-31",
            2.0,
        ),
        x: axis(SweepParameter::Leverage, &[1.0, 2.0, 3.0, 0.5]),
        y: Some(axis(SweepParameter::StartYear, &[2005.0, 2010.0])),
    });
    assert_eq!(r.completed_cells, 8);
    let errs = errors(&r);
    assert_eq!(errs.len(), 4);
    for (x, _, f) in &errs {
        assert!(*x == 3.0 || *x == 0.5);
        assert_eq!(f, "leverage");
    }
    let e = r.cells[2].error.as_ref().unwrap();
    assert!(
        e.message.starts_with("must be between 1 and 2 for REG_T"),
        "{}",
        e.message
    );
    assert_eq!(r.cells.iter().filter(|c| c.summary.is_some()).count(), 4);
}
