//! Margin calculator (SPEC.md §2): one position, no history.

use serde::{Deserialize, Serialize};

use crate::account::{AccountType, PositionType, Profile};
use crate::error::{InputError, in_range};
use crate::market::MarketData;

pub const AMOUNT_MAX: f64 = 1e12;
pub const SCENARIO_MOVES_PCT: [f64; 12] = [
    -50.0, -40.0, -30.0, -20.0, -10.0, -5.0, 0.0, 5.0, 10.0, 20.0, 30.0, 50.0,
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalcInput {
    pub ticker: String,
    /// Gross position value `I`.
    pub investment_amount: f64,
    pub leverage: f64,
    #[serde(default)]
    pub current_price: Option<f64>,
    #[serde(default)]
    pub account_type: AccountType,
    #[serde(default)]
    pub position_type: PositionType,
    /// Annual percent.
    pub interest_rate: f64,
    pub holding_period_months: u32,
    /// Maintenance fraction override (e.g. 0.30 for a 30 % house rule).
    #[serde(default)]
    pub maintenance_override: Option<f64>,
    /// 365 (default) or 360.
    #[serde(default)]
    pub day_count_basis: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScenarioStatus {
    Ok,
    MarginCall,
    Wipeout,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scenario {
    pub move_pct: f64,
    pub price: f64,
    pub position_value: f64,
    pub equity: f64,
    /// Return on the cash put up, percent, after holding-period interest.
    pub return_on_equity_pct: f64,
    /// Equity as a percent of position value (`E/V`).
    pub equity_pct: f64,
    pub status: ScenarioStatus,
}

/// Every figure of SPEC.md §2. Percent fields end in `Pct` and are in percent; money is
/// unrounded f64 (presentation rounds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalcResult {
    pub ticker: String,
    pub account_type: AccountType,
    pub position_type: PositionType,
    pub current_price: f64,
    pub interest_rate: f64,
    pub holding_period_months: u32,
    pub day_count_basis: u32,
    pub position_value: f64,
    pub cash_required: f64,
    pub margin_loan: f64,
    /// Short sale credit `C = I + E0` (0 for long).
    pub short_credit: f64,
    pub shares_fractional: f64,
    pub shares: f64,
    pub whole_share_cost: f64,
    pub residual_cash: f64,
    pub leverage: f64,
    pub equity_pct: f64,
    pub loan_to_value_pct: f64,
    pub initial_margin_pct: f64,
    pub initial_margin_amount: f64,
    pub excess_equity_at_entry: f64,
    pub max_leverage: f64,
    pub buying_power: f64,
    pub remaining_buying_power: f64,
    pub maintenance_pct: f64,
    pub maintenance_amount: f64,
    /// Equity above the maintenance requirement at entry: `E0 − m·I`.
    pub cushion_amount: f64,
    /// Cushion as a percent of entry equity.
    pub cushion_pct: f64,
    pub leverage_at_call: f64,
    pub margin_call_price: f64,
    /// Signed price move to the call, percent (negative for long).
    pub move_to_call_pct: f64,
    pub value_at_call: f64,
    pub loss_at_call: f64,
    pub equity_at_call: f64,
    pub wipeout_price: f64,
    pub wipeout_move_pct: f64,
    pub daily_interest: f64,
    pub monthly_interest: f64,
    pub annual_interest: f64,
    pub holding_interest: f64,
    pub annual_interest_pct_of_equity: f64,
    pub holding_interest_pct_of_position: f64,
    pub breakeven_price: f64,
    pub breakeven_move_pct: f64,
    pub annual_hurdle_pct: f64,
    /// `cushion$/(D0·r/B)`; `None` when no interest accrues.
    pub days_to_call_on_interest: Option<f64>,
    pub days_to_call_on_interest_reason: Option<String>,
    pub distance_to_call_per_share: f64,
    pub call_price_pct_of_price: f64,
    pub other_account_type: AccountType,
    pub other_account_margin_call_price: f64,
    pub other_account_max_leverage: f64,
    pub immediate_call: bool,
    pub risk_level: RiskLevel,
    pub account_minimum: f64,
    pub below_account_minimum: bool,
    pub warnings: Vec<String>,
    pub scenarios: Vec<Scenario>,
}

fn call_price(position: PositionType, p0: f64, l: f64, m: f64) -> f64 {
    match position {
        PositionType::Long => p0 * (1.0 - 1.0 / l) / (1.0 - m),
        PositionType::Short => p0 * (1.0 + 1.0 / l) / (1.0 + m),
    }
}

pub fn validate(input: &CalcInput, data: &MarketData) -> Result<(Profile, f64, f64), InputError> {
    let ds = data.dataset(&input.ticker)?;
    checked(input, Some(ds.last_close()))
}

/// [`validate`] with the entry price taken from the input, else `last_close`.
fn checked(input: &CalcInput, last_close: Option<f64>) -> Result<(Profile, f64, f64), InputError> {
    let p0 = match (input.current_price, last_close) {
        (Some(p), _) => in_range("currentPrice", p, f64::MIN_POSITIVE, AMOUNT_MAX, "")?,
        (None, Some(close)) => close,
        (None, None) => {
            return Err(InputError::new(
                "currentPrice",
                "is required for a ticker without market data",
            ));
        }
    };
    in_range(
        "investmentAmount",
        input.investment_amount,
        f64::MIN_POSITIVE,
        AMOUNT_MAX,
        "",
    )?;
    in_range("interestRate", input.interest_rate, 0.0, 25.0, " %")?;
    in_range(
        "holdingPeriodMonths",
        f64::from(input.holding_period_months),
        1.0,
        60.0,
        " months",
    )?;
    let basis = match input.day_count_basis.unwrap_or(365) {
        b @ (360 | 365) => f64::from(b),
        _ => return Err(InputError::new("dayCountBasis", "must be 360 or 365")),
    };
    let profile = Profile::checked(
        input.account_type,
        input.position_type,
        input.maintenance_override,
        "maintenanceOverride",
    )?;
    profile.check_leverage("leverage", input.leverage)?;
    Ok((profile, p0, basis))
}

pub fn calculate(input: &CalcInput, data: &MarketData) -> Result<CalcResult, InputError> {
    let ds = data.dataset(&input.ticker)?;
    let result = compute(input, &ds.symbol, Some(ds.last_close()))?;
    check_finite(input, &result)?;
    Ok(result)
}

/// The calculator at the entry price the input gives, without market data: the figures
/// depend on the ticker only through its last close, so a stored calculation whose price is
/// known can be recomputed for a ticker there is no data for (what `import-django` does with
/// the old apps' history). The ticker is trimmed and upper-cased, 1–16 characters of
/// letters, digits, `.`, `-` or `^`; every other rule is [`calculate`]'s.
pub fn calculate_at_price(input: &CalcInput) -> Result<CalcResult, InputError> {
    let symbol = input.ticker.trim().to_ascii_uppercase();
    if symbol.is_empty()
        || symbol.len() > 16
        || !symbol
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '^'))
    {
        return Err(InputError::new(
            "ticker",
            "must be 1 to 16 letters, digits, '.', '-' or '^'",
        ));
    }
    let result = compute(input, &symbol, None)?;
    check_finite(input, &result)?;
    Ok(result)
}

