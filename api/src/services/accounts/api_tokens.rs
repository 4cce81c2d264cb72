//! API tokens for integrations: `mapi_` + 32 random bytes (base64url), stored as SHA-256, with
//! scopes (`read`, `write`), an optional expiry, revocable. They stop working as soon as their
//! owner is disabled or rejected.
//!
//! The cap of [`MAX_TOKENS_PER_USER`] live (not revoked) tokens is checked and the token
//! inserted by one statement,
//!
//! ```sql
//! INSERT INTO authentication_apitoken (…) SELECT $values
//!  WHERE (SELECT COUNT(id) FROM authentication_apitoken
//!          WHERE user_id = $user AND revoked_at IS NULL) < 50
//! ```
//!
//! so concurrent creates cannot all pass a count taken before any of them inserted. On
//! PostgreSQL the transaction first locks the owner's row (`SELECT … FOR NO KEY UPDATE`):
//! creates for one user then run one after another, and under READ COMMITTED each statement
//! after the lock sees every token its predecessors committed. SQLite needs no lock: a write
//! statement takes the database's single write lock before it reads, so no other writer can
//! insert between its count and its insert. A revoke only lowers the count, so it needs neither.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{api_token, user};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait, LockType, Query},
};

use super::{ApiTokenRecord, UserRecord, now, sessions::may_sign_in, validate};
use crate::{
    auth::{Scope, token},
    error::{ApiError, ApiResult},
};

/// Live tokens one user may hold.
pub const MAX_TOKENS_PER_USER: u64 = 50;
/// The longest lifetime a token may be given (a year).
pub const MAX_LIFETIME: TimeDelta = TimeDelta::days(366);
/// `last_used_at` is written at most this often per token.
const TOUCH_INTERVAL: TimeDelta = TimeDelta::seconds(60);

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub name: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Creates a token for `user_id`; returns the token (shown once) and its record.
pub async fn create(
    db: &DatabaseConnection,
    user_id: i64,
    input: NewApiToken,
) -> ApiResult<(String, ApiTokenRecord)> {
    let name = validate::line("name", &input.name, 100, true)?;
    if input.scopes.is_empty() {
        return Err(ApiError::input("scopes", "give at least one scope"));
    }
    let at = now();
    if let Some(expires_at) = input.expires_at {
        if expires_at <= at {
            return Err(ApiError::input("expiresAt", "must be in the future"));
        }
        if expires_at > at + MAX_LIFETIME {
            return Err(ApiError::input("expiresAt", "must be within a year"));
        }
    }
    let secret = token::new_api_token();
    let prefix: String = secret
        .chars()
        .take(token::API_TOKEN_PREFIX.len() + 4)
        .collect();
    let live = Query::select()
        .expr(Expr::col(api_token::Column::Id).count())
        .from(api_token::Entity)
        .and_where(Expr::col(api_token::Column::UserId).eq(user_id))
        .and_where(Expr::col(api_token::Column::RevokedAt).is_null())
        .to_owned();
    let row = Query::select()
        .exprs([
            Expr::val(user_id),
            Expr::val(name),
            Expr::val(token::hash_token(&secret)),
            Expr::val(prefix),
            Expr::val(Scope::join(&input.scopes)),
            Expr::val(at),
            Expr::val(input.expires_at),
        ])
        .and_where(Expr::from(live).lt(i64::try_from(MAX_TOKENS_PER_USER).unwrap_or(50)))
        .to_owned();
    let insert = Query::insert()
        .into_table(api_token::Entity)
        .columns([
            api_token::Column::UserId,
            api_token::Column::Name,
            api_token::Column::TokenHash,
            api_token::Column::Prefix,
            api_token::Column::Scopes,
            api_token::Column::CreatedAt,
            api_token::Column::ExpiresAt,
        ])
        .select_from(row)
        .map_err(ApiError::internal)?
        .returning_all()
        .to_owned();
    let txn = db.begin().await?;
    if db.get_database_backend() == DatabaseBackend::Postgres {
        user::Entity::find_by_id(user_id)
            .select_only()
            .column(user::Column::Id)
            // NO KEY UPDATE conflicts with itself (creates queue) but not with the KEY SHARE
            // locks that inserts referencing the user take, so nothing else waits on it.
            .lock(LockType::NoKeyUpdate)
            .into_tuple::<i64>()
            .one(&txn)
            .await?;
    }
    let inserted = txn.query_one(&insert).await?;
    txn.commit().await?;
    let Some(inserted) = inserted else {
        return Err(ApiError::input(
            "name",
            format!("at most {MAX_TOKENS_PER_USER} API tokens; revoke one first"),
        ));
    };
    let record = ApiTokenRecord::from_query_result(&inserted, "")?;
    Ok((secret, record))
}

/// The user's tokens that are not revoked, newest first.
pub async fn list(db: &DatabaseConnection, user_id: i64) -> ApiResult<Vec<ApiTokenRecord>> {
    Ok(api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .order_by_desc(api_token::Column::Id)
        .all(db)
        .await?)
}

/// Revokes one of the user's tokens and returns it; another user's token is NOT_FOUND.
pub async fn revoke(
    db: &DatabaseConnection,
    user_id: i64,
    token_id: i64,
) -> ApiResult<ApiTokenRecord> {
    let revoked = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(Some(now())))
        .filter(api_token::Column::Id.eq(token_id))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec_with_returning(db)
        .await?;
    revoked
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("API token"))
}

/// The live token and its owner for a presented `mapi_…` token; None when unknown, revoked,
/// expired or the owner may not sign in.
pub async fn authenticate(
    db: &DatabaseConnection,
    presented: &str,
    touch: super::Touch,
) -> ApiResult<Option<(ApiTokenRecord, UserRecord)>> {
    if !token::is_well_formed(presented) || !presented.starts_with(token::API_TOKEN_PREFIX) {
        return Ok(None);
    }
    let found = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(token::hash_token(presented)))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((record, Some(owner))) = found else {
        return Ok(None);
    };
    let at = now();
    if record.revoked_at.is_some()
        || record.expires_at.is_some_and(|e| e <= at)
        || !may_sign_in(&owner)
    {
        return Ok(None);
    }
    if touch == super::Touch::Yes
        && record
            .last_used_at
            .is_none_or(|used| at - used >= TOUCH_INTERVAL)
    {
        api_token::Entity::update_many()
            .col_expr(api_token::Column::LastUsedAt, Expr::value(Some(at)))
            .filter(api_token::Column::Id.eq(record.id))
            .exec(db)
            .await?;
    }
    Ok(Some((record, owner)))
}
