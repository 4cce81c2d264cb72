//! Inputs of the risk lab, their validation (typed [`InputError`]s naming the camelCase field)
//! and their canonical form for cache keys.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::account::{AccountType, PositionType, Profile};
use crate::backtest::{BacktestInput, BacktestOptions, LiquidationPolicy, Mode, normalize};
use crate::error::{InputError, in_range};
use crate::market::{Dataset, MarketData};

/// Allowed `horizonDays` (trading days).
pub const HORIZON_RANGE: (u32, u32) = (5, 2520);
/// Allowed `paths`.
pub const PATHS_RANGE: (u32, u32) = (100, 100_000);
pub const DEFAULT_PATHS: u32 = 10_000;
pub const DEFAULT_HORIZON_DAYS: u32 = 252;
pub const DEFAULT_MEAN_BLOCK_DAYS: f64 = 20.0;
/// Starting equity when none is given: only the scale of the money figures depends on it.
pub const DEFAULT_INITIAL_INVESTMENT: f64 = 100_000.0;
/// Fewest daily returns a forward sample may have: below this a bootstrap only replays a few
/// days and a fitted volatility means nothing.
pub const MIN_SAMPLE_RETURNS: usize = 20;

fn d_horizon() -> u32 {
    DEFAULT_HORIZON_DAYS
}
fn d_paths() -> u32 {
    DEFAULT_PATHS
}
fn d_block() -> f64 {
    DEFAULT_MEAN_BLOCK_DAYS
}
fn d_e0() -> f64 {
    DEFAULT_INITIAL_INVESTMENT
}

/// `marginCallOdds` input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OddsInput {
    pub ticker: String,
    pub leverage: f64,
    #[serde(default)]
    pub account_type: AccountType,
    /// Trading days per window, 5–2520.
    #[serde(default = "d_horizon")]
    pub horizon_days: u32,
    /// First entry date (snapped forward to a trading day); default the first row.
    #[serde(default)]
    pub entry_from: Option<NaiveDate>,
    /// Last entry date (snapped back, then to the last entry with a full window).
    #[serde(default)]
    pub entry_to: Option<NaiveDate>,
    /// Starting equity `E0` of every window.
    #[serde(default = "d_e0")]
    pub initial_investment: f64,
    /// Interest model, day-count basis, `intraday`, slippage and maintenance override apply;
    /// the other backtest options do not (one round, no re-entry).
    #[serde(default)]
    pub options: BacktestOptions,
}

/// How forward paths are generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Method {
    /// Politis–Romano: blocks of geometric length (mean `meanBlockDays`), uniform starts,
    /// wrapping around the sample's end.
    #[default]
    StationaryBootstrap,
    /// Block length 1: every day drawn uniformly from the sample.
    IidBootstrap,
    /// Normal log returns with the sample's mean and standard deviation; no dividends,
    /// low = open = close, the sample's mean daily interest factor every day.
    Gbm,
}

/// `forwardRisk` input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ForwardRiskInput {
    pub ticker: String,
    pub leverage: f64,
    #[serde(default)]
    pub account_type: AccountType,
    #[serde(default = "d_horizon")]
    pub horizon_days: u32,
    #[serde(default = "d_paths")]
    pub paths: u32,
    #[serde(default)]
    pub method: Method,
    #[serde(default = "d_block")]
    pub mean_block_days: f64,
    #[serde(default)]
    pub sample_from: Option<NaiveDate>,
    #[serde(default)]
    pub sample_to: Option<NaiveDate>,
    /// Required here: the API draws one when the request has none and returns it.
    pub seed: u64,
    #[serde(default = "d_e0")]
    pub initial_investment: f64,
    #[serde(default)]
    pub options: BacktestOptions,
}

/// What validation resolved, so a run needs no second lookup.
pub(crate) struct Common<'a> {
    pub ds: &'a Dataset,
    pub profile: Profile,
    pub options: BacktestOptions,
}

/// Options that cannot change a one-round risk run are reset, so they do not split the cache
/// (and RESTORE-only checks cannot reject a risk input).
fn canonical_options(o: &BacktestOptions) -> BacktestOptions {
    let d = BacktestOptions::default();
    BacktestOptions {
        day_count_basis: o.day_count_basis,
        interest: o.interest,
        intraday: o.intraday,
        liquidation_slippage_bps: o.liquidation_slippage_bps,
        maintenance_override: o.maintenance_override,
        liquidation_policy: LiquidationPolicy::Full,
        ..d
    }
}

