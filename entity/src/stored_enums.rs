//! The enumerations stored as text, with the strings already in the database kept (the
//! Django apps' for roles and statuses, the engine's `as_str()` for modes and account and
//! position types), so each is decoded once, by sea-orm, instead of parsed at every use. A
//! row holding any other text (only a hand edit can write one) fails to decode with a
//! database error: refused, not guessed at as some other role, status or mode.

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

/// How a backtest handles capital after a liquidation: `mode` of sessions, cache rows and
/// saved results. The stored twin of `engine::backtest::Mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum BacktestMode {
    #[sea_orm(string_value = "LIQUIDATION_REENTRY")]
    LiquidationReentry,
    #[sea_orm(string_value = "FRESH_CAPITAL")]
    FreshCapital,
    #[sea_orm(string_value = "PROFIT_THRESHOLD")]
    ProfitThreshold,
}

/// Margin account type: `account_type` of calculations and saved results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum AccountType {
    #[sea_orm(string_value = "REG_T")]
    RegT,
    #[sea_orm(string_value = "PORTFOLIO")]
    Portfolio,
}

/// What a saved result holds: `historical_backtest_savedbacktestresult.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum SavedKind {
    /// One backtest's result.
    #[sea_orm(string_value = "backtest")]
    Backtest,
    /// A sweep's grid (its base run's columns describe it).
    #[sea_orm(string_value = "sweep")]
    Sweep,
}

/// Long or short: `position_type` of calculations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum PositionType {
    #[sea_orm(string_value = "LONG")]
    Long,
    #[sea_orm(string_value = "SHORT")]
    Short,
}

/// Both directions between a stored enum and the engine's, variant by variant, so adding a
/// variant to either side stops the build until the other has it too.
macro_rules! engine_twin {
    ($($stored:ident <=> $engine:path { $($variant:ident),+ })+) => {$(
        impl From<$stored> for $engine {
            fn from(value: $stored) -> Self {
                match value { $($stored::$variant => <$engine>::$variant,)+ }
            }
        }
        impl From<$engine> for $stored {
            fn from(value: $engine) -> Self {
                match value { $(<$engine>::$variant => $stored::$variant,)+ }
            }
        }
    )+};
}

engine_twin! {
    BacktestMode <=> engine::backtest::Mode { LiquidationReentry, FreshCapital, ProfitThreshold }
    AccountType <=> engine::AccountType { RegT, Portfolio }
    PositionType <=> engine::PositionType { Long, Short }
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
        // The stored text is what the engine calls each variant, so rows written before these
        // enums existed decode unchanged.
        for mode in [
            engine::backtest::Mode::LiquidationReentry,
            engine::backtest::Mode::FreshCapital,
            engine::backtest::Mode::ProfitThreshold,
        ] {
            let stored = BacktestMode::from(mode);
            assert_eq!(stored.to_value(), mode.as_str());
            assert_eq!(engine::backtest::Mode::from(stored), mode);
        }
        for account in [engine::AccountType::RegT, engine::AccountType::Portfolio] {
            let stored = AccountType::from(account);
            assert_eq!(stored.to_value(), account.as_str());
            assert_eq!(engine::AccountType::from(stored), account);
        }
        for (position, text) in [
            (engine::PositionType::Long, "LONG"),
            (engine::PositionType::Short, "SHORT"),
        ] {
            assert_eq!(PositionType::from(position).to_value(), text);
            assert_eq!(
                engine::PositionType::from(PositionType::from(position)),
                position
            );
        }
        assert!(BacktestMode::try_from_value(&"fresh_capital".to_string()).is_err());
        assert!(AccountType::try_from_value(&"MARGIN".to_string()).is_err());
        assert!(SessionStatus::try_from_value(&"exploded".to_string()).is_err());
        assert!(Role::try_from_value(&"root".to_string()).is_err());
        assert!(Role::Admin > Role::Manager && Role::Manager > Role::Analyst);
        assert!(!SessionStatus::Running.is_terminal() && SessionStatus::Cancelled.is_terminal());
    }
}
