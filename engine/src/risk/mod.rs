//! Risk lab (issue #15): how likely a margin call is within a horizon, and how much leverage
//! keeps that under a target.
//!
//! Both analyses run the engine's own position model (ENGINE.md §3 steps C and E, one round):
//! enter at a close with equity `E0` and leverage `L`, then each day accrue interest, reinvest
//! dividends at the close and check maintenance; a window or path ends at its first call or
//! after `H` trading days ([`window`]).
//!
//! - [`margin_call_odds`] runs that model from every entry date of the history (one window per
//!   entry row `i`, covering rows `i+1..=i+H`) and [`max_leverage`] bisects leverage over the
//!   same windows.
//! - [`forward_risk`] runs it along Monte Carlo paths resampled from the ticker's own history
//!   (stationary or iid bootstrap) or drawn from a fitted GBM, one ChaCha8 stream per path, so
//!   the output is bit-identical whatever the number of threads.
//!
//! Everything is pure: no I/O, no clock, no global randomness (the seed is an input).

mod cache;
mod figures;
mod forward;
mod gbm;
mod input;
mod odds;
mod paths;
mod rng;
mod series;
mod sketch;
mod stats;
mod window;

#[cfg(test)]
mod tests_forward;
#[cfg(test)]
mod tests_odds;
#[cfg(test)]
mod tests_support;

pub use cache::{forward_cache_key_for, odds_cache_key_for};
pub use forward::{ForwardFigures, ForwardRisk, forward_risk};
pub use input::{
    DEFAULT_HORIZON_DAYS, DEFAULT_INITIAL_INVESTMENT, DEFAULT_MEAN_BLOCK_DAYS, DEFAULT_PATHS,
    ForwardRiskInput, HORIZON_RANGE, MIN_SAMPLE_RETURNS, Method, OddsInput, PATHS_RANGE,
    normalize_forward, normalize_odds,
};
pub use odds::{
    EarliestCall, Independent, MarginCallOdds, OddsFigures, YearOdds, margin_call_odds,
    max_leverage,
};
pub use stats::{
    CallDays, Interval, Percentiles, first_passage_probability, normal_cdf, wilson_interval,
};

use crate::error::InputError;

/// Why a risk computation returned no result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RiskError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("risk computation cancelled")]
    Cancelled,
}
