//! SQLite only: rebuilds the saved-results table with `results_data` as its last column.
//!
//! SQLite stores a row's columns in order and spills a large value into a chain of overflow
//! pages; reading any column after it walks that chain. With the ~0.8 MB payload in the middle,
//! listing 20 summaries (which need `created_at` and `updated_at`) read 16 MB. PostgreSQL
//! keeps large values out of line (TOAST), so there the table stays as it is.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000001_accounts::User;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "historical_backtest_savedbacktestresult";
const REBUILT: &str = "historical_backtest_savedbacktestresult_rebuilt";

#[derive(DeriveIden, Clone, Copy)]
enum SavedResult {
    Id,
    ResultId,
    UserId,
    UserEmail,
    Name,
    Description,
    Tags,
    Mode,
    Ticker,
    StartDate,
    EndDate,
    Leverage,
    AccountType,
    InitialInvestment,
    ProfitThreshold,
    CreatedAt,
    UpdatedAt,
    ResultsData,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on one connection: the copy, drop and rename happen together or not
    /// at all (sea-orm-migration runs SQLite migrations outside a transaction by default).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DbBackend::Sqlite {
            return Ok(());
        }
        use SavedResult as R;
        manager
            .create_table(
                Table::create()
                    .table(Alias::new(REBUILT))
                    .col(big_pk_auto(R::Id))
                    .col(uuid_uniq(R::ResultId))
                    .col(big_integer(R::UserId))
                    .col(string_len(R::UserEmail, 254))
                    .col(string_len(R::Name, 255))
                    .col(text(R::Description).default(""))
                    .col(json_binary(R::Tags))
                    .col(string_len(R::Mode, 32))
                    .col(string_len(R::Ticker, 16))
                    .col(date(R::StartDate))
                    .col(date(R::EndDate))
                    .col(double(R::Leverage))
                    .col(string_len(R::AccountType, 16))
                    .col(double(R::InitialInvestment))
                    .col(double_null(R::ProfitThreshold))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .col(json_binary(R::ResultsData))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_savedresult_user")
                            .from(Alias::new(REBUILT), R::UserId)
                            .to(User::Table, User::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let columns = [
            R::Id,
            R::ResultId,
            R::UserId,
            R::UserEmail,
            R::Name,
            R::Description,
            R::Tags,
            R::Mode,
            R::Ticker,
            R::StartDate,
            R::EndDate,
            R::Leverage,
            R::AccountType,
            R::InitialInvestment,
            R::ProfitThreshold,
            R::CreatedAt,
            R::UpdatedAt,
            R::ResultsData,
        ];
        let copy = Query::insert()
            .into_table(Alias::new(REBUILT))
            .columns(columns)
            .select_from(
                Query::select()
                    .columns(columns)
                    .from(Alias::new(TABLE))
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(copy).await?;
        manager
            .drop_table(Table::drop().table(Alias::new(TABLE)).to_owned())
            .await?;
        manager
            .rename_table(
                Table::rename()
                    .table(Alias::new(REBUILT), Alias::new(TABLE))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_savedresult_user_created", R::CreatedAt),
            ("idx_savedresult_user_ticker", R::Ticker),
            ("idx_savedresult_user_mode", R::Mode),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new(TABLE))
                        .col(R::UserId)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    /// Column order carries no meaning, so going down leaves the rebuilt table as it is.
    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
