//! The risk lab's inputs and answers (`marginCallOdds`, `forwardRisk`), over `engine::risk`.
//! Both analyses run the engine's one-round position model (ENGINE.md §3 steps C and E): a
//! window or path ends at its first margin call or after `horizonDays` trading days.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Json, Object, SimpleObject};
use engine::risk as engine_risk;

use super::{
    backtest::BacktestOptionsInput,
    margin_enums::AccountType,
    mirror::{Conv, mirror},
    scalars::Date,
};
use crate::{
    error::{ApiError, ApiResult},
    graphql::app_state,
};

/// How `forwardRisk` builds its paths from the ticker's history.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "engine::risk::Method")]
pub enum ForwardMethod {
    /// Politis and Romano's stationary bootstrap: blocks of consecutive days with geometric
    /// lengths (mean `meanBlockDays`) from uniform start days, wrapping around the sample's
    /// end; keeps volatility clustering and the days' dividends and rates.
    #[default]
    StationaryBootstrap,
    /// Each day drawn on its own, uniformly from the sample (block length 1).
    IidBootstrap,
    /// Geometric Brownian motion: normal log returns with the sample's mean and standard
    /// deviation; no dividends, low = close, the sample's mean daily interest.
    Gbm,
}

/// The historical question: from every entry date in a range, how often does a position of
/// this leverage meet a margin call within the horizon?
#[derive(InputObject, Clone, Debug)]
pub struct OddsInput {
    /// Dataset symbol (SPY, VTI, QQQ or any other in `tickers`), in any case.
    pub ticker: String,
    /// Position value / equity at entry, from 1 to the account's maximum (2 for REG_T).
    pub leverage: f64,
    /// Sets the maintenance fraction and the maximum leverage.
    #[graphql(default)]
    pub account_type: AccountType,
    /// Trading days each window covers after its entry, 5–2520 (252 is about a year).
    #[graphql(default = 252)]
    pub horizon_days: i32,
    /// First entry date (snapped to a trading day); null: the dataset's first day.
    pub entry_from: Option<Date>,
    /// Last entry date; null (or later): the last day that still has a full window.
    pub entry_to: Option<Date>,
    /// Starting equity, US dollars (the position is `initialInvestment × leverage`); the
    /// odds do not depend on it, the terminal equity does.
    #[graphql(default = 100000.0)]
    pub initial_investment: f64,
    /// Interest model, day-count basis, maintenance override, `intraday` and slippage;
    /// options that only matter across rounds are ignored.
    pub options: Option<BacktestOptionsInput>,
}

/// The forward question: along simulated futures built from the ticker's own history, how
/// often is a position of this leverage margin-called within the horizon?
#[derive(InputObject, Clone, Debug)]
pub struct ForwardRiskInput {
    /// Dataset symbol (SPY, VTI, QQQ or any other in `tickers`), in any case.
    pub ticker: String,
    /// Position value / equity at entry, from 1 to the account's maximum (2 for REG_T).
    pub leverage: f64,
    /// Sets the maintenance fraction and the maximum leverage.
    #[graphql(default)]
    pub account_type: AccountType,
    /// Trading days each path runs, 5–2520.
    #[graphql(default = 252)]
    pub horizon_days: i32,
    /// Paths simulated, 100–100,000.
    #[graphql(default = 10000)]
    pub paths: i32,
    /// How paths are built.
    #[graphql(default_with = "ForwardMethod::StationaryBootstrap")]
    pub method: ForwardMethod,
    /// STATIONARY_BOOTSTRAP: mean block length in trading days, 1–2520.
    #[graphql(default = 20.0)]
    pub mean_block_days: f64,
    /// First day of the history resampled; null: the dataset's first day.
    pub sample_from: Option<Date>,
    /// Last day of the history resampled; null: the dataset's last day.
    pub sample_to: Option<Date>,
    /// Seed of the random streams, 0–2147483647; the same input and seed give the same
    /// answer. Null: one is chosen and returned in `seed`.
    pub seed: Option<i32>,
    /// Starting equity, US dollars.
    #[graphql(default = 100000.0)]
    pub initial_investment: f64,
    /// Interest model, day-count basis, maintenance override, `intraday` and slippage.
    pub options: Option<BacktestOptionsInput>,
}

fn horizon(days: i32) -> ApiResult<u32> {
    u32::try_from(days).map_err(|_| ApiError::input("horizonDays", "must be between 5 and 2520"))
}

impl OddsInput {
    pub fn to_engine(&self) -> ApiResult<engine_risk::OddsInput> {
        Ok(engine_risk::OddsInput {
            ticker: self.ticker.clone(),
            leverage: self.leverage,
            account_type: self.account_type.into(),
            horizon_days: horizon(self.horizon_days)?,
            entry_from: self.entry_from.map(|d| d.0),
            entry_to: self.entry_to.map(|d| d.0),
            initial_investment: self.initial_investment,
            options: self.options.clone().unwrap_or_default().to_engine()?,
        })
    }
}

