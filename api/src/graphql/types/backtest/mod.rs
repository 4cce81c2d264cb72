//! Backtests in GraphQL: the input, the typed result, its daily series, sessions and
//! progress events.

mod daily;
mod input;
mod progress;
mod result;
mod session;

pub(crate) use daily::DailyColumn;
pub(crate) use input::{BacktestInput, BacktestOptionsInput};
pub(crate) use progress::{BacktestProgress, ProgressKind};
pub(crate) use result::{BacktestResultView, BacktestSummary};
pub(crate) use session::BacktestSession;
