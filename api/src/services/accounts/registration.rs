//! Registration: with a valid invite the user is approved at once with the invite's role;
//! without one (only when open registration is on) the user waits for an admin's approval.
//!
//! Order of checks, so nothing leaks and nothing is stored on bad input: formats first, then
//! the invite, and only then whether the username or email is taken. The invite is redeemed by
//! a conditional update (`used_at IS NULL AND expires_at > now`) that must change exactly one
//! row, in the same transaction as the insert of the user: two concurrent redemptions of one
//! invite create exactly one account.

use entity::{invite_token, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter, TransactionTrait,
    sea_query::{Expr, Func},
};

use super::{AccountSettings, InviteRecord, UserRecord, map_unique, now, validate};
use crate::{
    auth::{Role, password, token},
    error::{ApiError, ApiResult},
};

#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub email: String,
    pub username: String,
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub invite_token: Option<String>,
}

pub(crate) const USER_UNIQUE: [(&str, &str, &str); 2] = [
    ("username", "username", "this username is taken"),
    (
        "email",
        "email",
        "an account with this email already exists",
    ),
];

/// Registers a user; see the module documentation for the rules.
pub async fn register(
    db: &DatabaseConnection,
    settings: &AccountSettings,
    input: Registration,
) -> ApiResult<UserRecord> {
    let email = validate::email("email", &input.email)?;
    let username = validate::username(&input.username)?;
    password::check_new_password(&input.password)?;
    let first_name = validate::line(
        "firstName",
        &input.first_name,
        validate::MAX_NAME_CHARS,
        false,
    )?;
    let last_name = validate::line(
        "lastName",
        &input.last_name,
        validate::MAX_NAME_CHARS,
        false,
    )?;

    let presented = input
        .invite_token
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let invite = match presented {
        Some(secret) => Some(find_invite(db, secret, &email).await?),
        None if settings.open_registration => None,
        None => {
            return Err(ApiError::input(
                "inviteToken",
                "registration needs an invite; ask an administrator for one",
            ));
        }
    };

    ensure_available(db, &email, &username).await?;
    let password_hash = password::hash(input.password).await?;

    let at = now();
    let txn = db.begin().await?;
    if let Some(invite) = &invite {
        let redeemed = invite_token::Entity::update_many()
            .col_expr(invite_token::Column::UsedAt, Expr::value(Some(at)))
            .filter(invite_token::Column::Id.eq(invite.id))
            .filter(invite_token::Column::UsedAt.is_null())
            .filter(invite_token::Column::ExpiresAt.gt(at))
            .exec(&txn)
            .await?;
        if redeemed.rows_affected != 1 {
            return Err(ApiError::input(
                "inviteToken",
                "this invite has already been used",
            ));
        }
    }
    let role = invite.as_ref().map_or(Role::Viewer, |i| i.invite_type);
    let created = user::ActiveModel {
        username: Set(username),
        email: Set(email),
        password: Set(password_hash),
        first_name: Set(first_name),
        last_name: Set(last_name),
        role: Set(role),
        is_active: Set(true),
        is_staff: Set(false),
        is_superuser: Set(false),
        is_approved: Set(invite.is_some()),
        approval_date: Set(invite.as_ref().map(|_| at)),
        approved_by: Set(invite.as_ref().and_then(|i| i.created_by)),
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
    .insert(&txn)
    .await
    .map_err(|e| map_unique(e, &USER_UNIQUE))?;
    txn.commit().await?;
    Ok(created)
}

/// The invite for `secret`, usable for `email`.
async fn find_invite(
    db: &DatabaseConnection,
    secret: &str,
    email: &str,
) -> ApiResult<InviteRecord> {
    let invalid = || ApiError::input("inviteToken", "this invite is not valid");
    if !token::is_well_formed(secret) {
        return Err(invalid());
    }
    let invite = invite_token::Entity::find()
        .filter(invite_token::Column::TokenHash.eq(token::hash_token(secret)))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    if invite.used_at.is_some() {
        return Err(ApiError::input(
            "inviteToken",
            "this invite has already been used",
        ));
    }
    if invite.expires_at <= now() {
        return Err(ApiError::input("inviteToken", "this invite has expired"));
    }
    if !invite.email.eq_ignore_ascii_case(email) {
        return Err(ApiError::input(
            "email",
            "this invite is for another email address",
        ));
    }
    Ok(invite)
}

/// BAD_USER_INPUT when the email or the username (case-insensitively) is taken.
pub(crate) async fn ensure_available<C: sea_orm::ConnectionTrait>(
    db: &C,
    email: &str,
    username: &str,
) -> ApiResult<()> {
    let email_taken = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(db)
        .await?
        .is_some();
    if email_taken {
        return Err(ApiError::input("email", USER_UNIQUE[1].2));
    }
    let username_taken = user::Entity::find()
        .filter(
            Expr::expr(Func::lower(Expr::col(user::Column::Username))).eq(username.to_lowercase()),
        )
        .one(db)
        .await?
        .is_some();
    if username_taken {
        return Err(ApiError::input("username", USER_UNIQUE[0].2));
    }
    Ok(())
}
