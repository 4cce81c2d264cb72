//! The daily rows of a result, column by column, sampled for charts.

use std::sync::Arc;

use async_graphql::{Enum, SimpleObject};
use engine::backtest::BacktestResult;

use crate::{
    error::{ApiError, ApiResult},
    graphql::types::{margin_enums::DayStatus, scalars::Date},
};

/// Declares [`DailyColumn`] from one table of `Variant => "jsonKey"` rows: the GraphQL enum
/// (variants in table order), [`DailyColumn::ALL`] and [`DailyColumn::json_key`], so a column
/// is added or renamed in one place.
macro_rules! daily_columns {
    ($($variant:ident => $key:literal,)+) => {
        /// Daily columns a chart can ask for.
        #[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum DailyColumn {
            $($variant,)+
        }

        impl DailyColumn {
            /// Every column, in the enum's order.
            pub const ALL: &[DailyColumn] = &[$(DailyColumn::$variant,)+];

            /// The key of the column in the stored JSON.
            pub fn json_key(self) -> &'static str {
                match self {
                    $(DailyColumn::$variant => $key,)+
                }
            }
        }
    };
}

daily_columns! {
    Price => "price",
    Status => "status",
    InPosition => "inPosition",
    WaitDaysRemaining => "waitDaysRemaining",
    Round => "round",
    DaysInPosition => "daysInPosition",
    FedFundsRate => "fedFundsRate",
    MarginRate => "marginRate",
    Shares => "shares",
    PositionValue => "positionValue",
    Loan => "loan",
    Equity => "equity",
    Wealth => "wealth",
    Contributed => "contributed",
    Flow => "flow",
    MaintenanceRequired => "maintenanceRequired",
    Cushion => "cushion",
    CushionPct => "cushionPct",
    MarginCallPrice => "marginCallPrice",
    Leverage => "leverage",
    DailyInterest => "dailyInterest",
    CumulativeInterest => "cumulativeInterest",
    Dividend => "dividend",
    CumulativeDividends => "cumulativeDividends",
    TransactionCost => "transactionCost",
    DailyReturn => "dailyReturn",
    Drawdown => "drawdown",
}

/// One daily column: numbers (money in cents, ratios to 8 significant digits, exactly as
/// stored), or statuses, or flags, by the column's kind.
#[derive(SimpleObject, Clone, Debug)]
pub struct DailyColumnValues {
    pub column: DailyColumn,
    pub numbers: Option<Vec<Option<f64>>>,
    pub statuses: Option<Vec<DayStatus>>,
    pub flags: Option<Vec<bool>>,
}

/// Daily rows, column by column, sampled every `every` rows (the last row always included).
#[derive(SimpleObject, Clone, Debug)]
pub struct DailySeries {
    /// Trading days in the whole run.
    pub total_rows: i32,
    pub every: i32,
    pub dates: Vec<Date>,
    pub columns: Vec<DailyColumnValues>,
}

fn sample_indices(len: usize, every: usize) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    let mut idx: Vec<usize> = (0..len).step_by(every.max(1)).collect();
    if idx.last() != Some(&(len - 1)) {
        idx.push(len - 1);
    }
    idx
}

/// The `daily` field: `columns` None is every column; `every` keeps one row in `every`
/// (1–1000; the last row is always kept). Built on the blocking pool (a long run has many
/// rows).
pub(super) async fn daily(
    result: Arc<BacktestResult>,
    columns: Option<Vec<DailyColumn>>,
    every: Option<i32>,
) -> ApiResult<DailySeries> {
    let every = every.unwrap_or(1);
    if !(1..=1000).contains(&every) {
        return Err(ApiError::input("every", "must be between 1 and 1000"));
    }
    let columns = columns.unwrap_or_else(|| DailyColumn::ALL.to_vec());
    let step = usize::try_from(every).unwrap_or(1);
    let series = tokio::task::spawn_blocking(move || daily_series(&result, &columns, step))
        .await
        .map_err(ApiError::internal)?;
    Ok(DailySeries { every, ..series })
}

fn daily_series(result: &BacktestResult, columns: &[DailyColumn], every: usize) -> DailySeries {
    let daily = &result.daily;
    let idx = sample_indices(daily.len(), every);
    // The stored JSON form rounds each column; serving the same rounding whatever layer
    // the result came from keeps cold and cached answers identical.
    let json = serde_json::to_value(daily).unwrap_or_default();
    let mut out = Vec::with_capacity(columns.len());
    for &column in columns {
        if out.iter().any(|c: &DailyColumnValues| c.column == column) {
            continue;
        }
        let mut values = DailyColumnValues {
            column,
            numbers: None,
            statuses: None,
            flags: None,
        };
        match column {
            DailyColumn::Status => {
                values.statuses = Some(idx.iter().map(|&i| daily.status[i].into()).collect());
            }
            DailyColumn::InPosition => {
                values.flags = Some(idx.iter().map(|&i| daily.in_position[i]).collect());
            }
            other => {
                let array = json.get(other.json_key()).and_then(|v| v.as_array());
                values.numbers = Some(
                    idx.iter()
                        .map(|&i| {
                            array
                                .and_then(|a| a.get(i))
                                .and_then(serde_json::Value::as_f64)
                        })
                        .collect(),
                );
            }
        }
        out.push(values);
    }
    DailySeries {
        total_rows: i32::try_from(daily.len()).unwrap_or(i32::MAX),
        every: 1,
        dates: idx.iter().map(|&i| Date(daily.date[i])).collect(),
        columns: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_keeps_the_first_every_nth_and_the_last_row() {
        assert_eq!(sample_indices(0, 3), Vec::<usize>::new());
        assert_eq!(sample_indices(1, 3), vec![0]);
        assert_eq!(sample_indices(7, 3), vec![0, 3, 6]);
        assert_eq!(sample_indices(8, 3), vec![0, 3, 6, 7]);
        assert_eq!(sample_indices(3, 0), vec![0, 1, 2]);
    }

    #[test]
    fn every_column_is_listed_once_with_its_own_key() {
        assert_eq!(DailyColumn::ALL.len(), 27);
        let keys: std::collections::HashSet<_> =
            DailyColumn::ALL.iter().map(|c| c.json_key()).collect();
        assert_eq!(keys.len(), DailyColumn::ALL.len());
        assert_eq!(DailyColumn::ALL[0], DailyColumn::Price);
        assert_eq!(DailyColumn::Drawdown.json_key(), "drawdown");
    }
}
