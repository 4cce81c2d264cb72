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
    /// The default role: the calculator, backtests and one's own saved results.
    Viewer,
    /// Today the same permissions as VIEWER.
    Analyst,
    /// Today the same permissions as VIEWER.
    Manager,
    /// Also administers users, invites, invite templates and the login audit (the admin
    /// mutations need a session, not an API token).
    Admin,
}

/// What an API token may do: READ runs queries, WRITE also runs mutations.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::auth::Scope")]
pub enum ApiScope {
    /// Queries and subscriptions; every token may run these.
    Read,
    /// Mutations as well, except those that need a session (credentials, administration).
    Write,
}

/// Where an account stands in the approval flow.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::services::accounts::UserStatus")]
pub enum UserStatus {
    /// Registered without an invite, waiting for an admin.
    Pending,
    /// May use the service: registered with an invite, or approved by an admin.
    Approved,
    /// Refused by an admin (see `rejectionReason`); the account cannot sign in.
    Rejected,
}

/// Which users `users` lists, by approval status.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::services::accounts::admin::StatusFilter")]
pub enum UserStatusFilter {
    /// Users waiting for approval: neither approved nor rejected.
    Pending,
    /// Approved users.
    Approved,
    /// Rejected users.
    Rejected,
    /// Every user.
    All,
}

/// Where an invite stands, derived from `usedAt` and `expiresAt`.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "SvcInviteStatus")]
pub enum InviteStatus {
    /// Unused and not expired: `register` can still redeem it.
    Pending,
    /// Redeemed by a registration.
    Used,
    /// Past its expiry without being used; a revoked invite expires at once.
    Expired,
}

