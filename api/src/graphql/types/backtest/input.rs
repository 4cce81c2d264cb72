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

#[derive(InputObject, Clone, Debug)]
pub struct InterestInput {
    pub model: InterestModelKind,
    // The description repeats engine::backtest::DEFAULT_SPREAD_PCT: it is a literal.
    /// FED_FUNDS_PLUS / TBILL_PLUS: percent over the base rate (default 1.5).
    pub spread_pct: Option<f64>,
    /// FIXED: the annual rate in percent.
    pub rate_pct: Option<f64>,
}

/// Engine options; every one has the default of engine/SPEC.md.
#[derive(InputObject, Clone, Debug, Default)]
pub struct BacktestOptionsInput {
    pub wait_days: Option<i32>,
    pub min_equity: Option<f64>,
    pub day_count_basis: Option<i32>,
    pub interest: Option<InterestInput>,
    pub tc_bps: Option<f64>,
    pub liquidation_policy: Option<LiquidationPolicy>,
    pub restore_buffer: Option<f64>,
    pub intraday: Option<bool>,
    pub liquidation_slippage_bps: Option<f64>,
    pub relever_band: Option<f64>,
    pub maintenance_override: Option<f64>,
    pub risk_free_rate_pct: Option<f64>,
}

#[derive(InputObject, Clone, Debug)]
pub struct BacktestInput {
    pub ticker: String,
    pub mode: Mode,
    /// Inclusive; snapped to the first trading day on or after it.
    pub start_date: Date,
    /// Inclusive; snapped to the last trading day on or before it.
    pub end_date: Date,
    pub leverage: f64,
    #[graphql(default)]
    pub account_type: AccountType,
    /// Starting equity (cash): the first position is `initialInvestment × leverage`.
    pub initial_investment: f64,
    /// PROFIT_THRESHOLD only: re-lever after this much growth, percent (default 100).
    pub profit_threshold_pct: Option<f64>,
    pub options: Option<BacktestOptionsInput>,
}

fn non_negative(field: &str, value: i32, message: &str) -> ApiResult<u32> {
    u32::try_from(value).map_err(|_| ApiError::input(field, message))
}

impl BacktestInput {
    pub fn to_engine(&self) -> ApiResult<EngineInput> {
        let defaults = BacktestOptions::default();
        let o = self.options.clone().unwrap_or_default();
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
        let options = BacktestOptions {
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
        };
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
