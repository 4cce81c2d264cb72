//! `historical_backtest_backtestsession` and `historical_backtest_savedbacktestresult`.
//!
//! A saved result is re-run with our engine from its stored parameters and stored exactly as
//! `saveResult` stores a result (the service's row and payload builders); the old payload is
//! kept beside it with the difference of the headline metrics. One whose parameters cannot be
//! re-run (unknown ticker, dates outside our data) is imported with its legacy payload only
//! and flagged. The engine runs on the rayon pool, a batch at a time, between the batch's read
//! and its insert; nothing else runs while the table's transaction is open.
//!
//! A session is matched by its `session_id`; its parameters are translated to our input
//! (normalised, with its cache key, so a completed one's result can be recomputed on demand)
//! when they can be, and kept as they were otherwise.

use std::{
    collections::{HashMap, HashSet},
    sync::atomic::AtomicBool,
};

use chrono::{DateTime, Utc};
use engine::{
    backtest::{BacktestInput, BacktestOptions, InterestModel, Summary},
    market::MarketData,
};
use entity::{
    backtest_session, legacy_saved_result, saved_backtest_result as saved, saved_result_tag,
    stored_enums::SessionStatus, user,
};
use rayon::prelude::*;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    TransactionSession, TransactionTrait, sea_query::Expr,
};
use serde_json::Value;
use uuid::Uuid;

use super::{
    Context, mapping,
    report::{LegacyOnly, TableReport},
    source::LegacyRow,
    users::Users,
    why,
};
use crate::services::saved_results::{
    self, SavedColumns, deferred_payload_of, effective_quota, new_row, tag_rows,
};

pub const SESSIONS: &str = "historical_backtest_backtestsession";
pub const SAVED: &str = "historical_backtest_savedbacktestresult";
/// Saved rows per read, engine batch and INSERT: a few dozen payloads of ~0.5 MB in memory.
const SAVED_BATCH: u64 = 32;
const SESSION_BATCH: u64 = 500;

/// The backtest parameters of an old row: its own columns, and the engine options from the
/// old parameters object (`interest_rate_mode`, `interest_spread`, `wait_days`,
/// `min_equity`) when it has them.
#[derive(Debug, Clone)]
pub struct LegacyParameters {
    pub ticker: String,
    pub mode: entity::stored_enums::BacktestMode,
    pub start_date: chrono::NaiveDate,
    pub end_date: chrono::NaiveDate,
    pub leverage: f64,
    pub account_type: entity::stored_enums::AccountType,
    pub initial_investment: f64,
    pub profit_threshold: Option<f64>,
}

fn number(value: &Value, key: &str) -> Result<Option<f64>, String> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| format!("parameters.{key} is not a number")),
    }
}

/// Our engine input for old parameters, or why there is none.
pub fn engine_input(
    p: &LegacyParameters,
    options: Option<&Value>,
) -> Result<BacktestInput, String> {
    let mut o = BacktestOptions::default();
    if let Some(options) = options.filter(|v| v.is_object()) {
        let spread = number(options, "interest_spread")?;
        if let Some(mode) = options.get("interest_rate_mode").and_then(Value::as_str) {
            o.interest = match mode.trim().to_ascii_lowercase().as_str() {
                "fed_funds_plus" | "fed_funds" => InterestModel::FedFundsPlus {
                    spread_pct: spread.unwrap_or(engine::backtest::DEFAULT_SPREAD_PCT),
                },
                "tbill_plus" | "tbill" => InterestModel::TbillPlus {
                    spread_pct: spread.unwrap_or(engine::backtest::DEFAULT_SPREAD_PCT),
                },
                "fixed" => InterestModel::Fixed {
                    rate_pct: number(options, "interest_rate")?
                        .ok_or("parameters.interest_rate is missing for a fixed rate")?,
                },
                other => return Err(format!("unknown interest rate mode {other:?}")),
            };
        }
        if let Some(days) = number(options, "wait_days")? {
            o.wait_days = u32::try_from(days as i64)
                .ok()
                .filter(|_| days.fract() == 0.0)
                .ok_or_else(|| format!("parameters.wait_days {days} is not a day count"))?;
        }
        if let Some(min) = number(options, "min_equity")? {
            o.min_equity = min;
        }
    }
    Ok(BacktestInput {
        ticker: p.ticker.clone(),
        mode: p.mode.into(),
        start_date: p.start_date,
        end_date: p.end_date,
        leverage: p.leverage,
        account_type: p.account_type.into(),
        initial_investment: p.initial_investment,
        profit_threshold_pct: p.profit_threshold,
        options: o,
    })
}

