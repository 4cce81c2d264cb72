//! Run leases and retention indexes.
//!
//! - `historical_backtest_backtestsession.owner` / `lease_expires_at`: the process running a
//!   session writes its random id and renews a lease; a session left pending or running with
//!   no owner or a lapsed lease belongs to a process that died and is marked `error`
//!   ("interrupted") by the next process to look.
//! - indexes the retention job deletes by: login attempts by time, user sessions by expiry.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BacktestSession {
    #[sea_orm(iden = "historical_backtest_backtestsession")]
    Table,
    Owner,
    LeaseExpiresAt,
}

#[derive(DeriveIden)]
enum LoginAttempt {
    #[sea_orm(iden = "authentication_loginattempt")]
    Table,
    AttemptedAt,
}

#[derive(DeriveIden)]
enum UserSession {
    #[sea_orm(iden = "authentication_usersession")]
    Table,
    ExpiresAt,
}

const IDX_ATTEMPT_TIME: &str = "idx_loginattempt_time";
const IDX_SESSION_EXPIRES: &str = "idx_usersession_expires";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one change per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(BacktestSession::Table)
                    .add_column(string_len_null(BacktestSession::Owner, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BacktestSession::Table)
                    .add_column(timestamp_with_time_zone_null(
                        BacktestSession::LeaseExpiresAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(IDX_ATTEMPT_TIME)
                    .table(LoginAttempt::Table)
                    .col(LoginAttempt::AttemptedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(IDX_SESSION_EXPIRES)
                    .table(UserSession::Table)
                    .col(UserSession::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(IDX_SESSION_EXPIRES)
                    .table(UserSession::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name(IDX_ATTEMPT_TIME)
                    .table(LoginAttempt::Table)
                    .to_owned(),
            )
            .await?;
        for column in [BacktestSession::LeaseExpiresAt, BacktestSession::Owner] {
            manager
                .alter_table(
                    Table::alter()
                        .table(BacktestSession::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
