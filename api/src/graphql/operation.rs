//! Which operation of a parsed document a request runs, as the GraphQL spec's GetOperation
//! picks it: the one named by `operationName`, or the only one when none is named. Shared by
//! the checks the transports make before execution (GET's query-only rule, required
//! variables, the WRITE scope, the metrics label).

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition};

/// None when the name matches nothing, or when several operations stand and none is named
/// (execution then reports the error itself).
pub fn selected<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::{parse_query, types::OperationType};

    use super::selected;

    #[test]
    fn the_named_or_the_only_operation() {
        let one = parse_query("mutation { x }").unwrap();
        assert_eq!(selected(&one, None).unwrap().ty, OperationType::Mutation);
        let two = parse_query("query A { x } mutation B { y }").unwrap();
        assert_eq!(
            selected(&two, Some("B")).unwrap().ty,
            OperationType::Mutation
        );
        assert!(selected(&two, None).is_none());
        assert!(selected(&two, Some("C")).is_none());
    }
}
