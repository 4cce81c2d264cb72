//! Enums of the margin API, twins of the engine's and the services' (same variants,
//! SCREAMING_CASE names; `remote` derives the conversions both ways).

use async_graphql::Enum;

use super::mirror::enum_conv;

/// Margin account type (engine/SPEC.md §1).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "engine::AccountType")]
pub enum AccountType {
    /// Regulation T: 50 % initial, 25 % long / 30 % short maintenance.
    #[default]
    RegT,
    /// Portfolio margin: 15 % (TIMS house scenario).
    Portfolio,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "engine::PositionType")]
pub enum PositionType {
    #[default]
    Long,
    Short,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::calculator::RiskLevel")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::calculator::ScenarioStatus")]
pub enum ScenarioStatus {
    Ok,
    MarginCall,
    Wipeout,
}

/// How a backtest handles capital after a liquidation (engine/SPEC.md §3).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "BacktestMode", remote = "engine::backtest::Mode")]
pub enum Mode {
    LiquidationReentry,
    FreshCapital,
    ProfitThreshold,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::backtest::LiquidationPolicy")]
pub enum LiquidationPolicy {
    Full,
    Restore,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "BacktestEventKind", remote = "engine::backtest::EventKind")]
pub enum EventKind {
    Entry,
    Liquidation,
    MarginCallRestored,
    Rebalance,
    InsufficientEquity,
}

/// What the position did on a day.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "DayStatus", remote = "engine::backtest::Status")]
pub enum DayStatus {
    Entered,
    Holding,
    Rebalanced,
    Liquidated,
    MarginCallRestored,
    Waiting,
    InsufficientEquity,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "CushionZone", remote = "engine::cushion::Zone")]
pub enum Zone {
    Safe,
    Caution,
    Warning,
    Critical,
}

/// Chart figures a result can be drawn as (Plotly JSON).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::figures::FigureName")]
pub enum FigureName {
    Wealth,
    PositionLoan,
    PriceCallPrice,
    Drawdown,
    Leverage,
    Cushion,
    MonthlyHeatmap,
    RollingVolatility,
    RollingSharpe,
    Rounds,
}

/// How the margin loan's rate is set.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum InterestModelKind {
    /// Daily effective fed funds (DFF) plus `spreadPct` (default 1.5).
    FedFundsPlus,
    /// 3-month T-bill (DTB3) plus `spreadPct`.
    TbillPlus,
    /// A fixed `ratePct`.
    Fixed,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::services::backtests::SessionStatus")]
pub enum BacktestStatus {
    Pending,
    Running,
    Completed,
    Error,
    Cancelled,
}

enum_conv! {
    engine::AccountType => AccountType,
    engine::PositionType => PositionType,
    engine::calculator::RiskLevel => RiskLevel,
    engine::calculator::ScenarioStatus => ScenarioStatus,
    engine::backtest::Mode => Mode,
    engine::backtest::EventKind => EventKind,
    engine::backtest::Status => DayStatus,
    engine::cushion::Zone => Zone,
}

/// The stored enums (`entity::stored_enums`) reach GraphQL through the engine's twins, so
/// each pair has one conversion per direction and no string is parsed here.
macro_rules! stored_conv {
    ($($stored:ty => $engine:ty => $graphql:ty),+ $(,)?) => {$(
        impl From<$stored> for $graphql {
            fn from(value: $stored) -> Self {
                <$engine>::from(value).into()
            }
        }
        impl From<$graphql> for $stored {
            fn from(value: $graphql) -> Self {
                <$engine>::from(value).into()
            }
        }
    )+};
}

stored_conv! {
    entity::stored_enums::BacktestMode => engine::backtest::Mode => Mode,
    entity::stored_enums::AccountType => engine::AccountType => AccountType,
    entity::stored_enums::PositionType => engine::PositionType => PositionType,
}
