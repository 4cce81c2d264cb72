//! Object ids. Every object with an identity has a global id (the Relay convention): its
//! type and key, `User:42` or `BacktestSession:6f1c…`, as unpadded base64url, so ids never
//! collide across types and a normalised client cache can key on `id` alone. Arguments take
//! the global id of the type they expect; the plain row id of earlier versions (`"42"`) is
//! still accepted where the key is a row id. Any other text names no object.

use async_graphql::ID;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// The kinds of object a global id names, by their GraphQL type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    User,
    Session,
    ApiToken,
    Invite,
    InviteTemplate,
    LoginAttempt,
    MarginCalculation,
    BacktestSession,
    SavedResult,
    SweepSession,
}

impl Kind {
    const ALL: [Kind; 10] = [
        Kind::User,
        Kind::Session,
        Kind::ApiToken,
        Kind::Invite,
        Kind::InviteTemplate,
        Kind::LoginAttempt,
        Kind::MarginCalculation,
        Kind::BacktestSession,
        Kind::SavedResult,
        Kind::SweepSession,
    ];

    pub(crate) fn type_name(self) -> &'static str {
        match self {
            Kind::User => "User",
            Kind::Session => "Session",
            Kind::ApiToken => "ApiToken",
            Kind::Invite => "Invite",
            Kind::InviteTemplate => "InviteTemplate",
            Kind::LoginAttempt => "LoginAttempt",
            Kind::MarginCalculation => "MarginCalculation",
            Kind::BacktestSession => "BacktestSession",
            Kind::SavedResult => "SavedResult",
            Kind::SweepSession => "SweepSession",
        }
    }

    /// What a NOT_FOUND names for this kind.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Session => "session",
            Kind::ApiToken => "API token",
            Kind::Invite => "invite",
            Kind::InviteTemplate => "invite template",
            Kind::LoginAttempt => "login attempt",
            Kind::MarginCalculation => "calculation",
            Kind::BacktestSession => "backtest session",
            Kind::SavedResult => "saved result",
            Kind::SweepSession => "sweep session",
        }
    }
}

/// The global id of the object of `kind` keyed `key` (a row id or a UUID).
pub(crate) fn global_id(kind: Kind, key: impl std::fmt::Display) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{key}", kind.type_name())))
}

/// The kind and key a global id names, if it is one.
pub(crate) fn decode(id: &ID) -> Option<(Kind, String)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (name, key) = text.split_once(':')?;
    let kind = Kind::ALL.into_iter().find(|k| k.type_name() == name)?;
    Some((kind, key.to_string()))
}

/// A positive decimal that fits in i64.
fn row_key(text: &str) -> Option<i64> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0 && !text.starts_with('+'))
}

/// The row of `kind` an id argument names: its global id, or the plain row id. Anything else
/// (another kind's id, text that names nothing) is NOT_FOUND, exactly like an object that is
/// missing or someone else's: the answer tells nothing about which ids exist.
pub(crate) fn parse_id(id: &ID, kind: Kind) -> ApiResult<i64> {
    let key = match decode(id) {
        Some((found, key)) if found == kind => row_key(&key),
        Some(_) => None,
        None => row_key(id.as_str()),
    };
    key.ok_or(ApiError::NotFound(kind.noun()))
}

/// The UUID of `kind` an id argument names (UUID-keyed objects: sessions and saved results):
/// its global id, or the plain UUID (`sessionId`, `resultId`) callers already hold. Anything
/// else is NOT_FOUND, as for `parse_id`.
pub(crate) fn parse_uuid(id: &ID, kind: Kind) -> ApiResult<Uuid> {
    match decode(id) {
        Some((found, key)) if found == kind => Uuid::parse_str(&key).ok(),
        Some(_) => None,
        None => Uuid::parse_str(id.as_str()).ok(),
    }
    .ok_or(ApiError::NotFound(kind.noun()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_differ_across_types() {
        let user = global_id(Kind::User, 1);
        let session = global_id(Kind::Session, 1);
        assert_ne!(user, session, "User 1 and Session 1 are different objects");
        assert_eq!(user.as_str(), "VXNlcjox");
        assert_eq!(decode(&user), Some((Kind::User, "1".to_string())));
        assert_eq!(parse_id(&user, Kind::User).unwrap(), 1);
        assert_eq!(
            parse_id(&user, Kind::Session).unwrap_err().code(),
            "NOT_FOUND"
        );
        let key = Uuid::new_v4();
        let saved = global_id(Kind::SavedResult, key);
        assert_eq!(parse_uuid(&saved, Kind::SavedResult).unwrap(), key);
        assert!(parse_uuid(&saved, Kind::BacktestSession).is_err());
        let plain = ID(key.to_string());
        assert_eq!(parse_uuid(&plain, Kind::SavedResult).unwrap(), key);
        assert!(parse_uuid(&ID("not-a-uuid".into()), Kind::SavedResult).is_err());
        for kind in Kind::ALL {
            assert_eq!(decode(&global_id(kind, 7)).map(|(k, _)| k), Some(kind));
        }
    }

    #[test]
    fn plain_row_ids_still_name_their_row() {
        for (text, row) in [
            ("1", Some(1)),
            ("42", Some(42)),
            ("9223372036854775807", Some(i64::MAX)),
        ] {
            assert_eq!(parse_id(&ID::from(text), Kind::User).ok(), row, "{text}");
        }
        for text in [
            "",
            "0",
            "-1",
            "+1",
            "x",
            "1e400",
            "1 OR 1=1",
            "9223372036854775808",
            " 1",
            "VXNlcjo",
            "VXNlcjotMQ", // User:-1
        ] {
            let id = ID::from(text);
            assert_eq!(
                parse_id(&id, Kind::User).unwrap_err().code(),
                "NOT_FOUND",
                "{text}"
            );
        }
    }
}
