//! Services: plain async functions over a connection and plain types. They know nothing of
//! GraphQL, so they are tested directly.

pub mod accounts;
pub mod backtests;
pub(crate) mod calculations;
pub(crate) mod legacy_imports;
pub(crate) mod market;
pub(crate) mod pagination;
pub(crate) mod recovery;
pub mod retention;
pub mod risk;
pub(crate) mod saved_results;
pub(crate) mod stats;
pub mod sweeps;
#[cfg(test)]
pub(crate) mod test_db;
