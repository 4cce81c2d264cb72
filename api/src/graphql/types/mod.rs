pub mod accounts;
pub mod market;
pub mod scalars;
