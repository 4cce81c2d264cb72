//! Who is calling, as plain domain types: roles, scopes, the signed-in [`Caller`] and the
//! per-request [`AuthContext`] with the rules that admit or refuse it. Nothing here knows
//! GraphQL: the transports resolve an `AuthContext` (`http::authenticate`), and resolvers
//! reach these rules through `graphql::guards`.
//!
//! Sessions count as full scope; an API token carries the scopes it was created with, and
//! `graphql::write_scope` (applied by every transport before execution) refuses every
//! mutation to a token without `WRITE`.

pub(crate) mod cookie;
pub(crate) mod password;
pub(crate) mod token;

use crate::error::{ApiError, ApiResult};

/// Roles in increasing order of power, stored as the Django apps' strings.
pub use entity::stored_enums::Role;

/// What an API token may do. A session has every scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Read,
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        match text.trim() {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            _ => None,
        }
    }

    /// The comma-separated form stored in `authentication_apitoken.scopes`.
    pub fn join(scopes: &[Scope]) -> String {
        let mut scopes = scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn split(text: &str) -> Vec<Scope> {
        let mut scopes: Vec<Scope> = text.split(',').filter_map(Scope::parse).collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }
}

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// An interactive session (`login`), by bearer header or cookie.
    Session { session_id: i64 },
    /// An API token (`createApiToken`).
    ApiToken { token_id: i64 },
}

/// The signed-in caller, as resolved at the start of the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub is_approved: bool,
    pub scopes: Vec<Scope>,
    pub via: Via,
}

impl Caller {
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    pub fn session_id(&self) -> Option<i64> {
        match self.via {
            Via::Session { session_id } => Some(session_id),
            Via::ApiToken { .. } => None,
        }
    }
}

/// Where the request came from, for the login audit and throttling.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum AuthState {
    /// No credentials presented.
    Anonymous,
    /// Credentials presented but unknown, expired, revoked or malformed.
    Invalid,
    /// The credentials could not be checked (database failure); logged when it happened.
    Unavailable,
    Signed(Box<Caller>),
}

/// The per-request (or per-connection) authentication result, inserted as request data by the
/// HTTP handler and as connection data by the WebSocket handler.
#[derive(Debug, Clone)]
pub struct AuthContext {
    pub(crate) state: AuthState,
    pub client: ClientInfo,
    /// True when the session came from the cookie (login/logout then manage the cookie too).
    pub via_cookie: bool,
    /// Cookie mode is configured: `login` sets the cookie and `logout` clears it.
    pub cookie_mode: bool,
    /// Seconds of absolute session lifetime, for the cookie's Max-Age.
    pub(crate) cookie_max_age: u64,
}

impl AuthContext {
    pub fn anonymous(client: ClientInfo) -> Self {
        Self {
            state: AuthState::Anonymous,
            client,
            via_cookie: false,
            cookie_mode: false,
            cookie_max_age: 0,
        }
    }

    pub fn caller(&self) -> Option<&Caller> {
        match &self.state {
            AuthState::Signed(caller) => Some(caller),
            _ => None,
        }
    }

    /// True when credentials were presented and refused; the WebSocket handler refuses such
    /// a connection outright.
    pub fn is_invalid(&self) -> bool {
        matches!(self.state, AuthState::Invalid)
    }

    /// True only when no credentials were presented. Refused credentials and credentials
    /// that could not be checked are not anonymous: code that lets anonymous callers in must
    /// ask this, never `caller().is_none()`, so that an error cannot widen access.
    pub fn is_anonymous(&self) -> bool {
        matches!(self.state, AuthState::Anonymous)
    }

    /// True when the credentials could not be checked (the database failed).
    pub fn is_unavailable(&self) -> bool {
        matches!(self.state, AuthState::Unavailable)
    }

    pub fn require_user(&self) -> ApiResult<&Caller> {
        match &self.state {
            AuthState::Signed(caller) => Ok(caller),
            AuthState::Anonymous => Err(ApiError::Unauthenticated),
            AuthState::Invalid => Err(ApiError::AuthenticationFailed(
                "the token is invalid, expired or revoked; sign in again",
            )),
            // Fail closed: unchecked credentials are never anonymous. The cause was logged
            // when resolution failed; the client is told to retry.
            AuthState::Unavailable => Err(ApiError::Unavailable(None)),
        }
    }

