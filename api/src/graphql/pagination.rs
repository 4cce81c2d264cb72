//! Relay connections over the services' pages (`crate::services::pagination`): one edge per
//! row with that row's cursor, `hasNextPage`/`hasPreviousPage` from the page (forward or
//! backward), and `totalCount`, counted only when a client asks for it.

use async_graphql::{
    Object, OutputType,
    connection::{Connection, Edge},
};

use crate::{
    error::ApiResult,
    services::pagination::{Cursor, Page, TotalCount},
};

/// A connection of `N` with `totalCount`.
pub(crate) type Listing<N> = Connection<String, N, ListingFields>;

/// The fields a connection has beside its edges.
pub(crate) struct ListingFields(pub(crate) TotalCount);

#[Object]
impl ListingFields {
    /// Every item of the listing with its filters, over all pages (one count query, run only
    /// when asked for).
    async fn total_count(&self) -> ApiResult<u64> {
        (self.0)().await
    }
}

/// The connection of `page`: `cursor_of` gives each row's cursor (under the ordering the page
/// was read in), `node_of` its GraphQL node.
pub(crate) fn connection<R, N>(
    page: Page<R>,
    cursor_of: impl Fn(&R) -> Cursor,
    node_of: impl Fn(R) -> N,
) -> Listing<N>
where
    N: OutputType,
{
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ListingFields(page.total),
    );
    connection.edges.extend(
        page.items
            .into_iter()
            .map(|row| Edge::new(cursor_of(&row).encode(), node_of(row))),
    );
    connection
}
