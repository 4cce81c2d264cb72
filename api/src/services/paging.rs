//! Keyset pagination shared by the margin listings: a page is at most `first` rows after a
//! cursor; the cursor is opaque to clients (base64url of the sort key and the row id).

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_FIRST: i32 = 20;
pub const MAX_FIRST: i32 = 100;

#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next_page: bool,
}

impl<T> Page<T> {
    /// From up to `first + 1` rows fetched.
    pub fn from_rows(mut rows: Vec<T>, first: u64) -> Self {
        let first = usize::try_from(first).unwrap_or(usize::MAX);
        let has_next_page = rows.len() > first;
        rows.truncate(first);
        Self {
            items: rows,
            has_next_page,
        }
    }
}

/// `first` checked against 1..=100 (BAD_USER_INPUT on `first` otherwise).
pub fn first(first: Option<i32>) -> ApiResult<u64> {
    let first = first.unwrap_or(DEFAULT_FIRST);
    if !(1..=MAX_FIRST).contains(&first) {
        return Err(ApiError::input(
            "first",
            format!("must be between 1 and {MAX_FIRST} (got {first})"),
        ));
    }
    Ok(u64::try_from(first).unwrap_or(20))
}

/// A cursor: the sort key's text (may be empty) and the row id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: String,
    pub id: i64,
}

impl Cursor {
    pub fn id(id: i64) -> Self {
        Self {
            key: String::new(),
            id,
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}:{}", self.id, self.key))
    }

    pub fn decode(text: &str) -> ApiResult<Self> {
        let invalid = || ApiError::input("after", "not a valid cursor");
        if text.len() > 1024 {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let (id, key) = text.split_once(':').ok_or_else(invalid)?;
        Ok(Self {
            key: key.to_string(),
            id: id.parse().map_err(|_| invalid())?,
        })
    }
}

pub fn after(after: Option<&str>) -> ApiResult<Option<Cursor>> {
    after.map(Cursor::decode).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_first_is_bounded() {
        let c = Cursor {
            key: "name: with colon".into(),
            id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert_eq!(Cursor::decode("!!").unwrap_err().code(), "BAD_USER_INPUT");
        assert!(first(Some(0)).is_err());
        assert!(first(Some(101)).is_err());
        assert_eq!(first(None).unwrap(), 20);
    }
}
