use crate::graphql::app_state;
use async_graphql::{Context, Object};

use crate::{
    graphql::types::market::{Ticker, VersionInfo},
    services,
};

#[derive(Default)]
pub struct MarketQuery;

#[Object]
impl MarketQuery {
    /// Every dataset in the data directory, by symbol.
    async fn tickers(&self, ctx: &Context<'_>) -> Vec<Ticker> {
        let state = app_state(ctx);
        services::market::tickers(&state.market)
            .into_iter()
            .map(|t| Ticker {
                symbol: t.symbol,
                name: t.name,
                first_date: t.first_date.into(),
                last_date: t.last_date.into(),
                last_close: t.last_close,
                rows: i32::try_from(t.rows).unwrap_or(i32::MAX),
            })
            .collect()
    }

    async fn version(&self) -> VersionInfo {
        VersionInfo {
            service: crate::SERVICE_VERSION.to_string(),
            engine: engine::ENGINE_VERSION.to_string(),
        }
    }
}
