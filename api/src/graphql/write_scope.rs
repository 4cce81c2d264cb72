//! Every mutation needs the WRITE scope. Every transport (POST, and the WebSocket's
//! `http::ws_auth::SocketExecutor`) calls [`refuse_without_write`] before execution, which
//! refuses each root field of a mutation when the caller lacks it, so mutations added later
//! by any domain are covered without their resolvers doing anything. Sessions have every
//! scope; only API tokens can lack it.
//!
//! This runs in the transports rather than as a schema extension because any
//! extension at all puts every field of every response through async-graphql's extension
//! chain (a boxed future and two type-name strings per field), about a tenth of the CPU of a
//! 20-row page.

use async_graphql::{
    PathSegment, Request, Response, ServerError,
    parser::types::{OperationType, Selection},
};

use crate::auth::{AuthContext, Scope, missing_scope};

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
    let operation = super::operation::selected(document, operation_name.as_deref())?;
    if operation.ty != OperationType::Mutation {
        return None;
    }
    let refusal = async_graphql::Error::from(missing_scope(Scope::Write));
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
