//! The engine's input validation on arbitrary calculator and backtest inputs: validation never
//! panics, and whatever it accepts computes without a panic and with every number finite.

#![no_main]

use std::sync::atomic::AtomicBool;

use arbitrary::Arbitrary;
use chrono::{Days, NaiveDate};
use engine::backtest::{
    BacktestInput, BacktestOptions, InterestModel, LiquidationPolicy, Mode, normalize, run_backtest,
};
use engine::calculator::{CalcInput, calculate, validate};
use engine::{AccountType, PositionType};
use libfuzzer_sys::fuzz_target;
use margin_fuzz::{assert_backtest_finite, assert_finite, market};

/// A number: raw bits (mostly far out of range), a plausible value, or an edge case, so the
/// fuzzer reaches both the refusals and the computations.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Num {
    Raw(f64),
    /// 0 to 655.35 in steps of 0.01.
    Hundredths(u16),
    /// 0 to 6.5535 in steps of 0.0001.
    Fraction(u16),
    /// ±10^e for e in -128..=127.
    Power(bool, i8),
    Edge(u8),
}

const EDGES: [f64; 16] = [
    0.0,
    -0.0,
    f64::MIN_POSITIVE,
    5e-324,
    1e-300,
    1.0,
    1.0000000000000002,
    2.0,
    6.667,
    1e12,
    1e12 + 1.0,
    1e300,
    f64::MAX,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

impl Num {
    fn value(self) -> f64 {
        match self {
            Num::Raw(v) => v,
            Num::Hundredths(v) => f64::from(v) / 100.0,
            Num::Fraction(v) => f64::from(v) / 10_000.0,
            Num::Power(negative, e) => {
                let v = 10f64.powi(i32::from(e));
                if negative { -v } else { v }
            }
            Num::Edge(i) => EDGES[usize::from(i) % EDGES.len()],
        }
    }

    /// A money amount: `Hundredths` scaled up to 0–655 million.
    fn money(self) -> f64 {
        match self {
            Num::Hundredths(v) => f64::from(v) * 10_000.0,
            other => other.value(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Ticker {
    Spy,
    Vti,
    Qqq,
    Lower,
    Other(String),
}

impl Ticker {
    fn name(&self) -> String {
        match self {
            Ticker::Spy => "SPY".into(),
            Ticker::Vti => "VTI".into(),
            Ticker::Qqq => " qqq ".into(),
            Ticker::Lower => "spy".into(),
            Ticker::Other(s) => s.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Calc {
    ticker: Ticker,
    amount: Num,
    leverage: Num,
    price: Option<Num>,
    portfolio: bool,
    short: bool,
    rate: Num,
    months: u8,
    maintenance: Option<Num>,
    basis: Option<u16>,
}

#[derive(Arbitrary, Debug)]
enum Interest {
    FedFunds(Num),
    Tbill(Num),
    Fixed(Num),
}

#[derive(Arbitrary, Debug)]
struct Options {
    wait_days: Option<u16>,
    min_equity: Option<Num>,
    day_count_basis: Option<u16>,
    interest: Option<Interest>,
    tc_bps: Option<Num>,
    restore: bool,
    restore_buffer: Option<Num>,
    intraday: bool,
    liquidation_slippage_bps: Option<Num>,
    relever_band: Option<Num>,
    maintenance_override: Option<Num>,
    risk_free_rate_pct: Option<Num>,
}

#[derive(Arbitrary, Debug)]
struct Backtest {
    ticker: Ticker,
    mode: u8,
    /// Days after 1990-01-01 (the data start in 1993).
    start: u16,
    /// Days after `start`, or before it when `backwards`.
    span: u16,
    backwards: bool,
    leverage: Num,
    portfolio: bool,
    initial: Num,
    threshold: Option<Num>,
    options: Option<Options>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    calc: Calc,
    backtest: Backtest,
}

fuzz_target!(|input: Input| {
    check_calculator(&input.calc);
    check_backtest(&input.backtest);
});

fn check_calculator(c: &Calc) {
    let input = CalcInput {
        ticker: c.ticker.name(),
        investment_amount: c.amount.money(),
        leverage: c.leverage.value(),
        current_price: c.price.map(Num::value),
        account_type: if c.portfolio {
            AccountType::Portfolio
        } else {
            AccountType::RegT
        },
        position_type: if c.short {
            PositionType::Short
        } else {
            PositionType::Long
        },
        interest_rate: c.rate.value(),
        holding_period_months: u32::from(c.months),
        maintenance_override: c.maintenance.map(Num::value),
        day_count_basis: c.basis.map(u32::from),
    };
    let valid = validate(&input, market()).is_ok();
    match calculate(&input, market()) {
        Ok(result) => {
            assert!(valid, "calculate accepted what validate refused: {input:?}");
            assert_finite("calculator", &result);
            note("calculation computed");
        }
        Err(err) => assert!(!err.field.is_empty(), "an error without a field: {err:?}"),
    }
}

fn check_backtest(b: &Backtest) {
    let base = NaiveDate::from_ymd_opt(1990, 1, 1).expect("a valid date");
    let start = base + Days::new(u64::from(b.start));
    let end = if b.backwards {
        start
            .checked_sub_days(Days::new(u64::from(b.span)))
            .unwrap_or(start)
    } else {
        start + Days::new(u64::from(b.span))
    };
    let mut options = BacktestOptions::default();
    if let Some(o) = &b.options {
        if let Some(v) = o.wait_days {
            options.wait_days = u32::from(v);
        }
        if let Some(v) = o.min_equity {
            options.min_equity = v.money();
        }
        if let Some(v) = o.day_count_basis {
            options.day_count_basis = u32::from(v);
        }
        if let Some(interest) = &o.interest {
            options.interest = match *interest {
                Interest::FedFunds(v) => InterestModel::FedFundsPlus {
                    spread_pct: v.value(),
                },
                Interest::Tbill(v) => InterestModel::TbillPlus {
                    spread_pct: v.value(),
                },
                Interest::Fixed(v) => InterestModel::Fixed {
                    rate_pct: v.value(),
                },
            };
        }
        if let Some(v) = o.tc_bps {
            options.tc_bps = v.value();
        }
        if o.restore {
            options.liquidation_policy = LiquidationPolicy::Restore;
        }
        if let Some(v) = o.restore_buffer {
            options.restore_buffer = v.value();
        }
        options.intraday = o.intraday;
        if let Some(v) = o.liquidation_slippage_bps {
            options.liquidation_slippage_bps = v.value();
        }
        if let Some(v) = o.relever_band {
            options.relever_band = v.value();
        }
        options.maintenance_override = o.maintenance_override.map(Num::value);
        if let Some(v) = o.risk_free_rate_pct {
            options.risk_free_rate_pct = v.value();
        }
    }
    let input = BacktestInput {
        ticker: b.ticker.name(),
        mode: [
            Mode::LiquidationReentry,
            Mode::FreshCapital,
            Mode::ProfitThreshold,
        ][usize::from(b.mode) % 3],
        start_date: start,
        end_date: end,
        leverage: b.leverage.value(),
        account_type: if b.portfolio {
            AccountType::Portfolio
        } else {
            AccountType::RegT
        },
        initial_investment: b.initial.money(),
        profit_threshold_pct: b.threshold.map(Num::value),
        options,
    };
    let normalized = normalize(&input, market());
    match run_backtest(market(), &input, &mut |_| {}, &AtomicBool::new(false)) {
        Ok(result) => {
            let normalized = normalized.expect("run_backtest accepted what normalize refused");
            assert_eq!(
                result.input, normalized,
                "the result carries the normalised input"
            );
            // Normalising is idempotent: the cache key of a normalised input is stable.
            assert_eq!(normalize(&normalized, market()).as_ref(), Ok(&normalized));
            assert_backtest_finite(&result);
            note("backtest computed");
        }
        Err(engine::backtest::BacktestError::Input(err)) => {
            assert!(!err.field.is_empty(), "an error without a field: {err:?}");
        }
        Err(engine::backtest::BacktestError::Cancelled) => panic!("cancelled without a cancel"),
    }
}

/// With `FUZZ_NOTES` set, says which paths an input reached (to check a corpus's coverage).
fn note(what: &str) {
    if std::env::var_os("FUZZ_NOTES").is_some() {
        eprintln!("note: {what}");
    }
}
