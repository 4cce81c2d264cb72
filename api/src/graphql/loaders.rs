//! DataLoaders: a list of sessions asking for their results costs one batched lookup (memory,
//! one Redis MGET, one `IN` query on the cache table) instead of one per item. The loaders
//! live in the application state and do not cache between requests (results are immutable,
//! but the cache layers already do that job); they only batch.

use std::{collections::HashMap, sync::Arc};

use async_graphql::dataloader::{DataLoader, Loader};
use engine::backtest::BacktestResult;

use crate::cache::ResultCache;

pub struct ResultLoader {
    cache: ResultCache,
}

impl Loader<String> for ResultLoader {
    type Value = Arc<BacktestResult>;
    type Error = Arc<anyhow::Error>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        Ok(self.cache.get_many(keys).await)
    }
}

#[derive(Clone)]
pub struct Loaders {
    /// Backtest results by cache key.
    pub results: Arc<DataLoader<ResultLoader>>,
}

impl Loaders {
    pub fn new(cache: ResultCache) -> Self {
        Self {
            // The keys of one list are all asked for within one poll of its items, so a short
            // wait batches them as well as the default 1 ms, which every single `result`
            // (a dashboard's one session) would otherwise pay in full.
            results: Arc::new(
                DataLoader::new(ResultLoader { cache }, tokio::spawn)
                    .delay(std::time::Duration::from_micros(100)),
            ),
        }
    }
}
