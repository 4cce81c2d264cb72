//! Backtest input, defaults and validation/normalisation (SPEC.md §3).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::account::{AccountType, PositionType, Profile};
use crate::error::{InputError, in_range};
use crate::market::{Dataset, MarketData};

pub const INVESTMENT_MAX: f64 = 1e12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    LiquidationReentry,
    FreshCapital,
    ProfitThreshold,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::LiquidationReentry => "LIQUIDATION_REENTRY",
            Mode::FreshCapital => "FRESH_CAPITAL",
            Mode::ProfitThreshold => "PROFIT_THRESHOLD",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LiquidationPolicy {
    #[default]
    Full,
    Restore,
}

/// Margin-loan rate model. Rates are annual percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum InterestModel {
    /// Daily effective fed funds (DFF, forward-filled) plus a spread.
    FedFundsPlus {
        spread_pct: f64,
    },
    /// 3-month T-bill (DTB3, forward-filled) plus a spread.
    TbillPlus {
        spread_pct: f64,
    },
    Fixed {
        rate_pct: f64,
    },
}

/// The spread over the base rate when none is given, percent: the default margin rate is fed
/// funds + 1.5 %.
pub const DEFAULT_SPREAD_PCT: f64 = 1.5;

impl Default for InterestModel {
    fn default() -> Self {
        InterestModel::FedFundsPlus {
            spread_pct: DEFAULT_SPREAD_PCT,
        }
    }
}

fn d_wait_days() -> u32 {
    2
}
fn d_min_equity() -> f64 {
    1_000.0
}
fn d_basis() -> u32 {
    365
}
fn d_tc_bps() -> f64 {
    5.0
}
fn d_relever_band() -> f64 {
    0.95
}

/// Engine options; every field has SPEC.md's default so `{}` deserialises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BacktestOptions {
    pub wait_days: u32,
    pub min_equity: f64,
    pub day_count_basis: u32,
    pub interest: InterestModel,
    pub tc_bps: f64,
    pub liquidation_policy: LiquidationPolicy,
    /// Added to `m` when restoring after a call (fraction, e.g. 0.05).
    pub restore_buffer: f64,
    pub intraday: bool,
    pub liquidation_slippage_bps: f64,
    pub relever_band: f64,
    /// House maintenance fraction replacing the account default (e.g. 0.30).
    pub maintenance_override: Option<f64>,
    /// Annual risk-free rate in percent for Sharpe/Sortino (0 = quantstats default).
    pub risk_free_rate_pct: f64,
}

