//! Scalars named as the API contract says: `Date` is an ISO calendar date (YYYY-MM-DD) and
//! `UUID` an RFC 9562 UUID, each with `@specifiedBy` pointing at its specification
//! (`DateTime` is async-graphql's, already specified by RFC 3339).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar date, `YYYY-MM-DD` (RFC 3339 `full-date`), e.g. `2024-01-02`. Dates are
/// trading days of the dataset where a field says so.
#[Scalar(
    name = "Date",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uuid(pub uuid::Uuid);

/// A UUID in its hyphenated text form (RFC 9562), e.g.
/// `3f8e2c1a-6b0d-4e52-9c1e-0a6f4d2b7e90`: the `sessionId` and `resultId` callers keep.
/// Arguments that name a session or a result take an `ID!` (the UUID or the global id).
#[Scalar(
    name = "UUID",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc9562"
)]
impl ScalarType for Uuid {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => uuid::Uuid::parse_str(text)
                .map(Uuid)
                .map_err(|_| InputValueError::custom(format!("expected a UUID, got {text:?}"))),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

impl From<uuid::Uuid> for Uuid {
    fn from(id: uuid::Uuid) -> Self {
        Self(id)
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
