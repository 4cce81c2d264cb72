use sea_orm::entity::prelude::*;

pub use crate::stored_enums::{BacktestMode, SessionStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "historical_backtest_backtestsession")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub session_id: Uuid,
    pub user_id: Option<i64>,
    pub mode: BacktestMode,
    pub etf: String,
    pub start_date: Date,
    pub end_date: Date,
    #[sea_orm(column_type = "JsonBinary")]
    pub parameters: Json,
    pub status: SessionStatus,
    pub cache_key: Option<String>,
    pub cache_hit: bool,
    pub error_message: Option<String>,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    pub execution_time_ms: Option<f64>,
    /// The random id of the process running the session (None: written before leases).
    pub owner: Option<String>,
    /// Until when `owner` holds the session; renewed while it runs. A pending or running
    /// session whose lease has lapsed was interrupted.
    pub lease_expires_at: Option<DateTimeUtc>,
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
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