/// Inputs within their ranges can still combine into figures f64 cannot hold (1e12 at a price
/// of 1e-300 is 1e312 shares; a subnormal rate makes the days to a call overflow). No NaN or
/// infinity may leave the engine: such an input is refused, naming the field to change.
fn check_finite(input: &CalcInput, r: &CalcResult) -> Result<(), InputError> {
    if !(r.shares_fractional.is_finite() && r.whole_share_cost.is_finite()) {
        let field = if input.current_price.is_some() {
            "currentPrice"
        } else {
            "investmentAmount"
        };
        return Err(InputError::new(
            field,
            "too small a price for the amount: the share count is too large to represent",
        ));
    }
    if r.days_to_call_on_interest.is_some_and(|d| !d.is_finite()) {
        return Err(InputError::new(
            "interestRate",
            "too small to compute the days to a margin call on interest",
        ));
    }
    let scenarios = r.scenarios.iter().flat_map(|s| {
        [
            s.price,
            s.position_value,
            s.equity,
            s.return_on_equity_pct,
            s.equity_pct,
        ]
    });
    let all_finite = r.numbers().into_iter().chain(scenarios).all(f64::is_finite);
    if all_finite {
        Ok(())
    } else {
        Err(InputError::new(
            "investmentAmount",
            "the figures for this input are too large to represent",
        ))
    }
}

