//! Margin queries: calculation history, backtest sessions, saved results, stats.

use crate::graphql::app_state;
use crate::graphql::guards;
use crate::graphql::{
    ids::{Kind, parse_id, parse_uuid},
    pagination::{Listing, connection},
};
use async_graphql::{Context, ID, Object};

use crate::{
    error::ApiResult,
    graphql::types::{
        backtest::BacktestSession,
        calculation::MarginCalculation,
        margin_enums::BacktestStatus,
        saved::{MarginStats, SavedResult, SavedResultFilter, SavedResultOrder},
    },
    services::{
        backtests::SessionView,
        calculations,
        pagination::{Cursor, Page, PageRequest},
        saved_results, stats,
    },
};

#[derive(Default)]
pub struct MarginQuery;

// `savedResults` takes a filter, an order and the four Relay paging arguments, flat as
// Relay clients expect them.
#[allow(clippy::too_many_arguments)]
#[Object]
impl MarginQuery {
    /// Your calculations, newest first, optionally for one ticker.
    async fn margin_calculations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only calculations of this ticker (e.g. SPY).")] ticker: Option<String>,
        #[graphql(desc = "Forward paging: at most this many items (1–100) after `after`.")]
        first: Option<i32>,
        #[graphql(desc = "Forward paging: the `endCursor` of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Backward paging: at most this many items (1–100) before `before`.")]
        last: Option<i32>,
        #[graphql(desc = "Backward paging: the `startCursor` of the next page.")] before: Option<
            String,
        >,
    ) -> ApiResult<Listing<MarginCalculation>> {
        let caller = guards::require_approved(ctx)?;
        let request = PageRequest::either(first, after.as_deref(), last, before.as_deref())?;
        let state = app_state(ctx);
        let page =
            calculations::list(&state.db, caller.user_id, ticker.as_deref(), &request).await?;
        let page = Page {
            items: calculations::decodable(page.items),
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            total: page.total,
        };
        Ok(connection(
            page,
            |(record, _)| Cursor::id(record.id),
            |(record, result)| MarginCalculation::new(&record, &result),
        ))
    }

    /// One of your calculations.
    async fn margin_calculation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The calculation's global id (or its row id).")] id: ID,
    ) -> ApiResult<MarginCalculation> {
        let caller = guards::require_approved(ctx)?;
        let state = app_state(ctx);
        let id = parse_id(&id, Kind::MarginCalculation)?;
        let record = calculations::get(&state.db, caller.user_id, id).await?;
        let result = calculations::result_of(&record)?;
        Ok(MarginCalculation::new(&record, &result))
    }

    /// A backtest session: yours, or an anonymous one whose id you hold.
    async fn backtest_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's global id or its `sessionId`.")] session_id: ID,
    ) -> ApiResult<BacktestSession> {
        let session_id = parse_uuid(&session_id, Kind::BacktestSession)?;
        let caller = guards::margin_caller(ctx, true)?.map(|c| c.user_id);
        let state = app_state(ctx);
        let record = state.backtests.session(caller, session_id).await?;
        Ok(SessionView {
            record,
            result: None,
        }
        .into())
    }

    /// Your backtest sessions, newest first.
    async fn backtest_sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only sessions in this status.")] status: Option<BacktestStatus>,
        #[graphql(desc = "Forward paging: at most this many items (1–100) after `after`.")]
        first: Option<i32>,
        #[graphql(desc = "Forward paging: the `endCursor` of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Backward paging: at most this many items (1–100) before `before`.")]
        last: Option<i32>,
        #[graphql(desc = "Backward paging: the `startCursor` of the next page.")] before: Option<
            String,
        >,
    ) -> ApiResult<Listing<BacktestSession>> {
        let caller = guards::require_approved(ctx)?;
        let request = PageRequest::either(first, after.as_deref(), last, before.as_deref())?;
        let state = app_state(ctx);
        let page = state
            .backtests
            .list(caller.user_id, status.map(Into::into), &request)
            .await?;
        Ok(connection(
            page,
            |record| Cursor::id(record.id),
            |record| {
                BacktestSession::from(SessionView {
                    record,
                    result: None,
                })
            },
        ))
    }

    /// Your saved results: summaries only (the payload is `savedResult(resultId).result`).
    async fn saved_results(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only results matching every given condition.")] filter: Option<
            SavedResultFilter,
        >,
        #[graphql(
            default_with = "Some(SavedResultOrder::default())",
            desc = "The order of the listing; the cursors belong to it."
        )]
        order_by: Option<SavedResultOrder>,
        #[graphql(desc = "Forward paging: at most this many items (1–100) after `after`.")]
        first: Option<i32>,
        #[graphql(desc = "Forward paging: the `endCursor` of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Backward paging: at most this many items (1–100) before `before`.")]
        last: Option<i32>,
        #[graphql(desc = "Backward paging: the `startCursor` of the next page.")] before: Option<
            String,
        >,
    ) -> ApiResult<Listing<SavedResult>> {
        let caller = guards::require_approved(ctx)?;
        let request = PageRequest::either(first, after.as_deref(), last, before.as_deref())?;
        let filter = filter.unwrap_or_default();
        let filter = saved_results::SavedFilter {
            search: filter.search,
            ticker: filter.ticker,
            mode: filter.mode.map(Into::into),
            account_type: filter.account_type.map(Into::into),
            tags: filter.tags.unwrap_or_default(),
            from: filter.from.map(|d| d.0),
            to: filter.to.map(|d| d.0),
            kind: filter.kind.map(Into::into),
        };
        let order = order_by.unwrap_or_default().into();
        let state = app_state(ctx);
        let page = saved_results::list(&state.db, caller.user_id, &filter, order, &request).await?;
        Ok(connection(
            page,
            |summary| saved_results::cursor_of(summary, order),
            SavedResult::from,
        ))
    }

    /// One of your saved results, with its typed result.
    async fn saved_result(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The result's global id or its `resultId`.")] result_id: ID,
    ) -> ApiResult<SavedResult> {
        let result_id = parse_uuid(&result_id, Kind::SavedResult)?;
        let caller = guards::require_approved(ctx)?;
        let state = app_state(ctx);
        let (summary, payload) =
            saved_results::get(&state.db, &state.market, caller.user_id, result_id).await?;
        let mut saved = SavedResult::from(summary);
        match payload {
            saved_results::SavedPayload::Backtest(result) => {
                saved.payload = Some(crate::graphql::types::backtest::BacktestResultView(
                    result,
                    crate::export::ExportSource::Saved(result_id),
                ));
            }
            saved_results::SavedPayload::Sweep(grid) => saved.sweep_grid = Some(grid),
            // Imported with its legacy numbers only (`legacy`): no server result.
            saved_results::SavedPayload::LegacyOnly => {}
        }
        Ok(saved)
    }

    /// Backtest usage over the last `days` days (1–3650) and your saved-results quota.
    async fn stats(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(30)", desc = "The window in days, 1–3650.")] days: Option<
            i32,
        >,
    ) -> ApiResult<MarginStats> {
        let caller = guards::require_approved(ctx)?;
        let days = days.unwrap_or(30);
        let state = app_state(ctx);
        let all = stats::by_mode(&state.db, days, None).await?;
        let mine = stats::by_mode(&state.db, days, Some(caller.user_id)).await?;
        let saved_count = saved_results::saved_count(&state.db, caller.user_id).await?;
        let quota = saved_results::effective_quota(state.config.saved_results_quota);
        Ok(MarginStats {
            days,
            by_mode: all.into_iter().map(Into::into).collect(),
            mine: mine.into_iter().map(Into::into).collect(),
            saved_count,
            saved_quota: i32::try_from(quota).unwrap_or(i32::MAX),
        })
    }
}
