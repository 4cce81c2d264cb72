//! Moving in from the Django apps (issue #12, `margin-api import-django`): where the old
//! numbers are kept beside the server's, and how a second import recognises what the first
//! one brought over.
//!
//! - `historical_backtest_legacysavedresult`: one row per imported saved result, keyed by the
//!   saved row (cascading with it): the old row id, the old `results_data` verbatim, the
//!   headline metrics compared (legacy, server, difference), and `legacy_only` with its
//!   reason when the parameters could not be re-run (then the saved row's own payload is an
//!   empty object and the API serves the legacy payload only).
//! - `margin_calculator_legacycalculation`: the same for calculations, with the natural key
//!   (a hash of the old row's identity) a re-import matches on.
//! - `legacy_import_key`: the natural keys of imported rows of tables with no unique column
//!   of their own (invite templates, login attempts), so a second import skips them.
//!
//! Side tables rather than columns: on SQLite an added column lands after the large payload
//! (see migration 4), and the saved and calculation tables stay exactly as the services
//! write them. The legacy payload is the last column of its table for the same reason.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LegacySavedResult {
    #[sea_orm(iden = "historical_backtest_legacysavedresult")]
    Table,
    SavedResultId,
    LegacyId,
    LegacyOnly,
    Reason,
    LegacyDiff,
    ImportedAt,
    LegacyResults,
}

#[derive(DeriveIden)]
enum LegacyCalculation {
    #[sea_orm(iden = "margin_calculator_legacycalculation")]
    Table,
    CalculationId,
    LegacyId,
    NaturalKey,
    LegacyDiff,
    ImportedAt,
    LegacyResults,
}

#[derive(DeriveIden)]
enum LegacyImportKey {
    #[sea_orm(iden = "legacy_import_key")]
    Table,
    Kind,
    NaturalKey,
    TargetId,
    ImportedAt,
}

const SAVED: &str = "historical_backtest_savedbacktestresult";
const CALCULATIONS: &str = "margin_calculator_margincalculation";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use LegacySavedResult as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(big_integer(S::SavedResultId).primary_key())
                    .col(big_integer(S::LegacyId))
                    .col(boolean(S::LegacyOnly).default(false))
                    .col(text_null(S::Reason))
                    .col(json_binary_null(S::LegacyDiff))
                    .col(timestamp_with_time_zone(S::ImportedAt))
                    .col(json_binary(S::LegacyResults))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_legacysavedresult_saved")
                            .from(S::Table, S::SavedResultId)
                            .to(Alias::new(SAVED), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        use LegacyCalculation as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(big_integer(C::CalculationId).primary_key())
                    .col(big_integer(C::LegacyId))
                    .col(string_len_uniq(C::NaturalKey, 64))
                    .col(json_binary_null(C::LegacyDiff))
                    .col(timestamp_with_time_zone(C::ImportedAt))
                    .col(json_binary(C::LegacyResults))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_legacycalculation_calculation")
                            .from(C::Table, C::CalculationId)
                            .to(Alias::new(CALCULATIONS), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        use LegacyImportKey as K;
        manager
            .create_table(
                Table::create()
                    .table(K::Table)
                    .col(string_len(K::Kind, 64))
                    .col(string_len(K::NaturalKey, 64))
                    .col(big_integer(K::TargetId))
                    .col(timestamp_with_time_zone(K::ImportedAt))
                    .primary_key(Index::create().col(K::Kind).col(K::NaturalKey))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LegacyImportKey::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LegacyCalculation::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LegacySavedResult::Table).to_owned())
            .await
    }
}
