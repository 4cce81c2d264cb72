//! What a backtest progress subscription delivers.

use async_graphql::{Enum, SimpleObject};

use super::result::BacktestSummary;
use crate::graphql::types::{
    margin_enums::{BacktestStatus, EventKind},
    scalars::{Date, Uuid},
};

/// Which kind of message a progress subscription delivered.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProgressKind {
    /// The session's state when the subscription started (always first).
    Snapshot,
    /// The computation started.
    Running,
    /// A progress step (with `event` when an entry, liquidation or rebalance happened).
    Progress,
    /// The run finished; `summary` holds its headline numbers (last message).
    Completed,
    /// The run failed; `message` says why (last message).
    Error,
    /// The run was cancelled (last message).
    Cancelled,
}

/// One message of a `backtestProgress` subscription: a snapshot first, then progress steps,
/// then one final COMPLETED, ERROR or CANCELLED.
#[derive(SimpleObject, Clone, Debug)]
pub struct BacktestProgress {
    /// What this message reports; it says which of the fields below are set.
    pub kind: ProgressKind,
    /// The session followed.
    pub session_id: Uuid,
    /// The session's status as of this message.
    pub status: BacktestStatus,
    /// Share of the trading days simulated, percent (0–100): set on PROGRESS and COMPLETED
    /// (100) and in a snapshot of a pending (0) or completed (100) session; null otherwise.
    pub percent: Option<f64>,
    /// PROGRESS: the last trading day simulated; null on other kinds.
    pub current_date: Option<Date>,
    /// PROGRESS: wealth on `currentDate`, US dollars (equity; in FRESH_CAPITAL banked plus
    /// equity); null on other kinds.
    pub equity: Option<f64>,
    /// PROGRESS: the latest event since the previous step (only the last one when there were
    /// several); null when nothing happened and on other kinds.
    pub event: Option<EventKind>,
    /// With COMPLETED: the result's headline numbers; null otherwise.
    pub summary: Option<BacktestSummary>,
    /// With ERROR (and in a snapshot of a failed session): why it failed; null otherwise.
    pub message: Option<String>,
    /// Milliseconds the session took to finish: with COMPLETED, and on the messages of a
    /// session that had finished already; null while it runs.
    pub execution_time_ms: Option<f64>,
}
