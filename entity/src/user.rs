use sea_orm::entity::prelude::*;

pub use crate::stored_enums::Role;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "authentication_user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub username: String,
    /// Stored lower-case so uniqueness is case-insensitive on both databases.
    #[sea_orm(unique)]
    pub email: String,
    /// argon2id PHC string, or a legacy `pbkdf2_sha256$…` hash until the next good login.
    pub password: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub is_active: bool,
    pub is_staff: bool,
    pub is_superuser: bool,
    pub is_approved: bool,
    pub approval_date: Option<DateTimeUtc>,
    pub approved_by: Option<i64>,
    pub rejection_reason: Option<String>,
    pub last_login: Option<DateTimeUtc>,
    pub last_login_ip: Option<String>,
    pub login_count: i32,
    /// Quota counter; the database CHECK keeps it non-negative and bounded.
    pub saved_results_count: i32,
    pub date_joined: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::ApprovedBy",
        to = "Column::Id",
        on_delete = "SetNull"
    )]
    ApprovedBy,
    #[sea_orm(has_many = "super::user_session::Entity")]
    Sessions,
    #[sea_orm(has_many = "super::login_attempt::Entity")]
    LoginAttempts,
    #[sea_orm(has_many = "super::margin_calculation::Entity")]
    MarginCalculations,
    #[sea_orm(has_many = "super::backtest_session::Entity")]
    BacktestSessions,
    #[sea_orm(has_many = "super::saved_backtest_result::Entity")]
    SavedResults,
}

impl Related<super::user_session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Sessions.def()
    }
}

impl Related<super::login_attempt::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LoginAttempts.def()
    }
}

impl Related<super::margin_calculation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::MarginCalculations.def()
    }
}

impl Related<super::backtest_session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::BacktestSessions.def()
    }
}

impl Related<super::saved_backtest_result::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SavedResults.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