/// An account.
#[derive(SimpleObject, Clone, Debug)]
pub struct User {
    /// The global id (`node(id:)`).
    pub id: ID,
    /// Unique regardless of case; at most 150 letters, digits and `@ . + - _`.
    pub username: String,
    /// The sign-in address, unique, stored lower-cased.
    pub email: String,
    /// Given name; empty when not given.
    pub first_name: String,
    /// Family name; empty when not given.
    pub last_name: String,
    /// The effective role; superusers imported from the old app are ADMIN.
    pub role: Role,
    /// The approval status, derived from `isApproved` and `rejectionReason`.
    pub status: UserStatus,
    /// False once an admin has disabled the account: it can no longer sign in and its API
    /// tokens stop working.
    pub is_active: bool,
    /// True once approved, by an invite or by an admin (`status` APPROVED).
    pub is_approved: bool,
    /// When the account was approved; null unless it is approved.
    pub approval_date: Option<DateTime<Utc>>,
    /// The admin's reason for rejecting the account; null unless it is REJECTED.
    pub rejection_reason: Option<String>,
    /// The last successful login; null before the first.
    pub last_login: Option<DateTime<Utc>>,
    /// The client address of that login; null before the first or when it was unknown.
    pub last_login_ip: Option<String>,
    /// Successful logins so far.
    pub login_count: i32,
    /// Saved results the user holds, counted against the saved-results quota.
    pub saved_results_count: i32,
    /// When the account was created.
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

/// What `login` returns: the session token and the signed-in account.
#[derive(SimpleObject, Clone, Debug)]
pub struct LoginPayload {
    /// The session token: send it as `Authorization: Bearer <token>`. Shown once.
    pub token: String,
    /// The absolute expiry; the session also ends after the idle timeout without requests.
    pub expires_at: DateTime<Utc>,
    /// The signed-in account; a PENDING one can see `me` and nothing else.
    pub user: User,
}

/// A signed-in session, opened by `login`.
#[derive(SimpleObject, Clone, Debug)]
pub struct Session {
    /// The global id (`node(id:)`, `revokeSession`).
    pub id: ID,
    /// The client address at login; null when unknown.
    pub ip_address: Option<String>,
    /// The client's `User-Agent` at login, at most 512 characters; null when none was sent.
    pub user_agent: Option<String>,
    /// When `login` opened the session.
    pub created_at: DateTime<Utc>,
    /// The last request made with it, to within a minute; the session ends after the idle
    /// timeout without one.
    pub last_activity: DateTime<Utc>,
    /// The absolute expiry, fixed at login; the session ends then however active it is.
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

/// A single-use invitation to register, bound to an email address and carrying a role.
#[derive(SimpleObject, Clone, Debug)]
pub struct Invite {
    /// The global id (`node(id:)`, `revokeInvite`).
    pub id: ID,
    /// The address the invite is for, lower-cased; `register` must use the same one.
    pub email: String,
    /// The role the invited user receives.
    pub invite_type: Role,
    /// The message for the invitee (the template's when none was given); null when neither
    /// gave one.
    pub custom_message: Option<String>,
    /// Whether the invite can still be redeemed.
    pub status: InviteStatus,
    /// When an admin created it.
    pub created_at: DateTime<Utc>,
    /// When it stops being usable; revoking sets it to the time of revocation.
    pub expires_at: DateTime<Utc>,
    /// When a registration redeemed it; null while unused.
    pub used_at: Option<DateTime<Utc>>,
    /// The global id of the admin who created it; null when that is not recorded.
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

/// What `createInvite` returns: the invite and its token.
#[derive(SimpleObject, Clone, Debug)]
pub struct CreateInvitePayload {
    /// The invite token, shown only here: hand it to the invitee for `register`.
    pub token: String,
    /// The new invite, PENDING.
    pub invite: Invite,
}

/// A reusable role and message that `createInvite` takes its defaults from.
#[derive(SimpleObject, Clone, Debug)]
pub struct InviteTemplate {
    /// The global id (`node(id:)`, `createInvite(templateId:)`).
    pub id: ID,
    /// Unique name, 1–100 characters.
    pub name: String,
    /// The role invites made from this template give.
    pub invite_type: Role,
    /// Subject line for the invitation, 1–255 characters.
    pub subject: String,
    /// The invitation text, copied as it is into an invite made without its own message;
    /// 1–10,000 characters.
    pub message_template: String,
    /// Whether `createInvite` may use it; an inactive template is refused there.
    pub is_active: bool,
    /// When it was created.
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

/// The fields of an invite template. Creating one needs `name`, `subject` and
/// `messageTemplate`; an update changes only the fields given.
#[derive(InputObject, Clone, Debug, Default)]
pub struct InviteTemplateInput {
    /// Unique name, 1–100 characters.
    pub name: Option<String>,
    /// The role invites get; omitted on create: VIEWER.
    pub invite_type: Option<Role>,
    /// Subject line, 1–255 characters.
    pub subject: Option<String>,
    /// The invitation text, 1–10,000 characters.
    pub message_template: Option<String>,
    /// Whether `createInvite` may use the template; omitted on create: true.
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

/// One sign-in attempt, from the login audit.
#[derive(SimpleObject, Clone, Debug)]
pub struct LoginAttempt {
    /// The global id (`node(id:)`).
    pub id: ID,
    /// The email address tried, lower-cased; it need not belong to an account.
    pub email: String,
    /// The client address; null when unknown.
    pub ip_address: Option<String>,
    /// The client's `User-Agent`, at most 512 characters; null when none was sent.
    pub user_agent: Option<String>,
    /// True when the attempt opened a session.
    pub success: bool,
    /// One of unknown_email, wrong_password, inactive, rejected, throttled; pending_approval
    /// on a successful login to an account that is not approved yet; checking while the
    /// password of an admitted attempt is being verified. Null for any other success.
    pub failure_reason: Option<String>,
    /// When the attempt was made.
    pub attempted_at: DateTime<Utc>,
    /// The global id of the account the email belongs to; null for an unknown email and for
    /// throttled attempts.
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

/// Conditions on the login audit; an attempt must meet every one given.
#[derive(InputObject, Clone, Debug, Default)]
pub struct LoginAttemptFilter {
    /// Attempts with exactly this email address, case-insensitive.
    pub email: Option<String>,
    /// Attempts from exactly this client address.
    pub ip_address: Option<String>,
    /// Only successful (true) or only failed (false) attempts.
    pub success: Option<bool>,
    /// Attempts on this user's account: its global id or row id.
    pub user_id: Option<ID>,
    /// Attempts at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Attempts before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// A token for integrations, sent as `Authorization: Bearer <token>`; the token itself is
/// shown only by `createApiToken`.
#[derive(SimpleObject, Clone, Debug)]
pub struct ApiToken {
    /// The global id (`node(id:)`, `revokeApiToken`).
    pub id: ID,
    /// The label given at creation.
    pub name: String,
    /// The first characters of the token (`mapi_` and four more), to recognise it.
    pub prefix: String,
    /// What the token may do.
    pub scopes: Vec<ApiScope>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The last request made with it, to within a minute; null if it was never used.
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it stops working; null: it works until revoked.
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

/// What `createApiToken` returns: the token and its record.
#[derive(SimpleObject, Clone, Debug)]
pub struct CreateApiTokenPayload {
    /// The token, shown only here: send it as `Authorization: Bearer <token>`.
    pub token: String,
    /// The new token's record, as `apiTokens` lists it.
    pub api_token: ApiToken,
}

/// A new account.
#[derive(InputObject, Clone, Debug)]
pub struct RegisterInput {
    /// The sign-in address, stored lower-cased; with an invite it must be the invite's.
    pub email: String,
    /// Unique regardless of case; 1–150 letters, digits and `@ . + - _`.
    pub username: String,
    /// The password, 8 to 1024 bytes.
    pub password: String,
    /// Given name, at most 150 characters.
    #[graphql(default)]
    pub first_name: String,
    /// Family name, at most 150 characters.
    #[graphql(default)]
    pub last_name: String,
    /// The token of an invite; without one, registration is possible only when open
    /// registration is enabled, and the account then waits for approval.
    pub invite_token: Option<String>,
}
