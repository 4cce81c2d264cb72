use sea_orm::entity::prelude::*;

pub use crate::stored_enums::SessionStatus;

/// A sweep (a grid of backtests) run as one session; `cells` holds the compact results (each
/// cell's summary or error) once it has finished.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "historical_backtest_sweepsession")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub sweep_id: Uuid,
    pub user_id: Option<i64>,
    pub status: SessionStatus,
    #[sea_orm(column_type = "JsonBinary")]
    pub input: Json,
    pub cache_key: Option<String>,
    pub cell_count: i32,
    pub completed_cells: i32,
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub cells: Option<Json>,
    pub error_message: Option<String>,
    pub created_at: DateTimeUtc,
    pub completed_at: Option<DateTimeUtc>,
    pub execution_time_ms: Option<f64>,
    /// The random id of the process running the sweep.
    pub owner: Option<String>,
    /// Until when `owner` holds the sweep; a pending or running sweep whose lease has lapsed
    /// was interrupted.
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