fn parameters(row: &LegacyRow, ticker_column: &str) -> Result<LegacyParameters, String> {
    Ok(LegacyParameters {
        ticker: row.text(ticker_column)?.trim().to_ascii_uppercase(),
        mode: mapping::mode(&row.text("mode")?)?,
        start_date: row.date("start_date")?,
        end_date: row.date("end_date")?,
        leverage: row.f64("leverage")?,
        account_type: mapping::account_type(&row.text("account_type")?)?,
        initial_investment: row.f64("initial_investment")?,
        profit_threshold: row.opt_f64("profit_threshold")?,
    })
}

/// Session parameters: the old `parameters` object holds them all.
fn session_parameters(old: &Value, row: &LegacyRow) -> Result<LegacyParameters, String> {
    let text = |key: &str| old.get(key).and_then(Value::as_str).map(str::to_owned);
    let need = |key: &str| number(old, key)?.ok_or_else(|| format!("parameters.{key} is missing"));
    Ok(LegacyParameters {
        ticker: row.text("etf")?.trim().to_ascii_uppercase(),
        mode: mapping::mode(&row.text("mode")?)?,
        start_date: row.date("start_date")?,
        end_date: row.date("end_date")?,
        leverage: need("leverage")?,
        account_type: mapping::account_type(
            &text("account_type").unwrap_or_else(|| "reg_t".into()),
        )?,
        initial_investment: need("initial_investment")?,
        profit_threshold: number(old, "profit_threshold")?,
    })
}

fn session(
    row: &LegacyRow,
    users: &Users,
    market: &MarketData,
) -> Result<backtest_session::ActiveModel, String> {
    let session_id = row.uuid("session_id")?;
    let etf = row.text("etf")?.trim().to_ascii_uppercase();
    if etf.is_empty() || etf.len() > 16 {
        return Err(format!("etf {etf:?} is not a ticker"));
    }
    let mode = mapping::mode(&row.text("mode")?)?;
    let old = row.json("parameters")?;
    // Our input when the old parameters translate and normalise; the old ones otherwise.
    let ours = session_parameters(&old, row)
        .and_then(|p| engine_input(&p, Some(&old)))
        .and_then(|input| engine::backtest::normalize(&input, market).map_err(|e| e.to_string()))
        .ok()
        .and_then(|input| {
            let dataset = market.dataset(&input.ticker).ok()?;
            let key = engine::backtest::cache_key(&input, &dataset.fingerprint);
            Some((serde_json::to_value(&input).ok()?, key))
        });
    let mut status = mapping::session_status(&row.text("status")?)?;
    let mut error_message = None;
    if !status.is_terminal() {
        status = SessionStatus::Error;
        error_message = Some("interrupted: unfinished when imported from the Django app".into());
    }
    let execution_time_ms = row.opt_f64("execution_time_ms")?;
    let (parameters, cache_key) = match ours {
        Some((parameters, key)) => (parameters, Some(key)),
        None => (old, None),
    };
    Ok(backtest_session::ActiveModel {
        session_id: Set(session_id),
        user_id: Set(users.resolve(row.opt_i64("user_id")?)?),
        mode: Set(mode),
        etf: Set(etf),
        start_date: Set(row.date("start_date")?),
        end_date: Set(row.date("end_date")?),
        parameters: Set(parameters),
        status: Set(status),
        cache_key: Set(cache_key),
        cache_hit: Set(false),
        error_message: Set(error_message),
        created_at: Set(row.datetime("created_at")?),
        completed_at: Set(row.opt_datetime("completed_at")?),
        execution_time_ms: Set(execution_time_ms),
        owner: Set(None),
        lease_expires_at: Set(None),
        ..Default::default()
    })
}

