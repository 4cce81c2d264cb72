//! Services: plain async functions over a connection and plain types. They know nothing of
//! GraphQL, so they are tested directly.

pub mod accounts;
pub mod backtests;
pub mod calculations;
pub mod market;
pub mod market_queries;
pub mod paging;
pub mod recovery;
pub mod retention;
pub mod saved_results;
pub mod stats;
