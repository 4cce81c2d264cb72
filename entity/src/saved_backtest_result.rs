use sea_orm::entity::prelude::*;

pub use crate::stored_enums::{AccountType, BacktestMode, SavedKind};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "historical_backtest_savedbacktestresult")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub result_id: Uuid,
    pub user_id: i64,
    pub user_email: String,
    pub name: String,
    /// The name trimmed and lower-cased by the service; `NAME_ASC`/`NAME_DESC` order by it
    /// (then id), compared byte-wise on both databases.
    pub name_key: String,
    pub description: String,
    /// JSON array of strings.
    #[sea_orm(column_type = "JsonBinary")]
    pub tags: Json,
    pub mode: BacktestMode,
    pub ticker: String,
    pub start_date: Date,
    pub end_date: Date,
    pub leverage: f64,
    pub account_type: AccountType,
    pub initial_investment: f64,
    pub profit_threshold: Option<f64>,
    /// The server's own engine result (a backtest's, or a sweep's grid); never numbers
    /// sent by a client.
    #[sea_orm(column_type = "JsonBinary")]
    pub results_data: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Whether `results_data` is a backtest's result or a sweep's grid.
    pub kind: SavedKind,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(has_many = "super::saved_result_tag::Entity")]
    Tags,
}

impl Related<super::saved_result_tag::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Tags.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
