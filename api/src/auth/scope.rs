//! Every mutation needs the WRITE scope. [`WriteScoped`] wraps the schema for every transport
//! and refuses each root field of a mutation before anything runs when the caller lacks it,
//! so mutations added later by any domain are covered without their resolvers doing
//! anything. Sessions have every scope; only API tokens can lack it.
//!
//! This is an executor around the schema rather than a schema extension because any
//! extension at all puts every field of every response through async-graphql's extension
//! chain (a boxed future and two type-name strings per field), about a tenth of the CPU of a
//! 20-row page.

use std::sync::{Arc, OnceLock};

use async_graphql::{
    Data, ErrorExtensions, Executor, PathSegment, Request, Response, ServerError,
    parser::types::{OperationType, Selection},
};
use futures_util::stream::{self, BoxStream, StreamExt};

use super::{AuthContext, Scope, missing_scope};

/// The refusal for `request` when it would run a mutation for a caller without WRITE: one
/// FORBIDDEN error per root field (anonymous callers are left to the resolvers' own guards;
/// a document that does not parse is left to the schema, which reports it).
pub fn refuse_without_write(request: &mut Request, auth: &AuthContext) -> Option<Response> {
    let caller = auth.caller()?;
    if caller.has_scope(Scope::Write) {
        return None;
    }
    let operation_name = request.operation_name.clone();
    let document = request.parsed_query().ok()?;
    let operation = crate::graphql::operation::selected(document, operation_name.as_deref())?;
    if operation.ty != OperationType::Mutation {
        return None;
    }
    let refusal = missing_scope(Scope::Write).extend();
    let error_at = |path: Option<String>, pos| {
        let mut error = ServerError::new(refusal.message.clone(), pos);
        error.extensions = refusal.extensions.clone();
        error.path = path.into_iter().map(PathSegment::Field).collect();
        error
    };
    let mut errors = Vec::new();
    for item in &operation.selection_set.node.items {
        match &item.node {
            Selection::Field(field) if field.node.name.node.starts_with("__") => {}
            Selection::Field(field) => {
                let key = field.node.response_key().node.to_string();
                errors.push(error_at(Some(key), Some(field.pos)));
            }
            // Fields behind a fragment at the root: refuse the operation as a whole.
            _ => errors.push(error_at(None, Some(item.pos))),
        }
    }
    (!errors.is_empty()).then(|| Response::from_errors(errors))
}

/// The schema behind a WebSocket connection, whose caller is known once `connection_init`
/// has been handled.
#[derive(Clone)]
pub struct WriteScoped<E> {
    inner: E,
    auth: Arc<OnceLock<AuthContext>>,
}

impl<E: Executor> WriteScoped<E> {
    /// Wraps `inner`; the caller is set later through the returned cell.
    pub fn new(inner: E) -> (Self, Arc<OnceLock<AuthContext>>) {
        let auth = Arc::new(OnceLock::new());
        (
            Self {
                inner,
                auth: auth.clone(),
            },
            auth,
        )
    }

    fn refusal(&self, request: &mut Request) -> Option<Response> {
        refuse_without_write(request, self.auth.get()?)
    }
}

impl<E: Executor> Executor for WriteScoped<E> {
    async fn execute(&self, mut request: Request) -> Response {
        match self.refusal(&mut request) {
            Some(refused) => refused,
            None => self.inner.execute(request).await,
        }
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.refusal(&mut request) {
            Some(refused) => stream::once(async move { refused }).boxed(),
            None => self.inner.execute_stream(request, session_data),
        }
    }
}