impl Default for BacktestOptions {
    fn default() -> Self {
        BacktestOptions {
            wait_days: d_wait_days(),
            min_equity: d_min_equity(),
            day_count_basis: d_basis(),
            interest: InterestModel::default(),
            tc_bps: d_tc_bps(),
            liquidation_policy: LiquidationPolicy::Full,
            restore_buffer: 0.0,
            intraday: false,
            liquidation_slippage_bps: 0.0,
            relever_band: d_relever_band(),
            maintenance_override: None,
            risk_free_rate_pct: 0.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BacktestInput {
    pub ticker: String,
    pub mode: Mode,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub leverage: f64,
    #[serde(default)]
    pub account_type: AccountType,
    /// Starting equity (cash); the first position is `initial_investment · leverage`.
    pub initial_investment: f64,
    #[serde(default)]
    pub profit_threshold_pct: Option<f64>,
    #[serde(default)]
    pub options: BacktestOptions,
}

/// Indices and profile resolved during validation so the run needs no second lookup.
pub(crate) struct Resolved<'a> {
    pub ds: &'a Dataset,
    pub start: usize,
    pub end: usize,
    pub profile: Profile,
    pub input: BacktestInput,
}

/// Validates and returns the canonical form: dates snapped to trading days, ticker upper-cased,
/// defaults explicit, options that cannot affect the run reset. Serialising it (keys sorted)
/// is what cache keys hash; results carry it as `input`.
pub fn normalize(input: &BacktestInput, data: &MarketData) -> Result<BacktestInput, InputError> {
    resolve(input, data).map(|r| r.input)
}

pub(crate) fn resolve<'a>(
    input: &BacktestInput,
    data: &'a MarketData,
) -> Result<Resolved<'a>, InputError> {
    let ds = data.dataset(&input.ticker)?;
    let o = &input.options;
    if input.end_date <= input.start_date {
        return Err(InputError::new(
            "endDate",
            format!(
                "must be after startDate ({} is not after {})",
                input.end_date, input.start_date
            ),
        ));
    }
    let span = format!("{} to {}", ds.first_date(), ds.last_date());
    if input.start_date < ds.first_date() || input.start_date > ds.last_date() {
        return Err(InputError::new(
            "startDate",
            format!(
                "{} is outside the {} data span ({span})",
                input.start_date, ds.symbol
            ),
        ));
    }
    if input.end_date > ds.last_date() {
        return Err(InputError::new(
            "endDate",
            format!(
                "{} is outside the {} data span ({span})",
                input.end_date, ds.symbol
            ),
        ));
    }
    let start = ds.index_on_or_after(input.start_date).ok_or_else(|| {
        InputError::new(
            "startDate",
            format!("no trading day on or after it ({span})"),
        )
    })?;
    let end = ds.index_on_or_before(input.end_date).ok_or_else(|| {
        InputError::new(
            "endDate",
            format!("no trading day on or before it ({span})"),
        )
    })?;
    if end <= start {
        return Err(InputError::new(
            "endDate",
            "the range must contain at least two trading days",
        ));
    }
    in_range(
        "initialInvestment",
        input.initial_investment,
        f64::MIN_POSITIVE,
        INVESTMENT_MAX,
        "",
    )?;
    let profile = Profile::checked(
        input.account_type,
        PositionType::Long,
        o.maintenance_override,
        "options.maintenanceOverride",
    )?;
    profile.check_leverage("leverage", input.leverage)?;
    let profit_threshold_pct = match input.mode {
        Mode::ProfitThreshold => Some(in_range(
            "profitThresholdPct",
            input.profit_threshold_pct.unwrap_or(100.0),
            1.0,
            1000.0,
            " %",
        )?),
        _ => None,
    };
    in_range(
        "options.waitDays",
        f64::from(o.wait_days),
        0.0,
        252.0,
        " days",
    )?;
    in_range("options.minEquity", o.min_equity, 0.0, INVESTMENT_MAX, "")?;
    if !matches!(o.day_count_basis, 360 | 365) {
        return Err(InputError::new(
            "options.dayCountBasis",
            "must be 360 or 365",
        ));
    }
    match o.interest {
        InterestModel::FedFundsPlus { spread_pct } | InterestModel::TbillPlus { spread_pct } => {
            in_range("options.interest.spreadPct", spread_pct, 0.0, 25.0, " %")?;
        }
        InterestModel::Fixed { rate_pct } => {
            in_range("options.interest.ratePct", rate_pct, 0.0, 25.0, " %")?;
        }
    }
    in_range("options.tcBps", o.tc_bps, 0.0, 1000.0, " bps")?;
    in_range("options.restoreBuffer", o.restore_buffer, 0.0, 0.5, "")?;
    in_range(
        "options.liquidationSlippageBps",
        o.liquidation_slippage_bps,
        0.0,
        1000.0,
        " bps",
    )?;
    in_range("options.releverBand", o.relever_band, 0.5, 1.0, "")?;
    in_range(
        "options.riskFreeRatePct",
        o.risk_free_rate_pct,
        0.0,
        25.0,
        " %",
    )?;
    let m_star = profile.maintenance + o.restore_buffer;
    if o.liquidation_policy == LiquidationPolicy::Restore
        && m_star.min(1.0) - o.liquidation_slippage_bps / 1e4 <= 0.01
    {
        return Err(InputError::new(
            "options.liquidationSlippageBps",
            "must be below the maintenance fraction plus restore buffer for RESTORE",
        ));
    }
    Ok(Resolved {
        ds,
        start,
        end,
        profile,
        input: canonical_fields(BacktestInput {
            ticker: ds.symbol.clone(),
            mode: input.mode,
            start_date: ds.dates[start],
            end_date: ds.dates[end],
            leverage: input.leverage,
            account_type: input.account_type,
            initial_investment: input.initial_investment,
            profit_threshold_pct,
            options: o.clone(),
        }),
    })
}

