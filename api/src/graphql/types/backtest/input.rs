//! The input of a backtest run and its conversion to the engine's input.

use async_graphql::InputObject;
use engine::backtest::{BacktestInput as EngineInput, BacktestOptions, DEFAULT_SPREAD_PCT};

use crate::{
    error::{ApiError, ApiResult},
    graphql::types::{
        margin_enums::{AccountType, InterestModelKind, LiquidationPolicy, Mode},
        scalars::Date,
    },
};

/// How the margin loan's interest rate is set.
#[derive(InputObject, Clone, Debug)]
pub struct InterestInput {
    /// The rate model: a base rate plus a spread, or a fixed rate.
    pub model: InterestModelKind,
    // The default repeats engine::backtest::DEFAULT_SPREAD_PCT: it is a literal.
    /// FED_FUNDS_PLUS / TBILL_PLUS: percent per year over the base rate, 0–25 (ignored for
    /// FIXED).
    #[graphql(default = 1.5)]
    pub spread_pct: Option<f64>,
    /// FIXED (required there): the annual rate in percent, 0–25.
    pub rate_pct: Option<f64>,
}

/// Engine options (engine/SPEC.md §3); each one left out takes the default shown.
#[derive(InputObject, Clone, Debug, Default)]
pub struct BacktestOptionsInput {
    /// Trading days to stay in cash after a liquidation before re-entering, 0–252.
    #[graphql(default = 2)]
    pub wait_days: Option<i32>,
    /// Equity below which no new round starts (the run stays in cash), US dollars.
    #[graphql(default = 1000.0)]
    pub min_equity: Option<f64>,
    /// Days in a year for interest accrual: 365 or 360.
    #[graphql(default = 365)]
    pub day_count_basis: Option<i32>,
    /// The margin-loan rate; null: the daily effective fed funds rate plus 1.5 % a year.
    pub interest: Option<InterestInput>,
    /// PROFIT_THRESHOLD only: cost of a rebalance in basis points of the value bought, 0–1000.
    #[graphql(default = 5.0)]
    pub tc_bps: Option<f64>,
    /// What a margin call does.
    #[graphql(default_with = "Some(LiquidationPolicy::Full)")]
    pub liquidation_policy: Option<LiquidationPolicy>,
    /// RESTORE only: added to the maintenance fraction when restoring after a call, a
    /// fraction 0–0.5 (0.05 = 5 points).
    #[graphql(default = 0.0)]
    pub restore_buffer: Option<f64>,
    /// Check margin calls against the day's low too, filling at the lower of the open and the
    /// margin-call price; false checks only the close.
    #[graphql(default_with = "Some(false)")]
    pub intraday: Option<bool>,
    /// Slippage on margin-call sales, in basis points of the value sold, 0–1000.
    #[graphql(default = 0.0)]
    pub liquidation_slippage_bps: Option<f64>,
    /// PROFIT_THRESHOLD only: re-lever only while leverage is below this fraction of the
    /// target, 0.5–1.
    #[graphql(default = 0.95)]
    pub relever_band: Option<f64>,
    /// House maintenance fraction replacing the account's (0.30 = 30 %), 0.05–0.95; one above
    /// the initial fraction lowers the maximum leverage to 1/maintenance. Null: the account
    /// type's own.
    pub maintenance_override: Option<f64>,
    /// Annual risk-free rate for Sharpe and Sortino, percent, 0–25.
    #[graphql(default = 0.0)]
    pub risk_free_rate_pct: Option<f64>,
}

