//! The parameters a sweep can vary, and how one value is put into a backtest input: exactly
//! the field a user would set, so a cell is the backtest of that input.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::backtest::{BacktestInput, InterestModel, LiquidationPolicy, Mode};
use crate::error::{InputError, fmt_num, in_range};
use crate::market::MarketData;

/// One input of a backtest that a sweep axis varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SweepParameter {
    /// `leverage` (×).
    Leverage,
    /// `initialInvestment`: starting equity ($).
    InitialInvestment,
    /// `profitThresholdPct` (%); PROFIT_THRESHOLD mode only.
    ProfitThresholdPct,
    /// `options.maintenanceOverride` in percent (25 = 25 %).
    MaintenancePct,
    /// The spread of the base's FED_FUNDS_PLUS or TBILL_PLUS interest model (%).
    InterestSpreadPct,
    /// `options.interest = FIXED { ratePct }` (%).
    FixedRatePct,
    /// `options.waitDays` (whole trading days).
    WaitDays,
    /// `options.minEquity` ($).
    MinEquity,
    /// `options.restoreBuffer` (fraction); RESTORE policy only.
    RestoreBuffer,
    /// `options.liquidationSlippageBps` (bps).
    LiquidationSlippageBps,
    /// `options.releverBand` (fraction of the target leverage); PROFIT_THRESHOLD mode only.
    ReleverBand,
    /// `startDate` moved to the first trading day of that year in the data.
    StartYear,
}

impl SweepParameter {
    pub const ALL: [SweepParameter; 12] = [
        SweepParameter::Leverage,
        SweepParameter::InitialInvestment,
        SweepParameter::ProfitThresholdPct,
        SweepParameter::MaintenancePct,
        SweepParameter::InterestSpreadPct,
        SweepParameter::FixedRatePct,
        SweepParameter::WaitDays,
        SweepParameter::MinEquity,
        SweepParameter::RestoreBuffer,
        SweepParameter::LiquidationSlippageBps,
        SweepParameter::ReleverBand,
        SweepParameter::StartYear,
    ];

    /// The serialised name (`START_YEAR`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            SweepParameter::Leverage => "LEVERAGE",
            SweepParameter::InitialInvestment => "INITIAL_INVESTMENT",
            SweepParameter::ProfitThresholdPct => "PROFIT_THRESHOLD_PCT",
            SweepParameter::MaintenancePct => "MAINTENANCE_PCT",
            SweepParameter::InterestSpreadPct => "INTEREST_SPREAD_PCT",
            SweepParameter::FixedRatePct => "FIXED_RATE_PCT",
            SweepParameter::WaitDays => "WAIT_DAYS",
            SweepParameter::MinEquity => "MIN_EQUITY",
            SweepParameter::RestoreBuffer => "RESTORE_BUFFER",
            SweepParameter::LiquidationSlippageBps => "LIQUIDATION_SLIPPAGE_BPS",
            SweepParameter::ReleverBand => "RELEVER_BAND",
            SweepParameter::StartYear => "START_YEAR",
        }
    }

    /// The CLI spelling (`start-year`, …), which [`str::parse`] reads back.
    pub fn cli_name(self) -> String {
        self.as_str().to_ascii_lowercase().replace('_', "-")
    }

    /// A human name for axis titles.
    pub fn label(self) -> &'static str {
        match self {
            SweepParameter::Leverage => "leverage",
            SweepParameter::InitialInvestment => "initial investment",
            SweepParameter::ProfitThresholdPct => "profit threshold",
            SweepParameter::MaintenancePct => "maintenance",
            SweepParameter::InterestSpreadPct => "interest spread",
            SweepParameter::FixedRatePct => "fixed interest rate",
            SweepParameter::WaitDays => "wait after liquidation",
            SweepParameter::MinEquity => "minimum equity",
            SweepParameter::RestoreBuffer => "restore buffer",
            SweepParameter::LiquidationSlippageBps => "liquidation slippage",
            SweepParameter::ReleverBand => "re-lever band",
            SweepParameter::StartYear => "start year",
        }
    }

    /// The unit of the values, for axis titles.
    pub fn unit(self) -> &'static str {
        match self {
            SweepParameter::Leverage => "×",
            SweepParameter::InitialInvestment | SweepParameter::MinEquity => "$",
            SweepParameter::ProfitThresholdPct
            | SweepParameter::MaintenancePct
            | SweepParameter::InterestSpreadPct
            | SweepParameter::FixedRatePct => "%",
            SweepParameter::WaitDays => "trading days",
            SweepParameter::RestoreBuffer => "fraction of position",
            SweepParameter::LiquidationSlippageBps => "bps",
            SweepParameter::ReleverBand => "fraction of target leverage",
            SweepParameter::StartYear => "year",
        }
    }

    /// `"<label> (<unit>)"`.
    pub fn title(self) -> String {
        format!("{} ({})", self.label(), self.unit())
    }

    /// Why this parameter cannot change any run of `base` (normalisation resets the field), if
    /// it cannot. The cells are still the backtests of their inputs; the sweep warns.
    pub fn no_effect(self, base: &BacktestInput) -> Option<String> {
        let name = self.as_str();
        match self {
            SweepParameter::ProfitThresholdPct | SweepParameter::ReleverBand
                if base.mode != Mode::ProfitThreshold =>
            {
                Some(format!(
                    "{name} applies only to PROFIT_THRESHOLD mode; in {} every value gives the same run",
                    base.mode.as_str()
                ))
            }
            SweepParameter::RestoreBuffer
                if base.options.liquidation_policy != LiquidationPolicy::Restore =>
            {
                Some(format!(
                    "{name} applies only to the RESTORE liquidation policy; under FULL every value gives the same run"
                ))
            }
            _ => None,
        }
    }
}

