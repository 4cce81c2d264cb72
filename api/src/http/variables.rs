//! Variable coercion the GraphQL spec does before execution and async-graphql leaves to the
//! first resolver that reads the variable: a non-null variable without a default must be
//! given, and not as null. Without this check the resolver fails with an uncoded error that
//! the client would see as an internal one.

use std::collections::HashSet;

use async_graphql::{
    Name, Positioned, Value, Variables,
    parser::types::{ExecutableDocument, Selection, SelectionSet, VariableDefinition},
};

use crate::graphql::{operation, shape::SchemaShape};

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

/// The name of a nullable variable of the operation to run that has no value (left out
/// without a default, or given null) and is passed to an argument the schema declares
/// non-null. The spec's validation refuses such a document (or, for an argument with a
/// default, runs it with the default); async-graphql passes null to the resolver, which then
/// fails with an uncoded error.
pub fn unset_in_required_argument(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
    schema: &SchemaShape,
) -> Option<String> {
    let operation = operation::selected(document, operation_name)?;
    let root = schema.root(operation.ty);
    let unset: HashSet<&str> = operation
        .variable_definitions
        .iter()
        .map(|definition| &definition.node)
        .filter(|definition| definition.var_type.node.nullable && !has_value(definition, variables))
        .map(|definition| definition.name.node.as_str())
        .collect();
    if unset.is_empty() {
        return None;
    }
    let mut walk = Walk {
        document,
        schema,
        unset: &unset,
        visited: HashSet::new(),
    };
    walk.selection_set(root?, &operation.selection_set.node)
}

fn has_value(definition: &VariableDefinition, variables: &Variables) -> bool {
    match variables.get(&definition.name.node) {
        Some(Value::Null) => false,
        Some(_) => true,
        None => definition
            .default_value
            .as_ref()
            .is_some_and(|default| !matches!(default.node, Value::Null)),
    }
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    schema: &'a SchemaShape,
    unset: &'a HashSet<&'a str>,
    visited: HashSet<&'a Name>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, parent: &str, set: &'a SelectionSet) -> Option<String> {
        for item in &set.items {
            let found = match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let Some(info) = self.schema.field(parent, &field.name.node) else {
                        // Unknown (or introspection) fields are validation's business.
                        continue;
                    };
                    let found = field.arguments.iter().find_map(|(name, value)| {
                        if !info.required.contains(name.node.as_str()) {
                            return None;
                        }
                        // The parser's value type is not re-exported; only a variable prints
                        // as `$name` (strings print quoted).
                        let text = value.node.to_string();
                        let variable = text.strip_prefix('$')?;
                        self.unset.contains(variable).then(|| variable.to_string())
                    });
                    match found {
                        Some(found) => Some(found),
                        None => {
                            let returns = info.returns.clone();
                            self.selection_set(&returns, &field.selection_set.node)
                        }
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let parent = fragment
                        .type_condition
                        .as_ref()
                        .map_or(parent.to_string(), |c| c.node.on.node.to_string());
                    self.selection_set(&parent, &fragment.selection_set.node)
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    match self.document.fragments.get(name) {
                        Some(fragment) if self.visited.insert(name) => {
                            let fragment: &'a Positioned<_> = fragment;
                            let on = fragment.node.type_condition.node.on.node.to_string();
                            self.selection_set(&on, &fragment.node.selection_set.node)
                        }
                        _ => None,
                    }
                }
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }
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

    const SDL: &str = "schema { query: Q } type Q { rates(series: Kind!, every: Int): R \
        users(status: Kind! = ALL): R } type R { nested(x: Int!): R every: Int } enum Kind { A ALL }";

    fn unset(query: &str, variables: serde_json::Value) -> Option<String> {
        let document = parse_query(query).unwrap();
        unset_in_required_argument(
            &document,
            None,
            &Variables::from_json(variables),
            &SchemaShape::from_sdl(SDL),
        )
    }

    #[test]
    fn a_nullable_variable_without_a_value_in_a_required_argument_is_named() {
        let query = "query($s: Kind, $e: Int) { rates(series: $s, every: $e) { every } }";
        assert_eq!(unset(query, json!({})), Some("s".into()));
        assert_eq!(unset(query, json!({"s": null})), Some("s".into()));
        assert_eq!(unset(query, json!({"s": "A"})), None);
        assert_eq!(
            unset(
                "query($s: Kind = A) { rates(series: $s) { every } }",
                json!({})
            ),
            None
        );
    }

    #[test]
    fn nested_fields_fragments_and_defaults_are_followed() {
        let nested = "query($x: Int) { rates(series: A) { nested(x: $x) { every } } }";
        assert_eq!(unset(nested, json!({})), Some("x".into()));
        let fragment = "query($x: Int) { ...F } fragment F on Q { rates(series: A) { ... on R { nested(x: $x) { every } } } }";
        assert_eq!(unset(fragment, json!({})), Some("x".into()));
        // async-graphql would pass null, not the argument's default: refused as well.
        assert_eq!(
            unset("query($s: Kind) { users(status: $s) { every } }", json!({})),
            Some("s".into())
        );
        // Fragment cycles end (validation reports them).
        let cycle = "query($x: Int) { ...A } fragment A on Q { ...B } fragment B on Q { ...A }";
        assert_eq!(unset(cycle, json!({})), None);
    }
}
