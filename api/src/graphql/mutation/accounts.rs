//! Account mutations. Every one of them also needs the WRITE scope when the caller uses an
//! API token (checked for all mutations by `crate::graphql::write_scope::refuse_without_write`).

use crate::error::ApiResult;
use crate::graphql::app_state;
use crate::graphql::guards;
use crate::graphql::ids::{Kind, parse_id};
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use crate::{
    auth::cookie,
    graphql::types::accounts::{
        ApiScope, ApiToken, CreatedApiToken, CreatedInvite, Invite, InviteTemplate,
        InviteTemplateInput, LoginPayload, RegisterInput, Role as RoleValue, User,
    },
    services::accounts::{AccountSettings, admin, api_tokens, invites, registration, sessions},
    state::AppState,
};

#[derive(Default)]
pub struct AccountsMutation;

fn settings<'a>(ctx: &Context<'a>) -> (&'a AppState, AccountSettings) {
    let state = app_state(ctx);
    (state, AccountSettings::from_config(&state.config))
}

#[Object]
impl AccountsMutation {
    /// Creates an account. With a valid invite the account is approved with the invite's
    /// role; without one (open registration only) it waits for an admin's approval.
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> ApiResult<User> {
        let (state, settings) = settings(ctx);
        let registration = registration::Registration {
            email: input.email,
            username: input.username,
            password: input.password,
            first_name: input.first_name,
            last_name: input.last_name,
            invite_token: input.invite_token,
        };
        let user = registration::register(&state.db, &settings, registration).await?;
        Ok(user.into())
    }

