//! `margin_calculator_margincalculation`: the history, each calculation re-run with our
//! calculator from its stored inputs (at its stored price, so a ticker we have no data for
//! still computes) and stored as the server stores a calculation; the old `results` are kept
//! beside it with the difference of the headline figures.
//!
//! The old rows have no unique column: a row's identity (old id, timestamp, owner, ticker)
//! is hashed into `natural_key`, which a second import matches on.

use std::collections::HashSet;

use engine::{calculator::CalcInput, market::MarketData};
use entity::{legacy_calculation, margin_calculation};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, EntityTrait, QuerySelect, TransactionSession,
    TransactionTrait,
};

use super::{Context, key_of, mapping, report::TableReport, source::LegacyRow, users::Users};
use crate::services::calculations::record_of;

pub const TABLE: &str = "margin_calculator_margincalculation";
const BATCH: usize = 500;

struct Prepared {
    key: String,
    legacy_id: i64,
    record: margin_calculation::ActiveModel,
    legacy: serde_json::Value,
    diff: serde_json::Value,
}

fn prepare(
    row: &LegacyRow,
    users: &Users,
    market: &MarketData,
    key: String,
) -> Result<Prepared, String> {
    let user_id = users.resolve(row.opt_i64("user_id")?)?;
    let legacy = row.json("results")?;
    let holding = row.i64("holding_period")?;
    let input = CalcInput {
        ticker: row.text("ticker")?.trim().to_ascii_uppercase(),
        investment_amount: row.f64("investment_amount")?,
        leverage: row.f64("leverage")?,
        current_price: Some(row.f64("current_price")?),
        account_type: mapping::account_type(&row.text("account_type")?)?.into(),
        position_type: mapping::position_type(&row.text("position_type")?)?.into(),
        interest_rate: row.f64("interest_rate")?,
        holding_period_months: u32::try_from(holding)
            .map_err(|_| format!("holding_period {holding} is out of range"))?,
        maintenance_override: None,
        day_count_basis: None,
    };
    let result = if market.dataset(&input.ticker).is_ok() {
        engine::calculator::calculate(&input, market)
    } else {
        engine::calculator::calculate_at_price(&input)
    }
    .map_err(|err| format!("cannot be recomputed: {}: {}", err.field, err.message))?;
    let created_at = row.datetime("created_at")?;
    let updated_at = row.opt_datetime("updated_at")?.unwrap_or(created_at);
    let record =
        record_of(user_id, &input, &result, (created_at, updated_at)).map_err(super::why)?;
    let diff = serde_json::to_value(mapping::calculation_differences(&legacy, &result))
        .map_err(|err| err.to_string())?;
    Ok(Prepared {
        key,
        legacy_id: row.id,
        record,
        legacy,
        diff,
    })
}

/// The identity of an old calculation.
fn natural_key(row: &LegacyRow) -> String {
    key_of(
        TABLE,
        &format!(
            "{}|{}|{}|{}",
            row.id,
            row.opt_text("created_at").unwrap_or_default(),
            row.opt_text("user_id").unwrap_or_default(),
            row.opt_text("ticker").unwrap_or_default()
        ),
    )
}

pub async fn import<C: ConnectionTrait + TransactionTrait>(
    ctx: &Context<'_>,
    conn: &C,
    users: &Users,
    table: &mut TableReport,
) -> anyhow::Result<()> {
    let Some(mut reader) = ctx.source.reader(TABLE, 2_000).await? else {
        return Ok(());
    };
    let bar = ctx.progress.bar(TABLE, ctx.source.count(TABLE).await?);
    let txn = conn.begin().await?;
    let known: HashSet<String> = legacy_calculation::Entity::find()
        .select_only()
        .column(legacy_calculation::Column::NaturalKey)
        .into_tuple::<String>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    while let Some(rows) = reader.next_batch().await? {
        table.read += rows.len() as u64;
        bar.inc(rows.len() as u64);
        let mut fresh = Vec::new();
        for row in &rows {
            let key = natural_key(row);
            if known.contains(&key) {
                table.already_present += 1;
                continue;
            }
            match prepare(row, users, &ctx.market, key) {
                Ok(prepared) => fresh.push(prepared),
                Err(reason) => table.skip(row.id, None, reason),
            }
        }
        for chunk in fresh.chunks(BATCH) {
            // Ids grow in the order of the VALUES within one INSERT, on both databases.
            let mut ids =
                margin_calculation::Entity::insert_many(chunk.iter().map(|p| p.record.clone()))
                    .exec_with_returning_keys(&txn)
                    .await?;
            ids.sort_unstable();
            if ids.len() != chunk.len() {
                anyhow::bail!(
                    "{TABLE}: {} rows inserted, {} ids returned",
                    chunk.len(),
                    ids.len()
                );
            }
            legacy_calculation::Entity::insert_many(chunk.iter().zip(&ids).map(|(p, &id)| {
                legacy_calculation::ActiveModel {
                    calculation_id: Set(id),
                    legacy_id: Set(p.legacy_id),
                    natural_key: Set(p.key.clone()),
                    legacy_diff: Set(Some(p.diff.clone())),
                    imported_at: Set(ctx.now),
                    legacy_results: Set(p.legacy.clone()),
                }
            }))
            .exec_without_returning(&txn)
            .await?;
            table.imported += chunk.len() as u64;
        }
    }
    txn.commit().await?;
    bar.finish_and_clear();
    Ok(())
}
