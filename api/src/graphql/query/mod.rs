mod accounts;
mod market;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct QueryRoot(market::MarketQuery, accounts::AccountsQuery);
