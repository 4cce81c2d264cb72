//! The daily columns a result has, listed once: the GraphQL `DailyColumn` enum (derived here
//! so that the GraphQL field, the CSV export and the cost analysis share one table), each
//! column's name in the stored JSON (also the CSV header) and its values in the engine's
//! table.

use async_graphql::Enum;
use engine::backtest::{Daily, Status};

/// Declares [`DailyColumn`] from one table of `Variant => field "jsonKey"` rows: the GraphQL
/// enum (variants in table order), [`DailyColumn::ALL`], [`DailyColumn::json_key`] and
/// [`DailyColumn::cells`], so a column is added or renamed in one place.
macro_rules! daily_columns {
    ($($variant:ident => $field:ident $key:literal,)+) => {
        /// Daily columns a chart or an export can ask for.
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum DailyColumn {
            $($variant,)+
        }

        impl DailyColumn {
            /// Every column, in the enum's order.
            pub const ALL: &[DailyColumn] = &[$(DailyColumn::$variant,)+];

            /// The key of the column in the stored JSON (and the header of a CSV export).
            pub fn json_key(self) -> &'static str {
                match self {
                    $(DailyColumn::$variant => $key,)+
                }
            }

            /// The column's values in `daily`, as the engine holds them.
            pub fn cells(self, daily: &Daily) -> Cells<'_> {
                match self {
                    $(DailyColumn::$variant => Cells::from(&daily.$field[..]),)+
                }
            }
        }
    };
}

daily_columns! {
    Price => price "price",
    Status => status "status",
    InPosition => in_position "inPosition",
    WaitDaysRemaining => wait_days_remaining "waitDaysRemaining",
    Round => round "round",
    DaysInPosition => days_in_position "daysInPosition",
    FedFundsRate => fed_funds_rate "fedFundsRate",
    MarginRate => margin_rate "marginRate",
    Shares => shares "shares",
    PositionValue => position_value "positionValue",
    Loan => loan "loan",
    Equity => equity "equity",
    Wealth => wealth "wealth",
    Contributed => contributed "contributed",
    Flow => flow "flow",
    MaintenanceRequired => maintenance_required "maintenanceRequired",
    Cushion => cushion "cushion",
    CushionPct => cushion_pct "cushionPct",
    MarginCallPrice => margin_call_price "marginCallPrice",
    Leverage => leverage "leverage",
    DailyInterest => daily_interest "dailyInterest",
    CumulativeInterest => cumulative_interest "cumulativeInterest",
    Dividend => dividend "dividend",
    CumulativeDividends => cumulative_dividends "cumulativeDividends",
    TransactionCost => transaction_cost "transactionCost",
    DailyReturn => daily_return "dailyReturn",
    Drawdown => drawdown "drawdown",
}

/// One daily column of the engine's table, borrowed, by the kind of its values.
#[derive(Clone, Copy, Debug)]
pub enum Cells<'a> {
    Numbers(&'a [f64]),
    /// Null where the value does not exist (cushion and leverage out of position).
    Optional(&'a [Option<f64>]),
    Counts(&'a [u32]),
    Flags(&'a [bool]),
    Statuses(&'a [Status]),
}

impl<'a> From<&'a [f64]> for Cells<'a> {
    fn from(values: &'a [f64]) -> Self {
        Cells::Numbers(values)
    }
}

impl<'a> From<&'a [Option<f64>]> for Cells<'a> {
    fn from(values: &'a [Option<f64>]) -> Self {
        Cells::Optional(values)
    }
}

impl<'a> From<&'a [u32]> for Cells<'a> {
    fn from(values: &'a [u32]) -> Self {
        Cells::Counts(values)
    }
}

impl<'a> From<&'a [bool]> for Cells<'a> {
    fn from(values: &'a [bool]) -> Self {
        Cells::Flags(values)
    }
}

impl<'a> From<&'a [Status]> for Cells<'a> {
    fn from(values: &'a [Status]) -> Self {
        Cells::Statuses(values)
    }
}
