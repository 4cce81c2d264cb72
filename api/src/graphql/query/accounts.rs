//! Account queries: the caller's own account, sessions and API tokens; admin lists.

use crate::error::ApiResult;
use crate::graphql::app_state;
use crate::graphql::guards;
use crate::graphql::{
    ids::{Kind, parse_id},
    pagination::{Listing, connection},
};
use async_graphql::{Context, ID, Object};

use crate::{
    auth::Role,
    error::ApiError,
    graphql::types::accounts::{
        ApiToken, Invite, InviteTemplate, LoginAttempt, LoginAttemptFilter, Session, User,
        UserStatusFilter,
    },
    services::{
        accounts::{AccountSettings, admin, api_tokens, invites, sessions},
        pagination::{Cursor, PageRequest},
    },
};

#[derive(Default)]
pub struct AccountsQuery;

#[Object]
impl AccountsQuery {
    /// The signed-in user (pending accounts included); UNAUTHENTICATED without credentials.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<User> {
        let caller = guards::require_user(ctx)?;
        let state = app_state(ctx);
        let user = admin::user_by_id(&state.db, caller.user_id)
            .await
            .map_err(|e| match e {
                ApiError::NotFound(_) => ApiError::Unauthenticated,
                other => other,
            })?;
        Ok(user.into())
    }

    /// The caller's live sessions, newest first (at most 100); `current` marks this one.
    /// Needs a session, not an API token.
    async fn my_sessions(&self, ctx: &Context<'_>) -> ApiResult<Vec<Session>> {
        let caller = guards::require_session(ctx)?;
        let state = app_state(ctx);
        let settings = AccountSettings::from_config(&state.config);
        let list = sessions::list_for_user(&state.db, &settings, caller.user_id).await?;
        let current = caller.session_id();
        Ok(list.into_iter().map(|s| Session::new(s, current)).collect())
    }

    /// The caller's API tokens that are not revoked (expired ones included), newest first.
    /// Needs a session, not an API token.
    async fn api_tokens(&self, ctx: &Context<'_>) -> ApiResult<Vec<ApiToken>> {
        let caller = guards::require_session(ctx)?;
        let state = app_state(ctx);
        let list = api_tokens::list(&state.db, caller.user_id).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Admin: users by approval status, newest first.
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            default_with = "UserStatusFilter::All",
            desc = "Which users, by approval status."
        )]
        status: UserStatusFilter,
        #[graphql(
            desc = "Forward paging: at most this many items (1–100; 20 when neither `first` nor `last` is given) after `after`."
        )]
        first: Option<i32>,
        #[graphql(desc = "Forward paging: the `endCursor` of the previous page.")] after: Option<
            String,
        >,
        #[graphql(
            desc = "Backward paging: at most this many items (1–100) before `before`; not with `first` or `after`."
        )]
        last: Option<i32>,
        #[graphql(desc = "Backward paging: the `startCursor` of the next page.")] before: Option<
            String,
        >,
    ) -> ApiResult<Listing<User>> {
        guards::require_role(ctx, Role::Admin)?;
        let request = PageRequest::either(first, after.as_deref(), last, before.as_deref())?;
        let state = app_state(ctx);
        let page = admin::users(&state.db, status.into(), &request).await?;
        Ok(connection(page, |u| Cursor::id(u.id), User::from))
    }

    /// Admin: one user by id.
    async fn user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's global id (or its row id).")] id: ID,
    ) -> ApiResult<User> {
        guards::require_role(ctx, Role::Admin)?;
        let id = parse_id(&id, Kind::User)?;
        let state = app_state(ctx);
        let user = admin::user_by_id(&state.db, id).await?;
        Ok(user.into())
    }

    /// Admin: invites, newest first (at most 500).
    async fn invites(&self, ctx: &Context<'_>) -> ApiResult<Vec<Invite>> {
        guards::require_role(ctx, Role::Admin)?;
        let state = app_state(ctx);
        let list = invites::list(&state.db).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Admin: invite templates by name (at most 500).
    async fn invite_templates(&self, ctx: &Context<'_>) -> ApiResult<Vec<InviteTemplate>> {
        guards::require_role(ctx, Role::Admin)?;
        let state = app_state(ctx);
        let list = invites::list_templates(&state.db).await?;
        Ok(list.into_iter().map(Into::into).collect())
    }

    /// Admin: the login audit, newest first.
    async fn login_attempts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only attempts matching every given condition.")] filter: Option<
            LoginAttemptFilter,
        >,
        #[graphql(
            desc = "Forward paging: at most this many items (1–100; 20 when neither `first` nor `last` is given) after `after`."
        )]
        first: Option<i32>,
        #[graphql(desc = "Forward paging: the `endCursor` of the previous page.")] after: Option<
            String,
        >,
        #[graphql(
            desc = "Backward paging: at most this many items (1–100) before `before`; not with `first` or `after`."
        )]
        last: Option<i32>,
        #[graphql(desc = "Backward paging: the `startCursor` of the next page.")] before: Option<
            String,
        >,
    ) -> ApiResult<Listing<LoginAttempt>> {
        guards::require_role(ctx, Role::Admin)?;
        let request = PageRequest::either(first, after.as_deref(), last, before.as_deref())?;
        let filter = filter.unwrap_or_default();
        let user_id = filter
            .user_id
            .as_ref()
            .map(|id| parse_id(id, Kind::User))
            .transpose()?;
        let filter = admin::AttemptFilter {
            email: filter.email,
            ip_address: filter.ip_address,
            success: filter.success,
            user_id,
            since: filter.since,
            until: filter.until,
        };
        let state = app_state(ctx);
        let page = admin::login_attempts(&state.db, filter, &request).await?;
        Ok(connection(page, |a| Cursor::id(a.id), LoginAttempt::from))
    }
}
