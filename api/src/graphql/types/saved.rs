//! Saved results, their filter and ordering, and stats.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, Json, SimpleObject};
use chrono::{DateTime, Utc};

use super::{
    backtest::BacktestResultView,
    margin_enums::{AccountType, Mode},
    scalars::{Date, Uuid},
    sweep::SweepGrid,
};
use crate::{
    error::ApiResult,
    graphql::{
        app_state,
        ids::{Kind, global_id},
    },
    services::{
        legacy_imports::{self, MetricDifference},
        saved_results::SavedSummary,
        stats::ModeStats,
    },
};

/// One headline number of a row imported from the Django apps: the old app's value beside
/// the server's, in the units the old app showed it in (percent for returns, drawdown and
/// volatility; US dollars for money; counts for events and days).
#[derive(SimpleObject, Clone, Debug)]
pub struct LegacyMetricDifference {
    /// A stable name for the number (`totalReturnPct`, `cagrPct`, `finalEquity`,
    /// `maxDrawdownPct`, … for saved results; `marginCallPrice`, `dailyInterest`, … for
    /// calculations).
    pub metric: String,
    /// What the old app called it (`Total Return`, `margin_call_price`, …).
    pub label: String,
    /// The old app's value; null when its payload did not have it.
    pub legacy: Option<f64>,
    /// The server's value for the same parameters; null when there is none (a legacy-only
    /// result, or a metric undefined for the run).
    pub server: Option<f64>,
    /// `server − legacy`; null unless both are known.
    pub difference: Option<f64>,
}

impl From<MetricDifference> for LegacyMetricDifference {
    fn from(d: MetricDifference) -> Self {
        Self {
            metric: d.metric,
            label: d.label,
            legacy: d.legacy,
            server: d.server,
            difference: d.difference,
        }
    }
}

/// What `saveResult` stores: a session's result under a name.
#[derive(InputObject, Clone, Debug)]
pub struct SaveResultInput {
    /// A COMPLETED backtest session of yours (its global id or its `sessionId`), or a
    /// COMPLETED sweep of yours (its global id or its `sweepId`); the server's own result
    /// (or grid) is what gets stored, within the same quota.
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
    /// Only saved backtests, or only saved sweeps.
    pub kind: Option<SavedResultKind>,
}

/// What a saved result holds.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "entity::stored_enums::SavedKind")]
pub enum SavedResultKind {
    /// One backtest's result (`result`).
    Backtest,
    /// A sweep's grid (`sweep`); the summary fields describe its base run.
    Sweep,
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
    /// True for a result imported from the Django apps whose parameters could not be re-run
    /// here (a ticker without data, dates outside the data): `result` is null, and
    /// `legacyResults` / `legacyComparison` hold the old app's numbers. False otherwise.
    pub legacy: bool,
    /// BACKTEST (`result` holds it) or SWEEP (`sweep` holds it).
    pub kind: SavedResultKind,
    #[graphql(skip)]
    pub row_id: i64,
    #[graphql(skip)]
    pub payload: Option<BacktestResultView>,
    #[graphql(skip)]
    pub sweep_grid: Option<Arc<engine::sweep::SweepResult>>,
    /// The import's comparison row, read once for `legacyComparison` and `legacyReason`.
    #[graphql(skip)]
    pub legacy_row: Arc<tokio::sync::OnceCell<Option<LegacyRow>>>,
}

type LegacyRow = (Vec<MetricDifference>, Option<String>);

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
            legacy: s.legacy,
            kind: s.kind.into(),
            row_id: s.id,
            payload: None,
            sweep_grid: None,
            legacy_row: Arc::default(),
        }
    }
}

#[ComplexObject]
impl SavedResult {
    /// The stored result. Listings never load it (null there); ask `savedResult(resultId)`.
    /// Null as well for a `legacy` result, which has no server result.
    async fn result(&self) -> Option<BacktestResultView> {
        self.payload.clone()
    }

    /// The stored grid of a saved sweep (`kind` SWEEP): its cells, best cell and heatmap as
    /// `sweepSession` has them. Null for a saved backtest, and in listings.
    async fn sweep(&self) -> Option<SweepGrid> {
        self.sweep_grid.clone().map(SweepGrid)
    }

    /// For a result imported from the Django apps: its headline metrics as the old app
    /// computed them beside the server's re-run of the same parameters, so a changed number
    /// can be explained (for a `legacy` result the server side is null). Null for a result
    /// saved here.
    async fn legacy_comparison(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<Vec<LegacyMetricDifference>>> {
        let found = self.legacy_row(ctx).await?;
        Ok(found.map(|(rows, _)| rows.iter().cloned().map(Into::into).collect()))
    }

    /// For a `legacy` result: why its parameters could not be re-run here. Null otherwise.
    async fn legacy_reason(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let found = self.legacy_row(ctx).await?;
        Ok(found.and_then(|(_, reason)| reason.clone()))
    }

    /// For a result imported from the Django apps: the old app's `results_data`, verbatim
    /// (metrics, charts, tables as it stored them; possibly megabytes). Null for a result
    /// saved here.
    async fn legacy_results(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<Json<serde_json::Value>>> {
        let payload = legacy_imports::saved_payload(&app_state(ctx).db, self.row_id).await?;
        Ok(payload.map(Json))
    }
}

impl SavedResult {
    async fn legacy_row(&self, ctx: &Context<'_>) -> ApiResult<Option<&LegacyRow>> {
        let row = self
            .legacy_row
            .get_or_try_init(|| legacy_imports::saved_comparison(&app_state(ctx).db, self.row_id))
            .await?;
        Ok(row.as_ref())
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
