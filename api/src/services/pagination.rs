//! Keyset pagination, for every listing: a page is at most `first` rows after a cursor (or
//! `last` rows before one, read backwards and turned round), in an order that ends with the
//! row id. The id is unique, so the order is total and a cursor
//! names one place in it: pages that follow each other neither repeat nor skip a row, even
//! while rows are added or removed elsewhere in the list (an offset would shift).
//!
//! A cursor is opaque to clients: base64url, without padding, of a small JSON object holding
//! the last row's id and, for an ordering by another column first, that column's value.

use std::sync::Arc;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use futures_util::future::BoxFuture;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, Order, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, sea_query::SimpleExpr,
};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

pub const DEFAULT_FIRST: i32 = 20;
pub const MAX_FIRST: i32 = 100;

/// Longer than any cursor the server hands out (a 255-character name whose lower case is
/// longer still), short enough that decoding one costs nothing.
const MAX_CURSOR_CHARS: usize = 4096;

/// The place in a listing a page starts after: the last row's id and its sort key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cursor {
    pub id: i64,
    /// The value of the column the ordering sorts by before the id; None when it sorts by the
    /// id alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl Cursor {
    pub fn id(id: i64) -> Self {
        Self { id, key: None }
    }

    pub fn encode(&self) -> String {
        // An integer and a string always serialise; were it ever not so, the empty cursor
        // this gives would only be refused when sent back.
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// BAD_USER_INPUT on `after` for anything [`Cursor::encode`] did not make.
    pub fn decode(text: &str) -> ApiResult<Self> {
        Self::decode_as(text, "after")
    }

    /// As [`Cursor::decode`], naming `field` (`after` or `before`) in the error.
    fn decode_as(text: &str, field: &'static str) -> ApiResult<Self> {
        let invalid = || ApiError::input(field, "not a valid cursor");
        if text.len() > MAX_CURSOR_CHARS {
            return Err(invalid());
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| invalid())?;
        serde_json::from_slice(&bytes).map_err(|_| invalid())
    }
}

/// What a listing is asked for: at most `first` rows after the cursor `after` when set; or,
/// `backward`, the `first` rows just before it (`last`/`before` in GraphQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<Cursor>,
    pub backward: bool,
}

/// A page size in 1..=100 (default 20), or BAD_USER_INPUT on `field`.
fn page_size(size: Option<i32>, field: &'static str) -> ApiResult<u64> {
    let size = size.unwrap_or(DEFAULT_FIRST);
    u64::try_from(size)
        .ok()
        .filter(|_| (1..=MAX_FIRST).contains(&size))
        .ok_or_else(|| {
            ApiError::input(
                field,
                format!("must be between 1 and {MAX_FIRST} (got {size})"),
            )
        })
}

impl PageRequest {
    /// `first` in 1..=100 (default 20) and a cursor made by [`Cursor::encode`];
    /// BAD_USER_INPUT naming the argument otherwise.
    pub fn new(first: Option<i32>, after: Option<&str>) -> ApiResult<Self> {
        Ok(Self {
            first: page_size(first, "first")?,
            after: after.map(|a| Cursor::decode_as(a, "after")).transpose()?,
            backward: false,
        })
    }

    /// Forward (`first`, `after`) or backward (`last`, `before`) paging, with the same limits;
    /// asking for both directions at once is BAD_USER_INPUT.
    pub fn either(
        first: Option<i32>,
        after: Option<&str>,
        last: Option<i32>,
        before: Option<&str>,
    ) -> ApiResult<Self> {
        if last.is_none() && before.is_none() {
            return Self::new(first, after);
        }
        if first.is_some() || after.is_some() {
            return Err(ApiError::input(
                "last",
                "page forward (first, after) or backward (last, before), not both",
            ));
        }
        Ok(Self {
            first: page_size(last, "last")?,
            after: before.map(|b| Cursor::decode_as(b, "before")).transpose()?,
            backward: true,
        })
    }
}

/// Counts every row of a listing (its filters, not its page), when asked: `totalCount`.
pub type TotalCount = Arc<dyn Fn() -> BoxFuture<'static, ApiResult<u64>> + Send + Sync>;