impl ForwardRiskInput {
    pub fn to_engine(&self) -> ApiResult<engine_risk::ForwardRiskInput> {
        let paths = u32::try_from(self.paths)
            .map_err(|_| ApiError::input("paths", "must be between 100 and 100000"))?;
        let seed = match self.seed {
            Some(seed) => u64::try_from(seed)
                .map_err(|_| ApiError::input("seed", "must be between 0 and 2147483647"))?,
            None => u64::from(rand::random::<u32>() >> 1),
        };
        Ok(engine_risk::ForwardRiskInput {
            ticker: self.ticker.clone(),
            leverage: self.leverage,
            account_type: self.account_type.into(),
            horizon_days: horizon(self.horizon_days)?,
            paths,
            method: self.method.into(),
            mean_block_days: self.mean_block_days,
            sample_from: self.sample_from.map(|d| d.0),
            sample_to: self.sample_to.map(|d| d.0),
            seed,
            initial_investment: self.initial_investment,
            options: self.options.clone().unwrap_or_default().to_engine()?,
        })
    }
}

mirror! {
    /// Wilson's 95 % score interval (z = 1.96) of a probability.
    RiskInterval from engine_risk::Interval {
        /// Lower bound, a fraction.
        low: f64,
        /// Upper bound, a fraction.
        high: f64,
    }
}

mirror! {
    /// Nearest-rank percentiles (the ⌈p·k/100⌉-th of the k sorted values) of the trading
    /// days from entry to the first margin call, over the windows or paths with a call.
    CallDayPercentiles from engine_risk::CallDays {
        /// 10th percentile, trading days.
        p10: i32,
        /// Median, trading days.
        p50: i32,
        /// 90th percentile, trading days.
        p90: i32,
    }
}

mirror! {
    /// Nearest-rank percentiles of a distribution.
    RiskPercentiles from engine_risk::Percentiles {
        /// 5th percentile.
        p5: f64,
        /// 25th percentile.
        p25: f64,
        /// Median.
        p50: f64,
        /// 75th percentile.
        p75: f64,
        /// 95th percentile.
        p95: f64,
    }
}

impl Conv<RiskInterval> for engine_risk::Interval {
    fn conv(&self) -> RiskInterval {
        self.into()
    }
}

mirror! {
    /// Non-overlapping windows only (entries `horizonDays` apart from the first), which are
    /// independent draws, where the overlapping ones are not.
    IndependentWindows from engine_risk::Independent {
        /// Non-overlapping windows.
        windows: i32,
        /// Of those, windows with a margin call.
        with_call: i32,
        /// `withCall / windows`, a fraction.
        probability: f64,
        /// Wilson's 95 % interval of `probability`.
        interval: RiskInterval,
    }
}

mirror! {
    /// The windows entered in one calendar year.
    YearOdds from engine_risk::YearOdds {
        /// Calendar year of the entry dates.
        year: i32,
        /// Windows entered that year.
        windows: i32,
        /// Of those, windows with a margin call.
        with_call: i32,
        /// `withCall / windows`, a fraction.
        probability: f64,
    }
}

mirror! {
    /// A window that met its margin call soonest.
    EarliestCall from engine_risk::EarliestCall {
        /// The entry (a close).
        entry_date: Date,
        /// The day of the first margin call.
        call_date: Date,
        /// Trading days from entry to the call.
        trading_days: i32,
    }
}

/// Charts of `marginCallOdds` as Plotly JSON (`{data, layout}`).
#[derive(SimpleObject, Clone, Debug)]
pub struct OddsFigures {
    /// 1 for an entry date whose window has a call, 0 otherwise, with the rolling mean of
    /// 252 entries.
    pub probability_by_entry_date: Json<serde_json::Value>,
    /// Histogram of trading days to the first call.
    pub days_to_first_call: Json<serde_json::Value>,
}

/// Charts of `forwardRisk` as Plotly JSON.
#[derive(SimpleObject, Clone, Debug)]
pub struct ForwardFigures {
    /// Percentile bands (5/25/50/75/95) of equity by day, with the calls marked.
    pub fan: Json<serde_json::Value>,
}

/// How often a position met a margin call within the horizon, over every entry date.
pub struct MarginCallOdds(pub Arc<engine_risk::MarginCallOdds>);