impl CalcResult {
    /// Every number of the result except the scenario table.
    fn numbers(&self) -> Vec<f64> {
        let mut numbers = vec![
            self.current_price,
            self.interest_rate,
            self.position_value,
            self.cash_required,
            self.margin_loan,
            self.short_credit,
            self.shares_fractional,
            self.shares,
            self.whole_share_cost,
            self.residual_cash,
            self.leverage,
            self.equity_pct,
            self.loan_to_value_pct,
            self.initial_margin_pct,
            self.initial_margin_amount,
            self.excess_equity_at_entry,
            self.max_leverage,
            self.buying_power,
            self.remaining_buying_power,
            self.maintenance_pct,
            self.maintenance_amount,
            self.cushion_amount,
            self.cushion_pct,
            self.leverage_at_call,
            self.margin_call_price,
            self.move_to_call_pct,
            self.value_at_call,
            self.loss_at_call,
            self.equity_at_call,
            self.wipeout_price,
            self.wipeout_move_pct,
            self.daily_interest,
            self.monthly_interest,
            self.annual_interest,
            self.holding_interest,
            self.annual_interest_pct_of_equity,
            self.holding_interest_pct_of_position,
            self.breakeven_price,
            self.breakeven_move_pct,
            self.annual_hurdle_pct,
            self.distance_to_call_per_share,
            self.call_price_pct_of_price,
            self.other_account_margin_call_price,
            self.other_account_max_leverage,
            self.account_minimum,
        ];
        numbers.extend(self.days_to_call_on_interest);
        numbers
    }
}

