mod accounts;
mod margin;
mod market;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    market::MarketQuery,
    accounts::AccountsQuery,
    margin::MarginQuery,
    market::MarketSeriesQuery,
);
