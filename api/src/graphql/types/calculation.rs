//! The margin calculator's input and its full typed result (engine/SPEC.md §2).

use async_graphql::{ComplexObject, Context, ID, InputObject, Json, SimpleObject};
use chrono::{DateTime, Utc};
use engine::calculator::CalcInput;

use super::{
    margin_enums::{AccountType, PositionType, RiskLevel, ScenarioStatus},
    mirror::mirror,
};
use crate::{
    error::{ApiError, ApiResult},
    graphql::{
        app_state,
        ids::{Kind, global_id},
        types::saved::LegacyMetricDifference,
    },
    services::legacy_imports,
};

/// The position the margin calculator analyses.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "CalculatorInput")]
pub struct CalculatorInput {
    /// The dataset's symbol (see `tickers`), case-insensitive.
    pub ticker: String,
    /// Gross position value `I` (what is bought, not the cash put up), US dollars.
    pub investment_amount: f64,
    /// Position value over equity at entry (2 = 2×), from 1 to the account's maximum (2 for
    /// REG_T, 6.667 for PORTFOLIO; lower when `maintenanceOverride` is above the initial
    /// margin).
    pub leverage: f64,
    /// Entry price, US dollars per share; null: the ticker's last close.
    pub current_price: Option<f64>,
    /// The margin rules to apply.
    #[graphql(default)]
    pub account_type: AccountType,
    /// LONG buys on margin; SHORT sells short.
    #[graphql(default)]
    pub position_type: PositionType,
    /// Annual margin rate in percent (5.5 = 5.5 %), 0–25.
    pub interest_rate: f64,
    /// How long the position is held, in months, 1–60.
    pub holding_period_months: i32,
    /// House maintenance fraction replacing the account's default, 0.05–0.95 (0.30 = 30 %);
    /// null: the account's default.
    pub maintenance_override: Option<f64>,
    /// Days per year for daily interest: 365 or 360.
    #[graphql(default = 365)]
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
        /// The price move from entry, percent (−10 = a 10 % drop).
        move_pct: f64,
        /// The price after the move, US dollars per share.
        price: f64,
        /// The position value after the move, `I(1 + move)`, US dollars.
        position_value: f64,
        /// Equity after the move and the holding-period interest, US dollars; zero or less is
        /// a wipe-out.
        equity: f64,
        /// Return on the cash put up, percent, after holding-period interest.
        return_on_equity_pct: f64,
        /// Equity as a percent of position value (`E/V`).
        equity_pct: f64,
        /// Equity at or above maintenance (OK), below it (MARGIN_CALL) or gone (WIPEOUT).
        status: ScenarioStatus,
    }
}