/// The data-independent part of normalisation: fields that cannot affect a run are reset so
/// they do not split the cache. Idempotent.
pub(crate) fn canonical_fields(mut input: BacktestInput) -> BacktestInput {
    input.ticker = input.ticker.trim().to_ascii_uppercase();
    if input.mode == Mode::ProfitThreshold {
        input.profit_threshold_pct = Some(input.profit_threshold_pct.unwrap_or(100.0));
    } else {
        input.profit_threshold_pct = None;
        input.options.tc_bps = d_tc_bps();
        input.options.relever_band = d_relever_band();
    }
    if input.options.liquidation_policy == LiquidationPolicy::Full {
        input.options.restore_buffer = 0.0;
    }
    input
}

impl std::str::FromStr for Mode {
    type Err = InputError;
    /// Accepts `liquidation-reentry`, `fresh-capital`, `profit-threshold` in any case, with
    /// `-` or `_`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match crate::account::norm_token(s).as_str() {
            "liquidation_reentry" => Ok(Mode::LiquidationReentry),
            "fresh_capital" => Ok(Mode::FreshCapital),
            "profit_threshold" => Ok(Mode::ProfitThreshold),
            _ => Err(InputError::new(
                "mode",
                format!(
                    "unknown mode `{s}` (use liquidation-reentry, fresh-capital or profit-threshold)"
                ),
            )),
        }
    }
}

impl std::str::FromStr for LiquidationPolicy {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match crate::account::norm_token(s).as_str() {
            "full" => Ok(LiquidationPolicy::Full),
            "restore" => Ok(LiquidationPolicy::Restore),
            _ => Err(InputError::new(
                "options.liquidationPolicy",
                format!("unknown policy `{s}` (use full or restore)"),
            )),
        }
    }
}

impl std::str::FromStr for InterestModel {
    type Err = InputError;
    /// `fed-funds` (spread [`DEFAULT_SPREAD_PCT`]), `fed-funds:SPREAD`, `tbill[:SPREAD]`, `fixed:RATE` (percent).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let field = "options.interest";
        let (kind, arg) = match s.split_once(':') {
            Some((k, a)) => (k, Some(a.trim())),
            None => (s, None),
        };
        let num = |a: &str| -> Result<f64, InputError> {
            a.parse::<f64>()
                .map_err(|_| InputError::new(field, format!("`{a}` is not a number")))
        };
        match (crate::account::norm_token(kind).as_str(), arg) {
            ("fed_funds" | "fed_funds_plus" | "dff", None) => Ok(InterestModel::default()),
            ("fed_funds" | "fed_funds_plus" | "dff", Some(a)) => Ok(InterestModel::FedFundsPlus {
                spread_pct: num(a)?,
            }),
            ("tbill" | "tbill_plus" | "dtb3", a) => Ok(InterestModel::TbillPlus {
                spread_pct: a.map(num).transpose()?.unwrap_or(DEFAULT_SPREAD_PCT),
            }),
            ("fixed", Some(a)) => Ok(InterestModel::Fixed { rate_pct: num(a)? }),
            _ => Err(InputError::new(
                field,
                format!(
                    "unknown interest model `{s}` (use fed-funds[:SPREAD], tbill[:SPREAD] or fixed:RATE)"
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spread_left_out_is_the_default_spread() {
        assert_eq!(
            InterestModel::default(),
            InterestModel::FedFundsPlus {
                spread_pct: DEFAULT_SPREAD_PCT
            }
        );
        assert_eq!(
            "tbill".parse::<InterestModel>().unwrap(),
            InterestModel::TbillPlus {
                spread_pct: DEFAULT_SPREAD_PCT
            }
        );
        assert_eq!(
            "TBILL:0.5".parse::<InterestModel>().unwrap(),
            InterestModel::TbillPlus { spread_pct: 0.5 }
        );
    }
}
