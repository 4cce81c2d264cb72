//! What `margin-api import-django` kept of the rows it brought over from the Django apps:
//! the old payload and its headline numbers beside the server's. Read only; callers have
//! already checked that the row is the caller's.

use entity::{legacy_calculation, legacy_saved_result};
use sea_orm::{ConnectionTrait, EntityTrait, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

/// One headline number, old and new, in the units the old app showed it in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricDifference {
    /// Stable name (`totalReturnPct`, `marginCallPrice`, …).
    pub metric: String,
    /// The old app's label or key (`Total Return`, `margin_call_price`, …).
    pub label: String,
    pub legacy: Option<f64>,
    pub server: Option<f64>,
    /// `server − legacy`, when both are known.
    pub difference: Option<f64>,
}

/// The comparison stored with an imported row, or None for a row that was not imported.
fn differences(stored: Option<serde_json::Value>) -> ApiResult<Option<Vec<MetricDifference>>> {
    stored
        .map(serde_json::from_value)
        .transpose()
        .map_err(ApiError::internal)
}

/// Whether a saved row was imported with its legacy payload only.
pub async fn is_legacy_only(db: &impl ConnectionTrait, saved_id: i64) -> ApiResult<bool> {
    Ok(legacy_saved_result::Entity::find_by_id(saved_id)
        .select_only()
        .column(legacy_saved_result::Column::LegacyOnly)
        .into_tuple::<bool>()
        .one(db)
        .await?
        .unwrap_or(false))
}

/// How an imported saved result's numbers compare with the old app's, and why a legacy-only
/// one could not be re-run; None when the row was not imported.
pub async fn saved_comparison(
    db: &impl ConnectionTrait,
    saved_id: i64,
) -> ApiResult<Option<(Vec<MetricDifference>, Option<String>)>> {
    let row = legacy_saved_result::Entity::find_by_id(saved_id)
        .select_only()
        .columns([
            legacy_saved_result::Column::LegacyDiff,
            legacy_saved_result::Column::Reason,
        ])
        .into_tuple::<(Option<serde_json::Value>, Option<String>)>()
        .one(db)
        .await?;
    let Some((diff, reason)) = row else {
        return Ok(None);
    };
    Ok(Some((differences(diff)?.unwrap_or_default(), reason)))
}

/// The old app's payload of an imported saved result, verbatim.
pub async fn saved_payload(
    db: &impl ConnectionTrait,
    saved_id: i64,
) -> ApiResult<Option<serde_json::Value>> {
    Ok(legacy_saved_result::Entity::find_by_id(saved_id)
        .select_only()
        .column(legacy_saved_result::Column::LegacyResults)
        .into_tuple::<serde_json::Value>()
        .one(db)
        .await?)
}

/// How an imported calculation's figures compare with the old app's; None when the row was
/// not imported.
pub async fn calculation_comparison(
    db: &impl ConnectionTrait,
    calculation_id: i64,
) -> ApiResult<Option<Vec<MetricDifference>>> {
    let diff = legacy_calculation::Entity::find_by_id(calculation_id)
        .select_only()
        .column(legacy_calculation::Column::LegacyDiff)
        .into_tuple::<Option<serde_json::Value>>()
        .one(db)
        .await?;
    match diff {
        None => Ok(None),
        Some(diff) => Ok(Some(differences(diff)?.unwrap_or_default())),
    }
}

/// The old app's results of an imported calculation, verbatim.
pub async fn calculation_payload(
    db: &impl ConnectionTrait,
    calculation_id: i64,
) -> ApiResult<Option<serde_json::Value>> {
    Ok(legacy_calculation::Entity::find_by_id(calculation_id)
        .select_only()
        .column(legacy_calculation::Column::LegacyResults)
        .into_tuple::<serde_json::Value>()
        .one(db)
        .await?)
}
