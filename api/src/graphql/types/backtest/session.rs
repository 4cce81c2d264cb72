//! A backtest session as GraphQL serves it.

use async_graphql::{ComplexObject, Context, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};

use super::result::BacktestResultView;
use crate::{
    error::ApiResult,
    export::ExportSource,
    graphql::{
        app_state,
        ids::{Kind, global_id},
        types::{
            margin_enums::{BacktestStatus, Mode},
            scalars::{Date, Uuid},
        },
    },
    services::backtests::SessionView,
};

/// A backtest run: its status, what it ran and, once COMPLETED, its result.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct BacktestSession {
    /// Global id (`node(id:)`); `sessionId` is the same session's UUID.
    pub id: ID,
    /// The session's UUID (what `backtestSession`, `cancelBacktest` and `backtestProgress`
    /// take).
    pub session_id: Uuid,
    /// Where the run is: PENDING, RUNNING, then COMPLETED, ERROR or CANCELLED.
    pub status: BacktestStatus,
    /// True when the result came from the cache (or from an identical run under way).
    pub cache_hit: bool,
    /// Milliseconds from the start of the session to its end (a cache hit: the lookup); null
    /// until it finishes.
    pub execution_time_ms: Option<f64>,
    /// When the run was requested.
    pub created_at: DateTime<Utc>,
    /// When it reached COMPLETED, ERROR or CANCELLED; null until then.
    pub completed_at: Option<DateTime<Utc>>,
    /// With ERROR: why the run failed; null otherwise.
    pub error_message: Option<String>,
    /// Symbol of the dataset run (upper case).
    pub ticker: String,
    /// The backtest mode (always set for sessions this server records).
    pub mode: Option<Mode>,
    /// First trading day of the run (the requested start snapped to a trading day).
    pub start_date: Date,
    /// Last trading day of the run (the requested end snapped to a trading day).
    pub end_date: Date,
    /// The normalised input as JSON: dates snapped to trading days, ticker upper-cased,
    /// every default explicit. A session imported from the Django apps whose parameters do
    /// not translate to an input here keeps the old parameters as they were.
    pub parameters: Json<serde_json::Value>,
    #[graphql(skip)]
    pub view: SessionView,
}

impl From<SessionView> for BacktestSession {
    fn from(view: SessionView) -> Self {
        let r = &view.record;
        Self {
            id: global_id(Kind::BacktestSession, r.session_id),
            session_id: r.session_id.into(),
            status: r.status.into(),
            cache_hit: r.cache_hit,
            execution_time_ms: r.execution_time_ms,
            created_at: r.created_at,
            completed_at: r.completed_at,
            error_message: r.error_message.clone(),
            ticker: r.etf.clone(),
            mode: Some(r.mode.into()),
            start_date: Date(r.start_date),
            end_date: Date(r.end_date),
            parameters: Json(r.parameters.clone()),
            view: view.clone(),
        }
    }
}

#[ComplexObject]
impl BacktestSession {
    /// The result once COMPLETED (null before, and for ERROR/CANCELLED). Ask only for the
    /// parts you need: `daily`, `figures` and `raw` are the expensive ones.
    async fn result(&self, ctx: &Context<'_>) -> ApiResult<Option<BacktestResultView>> {
        let state = app_state(ctx);
        // Through the DataLoader, so a list of sessions costs one batched cache lookup.
        let loader = &state.loaders.results;
        let result = state
            .backtests
            .result_of_view(&self.view, |key| async move {
                loader.load_one(key).await.ok().flatten()
            })
            .await?;
        let source = ExportSource::Session(self.session_id.0);
        Ok(result.map(|result| BacktestResultView(result, source)))
    }
}
