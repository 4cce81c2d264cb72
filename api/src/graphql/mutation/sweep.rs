//! Sweeps: run a grid of backtests, cancel one.

use async_graphql::{Context, ID, Object};

use crate::{
    error::ApiResult,
    graphql::{
        app_state, guards,
        ids::{Kind, parse_uuid},
        types::sweep::{SweepInput, SweepSessionPayload},
    },
};

#[derive(Default)]
pub struct SweepMutation;

#[Object]
impl SweepMutation {
    /// Runs a sweep: the base backtest with one or two parameters varied over a grid of at
    /// most 10,000 cells, each cell's summary equal to `runBacktest`'s for its input. A cell
    /// whose parameters are invalid carries its error and the sweep still completes.
    async fn run_sweep(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The base run and the axes.")] input: SweepInput,
        #[graphql(
            default_with = "Some(true)",
            desc = "Wait for the sweep to finish (true), or return the PENDING/RUNNING session at once (false) and poll `sweepSession`."
        )]
        wait: Option<bool>,
    ) -> ApiResult<SweepSessionPayload> {
        let state = app_state(ctx);
        let caller = guards::margin_caller(ctx, state.config.anonymous_backtest)?;
        let input = input.to_engine()?;
        let view = state
            .sweeps
            .run(caller.map(|c| c.user_id), &input, wait.unwrap_or(true))
            .await?;
        Ok(SweepSessionPayload(view))
    }

    /// Cancels a pending or running sweep (a finished one is returned as it is).
    async fn cancel_sweep(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sweep's global id or its `sweepId`.")] sweep_id: ID,
    ) -> ApiResult<SweepSessionPayload> {
        let sweep_id = parse_uuid(&sweep_id, Kind::SweepSession)?;
        let caller = guards::margin_caller(ctx, true)?.map(|c| c.user_id);
        let view = app_state(ctx).sweeps.cancel(caller, sweep_id).await?;
        Ok(SweepSessionPayload(view))
    }
}
