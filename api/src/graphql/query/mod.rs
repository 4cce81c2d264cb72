mod accounts;
mod margin;
mod market;

pub(crate) use margin::margin_caller;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    market::MarketQuery,
    accounts::AccountsQuery,
    margin::MarginQuery,
);
