pub mod market;
pub mod scalars;
