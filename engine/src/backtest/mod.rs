//! Leveraged backtest (SPEC.md §3): validation, the daily state machine, and everything
//! derived from it (rounds, events, cushion, metrics, tables).

mod engine_metrics;
mod input;
mod rounds;
mod sim;
pub mod types;

use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

pub use engine_metrics::EngineMetrics;
pub use input::{
    BacktestInput, BacktestOptions, DEFAULT_SPREAD_PCT, InterestModel, LiquidationPolicy, Mode,
    normalize,
};
pub use types::{Daily, Event, EventKind, Progress, Round, Status};

pub use crate::account::{AccountType, PositionType};
use crate::cushion::CushionAnalysis;
use crate::error::InputError;
use crate::market::MarketData;
use crate::metrics::Metrics;
use crate::tables::{MonthlyRow, YearRow};

pub use crate::cache_key::{cache_key, cache_key_for};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BacktestError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("backtest cancelled")]
    Cancelled,
}

/// The headline numbers, flat, for listings and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub ticker: String,
    pub mode: Mode,
    pub account_type: AccountType,
    pub leverage: f64,
    pub start_date: chrono::NaiveDate,
    pub end_date: chrono::NaiveDate,
    pub trading_days: usize,
    pub initial_investment: f64,
    pub final_equity: f64,
    pub final_wealth: f64,
    pub contributed: f64,
    /// Time-weighted total return (fraction).
    pub total_return: Option<f64>,
    /// FRESH_CAPITAL: return on capital deployed; otherwise the total return.
    pub headline_return: Option<f64>,
    pub cagr: Option<f64>,
    pub volatility: Option<f64>,
    pub sharpe: Option<f64>,
    pub sortino: Option<f64>,
    pub max_drawdown: Option<f64>,
    pub calmar: Option<f64>,
    pub liquidations: u32,
    pub margin_calls: u32,
    pub rounds: u32,
    pub rebalances: u32,
    pub total_interest: f64,
    pub total_dividends: f64,
    pub time_in_market: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BacktestResult {
    pub engine_version: String,
    pub dataset_fingerprint: String,
    /// The normalised input the run used.
    pub input: BacktestInput,
    pub summary: Summary,
    pub metrics: Metrics,
    pub engine_metrics: EngineMetrics,
    pub rounds: Vec<Round>,
    pub events: Vec<Event>,
    pub cushion: CushionAnalysis,
    pub monthly_returns: Vec<MonthlyRow>,
    pub yearly: Vec<YearRow>,
    pub warnings: Vec<String>,
    pub daily: Daily,
}

/// What every run shares: the validated input, the simulation and its finite check.
struct Simulated<'a> {
    r: input::Resolved<'a>,
    out: sim::SimOutput,
}

fn simulate_checked<'a>(
    data: &'a MarketData,
    input: &BacktestInput,
    on_progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<Simulated<'a>, BacktestError> {
    let r = input::resolve(input, data)?;
    let inp = &r.input;
    let o = &inp.options;
    let dates = &r.ds.dates[r.start..=r.end];
    // Precomputed at load; a dataset built by hand and never inserted is aligned here.
    let computed;
    let (fed_funds, tbill): (&[f64], &[f64]) = match data.aligned_rates(&r.ds.symbol) {
        Some(a) if a.fed_funds.len() == r.ds.len() => {
            (&a.fed_funds[r.start..=r.end], &a.tbill_3m[r.start..=r.end])
        }
        _ => {
            computed = (
                data.fed_funds().aligned(dates),
                data.tbill_3m().aligned(dates),
            );
            (&computed.0, &computed.1)
        }
    };
    let margin_rate: Vec<f64> = match o.interest {
        InterestModel::FedFundsPlus { spread_pct } => fed_funds
            .iter()
            .map(|x| (x + spread_pct).max(0.0))
            .collect(),
        InterestModel::TbillPlus { spread_pct } => {
            tbill.iter().map(|x| (x + spread_pct).max(0.0)).collect()
        }
        InterestModel::Fixed { rate_pct } => vec![rate_pct; dates.len()],
    };
    let out = sim::simulate(&r, &margin_rate, fed_funds, on_progress, cancel)
        .map_err(|_| BacktestError::Cancelled)?;
    let daily = &out.daily;
    // Safety net: PRICE_RANGE makes this unreachable for validated data, but no non-finite
    // number may leave the engine whatever a caller put into a hand-built Dataset.
    let columns = [
        &daily.equity,
        &daily.wealth,
        &daily.loan,
        &daily.shares,
        &daily.daily_return,
        &daily.drawdown,
    ];
    // A fold rather than `any`: no early exit, so it vectorises (the answer is almost always
    // "all finite", which `any` would learn only at the end anyway).
    let all_finite = |c: &[f64]| c.iter().fold(true, |ok, v| ok & v.is_finite());
    if !columns.iter().all(|c| all_finite(c)) {
        return Err(BacktestError::Input(InputError::new(
            "ticker",
            format!(
                "the {} data produce values too large to represent",
                inp.ticker
            ),
        )));
    }
    Ok(Simulated { r, out })
}

