//! API tokens for integrations: `mapi_` + 32 random bytes (base64url), stored as SHA-256, with
//! scopes (`read`, `write`), an optional expiry, revocable. They stop working as soon as their
//! owner is disabled or rejected.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{api_token, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, sea_query::Expr,
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
    let live = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .count(db)
        .await?;
    if live >= MAX_TOKENS_PER_USER {
        return Err(ApiError::input(
            "name",
            format!("at most {MAX_TOKENS_PER_USER} API tokens; revoke one first"),
        ));
    }
    let secret = token::new_api_token();
    let record = api_token::ActiveModel {
        user_id: Set(user_id),
        name: Set(name),
        token_hash: Set(token::hash_token(&secret)),
        prefix: Set(secret
            .chars()
            .take(token::API_TOKEN_PREFIX.len() + 4)
            .collect()),
        scopes: Set(Scope::join(&input.scopes)),
        created_at: Set(at),
        last_used_at: Set(None),
        expires_at: Set(input.expires_at),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
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

/// Revokes one of the user's tokens; another user's token is NOT_FOUND.
pub async fn revoke(db: &DatabaseConnection, user_id: i64, token_id: i64) -> ApiResult<()> {
    let result = api_token::Entity::update_many()
        .col_expr(api_token::Column::RevokedAt, Expr::value(Some(now())))
        .filter(api_token::Column::Id.eq(token_id))
        .filter(api_token::Column::UserId.eq(user_id))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(ApiError::NotFound("API token"));
    }
    Ok(())
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