/// The [`TotalCount`] of `query` (filtered, before any cursor or order).
pub fn total_count<E>(db: &DatabaseConnection, query: Select<E>) -> TotalCount
where
    E: EntityTrait,
    E::Model: Sync,
{
    let db = db.clone();
    Arc::new(move || {
        let (db, query) = (db.clone(), query.clone());
        Box::pin(async move { Ok(query.count(&db).await?) })
    })
}

#[derive(Clone)]
pub struct Page<T> {
    /// In the listing's order, whichever way the page was read.
    pub items: Vec<T>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub total: TotalCount,
}

impl<T: std::fmt::Debug> std::fmt::Debug for Page<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("items", &self.items)
            .field("has_next_page", &self.has_next_page)
            .field("has_previous_page", &self.has_previous_page)
            .finish_non_exhaustive()
    }
}

impl<T> Page<T> {
    /// From the up to `first + 1` rows a [`Keyset::select`] query returns for `request`: the
    /// extra row only says that another page follows (or, backward, precedes).
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, total: TotalCount) -> Self {
        let first = usize::try_from(request.first).unwrap_or(usize::MAX);
        let more = rows.len() > first;
        rows.truncate(first);
        let from_cursor = request.after.is_some();
        if request.backward {
            rows.reverse();
        }
        Self {
            items: rows,
            has_next_page: if request.backward { from_cursor } else { more },
            has_previous_page: if request.backward { more } else { from_cursor },
            total,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ascending,
    Descending,
}

/// A keyset ordering of one table: by `key` when set, then by `id`, both in `direction`.
#[derive(Debug, Clone, Copy)]
pub struct Keyset<C> {
    pub key: Option<C>,
    pub id: C,
    pub direction: Direction,
}

impl<C: ColumnTrait> Keyset<C> {
    /// By id alone, newest (highest) first.
    pub fn newest_first(id: C) -> Self {
        Self {
            key: None,
            id,
            direction: Direction::Descending,
        }
    }

    /// `query` restricted to the rows after the page's cursor, in this order, with one row
    /// more than the page so that [`Page::from_rows`] can tell whether another page follows.
    /// A cursor without the key this ordering sorts by is BAD_USER_INPUT on `after`.
    pub fn select<E>(&self, mut query: Select<E>, page: &PageRequest) -> ApiResult<Select<E>>
    where
        E: EntityTrait<Column = C>,
    {
        // Backward, the rows before the cursor are the rows after it in the reversed order.
        let keyset = if page.backward {
            self.reversed()
        } else {
            *self
        };
        if let Some(after) = &page.after {
            query = query.filter(keyset.after(after, page.backward)?);
        }
        let order = match keyset.direction {
            Direction::Ascending => Order::Asc,
            Direction::Descending => Order::Desc,
        };
        if let Some(key) = keyset.key {
            query = query.order_by(key, order.clone());
        }
        Ok(query
            .order_by(keyset.id, order)
            .limit(page.first.saturating_add(1)))
    }

    fn reversed(&self) -> Self {
        Self {
            direction: match self.direction {
                Direction::Ascending => Direction::Descending,
                Direction::Descending => Direction::Ascending,
            },
            ..*self
        }
    }

    /// The rows that come after `cursor`: (key, id) beyond the cursor's, compared as a pair.
    fn after(&self, cursor: &Cursor, backward: bool) -> ApiResult<Condition> {
        let beyond = |column: C, value: sea_orm::Value| -> SimpleExpr {
            match self.direction {
                Direction::Ascending => column.gt(value),
                Direction::Descending => column.lt(value),
            }
        };
        let past_id = beyond(self.id, cursor.id.into());
        let Some(key) = self.key else {
            // The id alone places a row; a key the cursor carries from another ordering is
            // not needed here.
            return Ok(Condition::all().add(past_id));
        };
        let value = cursor.key.clone().ok_or_else(|| {
            let field = if backward { "before" } else { "after" };
            ApiError::input(field, "not a cursor of this ordering")
        })?;
        Ok(Condition::any()
            .add(beyond(key, value.clone().into()))
            .add(Condition::all().add(key.eq(value)).add(past_id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused_on(result: ApiResult<PageRequest>) -> (String, String) {
        match result {
            Err(ApiError::BadUserInput { field, .. }) => ("BAD_USER_INPUT".into(), field),
            Err(other) => (other.code().into(), String::new()),
            Ok(page) => panic!("accepted: {page:?}"),
        }
    }

    #[test]
    fn cursors_round_trip() {
        for cursor in [
            Cursor::id(42),
            Cursor::id(i64::MAX),
            Cursor {
                id: 7,
                key: Some("name: with \"quotes\", colons and ünïcode".into()),
            },
            Cursor {
                id: 1,
                key: Some(String::new()),
            },
        ] {
            let text = cursor.encode();
            assert!(
                text.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                "{text}"
            );
            assert_eq!(Cursor::decode(&text).unwrap(), cursor);
            let page = PageRequest::new(Some(5), Some(&text)).unwrap();
            assert_eq!(page.after, Some(cursor));
        }
    }

    #[test]
    fn the_cursor_of_the_longest_name_is_accepted() {
        // 'İ' lower-cases to two characters of three bytes in all.
        let key = "İ".repeat(255).to_lowercase();
        let cursor = Cursor {
            id: i64::MAX,
            key: Some(key),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn bad_cursors_are_refused_on_after() {
        let b64 = |text: &str| URL_SAFE_NO_PAD.encode(text);
        for bad in [
            "!!!".to_string(),
            "not a cursor".into(),
            "'; DROP TABLE x; --".into(),
            String::new(),
            "a".repeat(MAX_CURSOR_CHARS + 1),
            b64("x"),
            b64("99999999999999999999:"),
            b64("42:name"),
            b64("id:42"),
            b64(r#"{"id":99999999999999999999}"#),
            b64(r#"{"id":"42"}"#),
            b64(r#"{"key":"a"}"#),
            b64(r#"{"id":1,"key":"a","extra":1}"#),
            b64(&format!(r#"{{"id":1,"key":"{}"}}"#, "a".repeat(4000))),
        ] {
            assert_eq!(
                refused_on(PageRequest::new(None, Some(&bad))),
                ("BAD_USER_INPUT".into(), "after".into()),
                "{bad}"
            );
        }
    }

    #[test]
    fn first_is_bounded() {
        assert_eq!(PageRequest::new(None, None).unwrap().first, 20);
        assert_eq!(PageRequest::new(Some(1), None).unwrap().first, 1);
        assert_eq!(PageRequest::new(Some(100), None).unwrap().first, 100);
        for bad in [0, -1, 101, i32::MIN, i32::MAX] {
            assert_eq!(
                refused_on(PageRequest::new(Some(bad), None)),
                ("BAD_USER_INPUT".into(), "first".into()),
                "{bad}"
            );
        }
    }

    fn uncounted() -> TotalCount {
        Arc::new(|| Box::pin(async { Ok(0) }))
    }

    #[test]
    fn a_page_keeps_first_rows_and_says_whether_more_follow() {
        let two = PageRequest::new(Some(2), None).unwrap();
        let full = Page::from_rows(vec![1, 2, 3], &two, uncounted());
        assert_eq!(full.items, vec![1, 2]);
        assert!(full.has_next_page && !full.has_previous_page);
        let last = Page::from_rows(vec![1, 2], &two, uncounted());
        assert_eq!(last.items, vec![1, 2]);
        assert!(!last.has_next_page);
        // Backward: rows come newest-to-oldest of the reversed order and are turned round.
        let cursor = Cursor::id(9).encode();
        let back = PageRequest::either(None, None, Some(2), Some(&cursor)).unwrap();
        let page = Page::from_rows(vec![3, 2, 1], &back, uncounted());
        assert_eq!(page.items, vec![2, 3]);
        assert!(page.has_previous_page && page.has_next_page);
        let both = PageRequest::either(Some(2), None, Some(2), None);
        assert_eq!(refused_on(both), ("BAD_USER_INPUT".into(), "last".into()));
        let bad = PageRequest::either(None, None, Some(2), Some("x"));
        assert_eq!(refused_on(bad), ("BAD_USER_INPUT".into(), "before".into()));
    }
}