mirror! {
    /// Every figure of the calculator. Percent fields end in `Pct` and are in percent
    /// (25 = 25 %); money is in US dollars, unrounded.
    CalculatorResult from engine::calculator::CalcResult {
        /// The dataset's symbol, upper-cased.
        ticker: String,
        /// The account type the figures are for.
        account_type: AccountType,
        /// The side of the position.
        position_type: PositionType,
        /// Entry price `P0`, US dollars per share: the given `currentPrice`, else the ticker's
        /// last close.
        current_price: f64,
        /// Annual margin rate, percent (5.5 = 5.5 %).
        interest_rate: f64,
        /// The holding period `H`, months.
        holding_period_months: i32,
        /// Days per year for daily interest, `B`: 365 or 360.
        day_count_basis: i32,
        /// Gross position value `I`, US dollars.
        position_value: f64,
        /// Cash (equity) put up at entry, `E0 = I/L`, US dollars.
        cash_required: f64,
        /// The margin loan, `D0 = I − E0`, US dollars; interest accrues on it.
        margin_loan: f64,
        /// Short sale credit `C = I + E0`, US dollars; 0 for LONG.
        short_credit: f64,
        /// Shares the position holds at the entry price, `I/P0`, unrounded.
        shares_fractional: f64,
        /// Whole shares, `floor(I/P0)`.
        shares: f64,
        /// Cost of the whole shares at the entry price, US dollars.
        whole_share_cost: f64,
        /// What is left of `I` after buying the whole shares, US dollars.
        residual_cash: f64,
        /// Leverage at entry, `L = V/E` (2 = 2×).
        leverage: f64,
        /// Equity as a percent of position value at entry, `100/L`.
        equity_pct: f64,
        /// The margin loan as a percent of position value at entry.
        loan_to_value_pct: f64,
        /// Initial margin requirement `IM`, percent of position value (50 for REG_T; the
        /// maintenance percent for PORTFOLIO).
        initial_margin_pct: f64,
        /// Initial margin requirement, `IM·I`, US dollars.
        initial_margin_amount: f64,
        /// Equity above the initial requirement at entry, `E0 − IM·I`, US dollars.
        excess_equity_at_entry: f64,
        /// The highest leverage the account allows, `1/max(IM, m)`.
        max_leverage: f64,
        /// The largest position the cash put up could carry, `E0/IM`, US dollars.
        buying_power: f64,
        /// Buying power left after this position, `E0/IM − I`, US dollars.
        remaining_buying_power: f64,
        /// Maintenance requirement `m`, percent of position value (the account's default or
        /// the override).
        maintenance_pct: f64,
        /// Maintenance requirement at entry, `m·I`, US dollars.
        maintenance_amount: f64,
        /// Equity above the maintenance requirement at entry, `E0 − m·I`, US dollars.
        cushion_amount: f64,
        /// The cushion as a percent of entry equity.
        cushion_pct: f64,
        /// Leverage when the margin call comes, `1/m`.
        leverage_at_call: f64,
        /// Price at which equity falls to the maintenance requirement, US dollars per share
        /// (a drop for LONG, a rise for SHORT).
        margin_call_price: f64,
        /// Signed price move from entry to the margin call, percent (negative for LONG).
        move_to_call_pct: f64,
        /// Position value at the margin-call price, US dollars.
        value_at_call: f64,
        /// Equity lost between entry and the margin call, US dollars.
        loss_at_call: f64,
        /// Equity at the margin call, `m` times the value at call, US dollars.
        equity_at_call: f64,
        /// Price at which equity reaches zero, US dollars per share.
        wipeout_price: f64,
        /// Signed price move from entry to the wipe-out, percent (negative for LONG).
        wipeout_move_pct: f64,
        /// Interest per day on the margin loan, `D0·r/B`, US dollars.
        daily_interest: f64,
        /// Interest per month on the margin loan, `D0·r/12`, US dollars.
        monthly_interest: f64,
        /// Interest per year on the margin loan, `D0·r`, US dollars.
        annual_interest: f64,
        /// Interest over the holding period, `D0·r·H/12`, US dollars.
        holding_interest: f64,
        /// Annual interest as a percent of the cash put up.
        annual_interest_pct_of_equity: f64,
        /// Holding-period interest as a percent of the position value.
        holding_interest_pct_of_position: f64,
        /// Price at the end of the holding period at which the position covers its interest,
        /// US dollars per share.
        breakeven_price: f64,
        /// Signed price move from entry to the breakeven price, percent (positive for LONG).
        breakeven_move_pct: f64,
        /// Yearly price return the position needs to cover its interest, `r(1 − 1/L)`,
        /// percent.
        annual_hurdle_pct: f64,
        /// Calendar days until interest alone, at an unchanged price, uses up the cushion;
        /// null when no interest accrues or the position starts below maintenance (see
        /// `daysToCallOnInterestReason`).
        days_to_call_on_interest: Option<f64>,
        /// Why `daysToCallOnInterest` is null; null when it has a value.
        days_to_call_on_interest_reason: Option<String>,
        /// How far the price can move against the position before the margin call, US dollars
        /// per share.
        distance_to_call_per_share: f64,
        /// The margin-call price as a percent of the entry price.
        call_price_pct_of_price: f64,
        /// The other account type, for comparison.
        other_account_type: AccountType,
        /// The margin-call price under the other account type's default maintenance, at the
        /// same leverage, US dollars per share.
        other_account_margin_call_price: f64,
        /// The highest leverage the other account type allows.
        other_account_max_leverage: f64,
        /// True when the position starts below the maintenance requirement (negative cushion).
        immediate_call: bool,
        /// From the move to the margin call: HIGH below 15 %, MEDIUM below 25 %, else LOW.
        risk_level: RiskLevel,
        /// Equity the account type expects at least, US dollars (2,000 for REG_T, 100,000 for
        /// PORTFOLIO); below it is only a warning.
        account_minimum: f64,
        /// True when the cash put up is below `accountMinimum`.
        below_account_minimum: bool,
        /// Notes for the user: equity below the account minimum, less than one whole share,
        /// leverage above the other account type's maximum.
        warnings: Vec<String>,
        /// The position after price moves from −50 % to +50 % (12 rows), with holding-period
        /// interest paid.
        scenarios: Vec<Scenario>,
    }
}

/// A stored calculation: its main inputs and the result computed when it ran.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct MarginCalculation {
    /// The global id (`node(id:)`, `marginCalculation(id:)`).
    pub id: ID,
    /// The dataset's symbol.
    pub ticker: String,
    /// Gross position value requested, US dollars.
    pub investment_amount: f64,
    /// Leverage requested (2 = 2×).
    pub leverage: f64,
    /// The entry price used, US dollars per share (the given one, or the last close then).
    pub current_price: f64,
    /// The account type used.
    pub account_type: AccountType,
    /// The side of the position.
    pub position_type: PositionType,
    /// Annual margin rate, percent (5.5 = 5.5 %).
    pub interest_rate: f64,
    /// The holding period, months.
    pub holding_period_months: i32,
    /// When the calculation ran.
    pub created_at: DateTime<Utc>,
    /// Every figure, as computed when it ran (not recomputed). For a calculation imported
    /// from the Django apps: as this server's calculator computed it from the stored inputs
    /// at the import (the old figures are in `legacyResults`).
    pub result: CalculatorResult,
    #[graphql(skip)]
    pub row_id: i64,
}

#[ComplexObject]
impl MarginCalculation {
    /// For a calculation imported from the Django apps: its headline figures as the old app
    /// computed them beside this server's, so a changed number can be explained. Null for a
    /// calculation made here.
    async fn legacy_comparison(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<Vec<LegacyMetricDifference>>> {
        let found = legacy_imports::calculation_comparison(&app_state(ctx).db, self.row_id).await?;
        Ok(found.map(|rows| rows.into_iter().map(Into::into).collect()))
    }

    /// For a calculation imported from the Django apps: the old app's `results`, verbatim.
    /// Null for a calculation made here.
    async fn legacy_results(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<Json<serde_json::Value>>> {
        let payload = legacy_imports::calculation_payload(&app_state(ctx).db, self.row_id).await?;
        Ok(payload.map(Json))
    }
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
            row_id: record.id,
        }
    }
}
