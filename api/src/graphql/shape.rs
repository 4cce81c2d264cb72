//! What the schema says about each field, read once from its SDL: per (type, field), the named
//! type it returns, whether that is a list, and its non-null arguments. The checks that run on
//! a parsed document before execution (required variables, the cost analysis) walk it with
//! this table, since async-graphql's own registry is not public.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::{
    parse_schema,
    types::{BaseType, OperationType, Type, TypeKind, TypeSystemDefinition},
};

#[derive(Debug, Default)]
pub(crate) struct SchemaShape {
    roots: [Option<String>; 3],
    /// Per type, per field name: looked up with borrowed names on every field of every
    /// request, so nothing is allocated per lookup.
    types: HashMap<String, HashMap<String, FieldShape>>,
}

#[derive(Debug, Default)]
pub(crate) struct FieldShape {
    /// The named type the field returns, lists and non-null unwrapped.
    pub(crate) returns: String,
    pub(crate) is_list: bool,
    /// Arguments the schema declares non-null.
    pub(crate) required: HashSet<String>,
}

fn named(ty: &Type) -> (&str, bool) {
    match &ty.base {
        BaseType::Named(name) => (name.as_str(), false),
        BaseType::List(inner) => (named(inner).0, true),
    }
}

impl SchemaShape {
    /// From the schema's SDL (`Schema::sdl()`); an SDL that does not parse gives an empty
    /// table, which knows no field.
    pub(crate) fn from_sdl(sdl: &str) -> Self {
        let Ok(document) = parse_schema(sdl) else {
            return Self::default();
        };
        let mut table = Self {
            roots: [
                Some("Query".to_string()),
                Some("Mutation".to_string()),
                Some("Subscription".to_string()),
            ],
            types: HashMap::new(),
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    table.roots = [schema.query, schema.mutation, schema.subscription]
                        .map(|root| root.map(|name| name.node.to_string()));
                }
                TypeSystemDefinition::Type(ty) => {
                    let ty = ty.node;
                    let fields = match ty.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => interface.fields,
                        _ => continue,
                    };
                    for field in fields {
                        let field = field.node;
                        let required = field
                            .arguments
                            .iter()
                            .filter(|arg| !arg.node.ty.node.nullable)
                            .map(|arg| arg.node.name.node.to_string())
                            .collect();
                        let (returns, is_list) = named(&field.ty.node);
                        table
                            .types
                            .entry(ty.name.node.to_string())
                            .or_default()
                            .insert(
                                field.name.node.to_string(),
                                FieldShape {
                                    returns: returns.to_string(),
                                    is_list,
                                    required,
                                },
                            );
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        table
    }

    /// The root type an operation of `ty` starts from.
    pub(crate) fn root(&self, ty: OperationType) -> Option<&str> {
        let index = match ty {
            OperationType::Query => 0,
            OperationType::Mutation => 1,
            OperationType::Subscription => 2,
        };
        self.roots[index].as_deref()
    }

    pub(crate) fn field(&self, parent: &str, name: &str) -> Option<&FieldShape> {
        self.types.get(parent)?.get(name)
    }
}
