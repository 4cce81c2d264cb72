use sea_orm_migration::{prelude::*, schema::*};

use crate::m20260101_000001_accounts::User;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiToken {
    #[sea_orm(iden = "authentication_apitoken")]
    Table,
    Id,
    UserId,
    Name,
    TokenHash,
    Prefix,
    Scopes,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiToken::Table)
                    .col(big_pk_auto(ApiToken::Id))
                    .col(big_integer(ApiToken::UserId))
                    .col(string_len(ApiToken::Name, 100))
                    .col(string_len_uniq(ApiToken::TokenHash, 64))
                    .col(string_len(ApiToken::Prefix, 16))
                    .col(string_len(ApiToken::Scopes, 64))
                    .col(timestamp_with_time_zone(ApiToken::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiToken::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiToken::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiToken::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_apitoken_user")
                            .from(ApiToken::Table, ApiToken::UserId)
                            .to(User::Table, User::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_apitoken_user")
                    .table(ApiToken::Table)
                    .col(ApiToken::UserId)
                    .col(ApiToken::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiToken::Table).to_owned())
            .await
    }
}
