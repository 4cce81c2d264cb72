//! Risk-lab queries: the odds of a margin call over history and over simulated futures. They
//! store nothing, so they are queries; each is priced as an engine run (`graphql::cost`).

use async_graphql::{Context, Object};

use crate::{
    error::ApiResult,
    graphql::{
        app_state, guards,
        types::risk::{ForwardRisk, ForwardRiskInput, MarginCallOdds, OddsInput},
    },
};

#[derive(Default)]
pub struct RiskQuery;

#[Object]
impl RiskQuery {
    /// From every entry date in a range, how often a position of this leverage met a margin
    /// call within `horizonDays` (one window per entry date, overlapping), with the
    /// non-overlapping windows' interval and `maxLeverage` for a target probability.
    async fn margin_call_odds(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The position, the horizon and the entry range.")] input: OddsInput,
    ) -> ApiResult<MarginCallOdds> {
        let state = app_state(ctx);
        guards::margin_caller(ctx, state.config.anonymous_backtest)?;
        let input = input.to_engine()?;
        Ok(MarginCallOdds(state.risk.odds(&input).await?))
    }

    /// Along Monte Carlo paths built from the ticker's own history (bootstrap) or a fitted
    /// GBM, how often a position of this leverage is margin-called within `horizonDays`.
    async fn forward_risk(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The position, the horizon and how to simulate.")] input: ForwardRiskInput,
    ) -> ApiResult<ForwardRisk> {
        let state = app_state(ctx);
        guards::margin_caller(ctx, state.config.anonymous_backtest)?;
        let input = input.to_engine()?;
        Ok(ForwardRisk(state.risk.forward(&input).await?))
    }
}
