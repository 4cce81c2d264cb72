use sea_orm::entity::prelude::*;

pub use crate::stored_enums::BacktestMode;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "historical_backtest_backtestcache")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// SHA-256 of normalised parameters + engine version + dataset fingerprint.
    #[sea_orm(unique)]
    pub cache_key: String,
    pub etf: String,
    pub mode: BacktestMode,
    #[sea_orm(column_type = "JsonBinary")]
    pub parameters: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub results: Json,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
