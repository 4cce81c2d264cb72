//! Account mutations. Every one of them also needs the WRITE scope when the caller uses an
//! API token (checked for all mutations by `crate::graphql::write_scope::refuse_without_write`).

use crate::error::ApiResult;
use crate::graphql::app_state;
use crate::graphql::guards;
use crate::graphql::ids::{Kind, global_id, parse_id};
use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use crate::{
    auth::cookie,
    graphql::types::accounts::{
        ApiScope, ApiToken, CreateApiTokenPayload, CreateInvitePayload, Invite,
        InviteTemplateInput, LoginPayload, RegisterInput, Role as RoleValue, Session,
    },
    graphql::types::payloads::{
        DeletePayload, InviteTemplatePayload, LogoutPayload, RegisterPayload,
        RevokeApiTokenPayload, RevokeInvitePayload, RevokeSessionPayload, UserPayload,
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
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new account's details and, for an invited user, the invite token.")]
        input: RegisterInput,
    ) -> ApiResult<RegisterPayload> {
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
        Ok(RegisterPayload { user: user.into() })
    }

    /// Signs in and opens a session. Failures share one message; repeated failures per
    /// account or per address answer RATE_LIMITED with `retryAfter` seconds.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's email address (case-insensitive).")] email: String,
        #[graphql(desc = "The account's password.")] password: String,
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
    async fn logout(&self, ctx: &Context<'_>) -> ApiResult<LogoutPayload> {
        let caller = guards::require_session(ctx)?;
        let (state, _) = settings(ctx);
        let session = match caller.session_id() {
            Some(session_id) => sessions::logout(&state.db, session_id).await?,
            None => None,
        };
        if guards::context(ctx).cookie_mode {
            ctx.append_http_header("set-cookie", cookie::clear_session());
        }
        Ok(LogoutPayload {
            session: session.map(|s| Session::new(s, None)),
        })
    }

    /// Ends one of the caller's sessions (NOT_FOUND for anyone else's).
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's global id (`mySessions`).")] id: ID,
    ) -> ApiResult<RevokeSessionPayload> {
        let caller = guards::require_session(ctx)?;
        let id = parse_id(&id, Kind::Session)?;
        let (state, _) = settings(ctx);
        let session = sessions::revoke(&state.db, caller.user_id, id).await?;
        Ok(RevokeSessionPayload {
            session: Session::new(session, caller.session_id()),
        })
    }

    /// Creates an API token for integrations; the token is returned only here.
    #[graphql(guard = "guards::Needs::Session")]
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A label to recognise the token by, 1–100 characters.")] name: String,
        #[graphql(desc = "What the token may do: READ, and WRITE for mutations.")] scopes: Vec<
            ApiScope,
        >,
        #[graphql(desc = "When the token stops working; null: it works until revoked.")]
        expires_at: Option<DateTime<Utc>>,
    ) -> ApiResult<CreateApiTokenPayload> {
        let caller = guards::require_approved(ctx)?;
        let (state, _) = settings(ctx);
        let input = api_tokens::NewApiToken {
            name,
            scopes: scopes.into_iter().map(Into::into).collect(),
            expires_at,
        };
        let (token, record) = api_tokens::create(&state.db, caller.user_id, input).await?;
        Ok(CreateApiTokenPayload {
            token,
            api_token: ApiToken::from(record),
        })
    }

    /// Revokes one of the caller's API tokens (NOT_FOUND for anyone else's).
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token's global id (`apiTokens`).")] id: ID,
    ) -> ApiResult<RevokeApiTokenPayload> {
        let caller = guards::require_session(ctx)?;
        let id = parse_id(&id, Kind::ApiToken)?;
        let (state, _) = settings(ctx);
        let token = api_tokens::revoke(&state.db, caller.user_id, id).await?;
        Ok(RevokeApiTokenPayload {
            api_token: token.into(),
        })
    }

    /// Admin: approves a pending or rejected user.
    async fn approve_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's global id.")] id: ID,
    ) -> ApiResult<UserPayload> {
        let admin_caller = guards::require_admin_session(ctx)?;
        let id = parse_id(&id, Kind::User)?;
        let (state, _) = settings(ctx);
        let user = admin::approve(&state.db, admin_caller.user_id, id).await?;
        Ok(UserPayload { user: user.into() })
    }

    /// Admin: rejects a user with a reason; their sessions end and they can no longer sign in.
    async fn reject_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's global id.")] id: ID,
        #[graphql(
            desc = "Why, kept with the account (`rejectionReason`), at most 1,000 characters."
        )]
        reason: String,
    ) -> ApiResult<UserPayload> {
        let admin_caller = guards::require_admin_session(ctx)?;
        let id = parse_id(&id, Kind::User)?;
        let (state, _) = settings(ctx);
        let user = admin::reject(&state.db, admin_caller.user_id, id, &reason).await?;
        Ok(UserPayload { user: user.into() })
    }

    /// Admin: enables or disables a user; disabling ends their sessions.
    async fn set_user_active(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's global id.")] id: ID,
        #[graphql(desc = "True enables the account; false disables it and ends its sessions.")]
        active: bool,
    ) -> ApiResult<UserPayload> {
        let admin_caller = guards::require_admin_session(ctx)?;
        let id = parse_id(&id, Kind::User)?;
        let (state, _) = settings(ctx);
        let user = admin::set_active(&state.db, admin_caller.user_id, id, active).await?;
        Ok(UserPayload { user: user.into() })
    }

    /// Admin: invites an email address. The token is returned only here; the invitee passes
    /// it to `register`. `inviteType` defaults to the template's role, else VIEWER; the
    /// message to the template's.
    async fn create_invite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitee's email address; `register` must use the same one.")]
        email: String,
        #[graphql(desc = "The role the account gets; null: the template's, else VIEWER.")]
        invite_type: Option<RoleValue>,
        #[graphql(desc = "The invitation text; null: the template's message.")]
        custom_message: Option<String>,
        #[graphql(desc = "The global id of an invite template to take defaults from.")]
        template_id: Option<ID>,
    ) -> ApiResult<CreateInvitePayload> {
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
        Ok(CreateInvitePayload {
            token,
            invite: Invite::from(record),
        })
    }

    /// Admin: revokes an unused invite.
    #[graphql(guard = "guards::Needs::AdminSession")]
    async fn revoke_invite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invite's global id.")] id: ID,
    ) -> ApiResult<RevokeInvitePayload> {
        let id = parse_id(&id, Kind::Invite)?;
        let (state, _) = settings(ctx);
        let invite = invites::revoke(&state.db, id).await?;
        Ok(RevokeInvitePayload {
            invite: invite.into(),
        })
    }

    /// Admin: a new invite template (`name`, `subject`, `messageTemplate` required).
    async fn create_invite_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template; `name`, `subject` and `messageTemplate` are required.")]
        input: InviteTemplateInput,
    ) -> ApiResult<InviteTemplatePayload> {
        let admin_caller = guards::require_admin_session(ctx)?;
        let (state, _) = settings(ctx);
        let template =
            invites::create_template(&state.db, admin_caller.user_id, input.into()).await?;
        Ok(InviteTemplatePayload {
            invite_template: template.into(),
        })
    }

    /// Admin: changes the given fields of a template.
    #[graphql(guard = "guards::Needs::AdminSession")]
    async fn update_invite_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template's global id.")] id: ID,
        #[graphql(desc = "The fields to change; omitted fields are kept.")]
        input: InviteTemplateInput,
    ) -> ApiResult<InviteTemplatePayload> {
        let id = parse_id(&id, Kind::InviteTemplate)?;
        let (state, _) = settings(ctx);
        let template = invites::update_template(&state.db, id, input.into()).await?;
        Ok(InviteTemplatePayload {
            invite_template: template.into(),
        })
    }

    /// Admin: deletes a template.
    #[graphql(guard = "guards::Needs::AdminSession")]
    async fn delete_invite_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The template's global id.")] id: ID,
    ) -> ApiResult<DeletePayload> {
        let row = parse_id(&id, Kind::InviteTemplate)?;
        let (state, _) = settings(ctx);
        invites::delete_template(&state.db, row).await?;
        Ok(DeletePayload {
            deleted_id: global_id(Kind::InviteTemplate, row),
        })
    }
}
