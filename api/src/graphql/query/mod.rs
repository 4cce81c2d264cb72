mod accounts;
mod margin;
mod market;
pub(crate) mod node;
mod risk;
mod sweep;

use async_graphql::MergedObject;

/// The root query type, named `Query` as GraphQL clients expect.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    node::NodeQuery,
    market::MarketQuery,
    accounts::AccountsQuery,
    margin::MarginQuery,
    market::MarketSeriesQuery,
    risk::RiskQuery,
    sweep::SweepQuery,
);
