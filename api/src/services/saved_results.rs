//! Saved backtest results with a per-user quota.
//!
//! A result is saved from a completed session the caller owns, and what is stored is the
//! server's own result for that session (never numbers a client sends). The quota is the
//! `saved_results_count` column of `authentication_user`, moved in the same transaction as
//! the insert or delete:
//!
//! ```sql
//! UPDATE authentication_user SET saved_results_count = saved_results_count + 1
//!  WHERE id = ? AND saved_results_count < quota      -- must touch exactly one row
//! ```
//!
//! so concurrent saves can never overshoot it, on SQLite or PostgreSQL.
//!
//! Filters and orderings answer the same on both databases: tags are matched through
//! `historical_backtest_savedresulttag` (one row per tag, keyed by [`text_key`]) exactly and
//! case-insensitively, and names order by the stored `name_key` (= [`text_key`] of the name,
//! compared byte-wise: `C` collation on PostgreSQL, BINARY on SQLite), then id. Both keys are
//! written in the same transaction as the row they belong to.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use engine::backtest::BacktestResult;
use entity::{
    legacy_saved_result as legacy, saved_backtest_result as saved, saved_result_tag as tag,
    stored_enums::{AccountType, BacktestMode, SavedKind},
    user,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Set, TransactionTrait,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, Query},
};
use uuid::Uuid;

use super::{
    backtests::{Backtests, SessionStatus},
    pagination::{Cursor, Direction, Keyset, Page, PageRequest, total_count},
};
use crate::error::{ApiError, ApiResult};

pub const MAX_NAME_CHARS: usize = 255;
pub const MAX_DESCRIPTION_CHARS: usize = 5_000;
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 50;

/// The key a name or tag is ordered and matched by: trimmed and lower-cased (Unicode, in
/// Rust, so neither database's `lower()` decides). Migration 6 backfills with the same rule.
pub fn text_key(text: &str) -> String {
    text.trim().to_lowercase()
}

/// The quota in force: the configured one, never above what the database allows.
pub fn effective_quota(configured: u32) -> u32 {
    Ord::min(
        configured,
        u32::try_from(migration::MAX_SAVED_RESULTS_QUOTA).unwrap_or(1000),
    )
}

#[derive(Debug, Clone)]
pub struct SaveInput {
    pub session_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
}

/// New metadata; a field left None is kept.
#[derive(Debug, Clone, Default)]
pub struct MetadataInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct SavedFilter {
    pub search: Option<String>,
    pub ticker: Option<String>,
    pub mode: Option<BacktestMode>,
    pub account_type: Option<AccountType>,
    pub tags: Vec<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub kind: Option<SavedKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SavedOrder {
    #[default]
    CreatedDesc,
    CreatedAsc,
    NameAsc,
    NameDesc,
}

/// What an ordering sorts by before the id (the tie-breaker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    /// The id alone: ids grow with creation, so this is the order of `created_at`, without
    /// its ties.
    Id,
    /// The stored `name_key`.
    Name,
}

impl SortKey {
    fn column(self) -> Option<saved::Column> {
        match self {
            Self::Id => None,
            Self::Name => Some(saved::Column::NameKey),
        }
    }

    fn value_of(self, summary: &SavedSummary) -> Option<String> {
        match self {
            Self::Id => None,
            Self::Name => Some(summary.name_key.clone()),
        }
    }
}

impl SavedOrder {
    fn sort(self) -> (SortKey, Direction) {
        match self {
            Self::CreatedDesc => (SortKey::Id, Direction::Descending),
            Self::CreatedAsc => (SortKey::Id, Direction::Ascending),
            Self::NameAsc => (SortKey::Name, Direction::Ascending),
            Self::NameDesc => (SortKey::Name, Direction::Descending),
        }
    }

    fn keyset(self) -> Keyset<saved::Column> {
        let (key, direction) = self.sort();
        Keyset {
            key: key.column(),
            id: saved::Column::Id,
            direction,
        }
    }
}

/// A saved result without its payload.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SavedSummary {
    pub id: i64,
    pub result_id: Uuid,
    pub name: String,
    /// [`text_key`] of the name: the NAME_ASC / NAME_DESC sort key.
    pub name_key: String,
    pub description: String,
    pub tags: serde_json::Value,
    pub mode: BacktestMode,
    pub ticker: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub leverage: f64,
    pub account_type: AccountType,
    pub initial_investment: f64,
    pub profit_threshold: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Imported from the Django apps without a server result (its parameters could not be
    /// re-run): only the legacy payload is kept (`services::legacy_imports`).
    pub legacy: bool,
    /// A backtest's result or a sweep's grid.
    pub kind: SavedKind,
}

