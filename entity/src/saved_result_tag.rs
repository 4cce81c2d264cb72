use sea_orm::entity::prelude::*;

/// One tag of a saved result, by its key (the tag trimmed and lower-cased by the service):
/// what `savedResults(filter: {tags})` matches on, exactly. The displayed tags stay in the
/// saved result's `tags` JSON.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "historical_backtest_savedresulttag")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub saved_result_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag_key: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::saved_backtest_result::Entity",
        from = "Column::SavedResultId",
        to = "super::saved_backtest_result::Column::Id",
        on_delete = "Cascade"
    )]
    SavedResult,
}

impl Related<super::saved_backtest_result::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::SavedResult.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
