//! What mutations return: a payload per mutation carrying the changed object, with its `id`,
//! so a normalised client cache (Apollo, Relay, urql) updates itself without a refetch.
//! Errors are not part of a payload: they stay in the response's top-level `errors` with
//! `extensions.code` (README, "Errors").

use async_graphql::{ID, SimpleObject};

use super::{
    accounts::{ApiToken, Invite, InviteTemplate, Session, User},
    backtest::BacktestSession,
    calculation::MarginCalculation,
    saved::SavedResult,
};

/// The account `register` created.
#[derive(SimpleObject)]
pub struct RegisterPayload {
    /// The new account: approved with the invite's role, or waiting for an admin.
    pub user: User,
}

/// The session `logout` ended.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// The ended session, no longer live; null only when its record no longer exists.
    pub session: Option<Session>,
}

/// The session `revokeSession` ended.
#[derive(SimpleObject)]
pub struct RevokeSessionPayload {
    /// The revoked session, no longer live.
    pub session: Session,
}

/// The token `revokeApiToken` revoked.
#[derive(SimpleObject)]
pub struct RevokeApiTokenPayload {
    /// The revoked token; it no longer authenticates.
    pub api_token: ApiToken,
}

/// The user an admin mutation (`approveUser`, `rejectUser`, `setUserActive`) changed.
#[derive(SimpleObject)]
pub struct UserPayload {
    /// The user as they are after the change.
    pub user: User,
}

/// The invite `revokeInvite` revoked.
#[derive(SimpleObject)]
pub struct RevokeInvitePayload {
    /// The revoked invite; it can no longer be used to register.
    pub invite: Invite,
}

/// The template `createInviteTemplate` or `updateInviteTemplate` wrote.
#[derive(SimpleObject)]
pub struct InviteTemplatePayload {
    /// The template as stored.
    pub invite_template: InviteTemplate,
}

/// What `deleteInviteTemplate` or `deleteResult` removed.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// The global id of the deleted object, to evict it from a client cache.
    pub deleted_id: ID,
}

/// The calculation `calculate` ran and stored.
#[derive(SimpleObject)]
pub struct CalculatePayload {
    /// The calculation, also in your history (`marginCalculations`) when you are signed in.
    pub margin_calculation: MarginCalculation,
}

/// The session `runBacktest` started or `cancelBacktest` changed.
#[derive(SimpleObject)]
pub struct BacktestSessionPayload {
    /// The session in its current status: COMPLETED with its result, PENDING or RUNNING to
    /// follow with `backtestProgress`, CANCELLED, or ERROR.
    pub backtest_session: BacktestSession,
}

/// The saved result `saveResult` stored or `updateMetadata` changed.
#[derive(SimpleObject)]
pub struct SavedResultPayload {
    /// The saved result as stored.
    pub saved_result: SavedResult,
}
