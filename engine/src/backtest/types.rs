//! Result types of a backtest run. All serialise camelCase; the server stores them as JSON and
//! reads them back, so every type is also `Deserialize`.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::serde_round as sr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Entered,
    Holding,
    Rebalanced,
    Liquidated,
    MarginCallRestored,
    Waiting,
    InsufficientEquity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    Entry,
    Liquidation,
    MarginCallRestored,
    Rebalance,
    InsufficientEquity,
}

impl Status {
    /// The serialised name (`HOLDING`, …), for writers that are not serde (CSV cells).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Entered => "ENTERED",
            Status::Holding => "HOLDING",
            Status::Rebalanced => "REBALANCED",
            Status::Liquidated => "LIQUIDATED",
            Status::MarginCallRestored => "MARGIN_CALL_RESTORED",
            Status::Waiting => "WAITING",
            Status::InsufficientEquity => "INSUFFICIENT_EQUITY",
        }
    }
}

impl EventKind {
    /// The serialised name (`LIQUIDATION`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Entry => "ENTRY",
            EventKind::Liquidation => "LIQUIDATION",
            EventKind::MarginCallRestored => "MARGIN_CALL_RESTORED",
            EventKind::Rebalance => "REBALANCE",
            EventKind::InsufficientEquity => "INSUFFICIENT_EQUITY",
        }
    }
}

/// One row per trading day, stored column by column. Computation uses full precision; the
/// JSON form rounds money to cents, percents to 4 decimals, leverage to 6 and other ratios to 8
/// significant digits, which keeps a 15-year result around 0.8 MB.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Daily {
    pub date: Vec<NaiveDate>,
    #[serde(serialize_with = "sr::ratio")]
    pub price: Vec<f64>,
    pub status: Vec<Status>,
    pub in_position: Vec<bool>,
    pub wait_days_remaining: Vec<u32>,
    pub round: Vec<u32>,
    pub days_in_position: Vec<u32>,
    /// Percent per year.
    #[serde(serialize_with = "sr::ratio")]
    pub fed_funds_rate: Vec<f64>,
    /// Percent per year.
    #[serde(serialize_with = "sr::ratio")]
    pub margin_rate: Vec<f64>,
    #[serde(serialize_with = "sr::ratio")]
    pub shares: Vec<f64>,
    #[serde(serialize_with = "sr::money")]
    pub position_value: Vec<f64>,
    #[serde(serialize_with = "sr::money")]
    pub loan: Vec<f64>,
    #[serde(serialize_with = "sr::money")]
    pub equity: Vec<f64>,
    #[serde(serialize_with = "sr::money")]
    pub wealth: Vec<f64>,
    #[serde(serialize_with = "sr::money")]
    pub contributed: Vec<f64>,
    #[serde(serialize_with = "sr::money")]
    pub flow: Vec<f64>,
    #[serde(serialize_with = "sr::money")]
    pub maintenance_required: Vec<f64>,
    /// `E − m·V`; null when not in position.
    #[serde(serialize_with = "sr::opt_money")]
    pub cushion: Vec<Option<f64>>,
    /// Cushion as percent of equity; null when not in position.
    #[serde(serialize_with = "sr::opt_pct")]
    pub cushion_pct: Vec<Option<f64>>,
    #[serde(serialize_with = "sr::opt_money")]
    pub margin_call_price: Vec<Option<f64>>,
    #[serde(serialize_with = "sr::opt_ratio6")]
    pub leverage: Vec<Option<f64>>,
    #[serde(serialize_with = "sr::money")]
    pub daily_interest: Vec<f64>,
    #[serde(serialize_with = "sr::money")]
    pub cumulative_interest: Vec<f64>,
    /// Cash dividend received that day (shares × dividend per share).
    #[serde(serialize_with = "sr::money")]
    pub dividend: Vec<f64>,
    #[serde(serialize_with = "sr::money")]
    pub cumulative_dividends: Vec<f64>,
    #[serde(serialize_with = "sr::money")]
    pub transaction_cost: Vec<f64>,
    #[serde(serialize_with = "sr::ratio")]
    pub daily_return: Vec<f64>,
    #[serde(serialize_with = "sr::ratio")]
    pub drawdown: Vec<f64>,
}

