//! Login, sessions and the lookup of a presented token.
//!
//! A session token is 32 random bytes (base64url) handed to the client once; the database
//! keeps its SHA-256. A session ends at the first of: logout or revocation (`is_active` false),
//! the idle timeout (no request for `session_idle` since `last_activity`), the absolute expiry
//! (`expires_at`, `session_absolute` after login), the user being disabled or rejected.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{user, user_session};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, sea_query::Expr,
};

use super::{
    AccountSettings, SessionRecord, UserRecord, UserStatus, bounded, now, status_of,
    throttle::{self, Attempt},
    validate,
};
use crate::{
    auth::{ClientInfo, password, token},
    error::{ApiError, ApiResult},
};

/// The one message for an unknown email, a wrong password, a disabled or a rejected account.
pub const GENERIC_LOGIN_FAILURE: &str = "invalid email or password";

/// `last_activity` is written at most this often per session (one write per request would
/// make every read a write); the idle timeout is therefore exact to within this interval.
pub const TOUCH_INTERVAL: TimeDelta = TimeDelta::seconds(60);

#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserRecord,
}

/// Checks credentials, writes the attempt to the audit table and opens a session.
///
/// Unknown email, wrong password, disabled and rejected accounts all fail with
/// [`GENERIC_LOGIN_FAILURE`] after one password verification (a dummy hash for an unknown
/// email), so neither the message nor the timing tells them apart. A pending account gets its
/// session (its owner can see `me` and its status, nothing else).
pub async fn login(
    db: &DatabaseConnection,
    settings: &AccountSettings,
    email: &str,
    password: String,
    client: &ClientInfo,
) -> ApiResult<LoginOutcome> {
    let email = validate::email_lookup("email", email)?;
    if password.is_empty() {
        return Err(ApiError::input("password", "a password is required"));
    }
    if password.len() > password::MAX_PASSWORD_BYTES {
        return Err(ApiError::input(
            "password",
            format!(
                "the password must be at most {} bytes long",
                password::MAX_PASSWORD_BYTES
            ),
        ));
    }
    let ip = bounded(client.ip.as_deref(), 45);
    let audit = Attempt {
        email: &email,
        ip: ip.clone(),
        user_agent: bounded(client.user_agent.as_deref(), 512),
    };
    // Admitted (and written as a counted failure) before the password is verified, so
    // concurrent guesses cannot all pass the limit.
    let attempt = throttle::admit(db, &settings.throttle, &audit, now()).await?;

    let found = user::Entity::find()
        .filter(user::Column::Email.eq(email.as_str()))
        .one(db)
        .await?;
    let Some(found) = found else {
        password::verify_dummy(password).await?;
        throttle::finish(db, attempt, false, Some("unknown_email"), None).await?;
        return Err(ApiError::AuthenticationFailed(GENERIC_LOGIN_FAILURE));
    };
    let verified = password::verify(password.clone(), found.password.clone()).await?;
    let refusal = if !verified.matches {
        Some("wrong_password")
    } else if !found.is_active {
        Some("inactive")
    } else if status_of(&found) == UserStatus::Rejected {
        Some("rejected")
    } else {
        None
    };
    if let Some(reason) = refusal {
        throttle::finish(db, attempt, false, Some(reason), Some(found.id)).await?;
        return Err(ApiError::AuthenticationFailed(GENERIC_LOGIN_FAILURE));
    }

    let at = now();
    let mut update = user::ActiveModel {
        id: sea_orm::ActiveValue::Unchanged(found.id),
        last_login: Set(Some(at)),
        last_login_ip: Set(ip.clone()),
        login_count: Set(found.login_count.saturating_add(1)),
        updated_at: Set(at),
        ..Default::default()
    };
    if verified.needs_rehash {
        // Legacy Django hash (or old parameters): store argon2id now that we know the password.
        update.password = Set(password::hash(password).await?);
    }
    let user = update.update(db).await?;
    let (token, session) = open_session(db, settings, user.id, &audit).await?;
    let reason = (status_of(&user) == UserStatus::Pending).then_some("pending_approval");
    throttle::finish(db, attempt, true, reason, Some(user.id)).await?;
    Ok(LoginOutcome {
        token,
        expires_at: session.expires_at,
        user,
    })
}

