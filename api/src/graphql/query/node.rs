//! `node(id:)` and `nodes(ids:)`: any object with an identity by its global id (the Relay
//! object identification convention), resolved with the rules of its typed field: a user's
//! own objects to that user, the admin objects to admins, an anonymous backtest session to
//! whoever holds its id. An object the caller may not see (missing, someone else's, an
//! admin's object asked for by a non-admin, an id that names nothing) is null, all alike;
//! credentials that are missing or refused are the same error as on the typed field.

use async_graphql::{Context, ID, Interface, Object};

use crate::{
    auth::Role,
    error::{ApiError, ApiResult},
    graphql::{
        app_state, guards,
        ids::{Kind, decode, parse_id, parse_uuid},
        types::{
            accounts::{ApiToken, Invite, InviteTemplate, LoginAttempt, Session, User},
            backtest::BacktestSession,
            calculation::MarginCalculation,
            saved::SavedResult,
            sweep::SweepSession,
        },
    },
    services::{
        accounts::{AccountSettings, admin, api_tokens, invites, sessions},
        backtests::SessionView,
        calculations, saved_results,
    },
};

/// Ids one `nodes` call may ask for (the page limit of the connections).
pub(crate) const MAX_NODES: usize = 100;

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "&ID",
    desc = "The global id: opaque, unique across types."
))]
pub enum Node {
    User(User),
    Session(Session),
    ApiToken(ApiToken),
    Invite(Invite),
    InviteTemplate(InviteTemplate),
    LoginAttempt(LoginAttempt),
    MarginCalculation(MarginCalculation),
    BacktestSession(BacktestSession),
    SavedResult(SavedResult),
    SweepSession(SweepSession),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object a global id names; null when it is missing, someone else's or the id names
    /// nothing.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global id, as any object's `id` field gives it.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        found(fetch(ctx, &id).await)
    }

    /// The objects `ids` name, in order, each as `node` answers it (at most 100 ids).
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "At most 100 global ids; the answer has one entry per id, in order.")]
        ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() > MAX_NODES {
            return Err(ApiError::input(
                "ids",
                format!("at most {MAX_NODES} ids per request"),
            ));
        }
        let mut nodes = Vec::with_capacity(ids.len());
        for id in &ids {
            nodes.push(found(fetch(ctx, id).await)?);
        }
        Ok(nodes)
    }
}

/// NOT_FOUND is null; every other error stays an error.
fn found(fetched: ApiResult<Node>) -> ApiResult<Option<Node>> {
    match fetched {
        Ok(node) => Ok(Some(node)),
        Err(ApiError::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Admin objects: signed in (or the credential error), then hidden from anyone but an admin.
fn admin_only(ctx: &Context<'_>, kind: Kind) -> ApiResult<()> {
    let caller = guards::require_approved(ctx)?;
    if caller.role >= Role::Admin {
        Ok(())
    } else {
        Err(ApiError::NotFound(kind.noun()))
    }
}

async fn fetch(ctx: &Context<'_>, id: &ID) -> ApiResult<Node> {
    let Some((kind, _)) = decode(id) else {
        return Err(ApiError::NotFound("object"));
    };
    let state = app_state(ctx);
    let db = &state.db;
    Ok(match kind {
        Kind::User => {
            let row = parse_id(id, kind)?;
            // An admin sees every user (`user(id:)`); anyone signed in sees themselves (`me`).
            let caller = guards::require_user(ctx)?;
            if row != caller.user_id {
                admin_only(ctx, kind)?;
            }
            Node::User(admin::user_by_id(db, row).await?.into())
        }
        Kind::Session => {
            let row = parse_id(id, kind)?;
            let caller = guards::require_session(ctx)?;
            let settings = AccountSettings::from_config(&state.config);
            let session = sessions::list_for_user(db, &settings, caller.user_id)
                .await?
                .into_iter()
                .find(|s| s.id == row)
                .ok_or(ApiError::NotFound(kind.noun()))?;
            Node::Session(Session::new(session, caller.session_id()))
        }
        Kind::ApiToken => {
            let row = parse_id(id, kind)?;
            let caller = guards::require_session(ctx)?;
            let token = api_tokens::list(db, caller.user_id)
                .await?
                .into_iter()
                .find(|t| t.id == row)
                .ok_or(ApiError::NotFound(kind.noun()))?;
            Node::ApiToken(token.into())
        }
        Kind::Invite => {
            let row = parse_id(id, kind)?;
            admin_only(ctx, kind)?;
            Node::Invite(invites::get(db, row).await?.into())
        }
        Kind::InviteTemplate => {
            let row = parse_id(id, kind)?;
            admin_only(ctx, kind)?;
            Node::InviteTemplate(invites::get_template(db, row).await?.into())
        }
        Kind::LoginAttempt => {
            let row = parse_id(id, kind)?;
            admin_only(ctx, kind)?;
            Node::LoginAttempt(admin::login_attempt(db, row).await?.into())
        }
        Kind::MarginCalculation => {
            let row = parse_id(id, kind)?;
            let caller = guards::require_approved(ctx)?;
            let record = calculations::get(db, caller.user_id, row).await?;
            let result = calculations::result_of(&record)?;
            Node::MarginCalculation(MarginCalculation::new(&record, &result))
        }
        Kind::BacktestSession => {
            let session = parse_uuid(id, kind)?;
            let caller = guards::margin_caller(ctx, true)?.map(|c| c.user_id);
            let record = state.backtests.session(caller, session).await?;
            Node::BacktestSession(
                SessionView {
                    record,
                    result: None,
                }
                .into(),
            )
        }
        Kind::SavedResult => {
            let result_id = parse_uuid(id, kind)?;
            let caller = guards::require_approved(ctx)?;
            let summary = saved_results::summary(db, caller.user_id, result_id).await?;
            Node::SavedResult(summary.into())
        }
        Kind::SweepSession => {
            let sweep_id = parse_uuid(id, kind)?;
            let caller = guards::margin_caller(ctx, true)?.map(|c| c.user_id);
            Node::SweepSession(state.sweeps.view(caller, sweep_id).await?.into())
        }
    })
}
