//! Account queries: the caller's own account, sessions and API tokens; admin lists.

use async_graphql::{Context, ID, Object, ResultExt, connection::Connection};

use crate::{
    auth::{self, Role},
    error::ApiError,
    graphql::types::accounts::{
        ApiToken, Invite, InviteTemplate, LoginAttempt, LoginAttemptFilter, Session, User,
        UserStatusFilter, connection, page_request, parse_id,
    },
    services::accounts::{self as svc, AccountSettings, admin, api_tokens, invites, sessions},
    state::AppState,
};

#[derive(Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// The signed-in user (pending accounts included).
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let caller = auth::require_user(ctx).extend()?;
        let state = ctx.data_unchecked::<AppState>();
        let user = admin::user_by_id(&state.db, caller.user_id)
            .await
            .map_err(|e| match e {
                ApiError::NotFound(_) => ApiError::Unauthenticated,
                other => other,
            })
            .extend()?;
        Ok(user.into())
    }

    /// The caller's live sessions, newest first; `current` marks this one.
    async fn my_sessions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Session>> {
        let caller = auth::require_session(ctx).extend()?;
        let state = ctx.data_unchecked::<AppState>();
        let settings = AccountSettings::from_config(&state.config);
        let list = sessions::list_for_user(&state.db, &settings, caller.user_id)
            .await
            .extend()?;
        let current = caller.session_id();
        Ok(list.into_iter().map(|s| Session::new(s, current)).collect())
    }

    /// The caller's API tokens (not revoked), newest first.
    async fn api_tokens(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<ApiToken>> {
        let caller = auth::require_session(ctx).extend()?;
        let state = ctx.data_unchecked::<AppState>();
        let list = api_tokens::list(&state.db, caller.user_id).await.extend()?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Admin: users by approval status, newest first.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "UserStatusFilter::All")] status: UserStatusFilter,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, User>> {
        auth::require_role(ctx, Role::Admin).extend()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).extend()?;
        let state = ctx.data_unchecked::<AppState>();
        let rows = admin::users(&state.db, status.into(), page)
            .await
            .extend()?;
        Ok(connection(rows, had_cursor, |u: &svc::UserRecord| u.id))
    }

    /// Admin: one user by id.
    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<User> {
        auth::require_role(ctx, Role::Admin).extend()?;
        let id = parse_id("id", &id).extend()?;
        let state = ctx.data_unchecked::<AppState>();
        let user = admin::user_by_id(&state.db, id).await.extend()?;
        Ok(user.into())
    }

    /// Admin: invites, newest first (at most 500).
    async fn invites(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Invite>> {
        auth::require_role(ctx, Role::Admin).extend()?;
        let state = ctx.data_unchecked::<AppState>();
        let list = invites::list(&state.db).await.extend()?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Admin: invite templates by name.
    async fn invite_templates(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<InviteTemplate>> {
        auth::require_role(ctx, Role::Admin).extend()?;
        let state = ctx.data_unchecked::<AppState>();
        let list = invites::list_templates(&state.db).await.extend()?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Admin: the login audit, newest first.
    async fn login_attempts(
        &self,
        ctx: &Context<'_>,
        filter: Option<LoginAttemptFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, LoginAttempt>> {
        auth::require_role(ctx, Role::Admin).extend()?;
        let had_cursor = after.is_some();
        let page = page_request(first, after).extend()?;
        let filter = filter.unwrap_or_default();
        let user_id = filter
            .user_id
            .as_ref()
            .map(|id| parse_id("userId", id))
            .transpose()
            .extend()?;
        let filter = admin::AttemptFilter {
            email: filter.email,
            ip_address: filter.ip_address,
            success: filter.success,
            user_id,
            since: filter.since,
            until: filter.until,
        };
        let state = ctx.data_unchecked::<AppState>();
        let rows = admin::login_attempts(&state.db, filter, page)
            .await
            .extend()?;
        Ok(connection(
            rows,
            had_cursor,
            |a: &svc::LoginAttemptRecord| a.id,
        ))
    }
}
