//! Services: plain async functions over a connection and plain types. They know nothing of
//! GraphQL, so they are tested directly.

pub mod accounts;
pub mod market;
