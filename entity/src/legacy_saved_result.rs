use sea_orm::entity::prelude::*;

/// What `import-django` kept of a saved result it brought over from the Django apps: the old
/// payload verbatim and how its headline numbers compare with the server's. One row per
/// imported saved result; it goes with the saved result.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "historical_backtest_legacysavedresult")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub saved_result_id: i64,
    /// The row's id in the Django database.
    pub legacy_id: i64,
    /// The parameters could not be re-run (unknown ticker, dates outside the data): the saved
    /// row holds no server result, and only the legacy payload is served.
    pub legacy_only: bool,
    /// Why a legacy-only result could not be re-run.
    pub reason: Option<String>,
    /// JSON array of `{metric, label, legacy, server, difference}`, in the legacy units.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub legacy_diff: Option<Json>,
    pub imported_at: DateTimeUtc,
    /// The old `results_data`, verbatim.
    #[sea_orm(column_type = "JsonBinary")]
    pub legacy_results: Json,
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
