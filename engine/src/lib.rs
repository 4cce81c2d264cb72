//! Pure computation for the margin service. No I/O beyond reading a dataset it is handed.

pub mod error;
pub mod market;

/// Bumped whenever results change for the same input; part of every cache key.
pub const ENGINE_VERSION: &str = "1.0.0";

pub use error::{DataError, InputError};
pub use market::{Dataset, MarketData, RateSeries};
pub mod account;
pub mod calculator;

pub use account::{AccountType, PositionType};
pub mod backtest;
pub mod cache_key;
pub(crate) mod calendar;
pub mod cushion;
pub mod figures;
pub mod fixtures;
pub mod golden;
pub mod metrics;
pub mod risk;
pub(crate) mod serde_round;
pub mod sweep;
pub use serde_round::whole_number;
pub mod tables;
