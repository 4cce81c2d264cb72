//! Account profiles (SPEC.md §1): margin fractions and the leverage they allow.

use serde::{Deserialize, Serialize};

use crate::error::{InputError, fmt_num, in_range};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountType {
    #[default]
    RegT,
    Portfolio,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PositionType {
    #[default]
    Long,
    Short,
}

impl AccountType {
    pub fn other(self) -> AccountType {
        match self {
            AccountType::RegT => AccountType::Portfolio,
            AccountType::Portfolio => AccountType::RegT,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::RegT => "REG_T",
            AccountType::Portfolio => "PORTFOLIO",
        }
    }
}

/// Margin fractions in force for one account and position side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    pub account: AccountType,
    /// Maintenance fraction `m`.
    pub maintenance: f64,
    /// Initial-margin fraction `IM`.
    pub initial: f64,
    /// Equity below which the account is flagged (warning only).
    pub account_minimum: f64,
}

/// Bounds for a house maintenance override; outside them the margin arithmetic degenerates.
pub const MAINTENANCE_OVERRIDE_RANGE: (f64, f64) = (0.05, 0.95);

impl Profile {
    pub fn new(
        account: AccountType,
        position: PositionType,
        maintenance_override: Option<f64>,
    ) -> Profile {
        let default_m = match (account, position) {
            (AccountType::RegT, PositionType::Long) => 0.25,
            (AccountType::RegT, PositionType::Short) => 0.30,
            (AccountType::Portfolio, _) => 0.15,
        };
        let m = maintenance_override.unwrap_or(default_m);
        let initial = match account {
            AccountType::RegT => 0.50,
            // Portfolio margin has no separate initial requirement: IM = maintenance.
            AccountType::Portfolio => m,
        };
        let account_minimum = match account {
            AccountType::RegT => 2_000.0,
            AccountType::Portfolio => 100_000.0,
        };
        Profile {
            account,
            maintenance: m,
            initial,
            account_minimum,
        }
    }

    /// Validated profile: the override (a fraction, e.g. 0.30) must lie in a sane range.
    pub fn checked(
        account: AccountType,
        position: PositionType,
        maintenance_override: Option<f64>,
        field: &str,
    ) -> Result<Profile, InputError> {
        if let Some(m) = maintenance_override {
            in_range(
                field,
                m,
                MAINTENANCE_OVERRIDE_RANGE.0,
                MAINTENANCE_OVERRIDE_RANGE.1,
                "",
            )?;
        }
        Ok(Profile::new(account, position, maintenance_override))
    }

    /// `1/max(IM, m)`: an override above the initial fraction caps leverage too, so a new
    /// position is never below maintenance on entry.
    pub fn max_leverage(&self) -> f64 {
        1.0 / self.initial.max(self.maintenance)
    }

    pub fn check_leverage(&self, field: &str, leverage: f64) -> Result<f64, InputError> {
        let max = self.max_leverage();
        crate::error::finite(field, leverage)?;
        // A tiny tolerance so that e.g. 1/0.15 typed as 6.666666666666667 is accepted.
        if leverage < 1.0 || leverage > max * (1.0 + 1e-12) {
            return Err(InputError::new(
                field,
                format!(
                    "must be between 1 and {} for {} (maintenance {} %); got {}",
                    fmt_num((max * 1000.0).floor() / 1000.0),
                    self.account.as_str(),
                    fmt_num(self.maintenance * 100.0),
                    fmt_num(leverage)
                ),
            ));
        }
        Ok(leverage)
    }
}

/// Lower-cases and maps `-`/space to `_`, so `reg-t`, `REG_T` and `Reg T` all read the same.
pub(crate) fn norm_token(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace(['-', ' '], "_")
}

impl std::str::FromStr for AccountType {
    type Err = InputError;
    /// Accepts `reg-t`, `reg_t`, `regt`, `REG_T`, `portfolio`, `pm`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match norm_token(s).as_str() {
            "reg_t" | "regt" => Ok(AccountType::RegT),
            "portfolio" | "pm" | "portfolio_margin" => Ok(AccountType::Portfolio),
            _ => Err(InputError::new(
                "accountType",
                format!("unknown account type `{s}` (use reg-t or portfolio)"),
            )),
        }
    }
}

impl std::str::FromStr for PositionType {
    type Err = InputError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match norm_token(s).as_str() {
            "long" => Ok(PositionType::Long),
            "short" => Ok(PositionType::Short),
            _ => Err(InputError::new(
                "positionType",
                format!("unknown position type `{s}` (use long or short)"),
            )),
        }
    }
}
