//! Automatic persisted queries (Apollo's APQ protocol): a client sends
//! `extensions.persistedQuery = {version: 1, sha256Hash}` without the query; the server
//! answers `PERSISTED_QUERY_NOT_FOUND` for a hash it does not know, the client resends hash
//! and query, and from then on the hash alone runs it (a GET with only the hash is what a CDN
//! can cache). Queries are kept in memory, and in Redis when configured so every replica
//! knows a hash another registered. A hash that is not its query's SHA-256 is refused.

use std::time::Duration;

use redis::AsyncCommands;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Bytes of query text kept in memory (the largest query is the body limit).
const MEMORY_BYTES: u64 = 32 * 1024 * 1024;
/// How long Redis keeps a registered query after its last registration.
const REDIS_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// A Redis round trip that takes longer is given up (the client then resends the query).
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// The registered queries of this process, and of the others through Redis.
#[derive(Clone)]
pub(crate) struct PersistedQueries {
    memory: moka::future::Cache<String, String>,
    redis: Option<redis::aio::ConnectionManager>,
}

/// What a request's persisted-query extension asks.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// No persisted-query extension: the request is what it says.
    NotPersisted,
    /// The query to run (registered just now, or found by its hash).
    Query(String),
    /// The hash names no query this server knows: the client should resend the query.
    NotFound,
    /// A malformed extension or a hash that is not the query's SHA-256.
    Refused(&'static str),
}

impl PersistedQueries {
    pub(crate) fn new(redis: Option<redis::aio::ConnectionManager>) -> Self {
        let memory = moka::future::Cache::builder()
            .weigher(|hash: &String, query: &String| {
                u32::try_from(hash.len() + query.len()).unwrap_or(u32::MAX)
            })
            .max_capacity(MEMORY_BYTES)
            .build();
        Self { memory, redis }
    }

    /// Resolves a request's `query` (empty when not sent) against its `persistedQuery`
    /// extension, registering the query when both are given.
    pub(crate) async fn resolve(&self, query: &str, extension: Option<&Value>) -> Outcome {
        let Some(extension) = extension else {
            return Outcome::NotPersisted;
        };
        if extension.get("version").and_then(Value::as_u64) != Some(1) {
            return Outcome::Refused("unsupported persisted query version (only 1 is)");
        }
        let Some(hash) = extension
            .get("sha256Hash")
            .and_then(Value::as_str)
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_ascii_lowercase)
        else {
            return Outcome::Refused("persistedQuery.sha256Hash must be 64 hex digits");
        };
        if query.is_empty() {
            return match self.find(&hash).await {
                Some(query) => Outcome::Query(query),
                None => Outcome::NotFound,
            };
        }
        if hex::encode(Sha256::digest(query.as_bytes())) != hash {
            return Outcome::Refused("provided sha256Hash does not match the query");
        }
        self.store(hash, query).await;
        Outcome::Query(query.to_string())
    }

    async fn find(&self, hash: &str) -> Option<String> {
        if let Some(query) = self.memory.get(hash).await {
            return Some(query);
        }
        let mut redis = self.redis.clone()?;
        let found: Option<String> = tokio::time::timeout(REDIS_TIMEOUT, redis.get(redis_key(hash)))
            .await
            .ok()?
            .ok()?;
        let query = found?;
        // Only a query that is its hash's: a key written by anything else is ignored.
        if hex::encode(Sha256::digest(query.as_bytes())) != hash {
            return None;
        }
        self.memory.insert(hash.to_string(), query.clone()).await;
        Some(query)
    }

    async fn store(&self, hash: String, query: &str) {
        if let Some(mut redis) = self.redis.clone() {
            let stored = tokio::time::timeout(
                REDIS_TIMEOUT,
                redis.set_ex::<_, _, ()>(redis_key(&hash), query, REDIS_TTL.as_secs()),
            )
            .await;
            if !matches!(stored, Ok(Ok(()))) {
                tracing::debug!("a persisted query was kept in memory only (Redis did not answer)");
            }
        }
        self.memory.insert(hash, query.to_string()).await;
    }
}

fn redis_key(hash: &str) -> String {
    format!("margin:apq:{hash}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn extension(hash: &str) -> Value {
        json!({"version": 1, "sha256Hash": hash})
    }

    #[tokio::test]
    async fn a_query_is_registered_by_its_hash_and_then_found_by_it() {
        let queries = PersistedQueries::new(None);
        let query = "{ version { service } }";
        let hash = hex::encode(Sha256::digest(query));
        let ext = extension(&hash);
        assert_eq!(queries.resolve("", Some(&ext)).await, Outcome::NotFound);
        assert_eq!(
            queries.resolve(query, Some(&ext)).await,
            Outcome::Query(query.into())
        );
        assert_eq!(
            queries.resolve("", Some(&ext)).await,
            Outcome::Query(query.into())
        );
        assert_eq!(
            queries.resolve("{ tickers { symbol } }", Some(&ext)).await,
            Outcome::Refused("provided sha256Hash does not match the query")
        );
        assert!(matches!(
            queries
                .resolve("", Some(&json!({"version": 2, "sha256Hash": hash})))
                .await,
            Outcome::Refused(_)
        ));
        assert!(matches!(
            queries.resolve("", Some(&extension("abc"))).await,
            Outcome::Refused(_)
        ));
        assert_eq!(queries.resolve(query, None).await, Outcome::NotPersisted);
    }
}
