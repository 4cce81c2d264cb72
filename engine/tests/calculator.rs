#![allow(
    clippy::inconsistent_digit_grouping,
    clippy::excessive_precision,
    clippy::unreadable_literal
)]
mod common;

use common::{assert_close, case_a_market, shipped};
use engine::calculator::{CalcInput, ScenarioStatus, calculate};
use engine::{AccountType, PositionType};

fn reference(account: AccountType, position: PositionType, months: u32) -> CalcInput {
    CalcInput {
        ticker: "SPY".into(),
        investment_amount: 100_000.0,
        leverage: 2.0,
        current_price: Some(450.25),
        account_type: account,
        position_type: position,
        interest_rate: 5.5,
        holding_period_months: months,
        maintenance_override: None,
        day_count_basis: None,
    }
}

fn r2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[test]
fn engine_md_reference_case() {
    let md = shipped();
    let r = calculate(&reference(AccountType::RegT, PositionType::Long, 12), md).unwrap();
    assert_eq!(r2(r.cash_required), 50_000.00);
    assert_eq!(r2(r.margin_loan), 50_000.00);
    assert_eq!(r.shares, 222.0);
    assert_close("fractional", r.shares_fractional, 222.099, 0.0005);
    assert_eq!(r2(r.margin_call_price), 300.17);
    assert_eq!(r2(r.daily_interest), 7.53);
    assert_eq!(r2(r.breakeven_price), 462.63);
    for (months, want) in [(1, 229.17), (6, 1_375.00), (12, 2_750.00), (60, 13_750.00)] {
        let r = calculate(
            &reference(AccountType::RegT, PositionType::Long, months),
            md,
        )
        .unwrap();
        assert_eq!(r2(r.holding_interest), want, "{months} months");
    }
    for (acct, pos, want) in [
        (AccountType::RegT, PositionType::Short, 519.52),
        (AccountType::Portfolio, PositionType::Long, 264.85),
        (AccountType::Portfolio, PositionType::Short, 587.28),
    ] {
        let r = calculate(&reference(acct, pos, 12), md).unwrap();
        assert_eq!(r2(r.margin_call_price), want, "{acct:?} {pos:?}");
    }
}

#[test]
fn derived_fields_are_consistent() {
    let md = shipped();
    let r = calculate(&reference(AccountType::RegT, PositionType::Long, 12), md).unwrap();
    assert_close(
        "equity at call",
        r.equity_at_call,
        0.25 * r.value_at_call,
        1e-9,
    );
    assert_close(
        "call move",
        r.move_to_call_pct,
        -(0.5 - 0.25) / 0.75 * 100.0,
        1e-9,
    );
    assert_close("wipeout", r.wipeout_price, 225.125, 1e-9);
    assert_close("annual hurdle", r.annual_hurdle_pct, 2.75, 1e-12);
    assert_close("cushion", r.cushion_amount, 25_000.0, 1e-9);
    assert_close(
        "days to call",
        r.days_to_call_on_interest.unwrap(),
        25_000.0 / (50_000.0 * 0.055 / 365.0),
        1e-9,
    );
    assert_eq!(r.other_account_type, AccountType::Portfolio);
    assert_close(
        "other call",
        r.other_account_margin_call_price,
        264.85,
        0.005,
    );
    assert_close("max leverage", r.max_leverage, 2.0, 0.0);
    assert_eq!(r.scenarios.len(), 12);
    let s0 = &r.scenarios[6];
    assert_eq!(s0.move_pct, 0.0);
    assert_close("flat scenario equity", s0.equity, 50_000.0 - 2_750.0, 1e-9);
    assert_eq!(r.scenarios[0].status, ScenarioStatus::Wipeout);
    assert_eq!(r.scenarios[3].status, ScenarioStatus::Ok);
    assert_eq!(r.scenarios[2].status, ScenarioStatus::MarginCall);
    // Default price = last close of the dataset.
    let mut inp = reference(AccountType::RegT, PositionType::Long, 12);
    inp.current_price = None;
    let r = calculate(&inp, md).unwrap();
    assert_eq!(r.current_price, md.dataset("SPY").unwrap().last_close());
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        json.contains("\"cashRequired\"")
            && json.contains("\"marginCallPrice\"")
            && json.contains("\"REG_T\"")
    );
}

#[test]
fn maintenance_override_moves_max_leverage() {
    let md = shipped();
    let mut inp = reference(AccountType::Portfolio, PositionType::Long, 12);
    inp.maintenance_override = Some(0.30);
    inp.leverage = 3.5;
    let e = calculate(&inp, md).unwrap_err();
    assert_eq!(e.field, "leverage");
    assert!(e.message.contains("between 1 and 3.333"), "{}", e.message);
    inp.leverage = 3.3;
    let r = calculate(&inp, md).unwrap();
    assert_close("max", r.max_leverage, 1.0 / 0.3, 1e-12);
}

