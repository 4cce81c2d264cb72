//! Sweep sessions: one by id, and the caller's own, newest first.

use async_graphql::{Context, ID, Object};

use crate::{
    error::ApiResult,
    graphql::{
        app_state, guards,
        ids::{Kind, parse_uuid},
        pagination::{Listing, connection},
        types::sweep::SweepSession,
    },
    services::pagination::{Cursor, PageRequest},
};

#[derive(Default)]
pub struct SweepQuery;

#[Object]
impl SweepQuery {
    /// A sweep session: yours, or an anonymous one whose id you hold.
    async fn sweep_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sweep's global id or its `sweepId`.")] sweep_id: ID,
    ) -> ApiResult<SweepSession> {
        let sweep_id = parse_uuid(&sweep_id, Kind::SweepSession)?;
        let caller = guards::margin_caller(ctx, true)?.map(|c| c.user_id);
        Ok(app_state(ctx).sweeps.view(caller, sweep_id).await?.into())
    }

    /// Your sweep sessions, newest first.
    async fn sweep_sessions(
        &self,
        ctx: &Context<'_>,
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
    ) -> ApiResult<Listing<SweepSession>> {
        let caller = guards::require_approved(ctx)?;
        let request = PageRequest::either(first, after.as_deref(), last, before.as_deref())?;
        let sweeps = &app_state(ctx).sweeps;
        let page = sweeps.list(caller.user_id, &request).await?;
        Ok(connection(
            page,
            |record| Cursor::id(record.id),
            |record| sweeps.view_of(record).into(),
        ))
    }
}
