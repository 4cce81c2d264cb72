//! Saved results, their filter and ordering, and stats.

use async_graphql::{ComplexObject, Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{
    backtest::BacktestResultView,
    margin_enums::{AccountType, Mode},
    scalars::Date,
};
use crate::{
    graphql::ids::{Kind, global_id},
    services::{saved_results::SavedSummary, stats::ModeStats},
};

#[derive(InputObject, Clone, Debug)]
pub struct SaveResultInput {
    /// A COMPLETED session of yours; its server-side result is what gets stored.
    pub session_id: Uuid,
    /// 1–255 characters.
    pub name: String,
    /// At most 5,000 characters.
    pub description: Option<String>,
    /// At most 20 tags of at most 50 characters.
    #[graphql(default)]
    pub tags: Vec<String>,
}

/// New metadata; omitted fields are kept.
#[derive(InputObject, Clone, Debug)]
pub struct MetadataInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
}

#[derive(InputObject, Clone, Debug, Default)]
pub struct SavedResultFilter {
    /// Case-insensitive text in the name or description.
    pub search: Option<String>,
    pub ticker: Option<String>,
    pub mode: Option<Mode>,
    pub account_type: Option<AccountType>,
    /// Results carrying every one of these tags.
    pub tags: Option<Vec<String>>,
    /// Saved on or after this day (UTC).
    pub from: Option<Date>,
    /// Saved on or before this day (UTC).
    pub to: Option<Date>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum SavedResultOrder {
    #[default]
    CreatedAtDesc,
    CreatedAtAsc,
    NameAsc,
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
    pub result_id: Uuid,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    pub mode: Option<Mode>,
    pub ticker: String,
    pub start_date: Date,
    pub end_date: Date,
    pub leverage: f64,
    pub account_type: Option<AccountType>,
    pub initial_investment: f64,
    pub profit_threshold: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub payload: Option<BacktestResultView>,
}

impl From<SavedSummary> for SavedResult {
    fn from(s: SavedSummary) -> Self {
        Self {
            id: global_id(Kind::SavedResult, s.result_id),
            result_id: s.result_id,
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

#[derive(SimpleObject, Clone, Debug)]
pub struct ModeStatistics {
    pub mode: Option<Mode>,
    pub total_runs: u64,
    pub completed: u64,
    pub errors: u64,
    pub cancelled: u64,
    pub cache_hits: u64,
    /// Cache hits per run, 0–1.
    pub cache_hit_rate: f64,
    pub avg_execution_ms: Option<f64>,
    pub p95_execution_ms: Option<f64>,
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

#[derive(SimpleObject, Clone, Debug)]
pub struct MarginStats {
    pub days: i32,
    /// Backtests by mode over the period (every user's runs).
    pub by_mode: Vec<ModeStatistics>,
    /// The same for the caller's own runs.
    pub mine: Vec<ModeStatistics>,
    pub saved_count: i32,
    pub saved_quota: i32,
}