pub async fn import_sessions<C: ConnectionTrait + TransactionTrait>(
    ctx: &Context<'_>,
    conn: &C,
    users: &Users,
    table: &mut TableReport,
) -> anyhow::Result<()> {
    let Some(mut reader) = ctx.source.reader(SESSIONS, SESSION_BATCH).await? else {
        return Ok(());
    };
    let bar = ctx
        .progress
        .bar(SESSIONS, ctx.source.count(SESSIONS).await?);
    let txn = conn.begin().await?;
    while let Some(rows) = reader.next_batch().await? {
        table.read += rows.len() as u64;
        bar.inc(rows.len() as u64);
        let present = super::already_present::<backtest_session::Entity, _>(
            &txn,
            &rows,
            "session_id",
            backtest_session::Column::SessionId,
        )
        .await?;
        let mut fresh = Vec::new();
        let mut in_batch = HashSet::new();
        for row in &rows {
            match session(row, users, &ctx.market) {
                Err(reason) => table.skip(row.id, row.opt_text("session_id"), reason),
                Ok(model) => {
                    let id = match &model.session_id {
                        Set(id) => *id,
                        _ => Uuid::nil(),
                    };
                    if present.contains(&id) || !in_batch.insert(id) {
                        table.already_present += 1;
                    } else {
                        fresh.push(model);
                    }
                }
            }
        }
        if !fresh.is_empty() {
            table.imported += fresh.len() as u64;
            backtest_session::Entity::insert_many(fresh)
                .exec_without_returning(&txn)
                .await?;
        }
    }
    txn.commit().await?;
    bar.finish_and_clear();
    Ok(())
}

/// A saved row read and checked, before the engine.
struct Candidate {
    legacy_id: i64,
    result_id: Uuid,
    user_id: i64,
    email: String,
    name: String,
    description: String,
    tags: Vec<String>,
    parameters: LegacyParameters,
    legacy: Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn candidate(row: &LegacyRow, users: &Users) -> Result<Candidate, String> {
    let result_id = row.uuid("result_id")?;
    let legacy_user = row.i64("user_id")?;
    let user_id = users.require(Some(legacy_user))?;
    let email = users
        .emails
        .get(&legacy_user)
        .cloned()
        .ok_or_else(|| format!("references skipped user {legacy_user}"))?;
    let legacy = match row.json("results_data") {
        Ok(Value::Object(payload)) => Value::Object(payload),
        Ok(Value::String(_)) => {
            return Err("broken results_data JSON: a JSON string, not an object (double-encoded or truncated)".into());
        }
        Ok(_) => return Err("broken results_data JSON: not an object".into()),
        Err(err) => return Err(format!("broken results_data JSON: {err}")),
    };
    let tags = match row.opt_text("tags") {
        None => Vec::new(),
        Some(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(items)) => items
                .into_iter()
                .map(|t| match t {
                    Value::String(t) => Ok(t),
                    _ => Err("tags is not a JSON array of strings".to_string()),
                })
                .collect::<Result<Vec<_>, _>>()?,
            Ok(Value::Null) => Vec::new(),
            _ => return Err("tags is not a JSON array of strings".into()),
        },
    };
    let created_at = row.datetime("created_at")?;
    Ok(Candidate {
        legacy_id: row.id,
        result_id,
        user_id,
        email,
        name: saved_results::validate_name(&row.text("name")?).map_err(why)?,
        description: saved_results::validate_description(
            &row.opt_text("description").unwrap_or_default(),
        )
        .map_err(why)?,
        tags: saved_results::validate_tags(&tags).map_err(why)?,
        parameters: parameters(row, "ticker")?,
        legacy,
        created_at,
        updated_at: row.opt_datetime("updated_at")?.unwrap_or(created_at),
    })
}

/// A saved row ready to insert: the server's payload, or the reason there is none.
struct Prepared {
    candidate: Candidate,
    row: saved::ActiveModel,
    /// Why the parameters could not be re-run (legacy-only).
    reason: Option<String>,
    diff: Value,
}

