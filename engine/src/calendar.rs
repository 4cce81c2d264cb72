//! Calendar helpers for walking a run's dates.

use chrono::{Datelike, NaiveDate};

/// `(year, month0)` of dates visited in (mostly) increasing order, with two date comparisons
/// per call instead of a calendar conversion (chrono stores a date as year and day of year, so
/// the month needs a table lookup).
pub(crate) struct MonthCursor {
    /// First day of the current month and of the next one.
    start: NaiveDate,
    next: NaiveDate,
    year: i32,
    month0: u32,
}

impl MonthCursor {
    pub(crate) fn new() -> MonthCursor {
        MonthCursor {
            start: NaiveDate::MAX,
            next: NaiveDate::MIN,
            year: 0,
            month0: 0,
        }
    }

    /// Moves to `d`; true when its month differs from the previous date's.
    #[inline]
    pub(crate) fn advance(&mut self, d: NaiveDate) -> bool {
        let moved = d >= self.next || d < self.start;
        if moved {
            self.enter(d);
        }
        moved
    }

    pub(crate) fn year(&self) -> i32 {
        self.year
    }

    pub(crate) fn month0(&self) -> u32 {
        self.month0
    }

    /// Moves to the month of `d` (once per month of a run).
    #[cold]
    fn enter(&mut self, d: NaiveDate) {
        self.year = d.year();
        self.month0 = d.month0();
        self.start = d.with_day(1).unwrap_or(d);
        self.next = if self.month0 == 11 {
            NaiveDate::from_ymd_opt(self.year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, self.month0 + 2, 1)
        }
        .unwrap_or(NaiveDate::MAX);
    }
}
