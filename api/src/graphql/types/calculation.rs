//! The margin calculator's input and its full typed result (engine/SPEC.md §2).

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use engine::calculator::CalcInput;

use super::{
    margin_enums::{AccountType, PositionType, RiskLevel, ScenarioStatus},
    mirror::mirror,
};
use crate::{
    error::{ApiError, ApiResult},
    graphql::ids::{Kind, global_id},
};

#[derive(InputObject, Clone, Debug)]
#[graphql(name = "CalculatorInput")]
pub struct CalculatorInput {
    pub ticker: String,
    /// Gross position value `I` (what is bought, not the cash put up).
    pub investment_amount: f64,
    /// 1 to the account's maximum (2 for REG_T, 6.667 for PORTFOLIO).
    pub leverage: f64,
    /// Entry price; default: the ticker's last close.
    pub current_price: Option<f64>,
    #[graphql(default)]
    pub account_type: AccountType,
    #[graphql(default)]
    pub position_type: PositionType,
    /// Annual margin rate in percent, 0–25.
    pub interest_rate: f64,
    /// 1–60.
    pub holding_period_months: i32,
    /// House maintenance fraction replacing the account's default (e.g. 0.30).
    pub maintenance_override: Option<f64>,
    /// 365 (default) or 360.
    pub day_count_basis: Option<i32>,
}

impl CalculatorInput {
    pub fn to_engine(&self) -> ApiResult<CalcInput> {
        let holding_period_months = u32::try_from(self.holding_period_months).map_err(|_| {
            ApiError::input("holdingPeriodMonths", "must be between 1 and 60 months")
        })?;
        let day_count_basis = self
            .day_count_basis
            .map(|b| {
                u32::try_from(b).map_err(|_| ApiError::input("dayCountBasis", "must be 360 or 365"))
            })
            .transpose()?;
        Ok(CalcInput {
            ticker: self.ticker.clone(),
            investment_amount: self.investment_amount,
            leverage: self.leverage,
            current_price: self.current_price,
            account_type: self.account_type.into(),
            position_type: self.position_type.into(),
            interest_rate: self.interest_rate,
            holding_period_months,
            maintenance_override: self.maintenance_override,
            day_count_basis,
        })
    }
}

mirror! {
    /// One row of the scenario table: the position after a price move, with holding-period
    /// interest paid.
    Scenario from engine::calculator::Scenario {
        move_pct: f64,
        price: f64,
        position_value: f64,
        equity: f64,
        return_on_equity_pct: f64,
        equity_pct: f64,
        status: ScenarioStatus,
    }
}

mirror! {
    /// Every figure of the calculator. Percent fields end in `Pct`; money is unrounded.
    CalculatorResult from engine::calculator::CalcResult {
        ticker: String,
        account_type: AccountType,
        position_type: PositionType,
        current_price: f64,
        interest_rate: f64,
        holding_period_months: i32,
        day_count_basis: i32,
        position_value: f64,
        cash_required: f64,
        margin_loan: f64,
        short_credit: f64,
        shares_fractional: f64,
        shares: f64,
        whole_share_cost: f64,
        residual_cash: f64,
        leverage: f64,
        equity_pct: f64,
        loan_to_value_pct: f64,
        initial_margin_pct: f64,
        initial_margin_amount: f64,
        excess_equity_at_entry: f64,
        max_leverage: f64,
        buying_power: f64,
        remaining_buying_power: f64,
        maintenance_pct: f64,
        maintenance_amount: f64,
        cushion_amount: f64,
        cushion_pct: f64,
        leverage_at_call: f64,
        margin_call_price: f64,
        move_to_call_pct: f64,
        value_at_call: f64,
        loss_at_call: f64,
        equity_at_call: f64,
        wipeout_price: f64,
        wipeout_move_pct: f64,
        daily_interest: f64,
        monthly_interest: f64,
        annual_interest: f64,
        holding_interest: f64,
        annual_interest_pct_of_equity: f64,
        holding_interest_pct_of_position: f64,
        breakeven_price: f64,
        breakeven_move_pct: f64,
        annual_hurdle_pct: f64,
        days_to_call_on_interest: Option<f64>,
        days_to_call_on_interest_reason: Option<String>,
        distance_to_call_per_share: f64,
        call_price_pct_of_price: f64,
        other_account_type: AccountType,
        other_account_margin_call_price: f64,
        other_account_max_leverage: f64,
        immediate_call: bool,
        risk_level: RiskLevel,
        account_minimum: f64,
        below_account_minimum: bool,
        warnings: Vec<String>,
        scenarios: Vec<Scenario>,
    }
}

/// A stored calculation.
#[derive(SimpleObject, Clone, Debug)]
pub struct MarginCalculation {
    pub id: ID,
    pub ticker: String,
    pub investment_amount: f64,
    pub leverage: f64,
    pub current_price: f64,
    pub account_type: AccountType,
    pub position_type: PositionType,
    pub interest_rate: f64,
    pub holding_period_months: i32,
    pub created_at: DateTime<Utc>,
    pub result: CalculatorResult,
}

impl MarginCalculation {
    pub fn new(
        record: &crate::services::calculations::CalculationRecord,
        result: &engine::calculator::CalcResult,
    ) -> Self {
        Self {
            id: global_id(Kind::MarginCalculation, record.id),
            ticker: record.ticker.clone(),
            investment_amount: record.investment_amount,
            leverage: record.leverage,
            current_price: record.current_price,
            account_type: result.account_type.into(),
            position_type: result.position_type.into(),
            interest_rate: record.interest_rate,
            holding_period_months: record.holding_period,
            created_at: record.created_at,
            result: result.into(),
        }
    }
}
