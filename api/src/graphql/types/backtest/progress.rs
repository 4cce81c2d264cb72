//! What a backtest progress subscription delivers.

use async_graphql::{Enum, SimpleObject};
use uuid::Uuid;

use super::result::BacktestSummary;
use crate::graphql::types::{
    margin_enums::{BacktestStatus, EventKind},
    scalars::Date,
};

/// What a progress subscription delivers.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProgressKind {
    /// The session's state when the subscription started (always first).
    Snapshot,
    /// The computation started.
    Running,
    /// A progress step (with `event` when an entry, liquidation or rebalance happened).
    Progress,
    Completed,
    Error,
    Cancelled,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct BacktestProgress {
    pub kind: ProgressKind,
    pub session_id: Uuid,
    pub status: BacktestStatus,
    pub percent: Option<f64>,
    pub current_date: Option<Date>,
    pub equity: Option<f64>,
    pub event: Option<EventKind>,
    /// With COMPLETED.
    pub summary: Option<BacktestSummary>,
    /// With ERROR.
    pub message: Option<String>,
    pub execution_time_ms: Option<f64>,
}
