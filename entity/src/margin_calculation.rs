use sea_orm::entity::prelude::*;

pub use crate::stored_enums::{AccountType, PositionType};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "margin_calculator_margincalculation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Null for anonymous calculations (when configuration allows them).
    pub user_id: Option<i64>,
    pub ticker: String,
    pub investment_amount: f64,
    pub leverage: f64,
    pub current_price: f64,
    pub account_type: AccountType,
    pub position_type: PositionType,
    pub interest_rate: f64,
    pub holding_period: i32,
    #[sea_orm(column_type = "JsonBinary")]
    pub results: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
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
