//! The GraphQL schema: one `schema()` builds it without a running server, so tests and the
//! SDL export see exactly what the server serves.

pub(crate) mod cost;
pub(crate) mod error;
pub(crate) mod guards;
pub(crate) mod ids;
pub(crate) mod loaders;
pub(crate) mod mutation;
pub(crate) mod nesting;
pub(crate) mod operation;
pub(crate) mod pagination;
pub(crate) mod query;
pub(crate) mod shape;
pub(crate) mod subscription;
pub(crate) mod types;
pub(crate) mod write_scope;

use async_graphql::{Context, Schema};

use crate::{config::Config, state::AppState};

pub use mutation::MutationRoot;
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The application state every transport attaches to each request (and each WebSocket
/// connection) before execution; a request without it is a bug in a transport, not in its
/// input.
pub(crate) fn app_state<'a>(ctx: &Context<'a>) -> &'a AppState {
    ctx.data_unchecked::<AppState>()
}

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
    // WRITE scope of mutations is checked by the transports (`crate::graphql::write_scope::refuse_without_write`).
    .limit_directives(config.max_directives);
    if !config.introspection {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the schema as `margin-api schema` prints it and `schema.graphql` stores it.
pub fn sdl() -> String {
    // `@specifiedBy` on the scalars that have a specification (Date, DateTime, UUID).
    schema(&Config::defaults())
        .sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}
