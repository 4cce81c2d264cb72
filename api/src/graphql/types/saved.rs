//! Saved results, their filter and ordering, and stats.

use async_graphql::{ComplexObject, Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    backtest::BacktestResultView,
    margin_enums::{AccountType, Mode},
    scalars::{Date, Uuid},
};
use crate::{
    graphql::ids::{Kind, global_id},
    services::{saved_results::SavedSummary, stats::ModeStats},
};

/// What `saveResult` stores: a session's result under a name.
#[derive(InputObject, Clone, Debug)]
pub struct SaveResultInput {
    /// A COMPLETED session of yours (its global id or its `sessionId`); its server-side
    /// result is what gets stored.
    pub session_id: ID,
    /// The name to list it by, 1–255 characters after trimming.
    pub name: String,
    /// Free text, at most 5,000 characters; null: empty.
    pub description: Option<String>,
    /// At most 20 tags of 1–50 characters each; repeated tags are kept once.
    #[graphql(default)]
    pub tags: Vec<String>,
}

/// New metadata; omitted fields are kept.
#[derive(InputObject, Clone, Debug)]
pub struct MetadataInput {
    /// The new name, 1–255 characters.
    pub name: Option<String>,
    /// The new description, at most 5,000 characters.
    pub description: Option<String>,
    /// Tags replacing all current ones: at most 20, of 1–50 characters each.
    pub tags: Option<Vec<String>>,
}

/// Conditions on your saved results; a result must meet every one given.
#[derive(InputObject, Clone, Debug, Default)]
pub struct SavedResultFilter {
    /// Case-insensitive text in the name or description, at most 200 characters.
    pub search: Option<String>,
    /// Results of this ticker, case-insensitive.
    pub ticker: Option<String>,
    /// Results of backtests in this mode.
    pub mode: Option<Mode>,
    /// Results of backtests with this account type.
    pub account_type: Option<AccountType>,
    /// Results carrying every one of these tags (case-insensitive, at most 20).
    pub tags: Option<Vec<String>>,
    /// Saved on or after this day (UTC).
    pub from: Option<Date>,
    /// Saved on or before this day (UTC).
    pub to: Option<Date>,
}

/// The order of `savedResults`; ties are broken by creation order.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum SavedResultOrder {
    /// Newest first.
    #[default]
    CreatedAtDesc,
    /// Oldest first.
    CreatedAtAsc,
    /// By name, A to Z, ignoring case.
    NameAsc,
    /// By name, Z to A, ignoring case.
    NameDesc,
}

impl From<SavedResultOrder> for crate::services::saved_results::SavedOrder {
    fn from(o: SavedResultOrder) -> Self {
        use crate::services::saved_results::SavedOrder as O;
        match o {
            SavedResultOrder::CreatedAtDesc => O::CreatedDesc,
            SavedResultOrder::CreatedAtAsc => O::CreatedAsc,
            SavedResultOrder::NameAsc => O::NameAsc,
            SavedResultOrder::NameDesc => O::NameDesc,
        }
    }
}

/// A saved result: the summary fields, and (from `savedResult` only) the typed result.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct SavedResult {
    /// Global id (`node(id:)`); `resultId` is the same result's UUID.
    pub id: ID,
    /// The result's UUID, which `savedResult`, `updateMetadata` and `deleteResult` accept as
    /// well as `id`.
    pub result_id: Uuid,
    /// The name it was saved under.
    pub name: String,
    /// Free text; empty when none was given.
    pub description: String,
    /// Its tags, in the order given, each once.
    pub tags: Vec<String>,
    /// The backtest mode of the run; always set (nullable only for schema compatibility).
    pub mode: Option<Mode>,
    /// The dataset's symbol.
    pub ticker: String,
    /// The first trading day of the run (the requested start, snapped to a trading day).
    pub start_date: Date,
    /// The last trading day of the run (the requested end, snapped to a trading day).
    pub end_date: Date,
    /// Leverage at entry, position value over equity (2 = 2×).
    pub leverage: f64,
    /// The account type of the run; always set (nullable only for schema compatibility).
    pub account_type: Option<AccountType>,
    /// Starting equity (cash) in US dollars; the first position is this times `leverage`.
    pub initial_investment: f64,
    /// The profit threshold of a PROFIT_THRESHOLD run: the gain since the last (re-)levering,
    /// in percent, at which the position is levered up again (100 = +100 %); null for the
    /// other modes.
    pub profit_threshold: Option<f64>,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
    /// When it was saved or its metadata last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub payload: Option<BacktestResultView>,
}

