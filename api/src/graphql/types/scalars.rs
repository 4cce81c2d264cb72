//! Scalars named as the API contract says: `Date` is an ISO calendar date (YYYY-MM-DD).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| {
                    InputValueError::custom(format!("expected a date YYYY-MM-DD, got {text:?}"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.iso())
    }
}

impl Date {
    /// YYYY-MM-DD, written digit by digit: a daily table holds thousands of dates, and
    /// chrono's `Display` goes through the formatting machinery for each. Years outside
    /// 0–9999 (which no dataset holds) fall back to `Display`.
    pub fn iso(&self) -> String {
        use chrono::Datelike;
        let (year, month, day) = (self.0.year(), self.0.month(), self.0.day());
        if !(0..=9999).contains(&year) {
            return self.0.to_string();
        }
        let digit = |n: u32| char::from(b'0' + (n % 10) as u8);
        let year = year.unsigned_abs();
        let mut text = String::with_capacity(10);
        text.extend([
            digit(year / 1000),
            digit(year / 100),
            digit(year / 10),
            digit(year),
            '-',
            digit(month / 10),
            digit(month),
            '-',
            digit(day / 10),
            digit(day),
        ]);
        text
    }
}

impl From<NaiveDate> for Date {
    fn from(date: NaiveDate) -> Self {
        Self(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dates_match_chrono() {
        for (y, m, d) in [
            (1993, 1, 29),
            (2025, 12, 31),
            (2000, 2, 29),
            (7, 3, 4),
            (10000, 1, 1),
        ] {
            let day = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(Date(day).iso(), day.to_string());
        }
    }
}
