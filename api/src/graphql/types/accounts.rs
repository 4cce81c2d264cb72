//! GraphQL types of the accounts domain, built from the services' plain records.

use async_graphql::{Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    auth,
    graphql::ids::{Kind, global_id},
    services::accounts::{
        self as svc, ApiTokenRecord, InviteRecord, InviteTemplateRecord, LoginAttemptRecord,
        SessionRecord, UserRecord, invites::InviteStatus as SvcInviteStatus,
    },
};

/// A user's role; each role can do what the ones before it can.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::auth::Role")]
pub enum Role {
    Viewer,
    Analyst,
    Manager,
    Admin,
}

/// What an API token may do: READ runs queries, WRITE also runs mutations.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::auth::Scope")]
pub enum ApiScope {
    Read,
    Write,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::services::accounts::UserStatus")]
pub enum UserStatus {
    /// Registered without an invite, waiting for an admin.
    Pending,
    Approved,
    Rejected,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::services::accounts::admin::StatusFilter")]
pub enum UserStatusFilter {
    Pending,
    Approved,
    Rejected,
    All,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "SvcInviteStatus")]
pub enum InviteStatus {
    Pending,
    Used,
    Expired,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct User {
    pub id: ID,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub status: UserStatus,
    pub is_active: bool,
    pub is_approved: bool,
    pub approval_date: Option<DateTime<Utc>>,
    pub rejection_reason: Option<String>,
    pub last_login: Option<DateTime<Utc>>,
    pub last_login_ip: Option<String>,
    pub login_count: i32,
    pub saved_results_count: i32,
    pub date_joined: DateTime<Utc>,
}

impl From<UserRecord> for User {
    fn from(user: UserRecord) -> Self {
        Self {
            id: global_id(Kind::User, user.id),
            role: svc::role_of(&user).into(),
            status: svc::status_of(&user).into(),
            username: user.username,
            email: user.email,
            first_name: user.first_name,
            last_name: user.last_name,
            is_active: user.is_active,
            is_approved: user.is_approved,
            approval_date: user.approval_date,
            rejection_reason: user.rejection_reason,
            last_login: user.last_login,
            last_login_ip: user.last_login_ip,
            login_count: user.login_count,
            saved_results_count: user.saved_results_count,
            date_joined: user.date_joined,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct LoginPayload {
    /// The session token: send it as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    /// The absolute expiry; the session also ends after the idle timeout without requests.
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Session {
    pub id: ID,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_activity: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The session making this request.
    pub current: bool,
}

impl Session {
    pub fn new(session: SessionRecord, current: Option<i64>) -> Self {
        Self {
            id: global_id(Kind::Session, session.id),
            current: current == Some(session.id),
            ip_address: session.ip_address,
            user_agent: session.user_agent,
            created_at: session.created_at,
            last_activity: session.last_activity,
            expires_at: session.expires_at,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Invite {
    pub id: ID,
    pub email: String,
    /// The role the invited user receives.
    pub invite_type: Role,
    pub custom_message: Option<String>,
    pub status: InviteStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub created_by: Option<ID>,
}

impl From<InviteRecord> for Invite {
    fn from(invite: InviteRecord) -> Self {
        Self {
            id: global_id(Kind::Invite, invite.id),
            status: svc::invites::invite_status(&invite).into(),
            invite_type: invite.invite_type.into(),
            email: invite.email,
            custom_message: invite.custom_message,
            created_at: invite.created_at,
            expires_at: invite.expires_at,
            used_at: invite.used_at,
            created_by: invite.created_by.map(|id| global_id(Kind::User, id)),
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct CreatedInvite {
    /// The invite token, shown only here: hand it to the invitee for `register`.
    pub token: String,
    pub invite: Invite,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct InviteTemplate {
    pub id: ID,
    pub name: String,
    pub invite_type: Role,
    pub subject: String,
    pub message_template: String,
    pub is_active: bool,
    pub created_at: DateTime<Utc>,
}

impl From<InviteTemplateRecord> for InviteTemplate {
    fn from(template: InviteTemplateRecord) -> Self {
        Self {
            id: global_id(Kind::InviteTemplate, template.id),
            invite_type: template.invite_type.into(),
            name: template.name,
            subject: template.subject,
            message_template: template.message_template,
            is_active: template.is_active,
            created_at: template.created_at,
        }
    }
}

#[derive(InputObject, Clone, Debug, Default)]
pub struct InviteTemplateInput {
    pub name: Option<String>,
    pub invite_type: Option<Role>,
    pub subject: Option<String>,
    pub message_template: Option<String>,
    pub is_active: Option<bool>,
}

impl From<InviteTemplateInput> for svc::invites::TemplateInput {
    fn from(input: InviteTemplateInput) -> Self {
        Self {
            name: input.name,
            role: input.invite_type.map(Into::into),
            subject: input.subject,
            message_template: input.message_template,
            is_active: input.is_active,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct LoginAttempt {
    pub id: ID,
    pub email: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub success: bool,
    /// unknown_email, wrong_password, inactive, rejected, throttled; pending_approval on a
    /// successful login to an account that is not approved yet; checking while the password
    /// of an admitted attempt is being verified.
    pub failure_reason: Option<String>,
    pub attempted_at: DateTime<Utc>,
    pub user_id: Option<ID>,
}

impl From<LoginAttemptRecord> for LoginAttempt {
    fn from(attempt: LoginAttemptRecord) -> Self {
        Self {
            id: global_id(Kind::LoginAttempt, attempt.id),
            email: attempt.email,
            ip_address: attempt.ip_address,
            user_agent: attempt.user_agent,
            success: attempt.success,
            failure_reason: attempt.failure_reason,
            attempted_at: attempt.attempted_at,
            user_id: attempt.user_id.map(|id| global_id(Kind::User, id)),
        }
    }
}

#[derive(InputObject, Clone, Debug, Default)]
pub struct LoginAttemptFilter {
    pub email: Option<String>,
    pub ip_address: Option<String>,
    pub success: Option<bool>,
    pub user_id: Option<ID>,
    /// Attempts at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Attempts before this instant.
    pub until: Option<DateTime<Utc>>,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct ApiToken {
    pub id: ID,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub scopes: Vec<ApiScope>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<ApiTokenRecord> for ApiToken {
    fn from(token: ApiTokenRecord) -> Self {
        Self {
            id: global_id(Kind::ApiToken, token.id),
            scopes: auth::Scope::split(&token.scopes)
                .into_iter()
                .map(Into::into)
                .collect(),
            name: token.name,
            prefix: token.prefix,
            created_at: token.created_at,
            last_used_at: token.last_used_at,
            expires_at: token.expires_at,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct CreatedApiToken {
    /// The token, shown only here: send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub api_token: ApiToken,
}

#[derive(InputObject, Clone, Debug)]
pub struct RegisterInput {
    pub email: String,
    pub username: String,
    /// 8 to 1024 bytes.
    pub password: String,
    #[graphql(default)]
    pub first_name: String,
    #[graphql(default)]
    pub last_name: String,
    /// The token of an invite; without one, registration is possible only when open
    /// registration is enabled, and the account then waits for approval.
    pub invite_token: Option<String>,
}
