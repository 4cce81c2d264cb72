mod accounts;
mod margin;
mod sweep;

use async_graphql::MergedObject;

/// Mutations by domain; accounts and the margin API add their parts here.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    accounts::AccountsMutation,
    margin::MarginMutation,
    sweep::SweepMutation,
);
