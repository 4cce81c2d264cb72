//! Variable coercion the GraphQL spec does before execution and async-graphql leaves to the
//! first resolver that reads the variable: a non-null variable without a default must be
//! given, and not as null. Without this check the resolver fails with an uncoded error that
//! the client would see as an internal one.

use async_graphql::{Value, Variables, parser::types::ExecutableDocument};

use crate::graphql::operation;

/// The name of the first non-null variable of the operation to run that has no default and
/// was not given a non-null value.
pub fn missing_required(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> Option<String> {
    let operation = operation::selected(document, operation_name)?;
    operation
        .variable_definitions
        .iter()
        .map(|definition| &definition.node)
        .find(|definition| {
            let given = variables.get(&definition.name.node);
            !definition.var_type.node.nullable
                && match given {
                    None => definition.default_value.is_none(),
                    Some(value) => matches!(value, Value::Null),
                }
        })
        .map(|definition| definition.name.node.to_string())
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;
    use serde_json::json;

    use super::*;

    fn missing(query: &str, variables: serde_json::Value) -> Option<String> {
        let document = parse_query(query).unwrap();
        missing_required(&document, None, &Variables::from_json(variables))
    }

    #[test]
    fn a_required_variable_must_be_given_and_not_null() {
        let query = "query($s: Status!, $n: Int) { users(status: $s, first: $n) { id } }";
        assert_eq!(missing(query, json!({})), Some("s".into()));
        assert_eq!(missing(query, json!({"s": null})), Some("s".into()));
        assert_eq!(missing(query, json!({"s": "ALL"})), None);
    }

    #[test]
    fn defaults_and_nullable_variables_may_be_left_out() {
        assert_eq!(
            missing("query($s: Status! = ALL) { x(s: $s) }", json!({})),
            None
        );
        assert_eq!(missing("query($n: Int) { x(n: $n) }", json!({})), None);
    }

    #[test]
    fn the_named_operation_is_the_one_checked() {
        let document =
            parse_query("query A($a: Int!) { x(a: $a) } query B($b: Int!) { x(b: $b) }").unwrap();
        let given = Variables::from_json(json!({"b": 1}));
        assert_eq!(missing_required(&document, Some("B"), &given), None);
        assert_eq!(
            missing_required(&document, Some("A"), &given),
            Some("a".into())
        );
    }
}