    /// Signs in and opens a session. Failures share one message; repeated failures per
    /// account or per address answer RATE_LIMITED with `retryAfter` seconds.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> ApiResult<LoginPayload> {
        let (state, settings) = settings(ctx);
        let context = guards::context(ctx);
        let outcome =
            sessions::login(&state.db, &settings, &email, password, &context.client).await?;
        if context.cookie_mode {
            ctx.append_http_header(
                "set-cookie",
                cookie::set_session(&outcome.token, context.cookie_max_age),
            );
        }
        Ok(LoginPayload {
            token: outcome.token,
            expires_at: outcome.expires_at,
            user: outcome.user.into(),
        })
    }

    /// Ends the current session (and clears the session cookie in cookie mode).
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let caller = guards::require_session(ctx)?;
        let (state, _) = settings(ctx);
        if let Some(session_id) = caller.session_id() {
            sessions::logout(&state.db, session_id).await?;
        }
        if guards::context(ctx).cookie_mode {
            ctx.append_http_header("set-cookie", cookie::clear_session());
        }
        Ok(true)
    }

    /// Ends one of the caller's sessions (NOT_FOUND for anyone else's).
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let caller = guards::require_session(ctx)?;
        let id = parse_id(&id, Kind::Session)?;
        let (state, _) = settings(ctx);
        sessions::revoke(&state.db, caller.user_id, id).await?;
        Ok(true)
    }

    /// Creates an API token for integrations; the token is returned only here.
    #[graphql(guard = "guards::Needs::Session")]
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        name: String,
        scopes: Vec<ApiScope>,
        expires_at: Option<DateTime<Utc>>,
    ) -> ApiResult<CreatedApiToken> {
        let caller = guards::require_approved(ctx)?;
        let (state, _) = settings(ctx);
        let input = api_tokens::NewApiToken {
            name,
            scopes: scopes.into_iter().map(Into::into).collect(),
            expires_at,
        };
        let (token, record) = api_tokens::create(&state.db, caller.user_id, input).await?;
        Ok(CreatedApiToken {
            token,
            api_token: ApiToken::from(record),
        })
    }

    /// Revokes one of the caller's API tokens (NOT_FOUND for anyone else's).
    async fn revoke_api_token(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let caller = guards::require_session(ctx)?;
        let id = parse_id(&id, Kind::ApiToken)?;
        let (state, _) = settings(ctx);
        api_tokens::revoke(&state.db, caller.user_id, id).await?;
        Ok(true)
    }

    /// Admin: approves a pending or rejected user.
    async fn approve_user(&self, ctx: &Context<'_>, id: ID) -> ApiResult<User> {
        let admin_caller = guards::require_admin_session(ctx)?;
        let id = parse_id(&id, Kind::User)?;
        let (state, _) = settings(ctx);
        let user = admin::approve(&state.db, admin_caller.user_id, id).await?;
        Ok(user.into())
    }

    /// Admin: rejects a user with a reason; their sessions end and they can no longer sign in.
    async fn reject_user(&self, ctx: &Context<'_>, id: ID, reason: String) -> ApiResult<User> {
        let admin_caller = guards::require_admin_session(ctx)?;
        let id = parse_id(&id, Kind::User)?;
        let (state, _) = settings(ctx);
        let user = admin::reject(&state.db, admin_caller.user_id, id, &reason).await?;
        Ok(user.into())
    }

    /// Admin: enables or disables a user; disabling ends their sessions.
    async fn set_user_active(&self, ctx: &Context<'_>, id: ID, active: bool) -> ApiResult<User> {
        let admin_caller = guards::require_admin_session(ctx)?;
        let id = parse_id(&id, Kind::User)?;
        let (state, _) = settings(ctx);
        let user = admin::set_active(&state.db, admin_caller.user_id, id, active).await?;
        Ok(user.into())
    }

    /// Admin: invites an email address. The token is returned only here; the invitee passes
    /// it to `register`. `inviteType` defaults to the template's role, else VIEWER; the
    /// message to the template's.
    async fn create_invite(
        &self,
        ctx: &Context<'_>,
        email: String,
        invite_type: Option<RoleValue>,
        custom_message: Option<String>,
        template_id: Option<ID>,
    ) -> ApiResult<CreatedInvite> {
        let admin_caller = guards::require_admin_session(ctx)?;
        let template_id = template_id
            .as_ref()
            .map(|id| parse_id(id, Kind::InviteTemplate))
            .transpose()?;
        let (state, settings) = settings(ctx);
        let input = invites::NewInvite {
            email,
            role: invite_type.map(Into::into),
            custom_message,
            template_id,
        };
        let (token, record) =
            invites::create(&state.db, &settings, admin_caller.user_id, input).await?;
        Ok(CreatedInvite {
            token,
            invite: Invite::from(record),
        })
    }

    /// Admin: revokes an unused invite.
    #[graphql(guard = "guards::Needs::AdminSession")]
    async fn revoke_invite(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Invite> {
        let id = parse_id(&id, Kind::Invite)?;
        let (state, _) = settings(ctx);
        Ok(invites::revoke(&state.db, id).await?.into())
    }

    /// Admin: a new invite template (`name`, `subject`, `messageTemplate` required).
    async fn create_invite_template(
        &self,
        ctx: &Context<'_>,
        input: InviteTemplateInput,
    ) -> ApiResult<InviteTemplate> {
        let admin_caller = guards::require_admin_session(ctx)?;
        let (state, _) = settings(ctx);
        Ok(
            invites::create_template(&state.db, admin_caller.user_id, input.into())
                .await?
                .into(),
        )
    }

    /// Admin: changes the given fields of a template.
    #[graphql(guard = "guards::Needs::AdminSession")]
    async fn update_invite_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: InviteTemplateInput,
    ) -> ApiResult<InviteTemplate> {
        let id = parse_id(&id, Kind::InviteTemplate)?;
        let (state, _) = settings(ctx);
        Ok(invites::update_template(&state.db, id, input.into())
            .await?
            .into())
    }

    /// Admin: deletes a template.
    #[graphql(guard = "guards::Needs::AdminSession")]
    async fn delete_invite_template(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let id = parse_id(&id, Kind::InviteTemplate)?;
        let (state, _) = settings(ctx);
        invites::delete_template(&state.db, id).await?;
        Ok(true)
    }
}
