use sea_orm::entity::prelude::*;

/// The natural key of a row `import-django` brought over from a table with no unique column
/// of its own (invite templates, login attempts), so a second import recognises it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legacy_import_key")]
pub struct Model {
    /// The Django table the row came from.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    /// SHA-256 (hex) of the old row's identity.
    #[sea_orm(primary_key, auto_increment = false)]
    pub natural_key: String,
    /// The id of the row written here.
    pub target_id: i64,
    pub imported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
