//! Administration: the user list by approval status, approval and rejection, disabling, the
//! login audit, and bootstrapping the first admin (`margin-api create-admin`).

use chrono::{DateTime, Utc};
use entity::{login_attempt, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait,
    QueryFilter, TransactionTrait,
};

use super::{
    LoginAttemptRecord, UserRecord, map_unique, now,
    registration::{USER_UNIQUE, ensure_available},
    sessions, validate,
};
use crate::{
    auth::{Role, password},
    error::{ApiError, ApiResult},
    services::pagination::{Keyset, Page, PageRequest, total_count},
};

pub const MAX_REASON_CHARS: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Pending,
    Approved,
    Rejected,
    All,
}

/// Users by status, newest first.
pub async fn users(
    db: &DatabaseConnection,
    status: StatusFilter,
    page: &PageRequest,
) -> ApiResult<Page<UserRecord>> {
    let mut query = user::Entity::find();
    query = match status {
        StatusFilter::Pending => query
            .filter(user::Column::IsApproved.eq(false))
            .filter(user::Column::RejectionReason.is_null()),
        StatusFilter::Approved => query.filter(user::Column::IsApproved.eq(true)),
        StatusFilter::Rejected => query
            .filter(user::Column::IsApproved.eq(false))
            .filter(user::Column::RejectionReason.is_not_null()),
        StatusFilter::All => query,
    };
    let total = total_count(db, query.clone());
    let rows = Keyset::newest_first(user::Column::Id)
        .select(query, page)?
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, page, total))
}

/// One user by id (NOT_FOUND when missing).
pub async fn user_by_id(db: &DatabaseConnection, id: i64) -> ApiResult<UserRecord> {
    find_user(db, id).await
}

async fn find_user<C: sea_orm::ConnectionTrait>(db: &C, id: i64) -> ApiResult<UserRecord> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

/// Approves a pending (or previously rejected) user.
pub async fn approve(
    db: &DatabaseConnection,
    admin_id: i64,
    user_id: i64,
) -> ApiResult<UserRecord> {
    let found = find_user(db, user_id).await?;
    if found.is_approved {
        return Ok(found);
    }
    let at = now();
    let mut model: user::ActiveModel = found.into();
    model.is_approved = Set(true);
    model.approval_date = Set(Some(at));
    model.approved_by = Set(Some(admin_id));
    model.rejection_reason = Set(None);
    model.updated_at = Set(at);
    Ok(model.update(db).await?)
}

/// Rejects a user with a reason and ends their sessions; the account can no longer sign in.
pub async fn reject(
    db: &DatabaseConnection,
    admin_id: i64,
    user_id: i64,
    reason: &str,
) -> ApiResult<UserRecord> {
    let reason = validate::text("reason", reason, MAX_REASON_CHARS, true)?;
    if user_id == admin_id {
        return Err(ApiError::input("id", "you cannot reject your own account"));
    }
    let txn = db.begin().await?;
    let found = find_user(&txn, user_id).await?;
    let at = now();
    let mut model: user::ActiveModel = found.into();
    model.is_approved = Set(false);
    model.approval_date = Set(None);
    model.approved_by = Set(None);
    model.rejection_reason = Set(Some(reason));
    model.updated_at = Set(at);
    let updated = model.update(&txn).await?;
    sessions::revoke_all(&txn, user_id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Enables or disables a user; disabling ends their sessions (API tokens stop working too, as
/// every lookup checks the owner).
pub async fn set_active(
    db: &DatabaseConnection,
    admin_id: i64,
    user_id: i64,
    active: bool,
) -> ApiResult<UserRecord> {
    if user_id == admin_id && !active {
        return Err(ApiError::input("id", "you cannot disable your own account"));
    }
    let txn = db.begin().await?;
    let found = find_user(&txn, user_id).await?;
    let mut model: user::ActiveModel = found.into();
    model.is_active = Set(active);
    model.updated_at = Set(now());
    let updated = model.update(&txn).await?;
    if !active {
        sessions::revoke_all(&txn, user_id).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    pub email: Option<String>,
    pub ip_address: Option<String>,
    pub success: Option<bool>,
    pub user_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// One login attempt of the audit by id.
pub async fn login_attempt(db: &DatabaseConnection, id: i64) -> ApiResult<LoginAttemptRecord> {
    login_attempt::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("login attempt"))
}

/// The login audit, newest first.
pub async fn login_attempts(
    db: &DatabaseConnection,
    filter: AttemptFilter,
    page: &PageRequest,
) -> ApiResult<Page<LoginAttemptRecord>> {
    let mut condition = Condition::all();
    if let Some(email) = filter.email {
        condition = condition
            .add(login_attempt::Column::Email.eq(validate::email_lookup("email", &email)?));
    }
    if let Some(ip) = filter.ip_address {
        condition = condition.add(login_attempt::Column::IpAddress.eq(validate::line(
            "ipAddress",
            &ip,
            45,
            true,
        )?));
    }
    if let Some(success) = filter.success {
        condition = condition.add(login_attempt::Column::Success.eq(success));
    }
    if let Some(user_id) = filter.user_id {
        condition = condition.add(login_attempt::Column::UserId.eq(user_id));
    }
    if let Some(since) = filter.since {
        condition = condition.add(login_attempt::Column::AttemptedAt.gte(since));
    }
    if let Some(until) = filter.until {
        condition = condition.add(login_attempt::Column::AttemptedAt.lt(until));
    }
    let query = login_attempt::Entity::find().filter(condition);
    let total = total_count(db, query.clone());
    let rows = Keyset::newest_first(login_attempt::Column::Id)
        .select(query, page)?
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, page, total))
}

/// Creates an approved, active admin (the first one, from the command line).
pub async fn create_admin(
    db: &DatabaseConnection,
    email: &str,
    username: &str,
    password: String,
) -> ApiResult<UserRecord> {
    let email = validate::email("email", email)?;
    let username = validate::username(username)?;
    password::check_new_password(&password)?;
    ensure_available(db, &email, &username).await?;
    let hash = password::hash(password).await?;
    let at = now();
    user::ActiveModel {
        username: Set(username),
        email: Set(email),
        password: Set(hash),
        first_name: Set(String::new()),
        last_name: Set(String::new()),
        role: Set(Role::Admin),
        is_active: Set(true),
        is_staff: Set(true),
        is_superuser: Set(true),
        is_approved: Set(true),
        approval_date: Set(Some(at)),
        approved_by: Set(None),
        rejection_reason: Set(None),
        last_login: Set(None),
        last_login_ip: Set(None),
        login_count: Set(0),
        saved_results_count: Set(0),
        date_joined: Set(at),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| map_unique(e, &USER_UNIQUE))
}
