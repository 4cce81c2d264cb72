//! Object ids in arguments. An id is the decimal row id the API hands out; any other text
//! names no object.

use async_graphql::ID;

use crate::error::{ApiError, ApiResult};

/// The row an id names: a positive integer that fits in i64, or none.
fn row_id(id: &ID) -> Option<i64> {
    id.parse::<i64>().ok().filter(|id| *id > 0)
}

/// An id that names no object is NOT_FOUND `what`, exactly like an object that is missing
/// (or belongs to someone else): the answer tells nothing about which ids exist.
pub(crate) fn parse_id(id: &ID, what: &'static str) -> ApiResult<i64> {
    row_id(id).ok_or(ApiError::NotFound(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_decimal_ids_name_a_row() {
        for (text, row) in [
            ("1", Some(1)),
            ("42", Some(42)),
            ("9223372036854775807", Some(i64::MAX)),
        ] {
            assert_eq!(row_id(&ID::from(text)), row, "{text}");
        }
        for text in [
            "",
            "0",
            "-1",
            "x",
            "1e400",
            "1 OR 1=1",
            "9223372036854775808",
            " 1",
        ] {
            let id = ID::from(text);
            assert_eq!(row_id(&id), None, "{text}");
            assert_eq!(
                parse_id(&id, "calculation").unwrap_err().code(),
                "NOT_FOUND"
            );
        }
    }
}
