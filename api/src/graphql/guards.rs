//! The GraphQL side of authentication: resolvers reach the request's [`AuthContext`] and its
//! rules through these one-line guards, returning the caller they need:
//!
//! ```ignore
//! let caller = guards::require_approved(ctx)?;
//! ```
//!
//! A resolver that needs only the check, not the caller, says so declaratively with
//! `#[graphql(guard = "Needs::AdminSession")]`.

use async_graphql::{Context, Guard};

use crate::{
    auth::{AuthContext, Caller, ClientInfo, Role},
    error::{ApiError, ApiResult},
};

static ANONYMOUS: std::sync::LazyLock<AuthContext> =
    std::sync::LazyLock::new(|| AuthContext::anonymous(ClientInfo::default()));

/// The request's auth context; anonymous when the transport attached none (schema tests).
pub(crate) fn context<'a>(ctx: &Context<'a>) -> &'a AuthContext {
    ctx.data_opt::<AuthContext>().unwrap_or(&ANONYMOUS)
}

/// Signed in (approved or not): UNAUTHENTICATED otherwise.
pub(crate) fn require_user<'a>(ctx: &Context<'a>) -> ApiResult<&'a Caller> {
    context(ctx).require_user()
}

/// Signed in and approved: FORBIDDEN ("pending approval") for a pending account.
pub(crate) fn require_approved<'a>(ctx: &Context<'a>) -> ApiResult<&'a Caller> {
    context(ctx).require_approved()
}

/// Approved with a role at least `role`.
pub(crate) fn require_role<'a>(ctx: &Context<'a>, role: Role) -> ApiResult<&'a Caller> {
    context(ctx).require_role(role)
}

/// An approved admin through an interactive session (admin mutations).
pub(crate) fn require_admin_session<'a>(ctx: &Context<'a>) -> ApiResult<&'a Caller> {
    context(ctx).require_admin_session()
}

/// Signed in through a session rather than an API token.
pub(crate) fn require_session<'a>(ctx: &Context<'a>) -> ApiResult<&'a Caller> {
    context(ctx).require_session()
}

/// The caller for margin operations: signed in and approved, or (when `allow_anonymous`)
/// nobody. Only a request that presented no credentials at all is anonymous: credentials
/// that were refused are UNAUTHENTICATED, and credentials that could not be checked (the
/// database failed) are an error, never anonymous access.
pub(crate) fn margin_caller<'a>(
    ctx: &Context<'a>,
    allow_anonymous: bool,
) -> ApiResult<Option<&'a Caller>> {
    let context = context(ctx);
    if !context.is_anonymous() {
        return context.require_approved().map(Some);
    }
    if allow_anonymous {
        Ok(None)
    } else {
        Err(ApiError::Unauthenticated)
    }
}

/// Declarative guards for resolvers that need the check but not the caller.
pub(crate) enum Needs {
    /// An interactive session, not an API token.
    Session,
    /// An approved admin through an interactive session.
    AdminSession,
}

impl Guard for Needs {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let context = context(ctx);
        let checked = match self {
            Needs::Session => context.require_session(),
            Needs::AdminSession => context.require_admin_session(),
        };
        checked.map(|_| ()).map_err(Into::into)
    }
}