/// Ticker, horizon, leverage, starting equity and options, checked by the backtest's own
/// validation (same messages, same field names).
fn common<'a>(
    md: &'a MarketData,
    ticker: &str,
    leverage: f64,
    account_type: AccountType,
    horizon_days: u32,
    initial_investment: f64,
    options: &BacktestOptions,
) -> Result<Common<'a>, InputError> {
    let ds = md.dataset(ticker)?;
    in_range(
        "horizonDays",
        f64::from(horizon_days),
        f64::from(HORIZON_RANGE.0),
        f64::from(HORIZON_RANGE.1),
        " trading days",
    )?;
    if ds.len() < 2 {
        return Err(InputError::new(
            "ticker",
            format!("the {} data have fewer than two trading days", ds.symbol),
        ));
    }
    let options = canonical_options(options);
    let as_backtest = BacktestInput {
        ticker: ds.symbol.clone(),
        mode: Mode::LiquidationReentry,
        start_date: ds.first_date(),
        end_date: ds.last_date(),
        leverage,
        account_type,
        initial_investment,
        profit_threshold_pct: None,
        options: options.clone(),
    };
    normalize(&as_backtest, md)?;
    let profile = Profile::checked(
        account_type,
        PositionType::Long,
        options.maintenance_override,
        "options.maintenanceOverride",
    )?;
    Ok(Common {
        ds,
        profile,
        options,
    })
}

/// A date bound inside the dataset's span, or an error naming the field and the span.
fn in_span(ds: &Dataset, field: &str, d: NaiveDate) -> Result<NaiveDate, InputError> {
    if d < ds.first_date() || d > ds.last_date() {
        return Err(InputError::new(
            field,
            format!(
                "{d} is outside the {} data span ({} to {})",
                ds.symbol,
                ds.first_date(),
                ds.last_date()
            ),
        ));
    }
    Ok(d)
}

/// Rows `lo..=hi` of `ds` between two optional bounds (snapped inwards).
fn row_span(
    ds: &Dataset,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    fields: (&str, &str),
) -> Result<(usize, usize), InputError> {
    let from = in_span(ds, fields.0, from.unwrap_or(ds.first_date()))?;
    let to = in_span(ds, fields.1, to.unwrap_or(ds.last_date()))?;
    if to < from {
        return Err(InputError::new(
            fields.1,
            format!("must not be before {} ({to} is before {from})", fields.0),
        ));
    }
    // In the span, so both exist; an empty snap (no trading day between) is an error.
    let lo = ds.index_on_or_after(from).unwrap_or(ds.len());
    let hi = ds.index_on_or_before(to).unwrap_or(0);
    if lo > hi || lo >= ds.len() {
        return Err(InputError::new(
            fields.0,
            format!("there is no trading day between {from} and {to}"),
        ));
    }
    Ok((lo, hi))
}

/// A validated odds input: the first and last entry rows.
pub(crate) struct OddsResolved<'a> {
    pub common: Common<'a>,
    pub first_entry: usize,
    pub last_entry: usize,
    pub input: OddsInput,
}

pub(crate) fn resolve_odds<'a>(
    input: &OddsInput,
    md: &'a MarketData,
) -> Result<OddsResolved<'a>, InputError> {
    let c = common(
        md,
        &input.ticker,
        input.leverage,
        input.account_type,
        input.horizon_days,
        input.initial_investment,
        &input.options,
    )?;
    let ds = c.ds;
    let h = input.horizon_days as usize;
    let n = ds.len();
    if h > n - 1 {
        return Err(InputError::new(
            "horizonDays",
            format!(
                "horizon too long for the data: {} has {n} trading days ({} to {}), so a \
                 window can be at most {} days",
                ds.symbol,
                ds.first_date(),
                ds.last_date(),
                n - 1
            ),
        ));
    }
    let (lo, hi) = row_span(
        ds,
        input.entry_from,
        input.entry_to,
        ("entryFrom", "entryTo"),
    )?;
    // The last entry whose window (rows i+1..=i+H) lies inside the data.
    let last_full = n - 1 - h;
    let hi = hi.min(last_full);
    if lo > hi {
        return Err(InputError::new(
            "entryFrom",
            format!(
                "no entry date from {} has a full {h}-day window in the {} data (the last \
                 such entry is {})",
                ds.dates[lo], ds.symbol, ds.dates[last_full]
            ),
        ));
    }
    let norm = OddsInput {
        ticker: ds.symbol.clone(),
        leverage: input.leverage,
        account_type: input.account_type,
        horizon_days: input.horizon_days,
        entry_from: Some(ds.dates[lo]),
        entry_to: Some(ds.dates[hi]),
        initial_investment: input.initial_investment,
        options: c.options.clone(),
    };
    Ok(OddsResolved {
        common: c,
        first_entry: lo,
        last_entry: hi,
        input: norm,
    })
}

