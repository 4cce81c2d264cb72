//! A backtest session as GraphQL serves it.

use async_graphql::{ComplexObject, Context, ID, Json, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::result::BacktestResultView;
use crate::{
    error::ApiResult,
    export::ExportSource,
    graphql::{
        app_state,
        ids::{Kind, global_id},
        types::{
            margin_enums::{BacktestStatus, Mode},
            scalars::Date,
        },
    },
    services::backtests::SessionView,
};

/// A backtest run.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct BacktestSession {
    /// Global id (`node(id:)`); `sessionId` is the same session's UUID.
    pub id: ID,
    pub session_id: Uuid,
    pub status: BacktestStatus,
    /// True when the result came from the cache (or from an identical run under way).
    pub cache_hit: bool,
    pub execution_time_ms: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub error_message: Option<String>,
    pub ticker: String,
    pub mode: Option<Mode>,
    pub start_date: Date,
    pub end_date: Date,
    /// The normalised input.
    pub parameters: Json<serde_json::Value>,
    #[graphql(skip)]
    pub view: SessionView,
}

impl From<SessionView> for BacktestSession {
    fn from(view: SessionView) -> Self {
        let r = &view.record;
        Self {
            id: global_id(Kind::BacktestSession, r.session_id),
            session_id: r.session_id,
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
    /// The result once COMPLETED (null before, and for ERROR/CANCELLED).
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
        let source = ExportSource::Session(self.session_id);
        Ok(result.map(|result| BacktestResultView(result, source)))
    }
}