fn compute(
    input: &CalcInput,
    symbol: &str,
    last_close: Option<f64>,
) -> Result<CalcResult, InputError> {
    let (profile, p0, b) = checked(input, last_close)?;
    let pos = input.position_type;
    let (i, l, m) = (input.investment_amount, input.leverage, profile.maintenance);
    let r = input.interest_rate / 100.0;
    let h = f64::from(input.holding_period_months) / 12.0;
    let sign = match pos {
        PositionType::Long => 1.0,
        PositionType::Short => -1.0,
    };

    let e0 = i / l;
    let d0 = i - e0;
    let credit = match pos {
        PositionType::Long => 0.0,
        PositionType::Short => i + e0,
    };
    let n_f = i / p0;
    let n = n_f.floor();
    let p_call = call_price(pos, p0, l, m);
    let value_at_call = n_f * p_call;
    let equity_at_call = m * value_at_call;
    let wipeout = p0 * (1.0 - sign / l);
    let annual = d0 * r;
    let daily = annual / b;
    let holding = annual * h;
    let breakeven = p0 * (1.0 + sign * r * (1.0 - 1.0 / l) * h);
    let cushion = e0 - m * i;
    let move_to_call = (p_call / p0 - 1.0) * 100.0;
    let max_l = profile.max_leverage();
    let buying_power = e0 / profile.initial;

    let (days_to_call, days_reason) = if daily > 0.0 && cushion >= 0.0 {
        (Some(cushion / daily), None)
    } else if daily <= 0.0 {
        (
            None,
            Some("no interest accrues (no loan or a 0 % rate)".to_string()),
        )
    } else {
        (None, Some("already below maintenance at entry".to_string()))
    };

    let other = Profile::new(input.account_type.other(), pos, None);
    let other_max = other.max_leverage();
    let mut warnings = Vec::new();
    if e0 < profile.account_minimum {
        warnings.push(format!(
            "equity {:.2} is below the {} account minimum of {:.0}",
            e0,
            profile.account.as_str(),
            profile.account_minimum
        ));
    }
    if n < 1.0 {
        warnings.push("the amount buys less than one whole share".to_string());
    }
    if l > other_max {
        warnings.push(format!(
            "leverage {l} exceeds the {} maximum of {:.3}",
            other.account.as_str(),
            other_max
        ));
    }

    let abs_move = move_to_call.abs();
    let risk = if abs_move < 15.0 {
        RiskLevel::High
    } else if abs_move < 25.0 {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    };

    let scenarios = SCENARIO_MOVES_PCT
        .iter()
        .map(|&x_pct| {
            let x = x_pct / 100.0;
            let v = i * (1.0 + x);
            let equity = match pos {
                PositionType::Long => v - d0 - holding,
                PositionType::Short => credit - v - holding,
            };
            let status = if equity <= 0.0 {
                ScenarioStatus::Wipeout
            } else if equity < m * v {
                ScenarioStatus::MarginCall
            } else {
                ScenarioStatus::Ok
            };
            Scenario {
                move_pct: x_pct,
                price: p0 * (1.0 + x),
                position_value: v,
                equity,
                return_on_equity_pct: (equity / e0 - 1.0) * 100.0,
                equity_pct: if v > 0.0 { equity / v * 100.0 } else { 0.0 },
                status,
            }
        })
        .collect();

    Ok(CalcResult {
        ticker: symbol.to_string(),
        account_type: input.account_type,
        position_type: pos,
        current_price: p0,
        interest_rate: input.interest_rate,
        holding_period_months: input.holding_period_months,
        day_count_basis: b as u32,
        position_value: i,
        cash_required: e0,
        margin_loan: d0,
        short_credit: credit,
        shares_fractional: n_f,
        shares: n,
        whole_share_cost: n * p0,
        residual_cash: i - n * p0,
        leverage: l,
        equity_pct: e0 / i * 100.0,
        loan_to_value_pct: d0 / i * 100.0,
        initial_margin_pct: profile.initial * 100.0,
        initial_margin_amount: profile.initial * i,
        excess_equity_at_entry: e0 - profile.initial * i,
        max_leverage: max_l,
        buying_power,
        remaining_buying_power: buying_power - i,
        maintenance_pct: m * 100.0,
        maintenance_amount: m * i,
        cushion_amount: cushion,
        cushion_pct: cushion / e0 * 100.0,
        leverage_at_call: 1.0 / m,
        margin_call_price: p_call,
        move_to_call_pct: move_to_call,
        value_at_call,
        loss_at_call: e0 - equity_at_call,
        equity_at_call,
        wipeout_price: wipeout,
        wipeout_move_pct: (wipeout / p0 - 1.0) * 100.0,
        daily_interest: daily,
        monthly_interest: annual / 12.0,
        annual_interest: annual,
        holding_interest: holding,
        annual_interest_pct_of_equity: annual / e0 * 100.0,
        holding_interest_pct_of_position: holding / i * 100.0,
        breakeven_price: breakeven,
        breakeven_move_pct: (breakeven / p0 - 1.0) * 100.0,
        annual_hurdle_pct: r * (1.0 - 1.0 / l) * 100.0,
        days_to_call_on_interest: days_to_call,
        days_to_call_on_interest_reason: days_reason,
        distance_to_call_per_share: sign * (p0 - p_call),
        call_price_pct_of_price: p_call / p0 * 100.0,
        other_account_type: other.account,
        other_account_margin_call_price: call_price(pos, p0, l, other.maintenance),
        other_account_max_leverage: other_max,
        immediate_call: cushion < 0.0,
        risk_level: risk,
        account_minimum: profile.account_minimum,
        below_account_minimum: e0 < profile.account_minimum,
        warnings,
        scenarios,
    })
}
