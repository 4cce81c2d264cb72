//! Every mutation needs the WRITE scope: a schema extension checks each root field of the
//! mutation type before it runs, so mutations added later by any domain are covered without
//! their resolvers doing anything. Sessions have every scope; only API tokens can lack it.

use std::sync::Arc;

use async_graphql::{
    ErrorExtensions, PathSegment, ServerError, ServerResult, Value,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo},
};

use super::{AuthContext, Scope, missing_scope};

/// Add to the schema with `.extension(WriteScopeForMutations)`.
pub struct WriteScopeForMutations;

impl ExtensionFactory for WriteScopeForMutations {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(WriteScopeCheck)
    }
}

struct WriteScopeCheck;

#[async_graphql::async_trait::async_trait]
impl Extension for WriteScopeCheck {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let is_mutation_field = info.path_node.parent.is_none()
            && !info.is_for_introspection
            && ctx.schema_env.registry.mutation_type.as_deref() == Some(info.parent_type);
        if is_mutation_field
            && let Some(caller) = ctx.data_opt::<AuthContext>().and_then(AuthContext::caller)
            && !caller.has_scope(Scope::Write)
        {
            let err = missing_scope(Scope::Write).extend();
            let mut server_error = ServerError::new(err.message, None);
            server_error.extensions = err.extensions;
            server_error.path = vec![PathSegment::Field(
                info.alias.unwrap_or(info.name).to_string(),
            )];
            return Err(server_error);
        }
        next.run(ctx, info).await
    }
}