impl From<SavedSummary> for SavedResult {
    fn from(s: SavedSummary) -> Self {
        Self {
            id: global_id(Kind::SavedResult, s.result_id),
            result_id: s.result_id.into(),
            tags: s.tag_list(),
            name: s.name,
            description: s.description,
            mode: Some(s.mode.into()),
            ticker: s.ticker,
            start_date: Date(s.start_date),
            end_date: Date(s.end_date),
            leverage: s.leverage,
            account_type: Some(s.account_type.into()),
            initial_investment: s.initial_investment,
            profit_threshold: s.profit_threshold,
            created_at: s.created_at,
            updated_at: s.updated_at,
            payload: None,
        }
    }
}

#[ComplexObject]
impl SavedResult {
    /// The stored result. Listings never load it (null there); ask `savedResult(resultId)`.
    async fn result(&self) -> Option<BacktestResultView> {
        self.payload.clone()
    }
}

/// Backtest sessions of one mode created within the statistics window.
#[derive(SimpleObject, Clone, Debug)]
pub struct ModeStatistics {
    /// The backtest mode; always set (nullable only for schema compatibility).
    pub mode: Option<Mode>,
    /// Sessions created, in any status (pending and running included).
    pub total_runs: u64,
    /// Sessions that completed.
    pub completed: u64,
    /// Sessions that ended in ERROR.
    pub errors: u64,
    /// Sessions that were cancelled.
    pub cancelled: u64,
    /// Sessions answered from the result cache.
    pub cache_hits: u64,
    /// Cache hits per run as a fraction, 0–1 (0.25 = 25 %); 0 when there were no runs.
    pub cache_hit_rate: f64,
    /// Mean execution time of the completed sessions, milliseconds; null when none completed.
    pub avg_execution_ms: Option<f64>,
    /// 95th percentile (interpolated) of the completed sessions' execution times,
    /// milliseconds; null when none completed.
    pub p95_execution_ms: Option<f64>,
    /// Longest execution time of a completed session, milliseconds; null when none completed.
    pub max_execution_ms: Option<f64>,
}

impl From<ModeStats> for ModeStatistics {
    fn from(s: ModeStats) -> Self {
        Self {
            mode: Some(s.mode.into()),
            total_runs: s.total_runs,
            completed: s.completed,
            errors: s.errors,
            cancelled: s.cancelled,
            cache_hits: s.cache_hits,
            cache_hit_rate: s.cache_hit_rate,
            avg_execution_ms: s.avg_execution_ms,
            p95_execution_ms: s.p95_execution_ms,
            max_execution_ms: s.max_execution_ms,
        }
    }
}

/// Backtest usage over a window of days, and your saved-results quota.
#[derive(SimpleObject, Clone, Debug)]
pub struct MarginStats {
    /// The window: sessions created in the last this many days.
    pub days: i32,
    /// Backtests by mode over the period (every user's runs), one entry per mode.
    pub by_mode: Vec<ModeStatistics>,
    /// The same for the caller's own runs.
    pub mine: Vec<ModeStatistics>,
    /// Results you have saved, counted against the quota.
    pub saved_count: i32,
    /// The most results you may save; `saveResult` answers QUOTA_EXCEEDED beyond it.
    pub saved_quota: i32,
}