/// Answers of `marginCallOdds`.
#[Object]
impl MarginCallOdds {
    /// The dataset.
    async fn ticker(&self) -> &str {
        &self.0.input.ticker
    }
    /// Leverage at entry.
    async fn leverage(&self) -> f64 {
        self.0.input.leverage
    }
    /// Trading days per window.
    async fn horizon_days(&self) -> i32 {
        self.0.input.horizon_days.conv()
    }
    /// The maintenance fraction the calls were checked against (0.25 = 25 %).
    async fn maintenance(&self) -> f64 {
        self.0.maintenance
    }
    /// First entry date used.
    async fn entry_from(&self) -> Option<Date> {
        self.0.input.entry_from.map(Date)
    }
    /// Last entry date used.
    async fn entry_to(&self) -> Option<Date> {
        self.0.input.entry_to.map(Date)
    }
    /// Entry dates (one window each) in the range.
    async fn windows(&self) -> i32 {
        self.0.windows.conv()
    }
    /// Windows with a margin call.
    async fn windows_with_call(&self) -> i32 {
        self.0.windows_with_call.conv()
    }
    /// `windowsWithCall / windows`, a fraction (overlapping windows: see `independent`).
    async fn probability(&self) -> f64 {
        self.0.probability
    }
    /// The same question over non-overlapping windows, with a confidence interval.
    async fn independent(&self) -> IndependentWindows {
        (&self.0.independent).into()
    }
    /// Trading days to the first call over the windows with one; null when none has.
    async fn days_to_first_call(&self) -> Option<CallDayPercentiles> {
        self.0.days_to_first_call.as_ref().map(Into::into)
    }
    /// Final equity / initial equity − 1 over the windows without a call (fractions);
    /// null when every window has one.
    async fn terminal_return(&self) -> Option<RiskPercentiles> {
        self.0.terminal_return.as_ref().map(Into::into)
    }
    /// The windows by calendar year of entry.
    async fn by_entry_year(&self) -> Vec<YearOdds> {
        self.0.by_entry_year.iter().map(Into::into).collect()
    }
    /// The 10 windows that met their call soonest (earlier entry first on ties).
    async fn earliest_calls(&self) -> Vec<EarliestCall> {
        self.0.earliest_calls.iter().map(Into::into).collect()
    }
    /// Charts of the answer.
    async fn figures(&self) -> OddsFigures {
        let figures = &self.0.figures;
        OddsFigures {
            probability_by_entry_date: Json(figures.probability_by_entry_date.clone()),
            days_to_first_call: Json(figures.days_to_first_call.clone()),
        }
    }
    /// The largest leverage, rounded down to 0.01, whose `probability` over the same
    /// windows is at most the target; the account's maximum when even that stays at or
    /// under it; null when even 1.0 exceeds it. One more engine run.
    async fn max_leverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The highest acceptable probability, a fraction 0–1 (0.05 = 5 %).")]
        target_probability: f64,
    ) -> ApiResult<Option<f64>> {
        app_state(ctx)
            .risk
            .max_leverage(&self.0.input, target_probability)
            .await
    }
}

/// How often simulated futures met a margin call within the horizon.
pub struct ForwardRisk(pub Arc<engine_risk::ForwardRisk>);

/// Answers of `forwardRisk`.
#[Object]
impl ForwardRisk {
    /// Paths simulated.
    async fn paths(&self) -> i32 {
        self.0.paths.conv()
    }
    /// The seed used: pass it again for the same answer.
    async fn seed(&self) -> i32 {
        i32::try_from(self.0.seed).unwrap_or(i32::MAX)
    }
    /// How paths were built.
    async fn method(&self) -> ForwardMethod {
        self.0.input.method.into()
    }
    /// Trading days per path.
    async fn horizon_days(&self) -> i32 {
        self.0.input.horizon_days.conv()
    }
    /// The maintenance fraction the calls were checked against.
    async fn maintenance(&self) -> f64 {
        self.0.maintenance
    }
    /// Daily returns in the history resampled.
    async fn sample_days(&self) -> i32 {
        self.0.sample_days.conv()
    }
    /// Paths with a margin call.
    async fn paths_with_call(&self) -> i32 {
        self.0.paths_with_call.conv()
    }
    /// `pathsWithCall / paths`, a fraction.
    async fn probability(&self) -> f64 {
        self.0.probability
    }
    /// Wilson's 95 % interval of `probability`.
    async fn interval(&self) -> RiskInterval {
        (&self.0.interval).into()
    }
    /// Trading days to the first call over the paths with one; null when none has.
    async fn days_to_first_call(&self) -> Option<CallDayPercentiles> {
        self.0.days_to_first_call.as_ref().map(Into::into)
    }
    /// Equity at the horizon, US dollars, over all paths (a called path ends with what its
    /// liquidation left).
    async fn terminal_equity(&self) -> RiskPercentiles {
        (&self.0.terminal_equity).into()
    }
    /// Mean terminal equity of the worst 5 % of paths, US dollars.
    async fn expected_shortfall5(&self) -> f64 {
        self.0.expected_shortfall5
    }
    /// GBM with zero interest only: the first-passage probability of the price reaching the
    /// call price within the horizon (Broadie–Glasserman shifted for daily monitoring);
    /// null otherwise.
    async fn analytic_probability(&self) -> Option<f64> {
        self.0.analytic_probability
    }
    /// Charts of the answer.
    async fn figures(&self) -> ForwardFigures {
        ForwardFigures {
            fan: Json(self.0.figures.fan.clone()),
        }
    }
}