impl std::fmt::Display for SweepParameter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SweepParameter {
    type Err = InputError;
    /// The CLI spellings (`leverage`, `start-year`, `profit-threshold-pct`, …) or the enum
    /// names, in any case, with `-` or `_`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let token = crate::account::norm_token(s);
        SweepParameter::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(&token))
            .ok_or_else(|| {
                let known: Vec<String> = SweepParameter::ALL.iter().map(|p| p.cli_name()).collect();
                InputError::new(
                    "parameter",
                    format!(
                        "unknown sweep parameter `{}` (use {})",
                        s.trim(),
                        known.join(", ")
                    ),
                )
            })
    }
}

/// `base` with `parameter` set to `value`, as a user would set that field of the input. The
/// result is not validated here (the backtest does that, with its own messages); only what
/// the field cannot hold at all is an error: a fractional or out-of-range `waitDays`, a spread
/// on a FIXED base, a start year without trading days in the data before `endDate`.
pub fn apply(
    md: &MarketData,
    base: &BacktestInput,
    parameter: SweepParameter,
    value: f64,
) -> Result<BacktestInput, InputError> {
    let mut input = base.clone();
    let o = &mut input.options;
    match parameter {
        SweepParameter::Leverage => input.leverage = value,
        SweepParameter::InitialInvestment => input.initial_investment = value,
        SweepParameter::ProfitThresholdPct => input.profit_threshold_pct = Some(value),
        SweepParameter::MaintenancePct => o.maintenance_override = Some(value / 100.0),
        SweepParameter::InterestSpreadPct => match &mut o.interest {
            InterestModel::FedFundsPlus { spread_pct }
            | InterestModel::TbillPlus { spread_pct } => *spread_pct = value,
            InterestModel::Fixed { .. } => {
                return Err(InputError::new(
                    "options.interest.spreadPct",
                    "the base interest model is FIXED: a spread needs FED_FUNDS_PLUS or TBILL_PLUS",
                ));
            }
        },
        SweepParameter::FixedRatePct => o.interest = InterestModel::Fixed { rate_pct: value },
        SweepParameter::WaitDays => {
            let field = "options.waitDays";
            in_range(field, value, 0.0, 252.0, " days")?;
            if value.fract() != 0.0 {
                return Err(InputError::new(
                    field,
                    format!("must be a whole number of days (got {})", fmt_num(value)),
                ));
            }
            // A whole number in 0..=252: the cast is exact.
            o.wait_days = value as u32;
        }
        SweepParameter::MinEquity => o.min_equity = value,
        SweepParameter::RestoreBuffer => o.restore_buffer = value,
        SweepParameter::LiquidationSlippageBps => o.liquidation_slippage_bps = value,
        SweepParameter::ReleverBand => o.relever_band = value,
        SweepParameter::StartYear => input.start_date = first_day_of_year(md, base, value)?,
    }
    Ok(input)
}

/// The first trading day of year `value` in the base's dataset, before the base's end.
fn first_day_of_year(
    md: &MarketData,
    base: &BacktestInput,
    value: f64,
) -> Result<NaiveDate, InputError> {
    let field = "startDate";
    let ds = md.dataset(&base.ticker)?;
    let (first, last) = (ds.first_date(), ds.last_date());
    let none = || {
        InputError::new(
            field,
            format!(
                "no trading day in {} in the {} data ({first} to {last})",
                fmt_num(value),
                ds.symbol
            ),
        )
    };
    let whole = value.is_finite() && value.fract() == 0.0;
    if !whole || value < f64::from(first.year()) || value > f64::from(last.year()) {
        return Err(none());
    }
    // Between two years of valid dates: the cast is exact and the date exists.
    let year = value as i32;
    let day = NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|jan1| ds.index_on_or_after(jan1))
        .map(|i| ds.dates[i])
        .filter(|d| d.year() == year)
        .ok_or_else(none)?;
    if day >= base.end_date {
        return Err(InputError::new(
            field,
            format!(
                "the first trading day of {year} ({day}) is not before endDate {}",
                base.end_date
            ),
        ));
    }
    Ok(day)
}