/// Re-runs one result (on a rayon thread).
fn rerun(candidate: Candidate, market: &MarketData) -> Result<Prepared, String> {
    let never = AtomicBool::new(false);
    let ran = engine_input(&candidate.parameters, candidate.legacy.get("parameters"))
        .and_then(|input| engine::backtest::normalize(&input, market).map_err(|e| e.to_string()))
        .and_then(|input| {
            engine::backtest::run_backtest(market, &input, &mut |_| {}, &never)
                .map_err(|e| e.to_string())
        });
    let owner = (candidate.user_id, candidate.email.as_str());
    let metadata = (
        candidate.name.clone(),
        candidate.description.clone(),
        candidate.tags.as_slice(),
    );
    let at = (candidate.created_at, candidate.updated_at);
    let (row, reason, summary): (_, _, Option<Summary>) = match ran {
        Ok(result) => {
            // Stored by its input, computed on the first read (see `DeferredPayload`).
            let payload = deferred_payload_of(&result).map_err(why)?;
            let columns = SavedColumns::of(&result.input);
            (
                new_row(owner, metadata, columns, payload, at),
                None,
                Some(result.summary),
            )
        }
        Err(reason) => {
            let p = &candidate.parameters;
            let columns = SavedColumns {
                mode: p.mode,
                ticker: p.ticker.clone(),
                start_date: p.start_date,
                end_date: p.end_date,
                leverage: p.leverage,
                account_type: p.account_type,
                initial_investment: p.initial_investment,
                profit_threshold: p.profit_threshold,
            };
            // No server result: an empty payload, and the flag in the legacy row.
            let row = new_row(
                owner,
                metadata,
                columns,
                Value::Object(Default::default()),
                at,
            );
            (row, Some(reason), None)
        }
    };
    let mut row = row;
    row.result_id = Set(candidate.result_id);
    let diff = serde_json::to_value(mapping::saved_differences(
        &candidate.legacy,
        summary.as_ref(),
    ))
    .map_err(|e| e.to_string())?;
    Ok(Prepared {
        candidate,
        row,
        reason,
        diff,
    })
}

/// Saved results of every user in `users.map`, counted here.
async fn saved_counts(
    db: &impl ConnectionTrait,
    users: &Users,
) -> anyhow::Result<HashMap<i64, u32>> {
    let targets: Vec<i64> = users
        .map
        .values()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut counts = HashMap::new();
    for chunk in targets.chunks(500) {
        let rows = saved::Entity::find()
            .select_only()
            .column(saved::Column::UserId)
            .column_as(saved::Column::Id.count(), "n")
            .filter(saved::Column::UserId.is_in(chunk.iter().copied()))
            .group_by(saved::Column::UserId)
            .into_tuple::<(i64, i64)>()
            .all(db)
            .await?;
        for (user, n) in rows {
            counts.insert(user, u32::try_from(n).unwrap_or(u32::MAX));
        }
    }
    Ok(counts)
}

