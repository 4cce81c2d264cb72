//! Enums of the margin API, twins of the engine's and the services' (same variants,
//! SCREAMING_CASE names; `remote` derives the conversions both ways).

use async_graphql::Enum;

use super::mirror::enum_conv;

/// Margin account type (engine/SPEC.md §1): it sets the margin fractions and so the highest
/// leverage allowed.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "engine::AccountType")]
pub enum AccountType {
    /// Regulation T: 50 % initial, 25 % long / 30 % short maintenance; leverage up to 2×,
    /// account minimum $2,000 equity (a warning only).
    #[default]
    RegT,
    /// Portfolio margin: 15 % initial and maintenance (TIMS house scenario); leverage up to
    /// 6.667×, account minimum $100,000 equity (a warning only).
    Portfolio,
}

/// Side of a margin position.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "engine::PositionType")]
pub enum PositionType {
    /// Bought on margin: loses when the price falls.
    #[default]
    Long,
    /// Sold short: loses when the price rises.
    Short,
}

/// How close a position starts to a margin call, by the price move that triggers it.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::calculator::RiskLevel")]
pub enum RiskLevel {
    /// A move of 25 % or more to the margin call.
    Low,
    /// A move of at least 15 % but under 25 % to the margin call.
    Medium,
    /// A move of under 15 % to the margin call.
    High,
}

/// The state of a position after a scenario's price move (holding-period interest included).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::calculator::ScenarioStatus")]
pub enum ScenarioStatus {
    /// Equity at or above the maintenance requirement.
    Ok,
    /// Equity positive but below the maintenance requirement.
    MarginCall,
    /// Equity zero or negative: the whole stake is lost.
    Wipeout,
}

/// How a backtest handles capital after a liquidation (engine/SPEC.md §3).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "BacktestMode", remote = "engine::backtest::Mode")]
pub enum Mode {
    /// One pool of capital: after a liquidation and `waitDays`, re-enter with what is left at
    /// the same leverage; the run stays in cash once equity is below `minEquity`.
    LiquidationReentry,
    /// Every round starts with a fresh deposit of `initialInvestment`; what a liquidation
    /// leaves is banked. The headline return is the return on capital deployed.
    FreshCapital,
    /// LIQUIDATION_REENTRY, plus re-levering to the target leverage whenever the position has
    /// grown `profitThresholdPct` since the last entry or rebalance (it never sells).
    ProfitThreshold,
}

/// What a backtest does when equity falls below maintenance.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::backtest::LiquidationPolicy")]
pub enum LiquidationPolicy {
    /// Sell the whole position, end the round and wait `waitDays` before re-entry.
    Full,
    /// Sell just enough to bring equity back to maintenance plus `restoreBuffer`; the round
    /// goes on unless equity is then below `minEquity`, when the rest is sold as under FULL.
    Restore,
}

/// Kind of a notable thing that happened during a backtest.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "BacktestEventKind", remote = "engine::backtest::EventKind")]
pub enum EventKind {
    /// A position was opened: a round began.
    Entry,
    /// A margin call sold the whole position and ended the round.
    Liquidation,
    /// A margin call was met by selling part of the position (RESTORE policy).
    MarginCallRestored,
    /// The position was re-levered to the target leverage (PROFIT_THRESHOLD).
    Rebalance,
    /// Equity was below `minEquity` when an entry was due: the run stays in cash to the end.
    InsufficientEquity,
}

/// What the position did on a day.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "DayStatus", remote = "engine::backtest::Status")]
pub enum DayStatus {
    /// A position was opened at the close.
    Entered,
    /// In position; nothing else happened.
    Holding,
    /// Re-levered to the target leverage (PROFIT_THRESHOLD).
    Rebalanced,
    /// A margin call sold the whole position.
    Liquidated,
    /// A margin call was met by selling part of the position (RESTORE policy).
    MarginCallRestored,
    /// Out of the market, sitting out `waitDays` after a liquidation.
    Waiting,
    /// Out of the market to the end: equity was below `minEquity` when an entry was due.
    InsufficientEquity,
}

/// Band of a day's cushion (equity above maintenance) in percent of equity.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "CushionZone", remote = "engine::cushion::Zone")]
pub enum Zone {
    /// Cushion of 50 % of equity or more.
    Safe,
    /// Cushion from 20 % up to 50 % of equity.
    Caution,
    /// Cushion from 5 % up to 20 % of equity.
    Warning,
    /// Cushion under 5 % of equity (or equity not positive).
    Critical,
}

/// Chart figures a result can be drawn as (Plotly JSON).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::figures::FigureName")]
pub enum FigureName {
    /// Equity (FRESH_CAPITAL: banked plus equity) against capital contributed, US dollars.
    Wealth,
    /// Position value, margin loan and equity, US dollars.
    PositionLoan,
    /// Close against the margin-call price, with markers at entries, liquidations,
    /// rebalances and restored margin calls.
    PriceCallPrice,
    /// Drawdown of the time-weighted wealth index.
    Drawdown,
    /// Leverage (position value / equity) against the target.
    Leverage,
    /// Cushion in percent of equity, over the SAFE/CAUTION/WARNING/CRITICAL bands.
    Cushion,
    /// Monthly returns in percent, a year per row.
    MonthlyHeatmap,
    /// Rolling 126-trading-day volatility, annualised.
    RollingVolatility,
    /// Rolling 126-trading-day Sharpe ratio, annualised.
    RollingSharpe,
    /// Return of each round in percent, coloured by gain, loss or margin call.
    Rounds,
}

/// How the margin loan's rate is set.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum InterestModelKind {
    /// Daily effective fed funds (DFF, forward-filled) plus `spreadPct`.
    FedFundsPlus,
    /// 3-month T-bill (DTB3, forward-filled) plus `spreadPct`.
    TbillPlus,
    /// A fixed `ratePct` for the whole run.
    Fixed,
}

/// Where a backtest session is in its life.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::services::backtests::SessionStatus")]
pub enum BacktestStatus {
    /// Accepted, waiting to start.
    Pending,
    /// Computing.
    Running,
    /// Finished; the result is available.
    Completed,
    /// Failed; `errorMessage` says why.
    Error,
    /// Cancelled before it finished.
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