impl Simulated<'_> {
    /// The return metrics, the engine metrics and the summary: the same code for a full
    /// result and for [`run_summary`], so both give the same bits.
    fn headline(&self) -> (Metrics, EngineMetrics, Summary) {
        let inp = &self.r.input;
        let out = &self.out;
        let daily = &out.daily;
        let metrics = crate::metrics::compute_with_drawdown(
            &daily.date[1..],
            &daily.daily_return[1..],
            inp.options.risk_free_rate_pct / 100.0,
            Some(&daily.drawdown[1..]),
        );
        let em = engine_metrics::compute(
            daily,
            &out.rounds,
            &out.events,
            inp,
            out.contributed,
            out.slippage_cost,
            out.total_deficit,
        );
        let last = daily.len() - 1;
        let summary = Summary {
            ticker: inp.ticker.clone(),
            mode: inp.mode,
            account_type: inp.account_type,
            leverage: inp.leverage,
            start_date: inp.start_date,
            end_date: inp.end_date,
            trading_days: daily.len(),
            initial_investment: inp.initial_investment,
            final_equity: daily.equity[last],
            final_wealth: daily.wealth[last],
            contributed: out.contributed,
            total_return: metrics.total_return,
            headline_return: if inp.mode == Mode::FreshCapital {
                em.return_on_capital
            } else {
                metrics.total_return
            },
            cagr: metrics.cagr,
            volatility: metrics.volatility,
            sharpe: metrics.sharpe,
            sortino: metrics.sortino,
            max_drawdown: metrics.max_drawdown,
            calmar: metrics.calmar,
            liquidations: em.liquidations,
            margin_calls: em.margin_calls,
            rounds: em.rounds,
            rebalances: em.rebalances,
            total_interest: em.total_interest,
            total_dividends: em.total_dividends,
            time_in_market: em.time_in_market,
        };
        (metrics, em, summary)
    }
}

/// Runs one backtest. `on_progress` fires at most ~100 times; `cancel` is polled as often.
pub fn run_backtest(
    data: &MarketData,
    input: &BacktestInput,
    on_progress: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<BacktestResult, BacktestError> {
    let s = simulate_checked(data, input, on_progress, cancel)?;
    let (metrics, em, summary) = s.headline();
    let Simulated { r, out } = s;
    let inp = &r.input;
    let o = &inp.options;
    let daily = out.daily;
    let cushion = crate::cushion::analyse(&daily, r.profile.maintenance);

    let mut warnings = Vec::new();
    if inp.initial_investment < r.profile.account_minimum {
        warnings.push(format!(
            "starting equity {:.2} is below the {} account minimum of {:.0}",
            inp.initial_investment,
            inp.account_type.as_str(),
            r.profile.account_minimum
        ));
    }
    if inp.initial_investment < o.min_equity {
        warnings.push(format!(
            "starting equity is below minEquity {:.2}: the run stays in cash",
            o.min_equity
        ));
    }

    Ok(BacktestResult {
        engine_version: crate::ENGINE_VERSION.to_string(),
        dataset_fingerprint: r.ds.fingerprint.clone(),
        input: inp.clone(),
        summary,
        metrics,
        engine_metrics: em,
        rounds: out.rounds,
        events: out.events,
        cushion,
        monthly_returns: crate::tables::monthly(&daily),
        yearly: crate::tables::yearly(&daily),
        warnings,
        daily,
    })
}

/// The [`Summary`] of [`run_backtest`] without the rest of the result (cushion analysis,
/// tables, warnings): the same validation, simulation and metrics code, so the summary is
/// bit-identical to `run_backtest(..)?.summary`. What sweeps run per cell. No progress
/// callback; `cancel` is polled ~100 times per run.
pub fn run_summary(
    data: &MarketData,
    input: &BacktestInput,
    cancel: &AtomicBool,
) -> Result<Summary, BacktestError> {
    let s = simulate_checked(data, input, &mut |_| {}, cancel)?;
    Ok(s.headline().2)
}

pub(crate) fn input_canonical(input: BacktestInput) -> BacktestInput {
    input::canonical_fields(input)
}
