use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000001_accounts::User;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MarginCalculation {
    #[sea_orm(iden = "margin_calculator_margincalculation")]
    Table,
    Id,
    UserId,
    Ticker,
    InvestmentAmount,
    Leverage,
    CurrentPrice,
    AccountType,
    PositionType,
    InterestRate,
    HoldingPeriod,
    Results,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum BacktestCache {
    #[sea_orm(iden = "historical_backtest_backtestcache")]
    Table,
    Id,
    CacheKey,
    Etf,
    Mode,
    Parameters,
    Results,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum BacktestSession {
    #[sea_orm(iden = "historical_backtest_backtestsession")]
    Table,
    Id,
    SessionId,
    UserId,
    Mode,
    Etf,
    StartDate,
    EndDate,
    Parameters,
    Status,
    CacheKey,
    CacheHit,
    ErrorMessage,
    CreatedAt,
    CompletedAt,
    ExecutionTimeMs,
}

#[derive(DeriveIden)]
enum SavedResult {
    #[sea_orm(iden = "historical_backtest_savedbacktestresult")]
    Table,
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
    ResultsData,
    CreatedAt,
    UpdatedAt,
}

fn fk_user(name: &str, table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(User::Table, User::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table);
    for col in cols {
        statement.col(col);
    }
    manager.create_index(statement.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use BacktestCache as C;
        use BacktestSession as S;
        use MarginCalculation as M;
        use SavedResult as R;

        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(big_pk_auto(M::Id))
                    .col(big_integer_null(M::UserId))
                    .col(string_len(M::Ticker, 16))
                    .col(double(M::InvestmentAmount))
                    .col(double(M::Leverage))
                    .col(double(M::CurrentPrice))
                    .col(string_len(M::AccountType, 16))
                    .col(string_len(M::PositionType, 8))
                    .col(double(M::InterestRate))
                    .col(integer(M::HoldingPeriod))
                    .col(json_binary(M::Results))
                    .col(timestamp_with_time_zone(M::CreatedAt))
                    .col(timestamp_with_time_zone(M::UpdatedAt))
                    .foreign_key(&mut fk_user(
                        "fk_margincalculation_user",
                        M::Table,
                        M::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_margincalculation_user_created",
            M::Table,
            vec![M::UserId.into_iden(), M::CreatedAt.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_margincalculation_ticker_created",
            M::Table,
            vec![M::Ticker.into_iden(), M::CreatedAt.into_iden()],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(big_pk_auto(C::Id))
                    .col(string_len_uniq(C::CacheKey, 64))
                    .col(string_len(C::Etf, 16))
                    .col(string_len(C::Mode, 32))
                    .col(json_binary(C::Parameters))
                    .col(json_binary(C::Results))
                    .col(timestamp_with_time_zone(C::CreatedAt))
                    .col(timestamp_with_time_zone(C::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_backtestcache_etf_mode_created",
            C::Table,
            vec![
                C::Etf.into_iden(),
                C::Mode.into_iden(),
                C::CreatedAt.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "idx_backtestcache_expires",
            C::Table,
            vec![C::ExpiresAt.into_iden()],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(big_pk_auto(S::Id))
                    .col(uuid_uniq(S::SessionId))
                    .col(big_integer_null(S::UserId))
                    .col(string_len(S::Mode, 32))
                    .col(string_len(S::Etf, 16))
                    .col(date(S::StartDate))
                    .col(date(S::EndDate))
                    .col(json_binary(S::Parameters))
                    .col(string_len(S::Status, 16))
                    .col(string_len_null(S::CacheKey, 64))
                    .col(boolean(S::CacheHit).default(false))
                    .col(text_null(S::ErrorMessage))
                    .col(timestamp_with_time_zone(S::CreatedAt))
                    .col(timestamp_with_time_zone_null(S::CompletedAt))
                    .col(double_null(S::ExecutionTimeMs))
                    .foreign_key(&mut fk_user("fk_backtestsession_user", S::Table, S::UserId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_backtestsession_created",
            S::Table,
            vec![S::CreatedAt.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_backtestsession_status",
            S::Table,
            vec![S::Status.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_backtestsession_user_created",
            S::Table,
            vec![S::UserId.into_iden(), S::CreatedAt.into_iden()],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(R::Table)
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
                    .col(json_binary(R::ResultsData))
                    .col(timestamp_with_time_zone(R::CreatedAt))
                    .col(timestamp_with_time_zone(R::UpdatedAt))
                    .foreign_key(&mut fk_user("fk_savedresult_user", R::Table, R::UserId))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_savedresult_user_created", R::CreatedAt),
            ("idx_savedresult_user_ticker", R::Ticker),
            ("idx_savedresult_user_mode", R::Mode),
        ] {
            index(
                manager,
                name,
                R::Table,
                vec![R::UserId.into_iden(), col.into_iden()],
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SavedResult::Table.into_iden(),
            BacktestSession::Table.into_iden(),
            BacktestCache::Table.into_iden(),
            MarginCalculation::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
