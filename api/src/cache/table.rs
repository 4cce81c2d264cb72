//! The table layer, `historical_backtest_backtestcache`: JSON with `expires_at`; expired rows
//! are deleted when a lookup meets them and by the periodic [`sweep`].

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use engine::backtest::BacktestResult;
use entity::{backtest_cache, stored_enums::BacktestMode};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict, Query},
};

use crate::error::{ApiError, ApiResult};

/// Deletes every expired row of the cache table.
pub async fn sweep(db: &DatabaseConnection) -> ApiResult<u64> {
    let deleted = backtest_cache::Entity::delete_many()
        .filter(backtest_cache::Column::ExpiresAt.lte(Utc::now()))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

pub(super) async fn get(db: &DatabaseConnection, key: &str) -> Option<Arc<BacktestResult>> {
    let row = match backtest_cache::Entity::find()
        .filter(backtest_cache::Column::CacheKey.eq(key))
        .one(db)
        .await
    {
        Ok(row) => row?,
        Err(err) => {
            tracing::warn!(error = %err, "cache table lookup failed (miss)");
            return None;
        }
    };
    usable_row(db, row).await
}

/// The row's result, or None (and the row deleted) when it has expired or does not parse.
async fn usable_row(
    db: &DatabaseConnection,
    row: backtest_cache::Model,
) -> Option<Arc<BacktestResult>> {
    let id = row.id;
    let parsed = if row.expires_at <= Utc::now() {
        None
    } else {
        tokio::task::spawn_blocking(move || {
            serde_json::from_value::<BacktestResult>(row.results).ok()
        })
        .await
        .ok()
        .flatten()
    };
    if parsed.is_none() {
        let _ = backtest_cache::Entity::delete_by_id(id).exec(db).await;
    }
    parsed.map(Arc::new)
}

pub(super) async fn get_many(
    db: &DatabaseConnection,
    keys: &[String],
) -> Vec<(String, Arc<BacktestResult>)> {
    let rows = match backtest_cache::Entity::find()
        .filter(backtest_cache::Column::CacheKey.is_in(keys.iter().cloned()))
        .all(db)
        .await
    {
        Ok(rows) => rows,
        Err(err) => {
            tracing::warn!(error = %err, "cache table lookup failed (miss)");
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let key = row.cache_key.clone();
        if let Some(result) = usable_row(db, row).await {
            out.push((key, result));
        }
    }
    out
}

/// Upserts the row with the result's JSON text bound as it is (PostgreSQL casts it to jsonb),
/// so the text is not parsed back into a tree just to be written.
pub(super) async fn put(
    db: &DatabaseConnection,
    key: &str,
    result: &BacktestResult,
    json: String,
    ttl: Duration,
) -> ApiResult<()> {
    use backtest_cache::Column;
    let now = Utc::now();
    let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
    let parameters = serde_json::to_value(&result.input).unwrap_or_default();
    let results = match db.get_database_backend() {
        DbBackend::Postgres => Expr::cust_with_values("CAST($1 AS jsonb)", [json]),
        _ => Expr::value(json),
    };
    let mut insert = Query::insert();
    insert
        .into_table(backtest_cache::Entity)
        .columns([
            Column::CacheKey,
            Column::Etf,
            Column::Mode,
            Column::Parameters,
            Column::Results,
            Column::CreatedAt,
            Column::ExpiresAt,
        ])
        .values([
            Expr::value(key.to_string()),
            Expr::value(result.input.ticker.clone()),
            Expr::value(BacktestMode::from(result.input.mode)),
            Expr::value(parameters),
            results,
            Expr::value(now),
            Expr::value(expires),
        ])
        .map_err(ApiError::internal)?
        .on_conflict(
            OnConflict::column(Column::CacheKey)
                .update_columns([
                    Column::Results,
                    Column::Parameters,
                    Column::CreatedAt,
                    Column::ExpiresAt,
                ])
                .to_owned(),
        );
    db.execute(&insert).await?;
    Ok(())
}
