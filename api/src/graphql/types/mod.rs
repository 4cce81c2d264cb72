pub(crate) mod accounts;
pub(crate) mod backtest;
pub(crate) mod calculation;
pub(crate) mod margin_enums;
pub(crate) mod market;
pub(crate) mod mirror;
pub(crate) mod saved;
pub(crate) mod scalars;
