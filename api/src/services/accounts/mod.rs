//! Accounts: registration with invites or approval, login and sessions, administration, API
//! tokens. Plain async functions over a connection; the GraphQL layer maps their errors.

pub mod admin;
pub(crate) mod api_tokens;
pub(crate) mod invites;
pub(crate) mod registration;
pub(crate) mod sessions;
pub(crate) mod throttle;
pub(crate) mod validate;

use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::{DbErr, SqlErr};

use crate::{auth::Role, config::Config, error::ApiError};

pub use entity::{
    api_token::Model as ApiTokenRecord, invite_template::Model as InviteTemplateRecord,
    invite_token::Model as InviteRecord, login_attempt::Model as LoginAttemptRecord,
    user::Model as UserRecord, user_session::Model as SessionRecord,
};

/// Whether checking a credential counts as activity: a request does (it refreshes the
/// session's `last_activity` and the token's `last_used_at`); a WebSocket's periodic re-check
/// of an idle connection does not, so an open socket alone never keeps a session alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Touch {
    Yes,
    No,
}

/// The accounts settings, from the configuration.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    pub session_idle: TimeDelta,
    pub session_absolute: TimeDelta,
    pub open_registration: bool,
    pub invite_ttl: TimeDelta,
    pub throttle: ThrottleSettings,
}

#[derive(Debug, Clone)]
pub struct ThrottleSettings {
    pub window: TimeDelta,
    pub max_failures_per_account: u64,
    pub max_failures_per_ip: u64,
}

fn seconds(secs: u64) -> TimeDelta {
    TimeDelta::seconds(
        i64::try_from(secs.max(1))
            .unwrap_or(i64::MAX / 1000)
            .min(10 * 365 * 86_400),
    )
}

impl AccountSettings {
    pub fn from_config(config: &Config) -> Self {
        Self {
            session_idle: seconds(config.session_idle_secs),
            session_absolute: seconds(config.session_absolute_secs),
            open_registration: config.open_registration,
            invite_ttl: seconds(config.invite_ttl_hours.saturating_mul(3600)),
            throttle: ThrottleSettings {
                window: seconds(config.login_window_secs),
                max_failures_per_account: config.login_max_failures_per_account.max(1),
                max_failures_per_ip: config.login_max_failures_per_ip.max(1),
            },
        }
    }
}

impl Default for AccountSettings {
    fn default() -> Self {
        Self::from_config(&Config::defaults())
    }
}

/// Where an account stands in the approval flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Pending,
    Approved,
    Rejected,
}

pub fn status_of(user: &UserRecord) -> UserStatus {
    if user.is_approved {
        UserStatus::Approved
    } else if user.rejection_reason.is_some() {
        UserStatus::Rejected
    } else {
        UserStatus::Pending
    }
}

/// The effective role: Django superusers imported from the old app are admins.
pub fn role_of(user: &UserRecord) -> Role {
    if user.is_superuser {
        Role::Admin
    } else {
        user.role
    }
}

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now()
}

/// Which unique column a violation is about, if it is one.
pub(crate) fn unique_violation(err: &DbErr) -> Option<String> {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(message)) => Some(message),
        _ => None,
    }
}

/// Maps a unique violation on one of `columns` (column name, GraphQL field, message) to
/// BAD_USER_INPUT; anything else is internal.
pub(crate) fn map_unique(err: DbErr, columns: &[(&str, &str, &str)]) -> ApiError {
    if let Some(message) = unique_violation(&err) {
        let message = message.to_ascii_lowercase();
        for (column, field, text) in columns {
            if message.contains(column) {
                return ApiError::input(*field, *text);
            }
        }
    }
    ApiError::from(err)
}

/// Text stored from request headers is bounded so a client cannot fill the audit tables.
pub(crate) fn bounded(text: Option<&str>, max_chars: usize) -> Option<String> {
    text.map(|t| {
        t.chars()
            .filter(|c| !c.is_control())
            .take(max_chars)
            .collect()
    })
}
