use sea_orm::entity::prelude::*;

/// What `import-django` kept of a calculation it brought over from the Django apps: the old
/// results verbatim and how the headline figures compare with the server's recomputation.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "margin_calculator_legacycalculation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub calculation_id: i64,
    /// The row's id in the Django database.
    pub legacy_id: i64,
    /// SHA-256 (hex) of the old row's identity; a second import matches on it.
    #[sea_orm(unique)]
    pub natural_key: String,
    /// JSON array of `{metric, label, legacy, server, difference}`, in the legacy units.
    #[sea_orm(column_type = "JsonBinary", nullable)]
    pub legacy_diff: Option<Json>,
    pub imported_at: DateTimeUtc,
    /// The old `results`, verbatim.
    #[sea_orm(column_type = "JsonBinary")]
    pub legacy_results: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::margin_calculation::Entity",
        from = "Column::CalculationId",
        to = "super::margin_calculation::Column::Id",
        on_delete = "Cascade"
    )]
    Calculation,
}

impl Related<super::margin_calculation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Calculation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
