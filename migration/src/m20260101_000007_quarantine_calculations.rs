//! Repairs the calculator rows an older build wrote with non-finite numbers (1e12 at a price
//! of 1e-300: serde_json stores NaN and infinity as `null`, so the row answered nulls in
//! non-null fields and then failed to decode for good).
//!
//! Such a row cannot be recomputed: the engine now refuses exactly those inputs, naming the
//! field. It is not deleted either, because nothing stored is lost. It is moved, whole and
//! unchanged, to `margin_calculator_quarantinedcalculation` with the reason it was moved, and
//! logged by id; it still belongs to its user (cascading with the account). The listing
//! already skips undecodable rows; after this migration there are none left to skip. Down
//! moves them back.
//!
//! "Decodes" means what the API means by it: the stored JSON parses as the engine's
//! `CalcResult`. That type is the current build's, so the rows repaired are those the build
//! running the migration cannot read.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, DbBackend, Statement, Value},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const CALCULATIONS: &str = "margin_calculator_margincalculation";
const QUARANTINE: &str = "margin_calculator_quarantinedcalculation";
const BATCH: i64 = 500;
/// Every column of the calculator table but the result, in the order both tables share.
const COLUMNS: &str = "id, user_id, ticker, investment_amount, leverage, current_price, \
    account_type, position_type, interest_rate, holding_period";

#[derive(DeriveIden)]
enum QuarantinedCalculation {
    #[sea_orm(iden = "margin_calculator_quarantinedcalculation")]
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
    /// Text, not JSON: a hand-edited row on SQLite may not even be JSON.
    Results,
    CreatedAt,
    UpdatedAt,
    Reason,
    QuarantinedAt,
}

#[derive(DeriveIden)]
enum User {
    #[sea_orm(iden = "authentication_user")]
    Table,
    Id,
}

/// Why a stored result cannot be read, or None when it can.
fn defect(results: &str) -> Option<String> {
    let mut json = serde_json::Deserializer::from_str(results);
    match serde_path_to_error::deserialize::<_, engine::calculator::CalcResult>(&mut json) {
        Ok(_) => None,
        // The path names the field ("sharesFractional: invalid type: null, expected f64");
        // serde's message describes the value's type, never the value.
        Err(err) => Some(format!("stored result does not decode: {err}")),
    }
}

fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_string(),
    }
}

/// The ids and defects of the rows that do not decode, scanned by id in batches.
async fn undecodable(db: &SchemaManagerConnection<'_>) -> Result<Vec<(i64, String)>, DbErr> {
    let backend = db.get_database_backend();
    let mut found = Vec::new();
    let mut after = 0_i64;
    loop {
        let sql = format!(
            "SELECT id, CAST(results AS TEXT) AS results FROM {CALCULATIONS} \
             WHERE id > {} ORDER BY id LIMIT {BATCH}",
            placeholder(backend, 1)
        );
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(backend, sql, [after.into()]))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(found);
        };
        after = last.try_get::<i64>("", "id")?;
        for row in &rows {
            if let Some(reason) = defect(&row.try_get::<String>("", "results")?) {
                found.push((row.try_get::<i64>("", "id")?, reason));
            }
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use QuarantinedCalculation as Q;
        manager
            .create_table(
                Table::create()
                    .table(Q::Table)
                    .col(big_integer(Q::Id).primary_key())
                    .col(big_integer_null(Q::UserId))
                    .col(string_len(Q::Ticker, 16))
                    .col(double(Q::InvestmentAmount))
                    .col(double(Q::Leverage))
                    .col(double(Q::CurrentPrice))
                    .col(string_len(Q::AccountType, 16))
                    .col(string_len(Q::PositionType, 8))
                    .col(double(Q::InterestRate))
                    .col(integer(Q::HoldingPeriod))
                    .col(text(Q::Results))
                    .col(timestamp_with_time_zone(Q::CreatedAt))
                    .col(timestamp_with_time_zone(Q::UpdatedAt))
                    .col(text(Q::Reason))
                    .col(timestamp_with_time_zone(Q::QuarantinedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quarantinedcalculation_user")
                            .from(Q::Table, Q::UserId)
                            .to(User::Table, User::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let (reason, id) = (placeholder(backend, 1), placeholder(backend, 2));
        let rows = undecodable(db).await?;
        for (calculation_id, why) in &rows {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "INSERT INTO {QUARANTINE} ({COLUMNS}, results, created_at, updated_at, reason, quarantined_at) \
                     SELECT {COLUMNS}, CAST(results AS TEXT), created_at, updated_at, {reason}, CURRENT_TIMESTAMP \
                     FROM {CALCULATIONS} WHERE id = {id}"
                ),
                [Value::from(why.as_str()), Value::from(*calculation_id)],
            ))
            .await?;
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "DELETE FROM {CALCULATIONS} WHERE id = {}",
                    placeholder(backend, 1)
                ),
                [Value::from(*calculation_id)],
            ))
            .await?;
            tracing::warn!(
                calculation_id,
                reason = %why,
                "calculation quarantined: its stored result does not decode"
            );
        }
        if !rows.is_empty() {
            tracing::warn!(
                quarantined = rows.len(),
                table = QUARANTINE,
                "undecodable calculations moved aside"
            );
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let results = match manager.get_database_backend() {
            DbBackend::Postgres => "CAST(results AS JSONB)",
            _ => "results",
        };
        db.execute_unprepared(&format!(
            "INSERT INTO {CALCULATIONS} ({COLUMNS}, results, created_at, updated_at) \
             SELECT {COLUMNS}, {results}, created_at, updated_at FROM {QUARANTINE}"
        ))
        .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(QuarantinedCalculation::Table)
                    .to_owned(),
            )
            .await
    }
}
