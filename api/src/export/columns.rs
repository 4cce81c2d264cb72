//! The daily columns a result has, listed once: the GraphQL `DailyColumn` enum (derived here
//! so that the GraphQL field, the CSV export and the cost analysis share one table), each
//! column's name in the stored JSON (also the CSV header) and its values in the engine's
//! table.

use async_graphql::Enum;
use engine::backtest::{Daily, Status};

/// Declares [`DailyColumn`] from one table of `Variant => field "jsonKey"` rows: the GraphQL
/// enum (variants in table order), [`DailyColumn::ALL`], [`DailyColumn::json_key`] and
/// [`DailyColumn::cells`], so a column is added or renamed in one place. Doc comments on a row
/// become the enum value's description.
macro_rules! daily_columns {
    ($($(#[$meta:meta])* $variant:ident => $field:ident $key:literal,)+) => {
        /// A column of a result's daily table (one value per trading day) that `daily` or a
        /// daily CSV export can ask for.
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum DailyColumn {
            $($(#[$meta])* $variant,)+
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
    /// Close of the day in US dollars per share: split-adjusted, not dividend-adjusted.
    Price => price "price",
    /// What the position did that day (`statuses`).
    Status => status "status",
    /// Whether a position was held at the day's close (`flags`).
    InPosition => in_position "inPosition",
    /// Waiting days still to sit out after this day before re-entry; 0 when not waiting.
    WaitDaysRemaining => wait_days_remaining "waitDaysRemaining",
    /// Number of the current or last round (1 for the first entry); 0 before any entry.
    Round => round "round",
    /// Trading days since the round's entry (0 on the entry day and when out of position).
    DaysInPosition => days_in_position "daysInPosition",
    /// Effective federal funds rate of the day, forward-filled: percent per year.
    FedFundsRate => fed_funds_rate "fedFundsRate",
    /// Margin-loan rate of the day from the interest model (never below 0): percent per year.
    /// The next day's interest accrues at this rate.
    MarginRate => margin_rate "marginRate",
    /// Shares held at the close (fractional; dividends reinvested); 0 when out of position.
    Shares => shares "shares",
    /// Shares × close, US dollars; 0 when out of position.
    PositionValue => position_value "positionValue",
    /// Margin loan including accrued interest, US dollars; 0 when out of position.
    Loan => loan "loan",
    /// Position value minus loan, US dollars; out of position, the cash held (0 in
    /// FRESH_CAPITAL after a liquidation, whose proceeds are banked).
    Equity => equity "equity",
    /// Equity plus what earlier FRESH_CAPITAL rounds banked (equity in the other modes), US
    /// dollars; the daily returns are measured on it.
    Wealth => wealth "wealth",
    /// Capital put in so far, US dollars: `initialInvestment`, plus another `initialInvestment`
    /// at each FRESH_CAPITAL re-entry.
    Contributed => contributed "contributed",
    /// Deposit made that day, US dollars: a FRESH_CAPITAL re-entry's fresh capital, else 0 (the
    /// first deposit is not a flow).
    Flow => flow "flow",
    /// Maintenance margin `m × position value`, US dollars (0 when out of position).
    MaintenanceRequired => maintenance_required "maintenanceRequired",
    /// Equity above the maintenance requirement, US dollars; null when out of position.
    Cushion => cushion "cushion",
    /// Cushion as percent of equity (50 = half the equity); null when out of position or
    /// equity is not positive.
    CushionPct => cushion_pct "cushionPct",
    /// Close at which equity would equal maintenance, `loan / (shares × (1 − m))`, US dollars
    /// per share; null when out of position.
    MarginCallPrice => margin_call_price "marginCallPrice",
    /// Position value / equity (2 = 2×); null when out of position or equity is not positive.
    Leverage => leverage "leverage",
    /// Interest added to the loan that day (calendar days since the previous row), US dollars.
    DailyInterest => daily_interest "dailyInterest",
    /// Interest charged since the start of the run, US dollars.
    CumulativeInterest => cumulative_interest "cumulativeInterest",
    /// Cash dividend received that day and reinvested at the close (shares × dividend per
    /// share), US dollars.
    Dividend => dividend "dividend",
    /// Dividends received since the start of the run, US dollars.
    CumulativeDividends => cumulative_dividends "cumulativeDividends",
    /// Transaction cost of that day's PROFIT_THRESHOLD rebalance, US dollars (0 otherwise).
    TransactionCost => transaction_cost "transactionCost",
    /// Time-weighted return of the day, net of that day's flow: a fraction (0.01 = 1 %); 0 on
    /// the first day.
    DailyReturn => daily_return "dailyReturn",
    /// Wealth index below its running peak (the start counts as a peak): a fraction ≤ 0
    /// (−0.25 = 25 % below the peak).
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
