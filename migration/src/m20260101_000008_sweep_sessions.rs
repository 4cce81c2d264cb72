//! Sweep sessions (issue #16): a grid of backtests run as one session, owned like a backtest
//! session, holding its input, progress and, once finished, the compact cell results (each
//! cell's summary or error).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SweepSession {
    #[sea_orm(iden = "historical_backtest_sweepsession")]
    Table,
    Id,
    SweepId,
    UserId,
    Status,
    Input,
    CacheKey,
    CellCount,
    CompletedCells,
    Cells,
    ErrorMessage,
    CreatedAt,
    CompletedAt,
    ExecutionTimeMs,
    Owner,
    LeaseExpiresAt,
}

#[derive(DeriveIden)]
enum User {
    #[sea_orm(iden = "authentication_user")]
    Table,
    Id,
}

const IDX_USER_CREATED: &str = "idx_sweepsession_user_created";
const IDX_STATUS: &str = "idx_sweepsession_status";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SweepSession as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(big_pk_auto(S::Id))
                    .col(uuid_uniq(S::SweepId))
                    .col(big_integer_null(S::UserId))
                    .col(string_len(S::Status, 16))
                    .col(json_binary(S::Input))
                    .col(string_len_null(S::CacheKey, 64))
                    .col(integer(S::CellCount))
                    .col(integer(S::CompletedCells).default(0))
                    .col(json_binary_null(S::Cells))
                    .col(text_null(S::ErrorMessage))
                    .col(timestamp_with_time_zone(S::CreatedAt))
                    .col(timestamp_with_time_zone_null(S::CompletedAt))
                    .col(double_null(S::ExecutionTimeMs))
                    .col(string_len_null(S::Owner, 64))
                    .col(timestamp_with_time_zone_null(S::LeaseExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sweepsession_user")
                            .from(S::Table, S::UserId)
                            .to(User::Table, User::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(IDX_USER_CREATED)
                    .table(S::Table)
                    .col(S::UserId)
                    .col(S::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(IDX_STATUS)
                    .table(S::Table)
                    .col(S::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SweepSession::Table).to_owned())
            .await
    }
}