    pub fn require_approved(&self) -> ApiResult<&Caller> {
        let caller = self.require_user()?;
        if caller.is_approved {
            Ok(caller)
        } else {
            Err(ApiError::ForbiddenBecause(
                "your account is pending approval by an administrator",
            ))
        }
    }

    pub fn require_role(&self, role: Role) -> ApiResult<&Caller> {
        let caller = self.require_approved()?;
        if caller.role >= role {
            Ok(caller)
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// An approved admin signed in through an interactive session: admin mutations (users,
    /// invites, templates) need one, so an API token — even an admin's with WRITE — can never
    /// create an admin invite and through it a new admin session, or change users.
    pub fn require_admin_session(&self) -> ApiResult<&Caller> {
        self.require_session()?;
        self.require_role(Role::Admin)
    }

    /// An interactive session (not an API token): credential management needs one, so a
    /// leaked token cannot mint more tokens or see sessions.
    pub fn require_session(&self) -> ApiResult<&Caller> {
        let caller = self.require_user()?;
        match caller.via {
            Via::Session { .. } => Ok(caller),
            Via::ApiToken { .. } => Err(ApiError::ForbiddenBecause(
                "this needs a signed-in session, not an API token",
            )),
        }
    }
}

pub(crate) fn missing_scope(scope: Scope) -> ApiError {
    match scope {
        Scope::Write => ApiError::ForbiddenBecause("this API token lacks the WRITE scope"),
        Scope::Read => ApiError::ForbiddenBecause("this API token lacks the READ scope"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(role: Role, approved: bool, scopes: Vec<Scope>, via: Via) -> AuthContext {
        AuthContext {
            state: AuthState::Signed(Box::new(Caller {
                user_id: 1,
                email: "a@example.com".into(),
                role,
                is_approved: approved,
                scopes,
                via,
            })),
            client: ClientInfo::default(),
            via_cookie: false,
            cookie_mode: false,
            cookie_max_age: 0,
        }
    }

    #[test]
    fn guards_map_to_the_right_codes() {
        let anon = AuthContext::anonymous(ClientInfo::default());
        assert_eq!(anon.require_user().unwrap_err().code(), "UNAUTHENTICATED");
        let session = Via::Session { session_id: 1 };
        let pending = signed(
            Role::Viewer,
            false,
            vec![Scope::Read, Scope::Write],
            session,
        );
        assert!(pending.require_user().is_ok());
        assert_eq!(pending.require_approved().unwrap_err().code(), "FORBIDDEN");
        assert!(
            pending
                .require_approved()
                .unwrap_err()
                .message()
                .contains("pending approval")
        );
        let viewer = signed(Role::Viewer, true, vec![Scope::Read, Scope::Write], session);
        assert_eq!(
            viewer.require_role(Role::Admin).unwrap_err().code(),
            "FORBIDDEN"
        );
        assert!(viewer.require_role(Role::Viewer).is_ok());
        let manager = signed(
            Role::Manager,
            true,
            vec![Scope::Read, Scope::Write],
            session,
        );
        assert!(manager.require_role(Role::Analyst).is_ok());
        let reader = signed(
            Role::Admin,
            true,
            vec![Scope::Read],
            Via::ApiToken { token_id: 3 },
        );
        assert!(!reader.caller().unwrap().has_scope(Scope::Write));
        assert!(reader.caller().unwrap().has_scope(Scope::Read));
        assert_eq!(reader.require_session().unwrap_err().code(), "FORBIDDEN");
        // Credentials that could not be checked are neither anonymous nor accepted.
        let unchecked = AuthContext {
            state: AuthState::Unavailable,
            ..AuthContext::anonymous(ClientInfo::default())
        };
        assert!(unchecked.caller().is_none());
        for refused in [
            unchecked.require_user().unwrap_err(),
            unchecked.require_approved().unwrap_err(),
            unchecked.require_role(Role::Viewer).unwrap_err(),
            unchecked.require_session().unwrap_err(),
        ] {
            assert_eq!(refused.code(), "SERVICE_UNAVAILABLE");
        }
    }

    #[test]
    fn scopes_round_trip_through_their_stored_form() {
        assert_eq!(
            Scope::join(&[Scope::Write, Scope::Read, Scope::Write]),
            "read,write"
        );
        assert_eq!(
            Scope::split("read,write,bogus"),
            vec![Scope::Read, Scope::Write]
        );
    }
}
