//! Margin mutations: calculate, run and cancel backtests, save and manage results.

use crate::error::ApiResult;
use crate::graphql::app_state;
use crate::graphql::guards;
use crate::graphql::ids::{self, Kind, global_id, parse_uuid};
use async_graphql::{Context, ID, Object};

use crate::{
    graphql::types::{
        backtest::BacktestInput,
        calculation::{CalculatorInput, MarginCalculation},
        payloads::{BacktestSessionPayload, CalculatePayload, DeletePayload, SavedResultPayload},
        saved::{MetadataInput, SaveResultInput},
    },
    services::{backtests::SessionView, calculations, saved_results},
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
        #[graphql(desc = "The position to analyse.")] input: CalculatorInput,
    ) -> ApiResult<CalculatePayload> {
        let state = app_state(ctx);
        let caller = guards::margin_caller(ctx, state.config.anonymous_calculate)?;
        let input = input.to_engine()?;
        let (record, result) =
            calculations::calculate(&state.db, &state.market, caller.map(|c| c.user_id), &input)
                .await?;
        Ok(CalculatePayload {
            margin_calculation: MarginCalculation::new(&record, &result),
        })
    }

    /// Runs a backtest. A cached result answers COMPLETED at once with `cacheHit: true`.
    /// `wait: true` (default) returns when the run has finished; `wait: false` returns the
    /// PENDING/RUNNING session at once, to follow with `backtestProgress`.
    async fn run_backtest(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The backtest to run.")] input: BacktestInput,
        #[graphql(
            default_with = "Some(true)",
            desc = "Wait for the run to finish (true), or return the PENDING/RUNNING session at once (false)."
        )]
        wait: Option<bool>,
    ) -> ApiResult<BacktestSessionPayload> {
        let state = app_state(ctx);
        let caller = guards::margin_caller(ctx, state.config.anonymous_backtest)?;
        let input = input.to_engine()?;
        let view = state
            .backtests
            // An explicit null means the default too.
            .run(caller.map(|c| c.user_id), &input, wait.unwrap_or(true))
            .await?;
        Ok(BacktestSessionPayload {
            backtest_session: view.into(),
        })
    }

    /// Cancels a pending or running session (a finished one is returned as it is).
    async fn cancel_backtest(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's global id or its `sessionId`.")] session_id: ID,
    ) -> ApiResult<BacktestSessionPayload> {
        let session_id = parse_uuid(&session_id, Kind::BacktestSession)?;
        let state = app_state(ctx);
        let caller = guards::margin_caller(ctx, true)?.map(|c| c.user_id);
        let record = state.backtests.cancel(caller, session_id).await?;
        Ok(BacktestSessionPayload {
            backtest_session: SessionView {
                record,
                result: None,
            }
            .into(),
        })
    }

    /// Saves the result of one of your COMPLETED sessions (the server's own numbers), within
    /// your quota (QUOTA_EXCEEDED with `limit` when full).
    async fn save_result(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session to save and the name, description and tags to keep.")]
        input: SaveResultInput,
    ) -> ApiResult<SavedResultPayload> {
        // A backtest session's id or a sweep's: by its kind when global, else whichever a
        // session of the caller's has.
        let (session_id, target) = match ids::decode(&input.session_id) {
            Some((Kind::SweepSession, _)) => (
                parse_uuid(&input.session_id, Kind::SweepSession)?,
                saved_results::SaveTarget::Sweep,
            ),
            Some(_) => (
                parse_uuid(&input.session_id, Kind::BacktestSession)?,
                saved_results::SaveTarget::Backtest,
            ),
            None => (
                parse_uuid(&input.session_id, Kind::BacktestSession)?,
                saved_results::SaveTarget::Either,
            ),
        };
        let caller = guards::require_approved(ctx)?;
        let state = app_state(ctx);
        let summary = saved_results::save_target(
            (&state.backtests, &state.sweeps),
            state.config.saved_results_quota,
            (caller.user_id, caller.email.as_str()),
            target,
            saved_results::SaveInput {
                session_id,
                name: input.name,
                description: input.description,
                tags: input.tags,
            },
        )
        .await?;
        Ok(SavedResultPayload {
            saved_result: summary.into(),
        })
    }

    /// Replaces the name, description or tags of one of your saved results.
    async fn update_metadata(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The result's global id or its `resultId`.")] result_id: ID,
        #[graphql(desc = "The new metadata; omitted fields are kept.")] input: MetadataInput,
    ) -> ApiResult<SavedResultPayload> {
        let result_id = parse_uuid(&result_id, Kind::SavedResult)?;
        let caller = guards::require_approved(ctx)?;
        let state = app_state(ctx);
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
        .await?;
        Ok(SavedResultPayload {
            saved_result: summary.into(),
        })
    }

    /// Deletes one of your saved results, freeing a quota slot.
    async fn delete_result(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The result's global id or its `resultId`.")] result_id: ID,
    ) -> ApiResult<DeletePayload> {
        let result_id = parse_uuid(&result_id, Kind::SavedResult)?;
        let caller = guards::require_approved(ctx)?;
        let state = app_state(ctx);
        saved_results::delete(&state.db, caller.user_id, result_id).await?;
        Ok(DeletePayload {
            deleted_id: global_id(Kind::SavedResult, result_id),
        })
    }
}
