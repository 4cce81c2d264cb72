use async_graphql::{EmptyMutation, MergedObject};

/// Mutations by domain; accounts and the margin API add their parts here.
#[derive(MergedObject, Default)]
pub struct MutationRoot(EmptyMutation);