async fn open_session(
    db: &DatabaseConnection,
    settings: &AccountSettings,
    user_id: i64,
    audit: &Attempt<'_>,
) -> ApiResult<(String, SessionRecord)> {
    let token = token::random_token();
    let at = now();
    let session = user_session::ActiveModel {
        user_id: Set(user_id),
        session_key_hash: Set(token::hash_token(&token)),
        ip_address: Set(audit.ip.clone()),
        user_agent: Set(audit.user_agent.clone()),
        created_at: Set(at),
        last_activity: Set(at),
        expires_at: Set(at + settings.session_absolute),
        is_active: Set(true),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((token, session))
}

/// Whether a user may be signed in at all (disabled and rejected accounts may not).
pub fn may_sign_in(user: &UserRecord) -> bool {
    user.is_active && status_of(user) != UserStatus::Rejected
}

/// The live session and its user for a presented session token, refreshing `last_activity`;
/// None for an unknown, revoked, idle, expired session or a user who may no longer sign in.
pub async fn authenticate(
    db: &DatabaseConnection,
    settings: &AccountSettings,
    presented: &str,
    touch: super::Touch,
) -> ApiResult<Option<(SessionRecord, UserRecord)>> {
    if !token::is_well_formed(presented) {
        return Ok(None);
    }
    let found = user_session::Entity::find()
        .filter(user_session::Column::SessionKeyHash.eq(token::hash_token(presented)))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    let Some((session, Some(user))) = found else {
        return Ok(None);
    };
    let at = now();
    if !session.is_active {
        return Ok(None);
    }
    if session.expires_at <= at || session.last_activity + settings.session_idle <= at {
        logout(db, session.id).await?;
        return Ok(None);
    }
    if !may_sign_in(&user) {
        return Ok(None);
    }
    // With a very short idle timeout (tests, kiosks) refresh more often than once a minute.
    let touch_every = Ord::min(TOUCH_INTERVAL, settings.session_idle / 2);
    if touch == super::Touch::Yes && at - session.last_activity >= touch_every {
        user_session::Entity::update_many()
            .col_expr(user_session::Column::LastActivity, Expr::value(at))
            .filter(user_session::Column::Id.eq(session.id))
            .exec(db)
            .await?;
    }
    Ok(Some((session, user)))
}

/// Ends a session (logout, or found expired) and returns it as it now is.
pub async fn logout(db: &DatabaseConnection, session_id: i64) -> ApiResult<Option<SessionRecord>> {
    let ended = user_session::Entity::update_many()
        .col_expr(user_session::Column::IsActive, Expr::value(false))
        .filter(user_session::Column::Id.eq(session_id))
        .exec_with_returning(db)
        .await?;
    Ok(ended.into_iter().next())
}

/// The user's live sessions, newest first.
pub async fn list_for_user(
    db: &DatabaseConnection,
    settings: &AccountSettings,
    user_id: i64,
) -> ApiResult<Vec<SessionRecord>> {
    let at = now();
    let sessions = user_session::Entity::find()
        .filter(user_session::Column::UserId.eq(user_id))
        .filter(user_session::Column::IsActive.eq(true))
        .filter(user_session::Column::ExpiresAt.gt(at))
        .filter(user_session::Column::LastActivity.gt(at - settings.session_idle))
        .order_by_desc(user_session::Column::Id)
        .limit(MAX_LISTED_SESSIONS)
        .all(db)
        .await?;
    Ok(sessions)
}

/// Live sessions `mySessions` lists, newest first (every login makes one; they end after
/// `MARGIN_SESSION_IDLE_SECS` idle or `MARGIN_SESSION_ABSOLUTE_SECS`).
pub const MAX_LISTED_SESSIONS: u64 = 100;

/// Revokes one of the user's sessions and returns it; another user's session is NOT_FOUND.
pub async fn revoke(
    db: &DatabaseConnection,
    user_id: i64,
    session_id: i64,
) -> ApiResult<SessionRecord> {
    let revoked = user_session::Entity::update_many()
        .col_expr(user_session::Column::IsActive, Expr::value(false))
        .filter(user_session::Column::Id.eq(session_id))
        .filter(user_session::Column::UserId.eq(user_id))
        .filter(user_session::Column::IsActive.eq(true))
        .exec_with_returning(db)
        .await?;
    revoked
        .into_iter()
        .next()
        .ok_or(ApiError::NotFound("session"))
}

/// Revokes every session of a user (disabled, rejected). Returns how many were live.
pub async fn revoke_all<C: sea_orm::ConnectionTrait>(db: &C, user_id: i64) -> ApiResult<u64> {
    let result = user_session::Entity::update_many()
        .col_expr(user_session::Column::IsActive, Expr::value(false))
        .filter(user_session::Column::UserId.eq(user_id))
        .filter(user_session::Column::IsActive.eq(true))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