/// A backtest to run: a leveraged position in one dataset over a span of trading days.
#[derive(InputObject, Clone, Debug)]
pub struct BacktestInput {
    /// Dataset symbol (SPY, VTI, QQQ or any other in `tickers`), in any case.
    pub ticker: String,
    /// What happens to capital after a liquidation.
    pub mode: Mode,
    /// Inclusive; snapped to the first trading day on or after it.
    pub start_date: Date,
    /// Inclusive; snapped to the last trading day on or before it.
    pub end_date: Date,
    /// Position value / equity at each entry, from 1 to the account's maximum
    /// 1/max(initial, maintenance): 2 for REG_T, 6.667 for PORTFOLIO at their own fractions.
    pub leverage: f64,
    /// Sets the margin fractions and the maximum leverage.
    #[graphql(default)]
    pub account_type: AccountType,
    /// Starting equity (cash), US dollars: the first position is `initialInvestment ×
    /// leverage`. FRESH_CAPITAL deposits it again at each re-entry.
    pub initial_investment: f64,
    /// PROFIT_THRESHOLD only: re-lever after the position has grown this much since the
    /// last entry or rebalance, percent, 1–1000.
    #[graphql(default = 100.0)]
    pub profit_threshold_pct: Option<f64>,
    /// Engine options; null: every default.
    pub options: Option<BacktestOptionsInput>,
}

fn non_negative(field: &str, value: i32, message: &str) -> ApiResult<u32> {
    u32::try_from(value).map_err(|_| ApiError::input(field, message))
}

impl BacktestOptionsInput {
    /// The engine's options, each one left out at its default. Backtests and the risk lab
    /// share this conversion, so an option means the same in both.
    pub fn to_engine(&self) -> ApiResult<BacktestOptions> {
        let defaults = BacktestOptions::default();
        let o = self;
        let interest = match &o.interest {
            None => defaults.interest,
            Some(i) => match i.model {
                InterestModelKind::FedFundsPlus => engine::backtest::InterestModel::FedFundsPlus {
                    spread_pct: i.spread_pct.unwrap_or(DEFAULT_SPREAD_PCT),
                },
                InterestModelKind::TbillPlus => engine::backtest::InterestModel::TbillPlus {
                    spread_pct: i.spread_pct.unwrap_or(DEFAULT_SPREAD_PCT),
                },
                InterestModelKind::Fixed => engine::backtest::InterestModel::Fixed {
                    rate_pct: i.rate_pct.ok_or_else(|| {
                        ApiError::input("options.interest.ratePct", "required for FIXED")
                    })?,
                },
            },
        };
        Ok(BacktestOptions {
            wait_days: o
                .wait_days
                .map(|v| non_negative("options.waitDays", v, "must be between 0 and 252 days"))
                .transpose()?
                .unwrap_or(defaults.wait_days),
            min_equity: o.min_equity.unwrap_or(defaults.min_equity),
            day_count_basis: o
                .day_count_basis
                .map(|v| non_negative("options.dayCountBasis", v, "must be 360 or 365"))
                .transpose()?
                .unwrap_or(defaults.day_count_basis),
            interest,
            tc_bps: o.tc_bps.unwrap_or(defaults.tc_bps),
            liquidation_policy: o
                .liquidation_policy
                .map(Into::into)
                .unwrap_or(defaults.liquidation_policy),
            restore_buffer: o.restore_buffer.unwrap_or(defaults.restore_buffer),
            intraday: o.intraday.unwrap_or(defaults.intraday),
            liquidation_slippage_bps: o
                .liquidation_slippage_bps
                .unwrap_or(defaults.liquidation_slippage_bps),
            relever_band: o.relever_band.unwrap_or(defaults.relever_band),
            maintenance_override: o.maintenance_override,
            risk_free_rate_pct: o.risk_free_rate_pct.unwrap_or(defaults.risk_free_rate_pct),
        })
    }
}

impl BacktestInput {
    pub fn to_engine(&self) -> ApiResult<EngineInput> {
        let options = self.options.clone().unwrap_or_default().to_engine()?;
        Ok(EngineInput {
            ticker: self.ticker.clone(),
            mode: self.mode.into(),
            start_date: self.start_date.0,
            end_date: self.end_date.0,
            leverage: self.leverage,
            account_type: self.account_type.into(),
            initial_investment: self.initial_investment,
            profit_threshold_pct: self.profit_threshold_pct,
            options,
        })
    }
}
