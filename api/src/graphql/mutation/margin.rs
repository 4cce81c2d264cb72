//! Margin mutations: calculate, run and cancel backtests, save and manage results.

use async_graphql::{Context, Object, ResultExt};
use uuid::Uuid;

use crate::{
    auth,
    graphql::{
        query::margin_caller,
        types::{
            backtest::{BacktestInput, BacktestSession},
            calculation::{CalculatorInput, MarginCalculation},
            saved::{MetadataInput, SaveResultInput, SavedResult},
        },
    },
    services::{backtests::SessionView, calculations, saved_results},
    state::AppState,
};

#[derive(Default)]
pub struct MarginMutation;

#[Object]
impl MarginMutation {
    /// Runs the margin calculator and stores the calculation in your history (anonymous use,
    /// when the server allows it, is stored without a user).
    async fn calculate(
        &self,
        ctx: &Context<'_>,
        input: CalculatorInput,
    ) -> async_graphql::Result<MarginCalculation> {
        let state = ctx.data_unchecked::<AppState>();
        let caller = margin_caller(ctx, state.config.anonymous_calculate).extend()?;
        let input = input.to_engine().extend()?;
        let (record, result) =
            calculations::calculate(&state.db, &state.market, caller.map(|c| c.user_id), &input)
                .await
                .extend()?;
        Ok(MarginCalculation::new(&record, &result))
    }

    /// Runs a backtest. A cached result answers COMPLETED at once with `cacheHit: true`.
    /// `wait: true` (default) returns when the run has finished; `wait: false` returns the
    /// PENDING/RUNNING session at once, to follow with `backtestProgress`.
    async fn run_backtest(
        &self,
        ctx: &Context<'_>,
        input: BacktestInput,
        #[graphql(desc = "Default true.")] wait: Option<bool>,
    ) -> async_graphql::Result<BacktestSession> {
        let state = ctx.data_unchecked::<AppState>();
        let caller = margin_caller(ctx, state.config.anonymous_backtest).extend()?;
        let input = input.to_engine().extend()?;
        let view = state
            .backtests
            .run(caller.map(|c| c.user_id), &input, wait.unwrap_or(true))
            .await
            .extend()?;
        Ok(view.into())
    }

    /// Cancels a pending or running session (a finished one is returned as it is).
    async fn cancel_backtest(
        &self,
        ctx: &Context<'_>,
        session_id: Uuid,
    ) -> async_graphql::Result<BacktestSession> {
        let state = ctx.data_unchecked::<AppState>();
        let caller = margin_caller(ctx, true).extend()?.map(|c| c.user_id);
        let record = state.backtests.cancel(caller, session_id).await.extend()?;
        Ok(SessionView {
            record,
            result: None,
        }
        .into())
    }

    /// Saves the result of one of your COMPLETED sessions (the server's own numbers), within
    /// your quota (QUOTA_EXCEEDED with `limit` when full).
    async fn save_result(
        &self,
        ctx: &Context<'_>,
        input: SaveResultInput,
    ) -> async_graphql::Result<SavedResult> {
        let caller = auth::require_approved(ctx).extend()?;
        let state = ctx.data_unchecked::<AppState>();
        let summary = saved_results::save(
            &state.backtests,
            state.config.saved_results_quota,
            caller.user_id,
            &caller.email,
            saved_results::SaveInput {
                session_id: input.session_id,
                name: input.name,
                description: input.description,
                tags: input.tags,
            },
        )
        .await
        .extend()?;
        Ok(summary.into())
    }

    /// Replaces the name, description or tags of one of your saved results.
    async fn update_metadata(
        &self,
        ctx: &Context<'_>,
        result_id: Uuid,
        input: MetadataInput,
    ) -> async_graphql::Result<SavedResult> {
        let caller = auth::require_approved(ctx).extend()?;
        let state = ctx.data_unchecked::<AppState>();
        let summary = saved_results::update_metadata(
            &state.db,
            caller.user_id,
            result_id,
            saved_results::MetadataInput {
                name: input.name,
                description: input.description,
                tags: input.tags,
            },
        )
        .await
        .extend()?;
        Ok(summary.into())
    }

    /// Deletes one of your saved results, freeing a quota slot.
    async fn delete_result(
        &self,
        ctx: &Context<'_>,
        result_id: Uuid,
    ) -> async_graphql::Result<bool> {
        let caller = auth::require_approved(ctx).extend()?;
        let state = ctx.data_unchecked::<AppState>();
        saved_results::delete(&state.db, caller.user_id, result_id)
            .await
            .extend()?;
        Ok(true)
    }
}