impl Daily {
    pub fn with_capacity(n: usize) -> Daily {
        Daily {
            date: Vec::with_capacity(n),
            price: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            in_position: Vec::with_capacity(n),
            wait_days_remaining: Vec::with_capacity(n),
            round: Vec::with_capacity(n),
            days_in_position: Vec::with_capacity(n),
            fed_funds_rate: Vec::with_capacity(n),
            margin_rate: Vec::with_capacity(n),
            shares: Vec::with_capacity(n),
            position_value: Vec::with_capacity(n),
            loan: Vec::with_capacity(n),
            equity: Vec::with_capacity(n),
            wealth: Vec::with_capacity(n),
            contributed: Vec::with_capacity(n),
            flow: Vec::with_capacity(n),
            maintenance_required: Vec::with_capacity(n),
            cushion: Vec::with_capacity(n),
            cushion_pct: Vec::with_capacity(n),
            margin_call_price: Vec::with_capacity(n),
            leverage: Vec::with_capacity(n),
            daily_interest: Vec::with_capacity(n),
            cumulative_interest: Vec::with_capacity(n),
            dividend: Vec::with_capacity(n),
            cumulative_dividends: Vec::with_capacity(n),
            transaction_cost: Vec::with_capacity(n),
            daily_return: Vec::with_capacity(n),
            drawdown: Vec::with_capacity(n),
        }
    }

    pub fn len(&self) -> usize {
        self.date.len()
    }

    pub fn is_empty(&self) -> bool {
        self.date.is_empty()
    }

    /// Rounds every column in place exactly as its JSON form does (the `serialize_with` of
    /// each field), so a result held in memory reads the same as one read back from storage
    /// and a reader can serve the columns as they are. Each rounding is idempotent: the JSON
    /// of a rounded table is the JSON of the table before.
    pub fn round_as_stored(&mut self) {
        fn each(column: &mut [f64], round: fn(f64) -> f64) {
            column.iter_mut().for_each(|v| *v = round(*v));
        }
        fn each_opt(column: &mut [Option<f64>], round: fn(f64) -> f64) {
            column.iter_mut().flatten().for_each(|v| *v = round(*v));
        }
        let ratio: fn(f64) -> f64 = |v| sr::sig(v, 8);
        let money: fn(f64) -> f64 = sr::cents;
        for column in [
            &mut self.price,
            &mut self.fed_funds_rate,
            &mut self.margin_rate,
            &mut self.shares,
            &mut self.daily_return,
            &mut self.drawdown,
        ] {
            each(column, ratio);
        }
        for column in [
            &mut self.position_value,
            &mut self.loan,
            &mut self.equity,
            &mut self.wealth,
            &mut self.contributed,
            &mut self.flow,
            &mut self.maintenance_required,
            &mut self.daily_interest,
            &mut self.cumulative_interest,
            &mut self.dividend,
            &mut self.cumulative_dividends,
            &mut self.transaction_cost,
        ] {
            each(column, money);
        }
        each_opt(&mut self.cushion, money);
        each_opt(&mut self.margin_call_price, money);
        each_opt(&mut self.cushion_pct, |v| sr::decimals(v, 4));
        each_opt(&mut self.leverage, |v| sr::sig(v, 6));
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Round {
    pub round: u32,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// True when the round is still in position on the last day.
    pub open: bool,
    pub trading_days: u32,
    pub start_price: f64,
    pub end_price: f64,
    pub price_change_pct: f64,
    pub start_position_value: f64,
    pub end_position_value: f64,
    pub start_equity: f64,
    pub end_equity: f64,
    /// Ended by a liquidation.
    pub margin_call: bool,
    /// Equity change over the round in percent (negative = loss).
    pub return_pct: f64,
    pub interest_paid: f64,
    pub dividends: f64,
    /// `min(0, E_liq)`: the negative equity a FULL liquidation left (0 if none).
    pub deficit: f64,
    /// RESTORE partial sales.
    pub margin_calls: u32,
    pub rebalances: u32,
    pub transaction_costs: f64,
}

/// One notable thing that happened. Fields that do not apply to a kind are absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub kind: EventKind,
    pub date: NaiveDate,
    pub round: u32,
    /// Close of the day.
    pub price: f64,
    pub equity: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loan: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_in_position: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_equity: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_pct: Option<f64>,
    /// `m·V − E` before the sale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortfall: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deficit: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_sold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub growth_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leverage_before: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_after: Option<f64>,
}

impl Event {
    pub fn new(kind: EventKind, date: NaiveDate, round: u32, price: f64, equity: f64) -> Event {
        Event {
            kind,
            date,
            round,
            price,
            equity,
            shares: None,
            position_value: None,
            loan: None,
            fill_price: None,
            entry_price: None,
            days_in_position: None,
            entry_equity: None,
            loss_amount: None,
            loss_pct: None,
            shortfall: None,
            deficit: None,
            amount_sold: None,
            growth_pct: None,
            leverage_before: None,
            cost: None,
            value_after: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub percent: f64,
    pub date: NaiveDate,
    pub equity: f64,
    pub event: Option<EventKind>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialised_names() {
        for status in [
            Status::Entered,
            Status::Holding,
            Status::Rebalanced,
            Status::Liquidated,
            Status::MarginCallRestored,
            Status::Waiting,
            Status::InsufficientEquity,
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for kind in [
            EventKind::Entry,
            EventKind::Liquidation,
            EventKind::MarginCallRestored,
            EventKind::Rebalance,
            EventKind::InsufficientEquity,
        ] {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
    }
}