#[test]
fn bad_inputs_name_field_and_range() {
    let md = case_a_market();
    let base = CalcInput {
        ticker: "SYN".into(),
        ..reference(AccountType::RegT, PositionType::Long, 12)
    };
    type Case = (Box<dyn Fn(&mut CalcInput)>, &'static str, &'static str);
    let cases: Vec<Case> = vec![
        (
            Box::new(|i| i.leverage = 2.5),
            "leverage",
            "between 1 and 2 for REG_T",
        ),
        (
            Box::new(|i| i.leverage = 0.5),
            "leverage",
            "between 1 and 2",
        ),
        (
            Box::new(|i| {
                i.account_type = AccountType::Portfolio;
                i.leverage = 7.0
            }),
            "leverage",
            "between 1 and 6.666 for PORTFOLIO",
        ),
        (Box::new(|i| i.leverage = f64::NAN), "leverage", "finite"),
        (
            Box::new(|i| i.investment_amount = 0.0),
            "investmentAmount",
            "between",
        ),
        (
            Box::new(|i| i.investment_amount = 2e12),
            "investmentAmount",
            "1000000000000",
        ),
        (
            Box::new(|i| i.investment_amount = f64::INFINITY),
            "investmentAmount",
            "finite",
        ),
        (
            Box::new(|i| i.current_price = Some(-1.0)),
            "currentPrice",
            "between",
        ),
        (
            Box::new(|i| i.interest_rate = 26.0),
            "interestRate",
            "between 0 and 25 %",
        ),
        (
            Box::new(|i| i.holding_period_months = 0),
            "holdingPeriodMonths",
            "between 1 and 60",
        ),
        (
            Box::new(|i| i.holding_period_months = 61),
            "holdingPeriodMonths",
            "between 1 and 60",
        ),
        (
            Box::new(|i| i.ticker = "NOPE".into()),
            "ticker",
            "known tickers: SYN",
        ),
        (
            Box::new(|i| i.maintenance_override = Some(1.5)),
            "maintenanceOverride",
            "between",
        ),
    ];
    for (mutate, field, msg) in cases {
        let mut inp = base.clone();
        mutate(&mut inp);
        let e = calculate(&inp, &md).unwrap_err();
        assert_eq!(e.field, field, "{e}");
        assert!(
            e.message.contains(msg),
            "{field}: `{}` lacks `{msg}`",
            e.message
        );
    }
}

/// Regression (hostile-input matrix): in-range inputs whose figures overflow f64 used to
/// come back as NaN/infinity (stored, then unreadable); they are refused, naming a field.
#[test]
fn inputs_whose_figures_overflow_are_refused() {
    let md = case_a_market();
    let base = CalcInput {
        ticker: "SYN".into(),
        ..reference(AccountType::RegT, PositionType::Long, 12)
    };
    type Case = (Box<dyn Fn(&mut CalcInput)>, &'static str);
    let cases: Vec<Case> = vec![
        (
            Box::new(|i| {
                i.investment_amount = 1e12;
                i.current_price = Some(1e-300);
            }),
            "currentPrice",
        ),
        (
            Box::new(|i| {
                i.investment_amount = 1.0;
                i.current_price = Some(5e-324);
            }),
            "currentPrice",
        ),
        (Box::new(|i| i.interest_rate = 1e-320), "interestRate"),
    ];
    for (mutate, field) in cases {
        let mut inp = base.clone();
        mutate(&mut inp);
        let e = calculate(&inp, &md).unwrap_err();
        assert_eq!(e.field, field, "{e}");
    }
    // Tiny but representable figures still compute.
    let mut tiny = base.clone();
    tiny.investment_amount = 1e-300;
    let r = calculate(&tiny, &md).unwrap();
    assert!(r.shares_fractional.is_finite() && r.cushion_pct.is_finite());
}

#[test]
fn leverage_one_has_no_interest_and_no_nan() {
    let md = shipped();
    let mut inp = reference(AccountType::RegT, PositionType::Long, 12);
    inp.leverage = 1.0;
    let r = calculate(&inp, md).unwrap();
    assert_eq!(r.margin_loan, 0.0);
    assert!(r.days_to_call_on_interest.is_none() && r.days_to_call_on_interest_reason.is_some());
    let v = serde_json::to_value(&r).unwrap();
    assert!(!v.to_string().contains("NaN"));
}

#[test]
fn at_a_given_price_the_calculator_needs_no_market_data() {
    let md = shipped();
    for (acct, pos) in [
        (AccountType::RegT, PositionType::Long),
        (AccountType::Portfolio, PositionType::Short),
    ] {
        let input = reference(acct, pos, 24);
        let with_data = calculate(&input, md).unwrap();
        let without = engine::calculator::calculate_at_price(&CalcInput {
            ticker: " spy ".into(),
            ..input.clone()
        })
        .unwrap();
        assert_eq!(without, with_data, "{acct:?} {pos:?}");
    }
    // A ticker the shipped data does not have: the figures follow from the price alone.
    let unknown = CalcInput {
        ticker: "zzzz".into(),
        ..reference(AccountType::RegT, PositionType::Long, 12)
    };
    assert!(calculate(&unknown, md).is_err());
    let r = engine::calculator::calculate_at_price(&unknown).unwrap();
    assert_eq!(r.ticker, "ZZZZ");
    assert_eq!(r2(r.margin_call_price), 300.17);
    // Without a price there is nothing to compute from, and a ticker must look like one.
    let refused = |input: CalcInput| {
        engine::calculator::calculate_at_price(&input)
            .unwrap_err()
            .field
            .to_string()
    };
    assert_eq!(
        refused(CalcInput {
            current_price: None,
            ..unknown.clone()
        }),
        "currentPrice"
    );
    assert_eq!(
        refused(CalcInput {
            ticker: "ZZ ZZ".into(),
            ..unknown
        }),
        "ticker"
    );
}
