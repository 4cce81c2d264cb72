use sea_orm_migration::{prelude::*, schema::*};

use crate::MAX_SAVED_RESULTS_QUOTA;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum User {
    #[sea_orm(iden = "authentication_user")]
    Table,
    Id,
    Username,
    Email,
    Password,
    FirstName,
    LastName,
    Role,
    IsActive,
    IsStaff,
    IsSuperuser,
    IsApproved,
    ApprovalDate,
    ApprovedBy,
    RejectionReason,
    LastLogin,
    LastLoginIp,
    LoginCount,
    SavedResultsCount,
    DateJoined,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum InviteToken {
    #[sea_orm(iden = "authentication_invitetoken")]
    Table,
    Id,
    Email,
    TokenHash,
    InviteType,
    CustomMessage,
    CreatedAt,
    ExpiresAt,
    UsedAt,
    CreatedBy,
    EmailSentAt,
    EmailBounced,
    BounceReason,
}

#[derive(DeriveIden)]
enum UserSession {
    #[sea_orm(iden = "authentication_usersession")]
    Table,
    Id,
    UserId,
    SessionKeyHash,
    IpAddress,
    UserAgent,
    CreatedAt,
    LastActivity,
    ExpiresAt,
    IsActive,
}

#[derive(DeriveIden)]
enum LoginAttempt {
    #[sea_orm(iden = "authentication_loginattempt")]
    Table,
    Id,
    Email,
    IpAddress,
    UserAgent,
    Success,
    FailureReason,
    AttemptedAt,
    UserId,
}

#[derive(DeriveIden)]
enum InviteTemplate {
    #[sea_orm(iden = "authentication_invitetemplate")]
    Table,
    Id,
    Name,
    InviteType,
    Subject,
    MessageTemplate,
    IsActive,
    CreatedAt,
    CreatedBy,
}

fn fk_user(
    name: &str,
    table: impl IntoIden,
    column: impl IntoIden,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(User::Table, User::Id)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(User::Table)
                    .col(big_pk_auto(User::Id))
                    .col(string_len_uniq(User::Username, 150))
                    .col(string_len_uniq(User::Email, 254))
                    .col(string_len(User::Password, 255))
                    .col(string_len(User::FirstName, 150).default(""))
                    .col(string_len(User::LastName, 150).default(""))
                    .col(string_len(User::Role, 16).default("viewer"))
                    .col(boolean(User::IsActive).default(true))
                    .col(boolean(User::IsStaff).default(false))
                    .col(boolean(User::IsSuperuser).default(false))
                    .col(boolean(User::IsApproved).default(false))
                    .col(timestamp_with_time_zone_null(User::ApprovalDate))
                    .col(big_integer_null(User::ApprovedBy))
                    .col(text_null(User::RejectionReason))
                    .col(timestamp_with_time_zone_null(User::LastLogin))
                    .col(string_len_null(User::LastLoginIp, 45))
                    .col(integer(User::LoginCount).default(0))
                    .col(integer(User::SavedResultsCount).default(0).check(
                        (
                            "ck_user_saved_results_count",
                            Expr::col(User::SavedResultsCount).gte(0).and(
                                Expr::col(User::SavedResultsCount).lte(MAX_SAVED_RESULTS_QUOTA),
                            ),
                        ),
                    ))
                    .col(timestamp_with_time_zone(User::DateJoined))
                    .col(timestamp_with_time_zone(User::CreatedAt))
                    .col(timestamp_with_time_zone(User::UpdatedAt))
                    .foreign_key(&mut fk_user(
                        "fk_user_approved_by",
                        User::Table,
                        User::ApprovedBy,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_user_role_approved")
                    .table(User::Table)
                    .col(User::IsApproved)
                    .col(User::DateJoined)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(InviteToken::Table)
                    .col(big_pk_auto(InviteToken::Id))
                    .col(string_len(InviteToken::Email, 254))
                    .col(string_len_uniq(InviteToken::TokenHash, 64))
                    .col(string_len(InviteToken::InviteType, 16))
                    .col(text_null(InviteToken::CustomMessage))
                    .col(timestamp_with_time_zone(InviteToken::CreatedAt))
                    .col(timestamp_with_time_zone(InviteToken::ExpiresAt))
                    .col(timestamp_with_time_zone_null(InviteToken::UsedAt))
                    .col(big_integer_null(InviteToken::CreatedBy))
                    .col(timestamp_with_time_zone_null(InviteToken::EmailSentAt))
                    .col(boolean(InviteToken::EmailBounced).default(false))
                    .col(text_null(InviteToken::BounceReason))
                    .foreign_key(&mut fk_user(
                        "fk_invitetoken_created_by",
                        InviteToken::Table,
                        InviteToken::CreatedBy,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invitetoken_email")
                    .table(InviteToken::Table)
                    .col(InviteToken::Email)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserSession::Table)
                    .col(big_pk_auto(UserSession::Id))
                    .col(big_integer(UserSession::UserId))
                    .col(string_len_uniq(UserSession::SessionKeyHash, 64))
                    .col(string_len_null(UserSession::IpAddress, 45))
                    .col(text_null(UserSession::UserAgent))
                    .col(timestamp_with_time_zone(UserSession::CreatedAt))
                    .col(timestamp_with_time_zone(UserSession::LastActivity))
                    .col(timestamp_with_time_zone(UserSession::ExpiresAt))
                    .col(boolean(UserSession::IsActive).default(true))
                    .foreign_key(&mut fk_user(
                        "fk_usersession_user",
                        UserSession::Table,
                        UserSession::UserId,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_usersession_user_active")
                    .table(UserSession::Table)
                    .col(UserSession::UserId)
                    .col(UserSession::IsActive)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginAttempt::Table)
                    .col(big_pk_auto(LoginAttempt::Id))
                    .col(string_len(LoginAttempt::Email, 254))
                    .col(string_len_null(LoginAttempt::IpAddress, 45))
                    .col(text_null(LoginAttempt::UserAgent))
                    .col(boolean(LoginAttempt::Success))
                    .col(string_len_null(LoginAttempt::FailureReason, 64))
                    .col(timestamp_with_time_zone(LoginAttempt::AttemptedAt))
                    .col(big_integer_null(LoginAttempt::UserId))
                    .foreign_key(&mut fk_user(
                        "fk_loginattempt_user",
                        LoginAttempt::Table,
                        LoginAttempt::UserId,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        // Throttling counts recent failures per account and per address.
        for (name, col) in [
            ("idx_loginattempt_email_time", LoginAttempt::Email),
            ("idx_loginattempt_ip_time", LoginAttempt::IpAddress),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(LoginAttempt::Table)
                        .col(col)
                        .col(LoginAttempt::AttemptedAt)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(InviteTemplate::Table)
                    .col(big_pk_auto(InviteTemplate::Id))
                    .col(string_len_uniq(InviteTemplate::Name, 100))
                    .col(string_len(InviteTemplate::InviteType, 16))
                    .col(string_len(InviteTemplate::Subject, 255))
                    .col(text(InviteTemplate::MessageTemplate))
                    .col(boolean(InviteTemplate::IsActive).default(true))
                    .col(timestamp_with_time_zone(InviteTemplate::CreatedAt))
                    .col(big_integer_null(InviteTemplate::CreatedBy))
                    .foreign_key(&mut fk_user(
                        "fk_invitetemplate_created_by",
                        InviteTemplate::Table,
                        InviteTemplate::CreatedBy,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            InviteTemplate::Table.into_iden(),
            LoginAttempt::Table.into_iden(),
            UserSession::Table.into_iden(),
            InviteToken::Table.into_iden(),
            User::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