impl SavedSummary {
    pub fn tag_list(&self) -> Vec<String> {
        tags_of(&self.tags)
    }
}

pub fn tags_of(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn summary_of(m: &saved::Model) -> SavedSummary {
    SavedSummary {
        id: m.id,
        result_id: m.result_id,
        name: m.name.clone(),
        name_key: m.name_key.clone(),
        description: m.description.clone(),
        tags: m.tags.clone(),
        mode: m.mode,
        ticker: m.ticker.clone(),
        start_date: m.start_date,
        end_date: m.end_date,
        leverage: m.leverage,
        account_type: m.account_type,
        initial_investment: m.initial_investment,
        profit_threshold: m.profit_threshold,
        created_at: m.created_at,
        updated_at: m.updated_at,
        legacy: false,
        kind: m.kind,
    }
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

pub fn validate_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(ApiError::input(
            "name",
            format!("must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    if has_control(name) {
        return Err(ApiError::input(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

pub fn validate_description(description: &str) -> ApiResult<String> {
    let description = description.trim();
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(ApiError::input(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    // Line breaks and tabs are fine in a description; other control characters are not.
    if description
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::input(
            "description",
            "must not contain control characters",
        ));
    }
    Ok(description.to_string())
}

pub fn validate_tags(tags: &[String]) -> ApiResult<Vec<String>> {
    if tags.len() > MAX_TAGS {
        return Err(ApiError::input("tags", format!("at most {MAX_TAGS} tags")));
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for tag in tags {
        let tag = tag.trim();
        let chars = tag.chars().count();
        if chars == 0 || chars > MAX_TAG_CHARS {
            return Err(ApiError::input(
                "tags",
                format!("each tag must be 1 to {MAX_TAG_CHARS} characters"),
            ));
        }
        if has_control(tag) {
            return Err(ApiError::input(
                "tags",
                "tags must not contain control characters",
            ));
        }
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_string());
        }
    }
    Ok(out)
}

/// Saves the result of a completed session the caller owns, within the quota.
pub async fn save(
    backtests: &Backtests,
    quota: u32,
    user_id: i64,
    user_email: &str,
    input: SaveInput,
) -> ApiResult<SavedSummary> {
    let name = validate_name(&input.name)?;
    let description = validate_description(input.description.as_deref().unwrap_or(""))?;
    let tags = validate_tags(&input.tags)?;
    let session = backtests.session(Some(user_id), input.session_id).await?;
    if session.user_id != Some(user_id) {
        return Err(ApiError::NotFound("backtest session"));
    }
    if session.status != SessionStatus::Completed {
        return Err(ApiError::input(
            "sessionId",
            format!(
                "only a completed session can be saved (this one is {})",
                session.status.to_value()
            ),
        ));
    }
    let Some(result) = backtests.result_of(&session).await? else {
        return Err(ApiError::input(
            "sessionId",
            "the result of this session is no longer available; run the backtest again",
        ));
    };
    let columns = SavedColumns::of(&result.input);
    let stored = Stored {
        columns,
        kind: SavedKind::Backtest,
    };
    persist(
        backtests,
        quota,
        (user_id, user_email),
        (name, description, tags),
        stored,
        move || payload_of(&result),
    )
    .await
}

/// Saves the grid of a completed sweep the caller owns, within the same quota: the row
/// carries the base run's columns (so filters by ticker, mode or account find it) and the
/// grid as its payload.
async fn save_sweep(
    backtests: &Backtests,
    sweeps: &super::sweeps::Sweeps,
    quota: u32,
    (user_id, user_email): (i64, &str),
    input: SaveInput,
) -> ApiResult<SavedSummary> {
    let name = validate_name(&input.name)?;
    let description = validate_description(input.description.as_deref().unwrap_or(""))?;
    let tags = validate_tags(&input.tags)?;
    let view = sweeps.view(Some(user_id), input.session_id).await?;
    if view.record.user_id != Some(user_id) {
        return Err(ApiError::NotFound("sweep session"));
    }
    let Some(result) = view.result else {
        return Err(ApiError::input(
            "sessionId",
            format!(
                "only a completed sweep can be saved (this one is {})",
                view.record.status.to_value()
            ),
        ));
    };
    let stored = Stored {
        columns: SavedColumns::of(&result.input.base),
        kind: SavedKind::Sweep,
    };
    persist(
        backtests,
        quota,
        (user_id, user_email),
        (name, description, tags),
        stored,
        move || serde_json::to_value(&*result).map_err(ApiError::internal),
    )
    .await
}

/// What `SaveInput::session_id` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveTarget {
    Backtest,
    Sweep,
    /// A bare UUID: a backtest session of the caller's with it, else a sweep (the UUIDs of
    /// both are random, so they never collide).
    Either,
}

/// Saves the backtest session or sweep `input.session_id` names (see [`SaveTarget`]); one
/// that is neither the caller's backtest session nor their sweep is NOT_FOUND.
pub async fn save_target(
    (backtests, sweeps): (&Backtests, &super::sweeps::Sweeps),
    quota: u32,
    owner: (i64, &str),
    target: SaveTarget,
    input: SaveInput,
) -> ApiResult<SavedSummary> {
    match target {
        SaveTarget::Backtest => save(backtests, quota, owner.0, owner.1, input).await,
        SaveTarget::Sweep => save_sweep(backtests, sweeps, quota, owner, input).await,
        SaveTarget::Either => match save(backtests, quota, owner.0, owner.1, input.clone()).await {
            Err(ApiError::NotFound(_)) => save_sweep(backtests, sweeps, quota, owner, input)
                .await
                .map_err(|err| match err {
                    ApiError::NotFound(_) => ApiError::NotFound("backtest session"),
                    other => other,
                }),
            other => other,
        },
    }
}

/// What a saved row is about, beside its payload.
struct Stored {
    columns: SavedColumns,
    kind: SavedKind,
}

/// Writes a saved row within the quota: its payload serialised off the runtime, then one
/// transaction (run again from the start if it lost a race).
async fn persist(
    backtests: &Backtests,
    quota: u32,
    owner: (i64, &str),
    metadata: (String, String, Vec<String>),
    stored: Stored,
    payload: impl Fn() -> ApiResult<serde_json::Value> + Send + Sync + 'static,
) -> ApiResult<SavedSummary> {
    let payload = Arc::new(payload);
    let first = {
        let payload = payload.clone();
        tokio::task::spawn_blocking(move || payload())
            .await
            .map_err(ApiError::internal)??
    };
    let db = &backtests.db;
    // A slot first, then a connection: a burst of saves queues here, not in the pool.
    let _slot = backtests.write_slots.acquire().await;
    let mut first = Some(first);
    let stored = &stored;
    // A transaction that lost a race (deadlock, SQLite busy) runs again from the start.
    crate::db::retry::transaction(|| {
        let attempt = first.take();
        let metadata = metadata.clone();
        let payload = payload.clone();
        async move {
            let payload = match attempt {
                Some(value) => value,
                None => payload()?,
            };
            insert(db, quota, owner, metadata, stored, payload).await
        }
    })
    .await
}

/// The summary columns of a saved row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SavedColumns {
    pub mode: BacktestMode,
    pub ticker: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub leverage: f64,
    pub account_type: AccountType,
    pub initial_investment: f64,
    pub profit_threshold: Option<f64>,
}

impl SavedColumns {
    /// The columns of a result: its normalised input (dates snapped to trading days).
    pub(crate) fn of(input: &engine::backtest::BacktestInput) -> Self {
        Self {
            mode: input.mode.into(),
            ticker: input.ticker.clone(),
            start_date: input.start_date,
            end_date: input.end_date,
            leverage: input.leverage,
            account_type: input.account_type.into(),
            initial_investment: input.initial_investment,
            profit_threshold: input.profit_threshold_pct,
        }
    }
}

/// What a save stores for a result: the server's result itself, as JSON.
pub(crate) fn payload_of(result: &BacktestResult) -> ApiResult<serde_json::Value> {
    serde_json::to_value(result).map_err(ApiError::internal)
}

/// A saved backtest stored by its normalised input only, computed by the engine on its
/// first read and stored in full from then on. `import-django` writes these: tens of
/// thousands of full results (~0.4 MB each) would take many minutes and gigabytes to write,
/// while a read recomputes one in about a millisecond. The engine is deterministic, so the
/// result is bit-identical to the one the import computed (and compared with the old app's
/// numbers) as long as the engine version and the dataset are the same; after an upgrade,
/// the first read computes it with the current ones, and the result names them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DeferredPayload {
    pub deferred_input: engine::backtest::BacktestInput,
    pub engine_version: String,
    pub dataset_fingerprint: String,
}

/// The deferred form of `result`'s payload.
pub(crate) fn deferred_payload_of(result: &BacktestResult) -> ApiResult<serde_json::Value> {
    serde_json::to_value(DeferredPayload {
        deferred_input: result.input.clone(),
        engine_version: result.engine_version.clone(),
        dataset_fingerprint: result.dataset_fingerprint.clone(),
    })
    .map_err(ApiError::internal)
}

/// A saved row as `save` writes it (validated metadata, the payload of [`payload_of`]),
/// created and updated at `at`; `import-django` writes the same with the old timestamps.
pub(crate) fn new_row(
    (user_id, user_email): (i64, &str),
    (name, description, tags): (String, String, &[String]),
    columns: SavedColumns,
    payload: serde_json::Value,
    (created_at, updated_at): (DateTime<Utc>, DateTime<Utc>),
) -> saved::ActiveModel {
    saved::ActiveModel {
        result_id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        user_email: Set(user_email.to_string()),
        name_key: Set(text_key(&name)),
        name: Set(name),
        description: Set(description),
        tags: Set(serde_json::json!(tags)),
        mode: Set(columns.mode),
        ticker: Set(columns.ticker),
        start_date: Set(columns.start_date),
        end_date: Set(columns.end_date),
        leverage: Set(columns.leverage),
        account_type: Set(columns.account_type),
        initial_investment: Set(columns.initial_investment),
        profit_threshold: Set(columns.profit_threshold),
        results_data: Set(payload),
        created_at: Set(created_at),
        updated_at: Set(updated_at),
        ..Default::default()
    }
}

async fn insert(
    db: &DatabaseConnection,
    quota: u32,
    (user_id, user_email): (i64, &str),
    (name, description, tags): (String, String, Vec<String>),
    stored: &Stored,
    payload: serde_json::Value,
) -> ApiResult<SavedSummary> {
    let quota = effective_quota(quota);
    let now = Utc::now();
    // The row goes in first and the counter moves last, so the user's row is locked only
    // from that UPDATE to the commit, not while a large payload is written: saves of one
    // user run side by side instead of queueing on the lock with a connection each.
    let txn = db.begin().await?;
    let mut row = new_row(
        (user_id, user_email),
        (name, description, &tags),
        stored.columns.clone(),
        payload,
        (now, now),
    );
    row.kind = Set(stored.kind);
    let model = row.insert(&txn).await?;
    insert_tags(&txn, model.id, &tags).await?;
    let reserved = user::Entity::update_many()
        .col_expr(
            user::Column::SavedResultsCount,
            Expr::col(user::Column::SavedResultsCount).add(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::SavedResultsCount.lt(i32::try_from(quota).unwrap_or(i32::MAX)))
        .exec(&txn)
        .await?;
    if reserved.rows_affected != 1 {
        txn.rollback().await?;
        return Err(ApiError::QuotaExceeded { limit: quota });
    }
    txn.commit().await?;
    Ok(summary_of(&model))
}

/// The tag-key rows of a saved result (duplicates by key collapse into one row).
pub(crate) fn tag_rows(saved_id: i64, tags: &[String]) -> Vec<tag::ActiveModel> {
    let mut keys: Vec<String> = tags.iter().map(|t| text_key(t)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|tag_key| tag::ActiveModel {
            saved_result_id: Set(saved_id),
            tag_key: Set(tag_key),
        })
        .collect()
}

/// Writes the tag keys of a saved result.
async fn insert_tags(db: &impl ConnectionTrait, saved_id: i64, tags: &[String]) -> ApiResult<()> {
    let rows = tag_rows(saved_id, tags);
    if rows.is_empty() {
        return Ok(());
    }
    tag::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// What a saved result holds, decoded.
#[derive(Clone)]
pub enum SavedPayload {
    Backtest(Arc<BacktestResult>),
    Sweep(Arc<engine::sweep::SweepResult>),
    /// Imported from the Django apps without a server result: only the old payload is kept,
    /// served by `services::legacy_imports`.
    LegacyOnly,
}

impl SavedPayload {
    /// The backtest result, when the saved result is one.
    pub fn backtest(self) -> Option<Arc<BacktestResult>> {
        match self {
            Self::Backtest(result) => Some(result),
            Self::Sweep(_) | Self::LegacyOnly => None,
        }
    }
}

/// One of the caller's saved results with its payload (a deferred one computed now, and
/// stored in full).
pub async fn get(
    db: &DatabaseConnection,
    market: &Arc<engine::market::MarketData>,
    user_id: i64,
    result_id: Uuid,
) -> ApiResult<(SavedSummary, SavedPayload)> {
    let model = saved::Entity::find()
        .filter(saved::Column::ResultId.eq(result_id))
        .filter(saved::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("saved result"))?;
    let mut summary = summary_of(&model);
    summary.legacy = super::legacy_imports::is_legacy_only(db, model.id).await?;
    if summary.legacy {
        return Ok((summary, SavedPayload::LegacyOnly));
    }
    let (kind, payload) = (model.kind, model.results_data);
    if kind == SavedKind::Backtest && payload.get("deferredInput").is_some() {
        let result = materialize(db, market, model.id, payload).await?;
        return Ok((summary, SavedPayload::Backtest(result)));
    }
    let decoded = tokio::task::spawn_blocking(move || match kind {
        SavedKind::Backtest => serde_json::from_value::<BacktestResult>(payload)
            .map(|result| SavedPayload::Backtest(Arc::new(result))),
        SavedKind::Sweep => serde_json::from_value::<engine::sweep::SweepResult>(payload)
            .map(|result| SavedPayload::Sweep(Arc::new(result))),
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok((summary, decoded))
}

/// Computes a deferred payload and stores the full result in its place (when that write
/// fails the result is still served, and computed again next time).
async fn materialize(
    db: &DatabaseConnection,
    market: &Arc<engine::market::MarketData>,
    row_id: i64,
    payload: serde_json::Value,
) -> ApiResult<Arc<BacktestResult>> {
    let market = market.clone();
    let (result, full) = tokio::task::spawn_blocking(move || {
        let deferred: DeferredPayload =
            serde_json::from_value(payload).map_err(ApiError::internal)?;
        let never = std::sync::atomic::AtomicBool::new(false);
        let result =
            engine::backtest::run_backtest(&market, &deferred.deferred_input, &mut |_| {}, &never)
                .map_err(|err| ApiError::internal(anyhow::anyhow!("deferred result: {err}")))?;
        let full = payload_of(&result)?;
        Ok::<_, ApiError>((result, full))
    })
    .await
    .map_err(ApiError::internal)??;
    let stored = saved::Entity::update_many()
        .col_expr(saved::Column::ResultsData, Expr::value(full))
        .filter(saved::Column::Id.eq(row_id))
        .exec(db)
        .await;
    if let Err(err) = stored {
        tracing::warn!(error = %err, row_id, "could not store a computed saved result");
    }
    Ok(Arc::new(result))
}

/// Summary of one of the caller's saved results (no payload).
pub async fn summary(
    db: &impl ConnectionTrait,
    user_id: i64,
    result_id: Uuid,
) -> ApiResult<SavedSummary> {
    summaries()
        .filter(saved::Column::ResultId.eq(result_id))
        .filter(saved::Column::UserId.eq(user_id))
        .into_model::<SavedSummary>()
        .one(db)
        .await?
        .ok_or(ApiError::NotFound("saved result"))
}

fn summaries() -> sea_orm::Select<saved::Entity> {
    let legacy_only = Query::select()
        .expr(Expr::val(1))
        .from(legacy::Entity)
        .and_where(
            Expr::col((legacy::Entity, legacy::Column::SavedResultId))
                .equals((saved::Entity, saved::Column::Id)),
        )
        .and_where(Expr::col((legacy::Entity, legacy::Column::LegacyOnly)).eq(true))
        .to_owned();
    saved::Entity::find()
        .select_only()
        .expr_as(Expr::exists(legacy_only), "legacy")
        .columns([
            saved::Column::Id,
            saved::Column::ResultId,
            saved::Column::UserId,
            saved::Column::Name,
            saved::Column::NameKey,
            saved::Column::Description,
            saved::Column::Tags,
            saved::Column::Mode,
            saved::Column::Ticker,
            saved::Column::StartDate,
            saved::Column::EndDate,
            saved::Column::Leverage,
            saved::Column::AccountType,
            saved::Column::InitialInvestment,
            saved::Column::ProfitThreshold,
            saved::Column::CreatedAt,
            saved::Column::UpdatedAt,
            saved::Column::Kind,
        ])
}

fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The caller's saved results (summaries only), filtered, ordered and paged.
pub async fn list(
    db: &DatabaseConnection,
    user_id: i64,
    filter: &SavedFilter,
    order: SavedOrder,
    page: &PageRequest,
) -> ApiResult<Page<SavedSummary>> {
    let mut query = summaries().filter(saved::Column::UserId.eq(user_id));
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if search.chars().count() > 200 || has_control(search) {
            return Err(ApiError::input(
                "filter.search",
                "at most 200 characters, no control characters",
            ));
        }
        let pattern = like_pattern(&search.to_lowercase());
        query = query.filter(
            Condition::any()
                // The name through its stored key, lower-cased as the pattern is (in Rust).
                .add(
                    Expr::col(saved::Column::NameKey)
                        .like(LikeExpr::new(pattern.clone()).escape('\\')),
                )
                .add(
                    Expr::expr(Func::lower(Expr::col(saved::Column::Description)))
                        .like(LikeExpr::new(pattern).escape('\\')),
                ),
        );
    }
    if let Some(ticker) = filter
        .ticker
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        if has_control(ticker) {
            return Err(ApiError::input(
                "filter.ticker",
                "must not contain control characters",
            ));
        }
        query = query.filter(saved::Column::Ticker.eq(ticker.to_ascii_uppercase()));
    }
    if let Some(mode) = filter.mode {
        query = query.filter(saved::Column::Mode.eq(mode));
    }
    if let Some(account_type) = filter.account_type {
        query = query.filter(saved::Column::AccountType.eq(account_type));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(saved::Column::Kind.eq(kind));
    }
    if filter.tags.len() > MAX_TAGS {
        return Err(ApiError::input(
            "filter.tags",
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    for wanted in &filter.tags {
        // One primary-key probe per candidate row: (saved_result_id, tag_key).
        query = query.filter(Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(tag::Entity)
                .and_where(
                    Expr::col((tag::Entity, tag::Column::SavedResultId))
                        .equals((saved::Entity, saved::Column::Id)),
                )
                .and_where(Expr::col((tag::Entity, tag::Column::TagKey)).eq(text_key(wanted)))
                .to_owned(),
        ));
    }
    if let Some(from) = filter.from {
        query = query
            .filter(saved::Column::CreatedAt.gte(from.and_time(chrono::NaiveTime::MIN).and_utc()));
    }
    if let Some(to) = filter.to {
        if filter.from.is_some_and(|from| from > to) {
            return Err(ApiError::input(
                "filter.to",
                "must not be before filter.from",
            ));
        }
        if let Some(next) = to.succ_opt() {
            query = query.filter(
                saved::Column::CreatedAt.lt(next.and_time(chrono::NaiveTime::MIN).and_utc()),
            );
        }
    }
    let total = total_count(db, query.clone());
    let rows = order
        .keyset()
        .select(query, page)?
        .into_model::<SavedSummary>()
        .all(db)
        .await?;
    Ok(Page::from_rows(rows, page, total))
}

/// The cursor of a summary under an ordering.
pub fn cursor_of(summary: &SavedSummary, order: SavedOrder) -> Cursor {
    let (key, _) = order.sort();
    Cursor {
        id: summary.id,
        key: key.value_of(summary),
    }
}

/// Replaces the given metadata fields of one of the caller's saved results.
pub async fn update_metadata(
    db: &DatabaseConnection,
    user_id: i64,
    result_id: Uuid,
    input: MetadataInput,
) -> ApiResult<SavedSummary> {
    let name = input.name.as_deref().map(validate_name).transpose()?;
    let description = input
        .description
        .as_deref()
        .map(validate_description)
        .transpose()?;
    let tags = input.tags.as_deref().map(validate_tags).transpose()?;
    let mut update = saved::Entity::update_many()
        .col_expr(saved::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(saved::Column::ResultId.eq(result_id))
        .filter(saved::Column::UserId.eq(user_id));
    if let Some(name) = name {
        update = update
            .col_expr(saved::Column::NameKey, Expr::value(text_key(&name)))
            .col_expr(saved::Column::Name, Expr::value(name));
    }
    if let Some(description) = description {
        update = update.col_expr(saved::Column::Description, Expr::value(description));
    }
    if let Some(tags) = &tags {
        update = update.col_expr(saved::Column::Tags, Expr::value(serde_json::json!(tags)));
    }
    // The UPDATE comes first, so it holds the row (PostgreSQL) or the write lock (SQLite)
    // while the tag rows are replaced: concurrent updates of one result apply one by one.
    let txn = db.begin().await?;
    let updated = update.exec(&txn).await?;
    if updated.rows_affected != 1 {
        txn.rollback().await?;
        return Err(ApiError::NotFound("saved result"));
    }
    let summary = summary(&txn, user_id, result_id).await?;
    if let Some(tags) = tags {
        tag::Entity::delete_many()
            .filter(tag::Column::SavedResultId.eq(summary.id))
            .exec(&txn)
            .await?;
        insert_tags(&txn, summary.id, &tags).await?;
    }
    txn.commit().await?;
    Ok(summary)
}

/// Deletes one of the caller's saved results and frees its quota slot.
pub async fn delete(db: &DatabaseConnection, user_id: i64, result_id: Uuid) -> ApiResult<()> {
    let txn = db.begin().await?;
    let deleted = saved::Entity::delete_many()
        .filter(saved::Column::ResultId.eq(result_id))
        .filter(saved::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    if deleted.rows_affected != 1 {
        txn.rollback().await?;
        return Err(ApiError::NotFound("saved result"));
    }
    user::Entity::update_many()
        .col_expr(
            user::Column::SavedResultsCount,
            Expr::col(user::Column::SavedResultsCount).sub(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .filter(user::Column::SavedResultsCount.gt(0))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// The caller's saved count (the quota counter).
pub async fn saved_count(db: &DatabaseConnection, user_id: i64) -> ApiResult<i32> {
    Ok(user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .map_or(0, |u| u.saved_results_count))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::test_db;

    #[test]
    fn metadata_is_validated() {
        assert!(validate_name("").is_err());
        assert!(validate_name(&"x".repeat(256)).is_err());
        assert_eq!(validate_name("  ok ").unwrap(), "ok");
        assert!(validate_name("a\u{0007}b").is_err());
        assert!(validate_description(&"x".repeat(5001)).is_err());
        assert!(validate_description("line\nbreak").is_ok());
        assert!(validate_tags(&vec!["t".to_string(); 21]).is_err());
        assert!(validate_tags(&["x".repeat(51)]).is_err());
        assert_eq!(validate_tags(&["a".into(), "a".into()]).unwrap(), vec!["a"]);
        assert_eq!(like_pattern("50%_"), "%50\\%\\_%");
    }

    /// Saves a row as `save` would, without running a backtest: the listing reads only the
    /// summary columns and the tag keys.
    async fn saved_row(
        db: &DatabaseConnection,
        user_id: i64,
        name: &str,
        ticker: &str,
        tags: &[&str],
    ) -> i64 {
        let now = Utc::now();
        let date = NaiveDate::from_ymd_opt(2020, 1, 2).unwrap();
        let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        let model = saved::ActiveModel {
            result_id: Set(Uuid::new_v4()),
            user_id: Set(user_id),
            user_email: Set("owner@example.com".into()),
            name_key: Set(text_key(name)),
            name: Set(name.into()),
            description: Set(String::new()),
            tags: Set(serde_json::json!(tags)),
            mode: Set(BacktestMode::FreshCapital),
            ticker: Set(ticker.into()),
            start_date: Set(date),
            end_date: Set(date),
            leverage: Set(2.0),
            account_type: Set(AccountType::RegT),
            initial_investment: Set(10_000.0),
            profit_threshold: Set(None),
            results_data: Set(serde_json::json!({})),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        insert_tags(db, model.id, &tags).await.unwrap();
        model.id
    }

    /// Every page of a listing, `first` rows at a time, each asked for with the end cursor
    /// of the one before (as a client does, through the encoded text).
    async fn all_pages(
        db: &DatabaseConnection,
        user_id: i64,
        filter: &SavedFilter,
        order: SavedOrder,
        first: i32,
    ) -> Vec<i64> {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let request = PageRequest::new(Some(first), after.as_deref()).unwrap();
            let page = list(db, user_id, filter, order, &request).await.unwrap();
            assert!(page.items.len() <= request.first as usize);
            seen.extend(page.items.iter().map(|s| s.id));
            match page.items.last() {
                Some(last) if page.has_next_page => {
                    after = Some(cursor_of(last, order).encode());
                }
                _ => return seen,
            }
        }
    }

    /// Every page read backwards from the end (`last`, `before`), put back in order.
    async fn all_pages_backward(
        db: &DatabaseConnection,
        user_id: i64,
        filter: &SavedFilter,
        order: SavedOrder,
        last: i32,
    ) -> Vec<i64> {
        let mut pages: Vec<Vec<i64>> = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let request = PageRequest::either(None, None, Some(last), before.as_deref()).unwrap();
            let page = list(db, user_id, filter, order, &request).await.unwrap();
            assert!(page.items.len() <= request.first as usize);
            pages.push(page.items.iter().map(|s| s.id).collect());
            match page.items.first() {
                Some(first) if page.has_previous_page => {
                    before = Some(cursor_of(first, order).encode());
                }
                _ => break,
            }
        }
        pages.into_iter().rev().flatten().collect()
    }

    #[tokio::test]
    async fn pages_follow_each_other_without_gap_or_duplicate_in_every_order() {
        let db = test_db::memory().await;
        let alice = test_db::user(&db, "alice").await;
        let bob = test_db::user(&db, "bob").await;
        // Names whose keys tie ("Beta", " beta", "BETA"), so the id must break ties.
        let names = [
            "Beta",
            "alpha",
            " beta",
            "Gamma",
            "BETA",
            "delta",
            "Alpha two",
            "épsilon",
            "Zeta",
        ];
        let mut rows = Vec::new();
        for name in names {
            rows.push((
                saved_row(&db, alice, name, "SPY", &[]).await,
                text_key(name),
            ));
        }
        saved_row(&db, bob, "alpha", "SPY", &[]).await;

        let by_id: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
        let mut by_name = rows.clone();
        by_name.sort_by(|a, b| a.1.as_bytes().cmp(b.1.as_bytes()).then(a.0.cmp(&b.0)));
        let by_name: Vec<i64> = by_name.into_iter().map(|(id, _)| id).collect();
        let reversed = |ids: &[i64]| ids.iter().rev().copied().collect::<Vec<_>>();
        let expected = [
            (SavedOrder::CreatedAsc, by_id.clone()),
            (SavedOrder::CreatedDesc, reversed(&by_id)),
            (SavedOrder::NameAsc, by_name.clone()),
            (SavedOrder::NameDesc, reversed(&by_name)),
        ];
        let filter = SavedFilter::default();
        for (order, want) in expected {
            for first in [1, 2, 3, 4, 9, 10, 100] {
                assert_eq!(
                    all_pages(&db, alice, &filter, order, first).await,
                    want,
                    "{order:?}, first {first}"
                );
                assert_eq!(
                    all_pages_backward(&db, alice, &filter, order, first).await,
                    want,
                    "{order:?}, last {first}"
                );
                let request = PageRequest::new(Some(first), None).unwrap();
                let page = list(&db, alice, &filter, order, &request).await.unwrap();
                assert_eq!((page.total)().await.unwrap(), want.len() as u64);
            }
        }
    }

    #[tokio::test]
    async fn filters_apply_to_every_page_and_cursors_are_checked() {
        let db = test_db::memory().await;
        let alice = test_db::user(&db, "alice").await;
        let mut tagged = Vec::new();
        for i in 0..7 {
            let ticker = if i % 2 == 0 { "SPY" } else { "QQQ" };
            let tags: &[&str] = if i % 3 == 0 { &["Keep", "x"] } else { &["x"] };
            let id = saved_row(&db, alice, &format!("run {i}"), ticker, tags).await;
            if ticker == "SPY" && i % 3 == 0 {
                tagged.push(id);
            }
        }
        let filter = SavedFilter {
            ticker: Some("spy".into()),
            tags: vec![" keep ".into()],
            ..Default::default()
        };
        for order in [SavedOrder::CreatedAsc, SavedOrder::NameAsc] {
            assert_eq!(all_pages(&db, alice, &filter, order, 1).await, tagged);
        }
        let search = SavedFilter {
            search: Some("RUN 1".into()),
            ..Default::default()
        };
        let found = all_pages(&db, alice, &search, SavedOrder::NameDesc, 1).await;
        assert_eq!(found.len(), 1);

        // A cursor of an id ordering has no name key: a name ordering cannot place it.
        let request = PageRequest::new(Some(2), Some(&Cursor::id(tagged[0]).encode())).unwrap();
        let refused = list(&db, alice, &filter, SavedOrder::NameAsc, &request)
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, ApiError::BadUserInput { field, .. } if field == "after"),
            "{refused:?}"
        );
    }
}
