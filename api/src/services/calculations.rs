//! The margin calculator and the caller's history of calculations.
//!
//! The calculator is constant-time arithmetic (microseconds), so unlike backtests it runs
//! inline rather than on the blocking pool.

use chrono::{DateTime, Utc};
use engine::{
    calculator::{CalcInput, CalcResult},
    market::MarketData,
};
use entity::margin_calculation;
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

use super::pagination::{Keyset, Page, PageRequest, total_count};
use crate::error::{ApiError, ApiResult};

pub type CalculationRecord = margin_calculation::Model;

/// Computes and stores a calculation (`user_id` None: an anonymous one).
pub async fn calculate(
    db: &DatabaseConnection,
    market: &MarketData,
    user_id: Option<i64>,
    input: &CalcInput,
) -> ApiResult<(CalculationRecord, CalcResult)> {
    let result = engine::calculator::calculate(input, market)?;
    let now = Utc::now();
    let record = record_of(user_id, input, &result, (now, now))?
        .insert(db)
        .await?;
    Ok((record, result))
}

/// The row a calculation is stored as: its main inputs and the result as JSON, created and
/// updated at the given times (`import-django` keeps the old ones).
pub(crate) fn record_of(
    user_id: Option<i64>,
    input: &CalcInput,
    result: &CalcResult,
    (created_at, updated_at): (DateTime<Utc>, DateTime<Utc>),
) -> ApiResult<margin_calculation::ActiveModel> {
    let json = serde_json::to_value(result).map_err(ApiError::internal)?;
    Ok(margin_calculation::ActiveModel {
        user_id: Set(user_id),
        ticker: Set(result.ticker.clone()),
        investment_amount: Set(input.investment_amount),
        leverage: Set(input.leverage),
        current_price: Set(result.current_price),
        account_type: Set(result.account_type.into()),
        position_type: Set(result.position_type.into()),
        interest_rate: Set(input.interest_rate),
        holding_period: Set(i32::try_from(input.holding_period_months).unwrap_or(i32::MAX)),
        results: Set(json),
        created_at: Set(created_at),
        updated_at: Set(updated_at),
        ..Default::default()
    })
}

/// The stored result of a calculation.
pub fn result_of(record: &CalculationRecord) -> ApiResult<CalcResult> {
    serde_json::from_value(record.results.clone()).map_err(ApiError::internal)
}

/// The records of a listing with their results. A stored result that no longer decodes (a
/// row written with non-finite numbers by an older build, or edited by hand) is logged by id
/// and skipped, so one bad row cannot make the caller's whole history unreadable.
pub fn decodable(records: Vec<CalculationRecord>) -> Vec<(CalculationRecord, CalcResult)> {
    records
        .into_iter()
        .filter_map(|record| match result_of(&record) {
            Ok(result) => Some((record, result)),
            Err(err) => {
                let cause = match &err {
                    ApiError::Internal(cause) => cause.to_string(),
                    other => other.message(),
                };
                tracing::error!(
                    calculation_id = record.id,
                    error = %cause,
                    "stored calculation does not decode; left out of the listing"
                );
                None
            }
        })
        .collect()
}

/// The caller's calculations, newest first, optionally for one ticker.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    ticker: Option<&str>,
    page: &PageRequest,
) -> ApiResult<Page<CalculationRecord>> {
    let mut query =
        margin_calculation::Entity::find().filter(margin_calculation::Column::UserId.eq(user_id));
    if let Some(ticker) = ticker.map(str::trim).filter(|t| !t.is_empty()) {
        // PostgreSQL refuses NUL in text outright; no ticker has a control character.
        if ticker.chars().any(char::is_control) {
            return Err(ApiError::input(
                "ticker",
                "must not contain control characters",
            ));
        }
        query = query.filter(margin_calculation::Column::Ticker.eq(ticker.to_ascii_uppercase()));
    }
    let total = total_count(db, query.clone());
    let query = Keyset::newest_first(margin_calculation::Column::Id).select(query, page)?;
    Ok(Page::from_rows(query.all(db).await?, page, total))
}

/// One of the caller's calculations; another user's is NOT_FOUND like a missing one.
pub async fn get(db: &DatabaseConnection, user_id: i64, id: i64) -> ApiResult<CalculationRecord> {
    margin_calculation::Entity::find_by_id(id)
        .filter(margin_calculation::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("calculation"))
}
