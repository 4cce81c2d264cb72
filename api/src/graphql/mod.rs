//! The GraphQL schema: one `schema()` builds it without a running server, so tests and the
//! SDL export see exactly what the server serves.

pub mod loaders;
pub mod mutation;
pub mod nesting;
pub mod operation;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::Schema;

use crate::config::Config;

pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Builds the schema with the limits of `config`. Per-request data (the application state,
/// the caller) is attached to each request, not to the schema.
pub fn schema(config: &Config) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .limit_depth(config.max_depth)
    .limit_complexity(config.max_complexity)
    // No schema extensions: with any at all, every field of every response goes through the
    // extension chain. Requests are logged and timed per operation by the HTTP layer, and the
    // WRITE scope of mutations is checked by the transports (`auth::refuse_without_write`).
    .limit_directives(config.max_directives);
    if !config.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema as `margin-api schema` prints it and `schema.graphql` stores it.
pub fn sdl() -> String {
    schema(&Config::defaults()).sdl()
}
