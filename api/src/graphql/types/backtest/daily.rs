//! The daily rows of a result, column by column, sampled for charts.

use async_graphql::SimpleObject;
use engine::backtest::{BacktestResult, Daily};

pub use crate::export::columns::{Cells, DailyColumn};

use crate::{
    error::{ApiError, ApiResult},
    graphql::types::{column::Column, margin_enums::DayStatus, scalars::Date},
};

/// One daily column: numbers (money in cents, percents to 4 decimals, leverage to 6 and other
/// ratios to 8 significant digits, exactly as stored), or statuses, or flags, by the column's
/// kind.
#[derive(SimpleObject, Clone, Debug)]
pub struct DailyColumnValues {
    /// Which column this is.
    pub column: DailyColumn,
    /// The values of a numeric column, one per entry of `dates` (null where the value does
    /// not exist, e.g. cushion out of position); null for STATUS and IN_POSITION.
    pub numbers: Option<Column<Option<f64>>>,
    /// The values of STATUS, one per entry of `dates`; null for other columns.
    pub statuses: Option<Column<DayStatus>>,
    /// The values of IN_POSITION, one per entry of `dates`; null for other columns.
    pub flags: Option<Column<bool>>,
}

impl DailyColumnValues {
    /// The column's values at the rows `rows`.
    fn at(column: DailyColumn, daily: &Daily, rows: &[usize]) -> Self {
        let mut values = DailyColumnValues {
            column,
            numbers: None,
            statuses: None,
            flags: None,
        };
        match column.cells(daily) {
            Cells::Numbers(v) => values.numbers = Some(rows.iter().map(|&i| Some(v[i])).collect()),
            Cells::Optional(v) => values.numbers = Some(rows.iter().map(|&i| v[i]).collect()),
            Cells::Counts(v) => {
                values.numbers = Some(rows.iter().map(|&i| Some(f64::from(v[i]))).collect());
            }
            Cells::Flags(v) => values.flags = Some(rows.iter().map(|&i| v[i]).collect()),
            Cells::Statuses(v) => {
                values.statuses = Some(rows.iter().map(|&i| v[i].into()).collect());
            }
        }
        values
    }
}

/// Daily rows, column by column, sampled every `every` rows (the last row always included).
#[derive(SimpleObject, Clone, Debug)]
pub struct DailySeries {
    /// Trading days in the whole run.
    pub total_rows: i32,
    /// The step between sampled rows (computed from `points` when that was given).
    pub every: i32,
    /// The trading day of each sampled row.
    pub dates: Column<Date>,
    /// The requested columns in the order asked (each once), aligned with `dates`.
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

/// Largest `points` a request may ask for: more than any series we hold (33 years are about
/// 8,300 rows), small enough that the arithmetic below cannot overflow.
const MAX_POINTS: i32 = 1_000_000;

/// The row step: `every` as given (1–1000), or the smallest step that leaves at most
/// `points` rows (the last row, always kept, may add one); neither means every row.
fn step(rows: usize, every: Option<i32>, points: Option<i32>) -> ApiResult<usize> {
    match (every, points) {
        (Some(_), Some(_)) => Err(ApiError::input(
            "points",
            "give either every or points, not both",
        )),
        (Some(every), None) => {
            if !(1..=1000).contains(&every) {
                return Err(ApiError::input("every", "must be between 1 and 1000"));
            }
            Ok(usize::try_from(every).unwrap_or(1))
        }
        (None, Some(points)) => {
            if !(1..=MAX_POINTS).contains(&points) {
                return Err(ApiError::input(
                    "points",
                    format!("must be between 1 and {MAX_POINTS}"),
                ));
            }
            let points = usize::try_from(points).unwrap_or(1);
            Ok(rows.div_ceil(points).max(1))
        }
        (None, None) => Ok(1),
    }
}

/// The `daily` field: `columns` None is every column, each once. The result's table is
/// already rounded as stored (`Daily::round_as_stored` when the run finished, or the stored
/// JSON it was read from), so the columns are copied as they are, with no JSON detour.
pub(super) fn daily(
    result: &BacktestResult,
    columns: Option<Vec<DailyColumn>>,
    every: Option<i32>,
    points: Option<i32>,
) -> ApiResult<DailySeries> {
    let daily = &result.daily;
    let step = step(daily.len(), every, points)?;
    let rows = sample_indices(daily.len(), step);
    let mut wanted = columns.unwrap_or_else(|| DailyColumn::ALL.to_vec());
    let mut seen = Vec::with_capacity(wanted.len());
    wanted.retain(|c| {
        let first = !seen.contains(c);
        seen.push(*c);
        first
    });
    Ok(DailySeries {
        total_rows: i32::try_from(daily.len()).unwrap_or(i32::MAX),
        every: i32::try_from(step).unwrap_or(i32::MAX),
        dates: rows.iter().map(|&i| Date(daily.date[i])).collect(),
        columns: wanted
            .into_iter()
            .map(|column| DailyColumnValues::at(column, daily, &rows))
            .collect(),
    })
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
    fn points_choose_the_smallest_step_that_fits() {
        assert_eq!(step(8_000, None, None).unwrap(), 1);
        assert_eq!(step(8_000, Some(7), None).unwrap(), 7);
        assert_eq!(step(8_000, None, Some(1_500)).unwrap(), 6);
        assert_eq!(step(8_000, None, Some(8_000)).unwrap(), 1);
        assert_eq!(step(8_000, None, Some(9_000)).unwrap(), 1);
        assert_eq!(step(8_000, None, Some(1)).unwrap(), 8_000);
        assert!(sample_indices(8_000, 6).len() <= 1_500 + 1);
        for (every, points, field) in [
            (Some(0), None, "every"),
            (None, Some(0), "points"),
            (Some(2), Some(10), "points"),
        ] {
            let err = step(100, every, points).unwrap_err();
            assert!(
                matches!(&err, ApiError::BadUserInput { field: f, .. } if f == field),
                "{every:?} {points:?}: {err:?}"
            );
        }
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
