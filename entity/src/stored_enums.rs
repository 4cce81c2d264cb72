//! The enumerations stored as text, with the Django apps' strings kept in the database, so
//! each is decoded once, by sea-orm, instead of parsed at every use. A row holding any other
//! text (only a hand edit can write one) fails to decode with a database error: refused, not
//! guessed at as some other role or status.

use sea_orm::entity::prelude::*;

/// Roles in increasing order of power: a guard for role X admits X and everything above it.
/// Stored in `authentication_user.role` and, as the role an invite grants, `invite_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Role {
    #[sea_orm(string_value = "viewer")]
    Viewer,
    #[sea_orm(string_value = "analyst")]
    Analyst,
    #[sea_orm(string_value = "manager")]
    Manager,
    #[sea_orm(string_value = "admin")]
    Admin,
}

/// Where a backtest session is: `historical_backtest_backtestsession.status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SessionStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "completed")]
    Completed,
    #[sea_orm(string_value = "error")]
    Error,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl SessionStatus {
    /// Completed, failed or cancelled: nothing will change it again.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionStatus::Completed | SessionStatus::Error | SessionStatus::Cancelled
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_django_strings_round_trip_and_other_text_is_refused() {
        for (status, text) in [
            (SessionStatus::Pending, "pending"),
            (SessionStatus::Running, "running"),
            (SessionStatus::Completed, "completed"),
            (SessionStatus::Error, "error"),
            (SessionStatus::Cancelled, "cancelled"),
        ] {
            assert_eq!(status.to_value(), text);
            assert_eq!(SessionStatus::try_from_value(&text.to_string()), Ok(status));
        }
        for (role, text) in [
            (Role::Viewer, "viewer"),
            (Role::Analyst, "analyst"),
            (Role::Manager, "manager"),
            (Role::Admin, "admin"),
        ] {
            assert_eq!(role.to_value(), text);
            assert_eq!(Role::try_from_value(&text.to_string()), Ok(role));
        }
        assert!(SessionStatus::try_from_value(&"exploded".to_string()).is_err());
        assert!(Role::try_from_value(&"root".to_string()).is_err());
        assert!(Role::Admin > Role::Manager && Role::Manager > Role::Analyst);
        assert!(!SessionStatus::Running.is_terminal() && SessionStatus::Cancelled.is_terminal());
    }
}