/// A validated forward input: the sample's rows (`sample_from..=sample_to`, so
/// `sample_to − sample_from` daily returns).
pub(crate) struct ForwardResolved<'a> {
    pub common: Common<'a>,
    pub sample_from: usize,
    pub sample_to: usize,
    pub input: ForwardRiskInput,
}

pub(crate) fn resolve_forward<'a>(
    input: &ForwardRiskInput,
    md: &'a MarketData,
) -> Result<ForwardResolved<'a>, InputError> {
    let c = common(
        md,
        &input.ticker,
        input.leverage,
        input.account_type,
        input.horizon_days,
        input.initial_investment,
        &input.options,
    )?;
    in_range(
        "paths",
        f64::from(input.paths),
        f64::from(PATHS_RANGE.0),
        f64::from(PATHS_RANGE.1),
        "",
    )?;
    let mean_block_days = if input.method == Method::StationaryBootstrap {
        in_range(
            "meanBlockDays",
            input.mean_block_days,
            1.0,
            f64::from(HORIZON_RANGE.1),
            " days",
        )?
    } else {
        DEFAULT_MEAN_BLOCK_DAYS
    };
    let ds = c.ds;
    let (lo, hi) = row_span(
        ds,
        input.sample_from,
        input.sample_to,
        ("sampleFrom", "sampleTo"),
    )?;
    if hi - lo < MIN_SAMPLE_RETURNS {
        return Err(InputError::new(
            "sampleFrom",
            format!(
                "the sample span {} to {} has {} daily returns; at least {MIN_SAMPLE_RETURNS} \
                 are needed",
                ds.dates[lo],
                ds.dates[hi],
                hi - lo
            ),
        ));
    }
    let norm = ForwardRiskInput {
        ticker: ds.symbol.clone(),
        leverage: input.leverage,
        account_type: input.account_type,
        horizon_days: input.horizon_days,
        paths: input.paths,
        method: input.method,
        mean_block_days,
        sample_from: Some(ds.dates[lo]),
        sample_to: Some(ds.dates[hi]),
        seed: input.seed,
        initial_investment: input.initial_investment,
        options: c.options.clone(),
    };
    Ok(ForwardResolved {
        common: c,
        sample_from: lo,
        sample_to: hi,
        input: norm,
    })
}

/// Validates and returns the canonical odds input: ticker upper-cased, entry dates snapped to
/// the first and last entry rows used, options that cannot matter reset. Idempotent.
pub fn normalize_odds(input: &OddsInput, md: &MarketData) -> Result<OddsInput, InputError> {
    resolve_odds(input, md).map(|r| r.input)
}

/// Validates and returns the canonical forward input (sample dates snapped, `meanBlockDays`
/// reset when the method does not use it, seed kept). Idempotent.
pub fn normalize_forward(
    input: &ForwardRiskInput,
    md: &MarketData,
) -> Result<ForwardRiskInput, InputError> {
    resolve_forward(input, md).map(|r| r.input)
}

impl std::str::FromStr for Method {
    type Err = InputError;
    /// `stationary-bootstrap` (`stationary`, `block`), `iid-bootstrap` (`iid`), `gbm`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match crate::account::norm_token(s).as_str() {
            "stationary_bootstrap" | "stationary" | "block" => Ok(Method::StationaryBootstrap),
            "iid_bootstrap" | "iid" => Ok(Method::IidBootstrap),
            "gbm" => Ok(Method::Gbm),
            _ => Err(InputError::new(
                "method",
                format!("unknown method `{s}` (use stationary-bootstrap, iid-bootstrap or gbm)"),
            )),
        }
    }
}
