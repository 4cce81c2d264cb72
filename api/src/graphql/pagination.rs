//! Relay connections over the services' pages (`crate::services::pagination`): one edge per
//! row with that row's cursor, `hasNextPage` from the page, and `hasPreviousPage` when the
//! page starts after a cursor.

use async_graphql::{
    OutputType,
    connection::{Connection, Edge},
};

use crate::services::pagination::{Cursor, Page, PageRequest};

/// The connection of `page`, which answered `request`: `cursor_of` gives each row's cursor
/// (under the ordering the page was read in), `node_of` its GraphQL node.
pub(crate) fn connection<R, N>(
    request: &PageRequest,
    page: Page<R>,
    cursor_of: impl Fn(&R) -> Cursor,
    node_of: impl Fn(R) -> N,
) -> Connection<String, N>
where
    N: OutputType,
{
    let mut connection = Connection::new(request.after.is_some(), page.has_next_page);
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|row| Edge::new(cursor_of(&row).encode(), node_of(row))),
    );
    connection
}