pub async fn import_saved<C: ConnectionTrait + TransactionTrait>(
    ctx: &Context<'_>,
    conn: &C,
    users: &Users,
    table: &mut TableReport,
    legacy_only: &mut Vec<LegacyOnly>,
) -> anyhow::Result<()> {
    let quota = effective_quota(ctx.quota);
    let reader = ctx.source.reader(SAVED, SAVED_BATCH).await?;
    let bar = ctx.progress.bar(SAVED, ctx.source.count(SAVED).await?);
    let txn = conn.begin().await?;
    let mut counts = saved_counts(&txn, users).await?;
    let mut pending: Option<tokio::task::JoinHandle<Vec<Rerun>>> = None;
    if let Some(mut reader) = reader {
        while let Some(rows) = reader.next_batch().await? {
            table.read += rows.len() as u64;
            let present = super::already_present::<saved::Entity, _>(
                &txn,
                &rows,
                "result_id",
                saved::Column::ResultId,
            )
            .await?;
            let mut candidates = Vec::new();
            for row in &rows {
                let key = row.opt_text("result_id");
                if row.uuid("result_id").is_ok_and(|id| present.contains(&id)) {
                    table.already_present += 1;
                    continue;
                }
                let candidate = match candidate(row, users) {
                    Ok(candidate) => candidate,
                    Err(reason) => {
                        table.skip(row.id, key, reason);
                        continue;
                    }
                };
                let used = counts.entry(candidate.user_id).or_insert(0);
                if *used >= quota {
                    table.skip(
                        row.id,
                        key,
                        format!("quota: the user already has {used} saved results here (at most {quota})"),
                    );
                    continue;
                }
                *used += 1;
                candidates.push(candidate);
            }
            // The engine runs this batch while the previous one is written.
            let market = ctx.market.clone();
            let computing = tokio::task::spawn_blocking(move || rerun_all(candidates, &market));
            if let Some(previous) = pending.replace(computing) {
                let done = previous.await?;
                write_batch(ctx, &txn, done, &mut counts, table, legacy_only).await?;
            }
            bar.inc(rows.len() as u64);
        }
    }
    if let Some(previous) = pending.take() {
        let done = previous.await?;
        write_batch(ctx, &txn, done, &mut counts, table, legacy_only).await?;
    }
    // The quota counter of every user imported or matched: the rows they now have.
    let targets: Vec<i64> = users
        .map
        .values()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for chunk in targets.chunks(500) {
        user::Entity::update_many()
            .col_expr(
                user::Column::SavedResultsCount,
                Expr::cust(format!(
                    "(SELECT COUNT(*) FROM {SAVED} WHERE {SAVED}.user_id = authentication_user.id)"
                )),
            )
            .filter(user::Column::Id.is_in(chunk.iter().copied()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    bar.finish_and_clear();
    Ok(())
}

/// A batch after the engine: rows ready to insert, or the row's skip.
type Rerun = Result<Prepared, (i64, Uuid, i64, String)>;

fn rerun_all(candidates: Vec<Candidate>, market: &MarketData) -> Vec<Rerun> {
    candidates
        .into_par_iter()
        .map(|c| {
            let (id, result_id, user) = (c.legacy_id, c.result_id, c.user_id);
            rerun(c, market).map_err(|reason| (id, result_id, user, reason))
        })
        .collect()
}

/// Writes a re-run batch: the saved rows, their tag keys and their legacy rows (the
/// payloads are moved into the statements, never copied).
async fn write_batch(
    ctx: &Context<'_>,
    txn: &impl ConnectionTrait,
    done: Vec<Rerun>,
    counts: &mut HashMap<i64, u32>,
    table: &mut TableReport,
    legacy_only: &mut Vec<LegacyOnly>,
) -> anyhow::Result<()> {
    let mut rows = Vec::with_capacity(done.len());
    let mut rest = Vec::with_capacity(done.len());
    for p in done {
        match p {
            Ok(Prepared {
                candidate,
                row,
                reason,
                diff,
            }) => {
                rows.push(row);
                rest.push((candidate, reason, diff));
            }
            Err((id, result_id, user, reason)) => {
                if let Some(n) = counts.get_mut(&user) {
                    *n = n.saturating_sub(1);
                }
                table.skip(id, Some(result_id.simple().to_string()), reason);
            }
        }
    }
    if rows.is_empty() {
        return Ok(());
    }
    saved::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    let ids: HashMap<Uuid, i64> = saved::Entity::find()
        .select_only()
        .columns([saved::Column::ResultId, saved::Column::Id])
        .filter(saved::Column::ResultId.is_in(rest.iter().map(|(c, _, _)| c.result_id)))
        .into_tuple::<(Uuid, i64)>()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let mut tags = Vec::new();
    let mut legacy = Vec::with_capacity(rest.len());
    table.imported += rest.len() as u64;
    for (candidate, reason, diff) in rest {
        let Some(&id) = ids.get(&candidate.result_id) else {
            anyhow::bail!(
                "saved result {} was inserted but cannot be read back",
                candidate.result_id
            );
        };
        tags.extend(tag_rows(id, &candidate.tags));
        if let Some(reason) = &reason {
            legacy_only.push(LegacyOnly {
                legacy_id: candidate.legacy_id,
                result_id: candidate.result_id,
                reason: reason.clone(),
            });
        }
        legacy.push(legacy_saved_result::ActiveModel {
            saved_result_id: Set(id),
            legacy_id: Set(candidate.legacy_id),
            legacy_only: Set(reason.is_some()),
            reason: Set(reason),
            legacy_diff: Set(Some(diff)),
            imported_at: Set(ctx.now),
            legacy_results: Set(candidate.legacy),
        });
    }
    for chunk in tags.chunks(1000) {
        saved_result_tag::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    legacy_saved_result::Entity::insert_many(legacy)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}
