//! Saved sweeps and the sweep result lookup (issue #16).
//!
//! - `historical_backtest_savedbacktestresult.kind`: `backtest` (every row before this) or
//!   `sweep`; a saved sweep keeps its base run's columns (mode, ticker, dates, leverage, …)
//!   and the grid in `results_data`. Indexed with the user for the `kind` filter.
//! - `historical_backtest_sweepsession.cache_key`: indexed, so a sweep finds a completed
//!   grid of the same normalised input written by any replica.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{self, ConnectionTrait, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SavedResult {
    #[sea_orm(iden = "historical_backtest_savedbacktestresult")]
    Table,
    UserId,
    Kind,
}

#[derive(DeriveIden)]
enum SweepSession {
    #[sea_orm(iden = "historical_backtest_sweepsession")]
    Table,
    CacheKey,
}

const IDX_SAVED_USER_KIND: &str = "idx_savedresult_user_kind";
const IDX_SWEEP_CACHE_KEY: &str = "idx_sweepsession_cache_key";

const SAVED: &str = "historical_backtest_savedbacktestresult";

async fn run(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    manager.get_connection().execute_unprepared(sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction: on SQLite the payload moves behind the new column in the same step.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SavedResult::Table)
                    .add_column(string_len(SavedResult::Kind, 16).default("backtest"))
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Sqlite {
            // The payload stays the last column (migration 4 says why): a new column after
            // it would make every listing walk each row's overflow pages to read `kind`.
            run(
                manager,
                &format!(
                    "ALTER TABLE {SAVED} ADD COLUMN results_data_last TEXT NOT NULL DEFAULT '{{}}'"
                ),
            )
            .await?;
            run(
                manager,
                &format!("UPDATE {SAVED} SET results_data_last = results_data"),
            )
            .await?;
            run(
                manager,
                &format!("ALTER TABLE {SAVED} DROP COLUMN results_data"),
            )
            .await?;
            run(
                manager,
                &format!("ALTER TABLE {SAVED} RENAME COLUMN results_data_last TO results_data"),
            )
            .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(IDX_SAVED_USER_KIND)
                    .table(SavedResult::Table)
                    .col(SavedResult::UserId)
                    .col(SavedResult::Kind)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(IDX_SWEEP_CACHE_KEY)
                    .table(SweepSession::Table)
                    .col(SweepSession::CacheKey)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Saved sweeps have no place in the older schema, and nothing stored is dropped by
        // a rollback: it refuses while there are any (their owners can delete them).
        let db = manager.get_connection();
        let saved_sweeps = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT COUNT(*) AS n FROM historical_backtest_savedbacktestresult WHERE kind = 'sweep'",
            ))
            .await?
            .map(|row| row.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if saved_sweeps > 0 {
            return Err(DbErr::Migration(format!(
                "{saved_sweeps} saved sweeps would be lost: delete them before rolling back"
            )));
        }
        manager
            .drop_index(
                Index::drop()
                    .name(IDX_SWEEP_CACHE_KEY)
                    .table(SweepSession::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(IDX_SAVED_USER_KIND)
                    .table(SavedResult::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SavedResult::Table)
                    .drop_column(SavedResult::Kind)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}
