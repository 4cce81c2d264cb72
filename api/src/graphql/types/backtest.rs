//! Backtest input, sessions and the typed result (the same type behind `savedResult`).

use crate::graphql::app_state;
use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, InputObject, Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use engine::backtest::{BacktestInput as EngineInput, BacktestOptions, BacktestResult};
use uuid::Uuid;

use super::{
    margin_enums::{
        AccountType, BacktestStatus, DayStatus, EventKind, FigureName, InterestModelKind,
        LiquidationPolicy, Mode, Zone, mode_from_db,
    },
    mirror::{UndefinedMetric, mirror},
    scalars::Date,
};
use crate::{
    error::{ApiError, ApiResult},
    services::backtests::{SessionStatus, SessionView},
};

#[derive(InputObject, Clone, Debug)]
pub struct InterestInput {
    pub model: InterestModelKind,
    /// FED_FUNDS_PLUS / TBILL_PLUS: percent over the base rate (default 1.5).
    pub spread_pct: Option<f64>,
    /// FIXED: the annual rate in percent.
    pub rate_pct: Option<f64>,
}

/// Engine options; every one has ENGINE.md's default.
#[derive(InputObject, Clone, Debug, Default)]
pub struct BacktestOptionsInput {
    pub wait_days: Option<i32>,
    pub min_equity: Option<f64>,
    pub day_count_basis: Option<i32>,
    pub interest: Option<InterestInput>,
    pub tc_bps: Option<f64>,
    pub liquidation_policy: Option<LiquidationPolicy>,
    pub restore_buffer: Option<f64>,
    pub intraday: Option<bool>,
    pub liquidation_slippage_bps: Option<f64>,
    pub relever_band: Option<f64>,
    pub maintenance_override: Option<f64>,
    pub risk_free_rate_pct: Option<f64>,
}

#[derive(InputObject, Clone, Debug)]
pub struct BacktestInput {
    pub ticker: String,
    pub mode: Mode,
    /// Inclusive; snapped to the first trading day on or after it.
    pub start_date: Date,
    /// Inclusive; snapped to the last trading day on or before it.
    pub end_date: Date,
    pub leverage: f64,
    #[graphql(default)]
    pub account_type: AccountType,
    /// Starting equity (cash): the first position is `initialInvestment × leverage`.
    pub initial_investment: f64,
    /// PROFIT_THRESHOLD only: re-lever after this much growth, percent (default 100).
    pub profit_threshold_pct: Option<f64>,
    pub options: Option<BacktestOptionsInput>,
}

fn non_negative(field: &str, value: i32, message: &str) -> ApiResult<u32> {
    u32::try_from(value).map_err(|_| ApiError::input(field, message))
}

impl BacktestInput {
    pub fn to_engine(&self) -> ApiResult<EngineInput> {
        let defaults = BacktestOptions::default();
        let o = self.options.clone().unwrap_or_default();
        let interest = match &o.interest {
            None => defaults.interest,
            Some(i) => match i.model {
                InterestModelKind::FedFundsPlus => engine::backtest::InterestModel::FedFundsPlus {
                    spread_pct: i.spread_pct.unwrap_or(1.5),
                },
                InterestModelKind::TbillPlus => engine::backtest::InterestModel::TbillPlus {
                    spread_pct: i.spread_pct.unwrap_or(1.5),
                },
                InterestModelKind::Fixed => engine::backtest::InterestModel::Fixed {
                    rate_pct: i.rate_pct.ok_or_else(|| {
                        ApiError::input("options.interest.ratePct", "required for FIXED")
                    })?,
                },
            },
        };
        let options = BacktestOptions {
            wait_days: o
                .wait_days
                .map(|v| non_negative("options.waitDays", v, "must be between 0 and 252 days"))
                .transpose()?
                .unwrap_or(defaults.wait_days),
            min_equity: o.min_equity.unwrap_or(defaults.min_equity),
            day_count_basis: o
                .day_count_basis
                .map(|v| non_negative("options.dayCountBasis", v, "must be 360 or 365"))
                .transpose()?
                .unwrap_or(defaults.day_count_basis),
            interest,
            tc_bps: o.tc_bps.unwrap_or(defaults.tc_bps),
            liquidation_policy: o
                .liquidation_policy
                .map(Into::into)
                .unwrap_or(defaults.liquidation_policy),
            restore_buffer: o.restore_buffer.unwrap_or(defaults.restore_buffer),
            intraday: o.intraday.unwrap_or(defaults.intraday),
            liquidation_slippage_bps: o
                .liquidation_slippage_bps
                .unwrap_or(defaults.liquidation_slippage_bps),
            relever_band: o.relever_band.unwrap_or(defaults.relever_band),
            maintenance_override: o.maintenance_override,
            risk_free_rate_pct: o.risk_free_rate_pct.unwrap_or(defaults.risk_free_rate_pct),
        };
        Ok(EngineInput {
            ticker: self.ticker.clone(),
            mode: self.mode.into(),
            start_date: self.start_date.0,
            end_date: self.end_date.0,
            leverage: self.leverage,
            account_type: self.account_type.into(),
            initial_investment: self.initial_investment,
            profit_threshold_pct: self.profit_threshold_pct,
            options,
        })
    }
}

mirror! {
    /// The headline numbers of a run.
    BacktestSummary from engine::backtest::Summary {
        ticker: String,
        mode: Mode,
        account_type: AccountType,
        leverage: f64,
        start_date: Date,
        end_date: Date,
        trading_days: i32,
        initial_investment: f64,
        final_equity: f64,
        final_wealth: f64,
        contributed: f64,
        /// Time-weighted total return (fraction).
        total_return: Option<f64>,
        /// FRESH_CAPITAL: return on capital deployed; otherwise the total return.
        headline_return: Option<f64>,
        cagr: Option<f64>,
        volatility: Option<f64>,
        sharpe: Option<f64>,
        sortino: Option<f64>,
        max_drawdown: Option<f64>,
        calmar: Option<f64>,
        liquidations: i32,
        margin_calls: i32,
        rounds: i32,
        rebalances: i32,
        total_interest: f64,
        total_dividends: f64,
        time_in_market: f64,
    }
}

mirror! {
    DrawdownEpisode from engine::metrics::DrawdownEpisode {
        start: Date,
        valley: Date,
        end: Date,
        /// Calendar days `end − start + 1`.
        days: f64,
        depth: f64,
        recovered: bool,
    }
}

mirror! {
    /// Return-series metrics (ENGINE.md §4), as quantstats/empyrical compute them. A metric
    /// that is undefined for the series is null, with the reason in `undefined`.
    BacktestMetrics from engine::metrics::Metrics {
        n_returns: i32,
        total_return: Option<f64>,
        cagr: Option<f64>,
        cagr_flagged: bool,
        volatility: Option<f64>,
        sharpe: Option<f64>,
        sortino: Option<f64>,
        max_drawdown: Option<f64>,
        calmar: Option<f64>,
        ulcer_index: Option<f64>,
        best_day: Option<f64>,
        worst_day: Option<f64>,
        best_month: Option<f64>,
        worst_month: Option<f64>,
        best_year: Option<f64>,
        worst_year: Option<f64>,
        win_rate: Option<f64>,
        avg_return: Option<f64>,
        avg_win: Option<f64>,
        avg_loss: Option<f64>,
        payoff_ratio: Option<f64>,
        profit_factor: Option<f64>,
        gain_to_pain: Option<f64>,
        omega: Option<f64>,
        tail_ratio: Option<f64>,
        var95: Option<f64>,
        var95_parametric: Option<f64>,
        cvar95: Option<f64>,
        cvar95_parametric: Option<f64>,
        skew: Option<f64>,
        kurtosis: Option<f64>,
        kelly: Option<f64>,
        risk_of_ruin: Option<f64>,
        longest_win_streak: i32,
        longest_loss_streak: i32,
        stability: Option<f64>,
        drawdown_count: i32,
        longest_drawdown_days: Option<f64>,
        avg_drawdown_days: Option<f64>,
        avg_drawdown_depth: Option<f64>,
        worst_drawdowns: Vec<DrawdownEpisode>,
        undefined: Vec<UndefinedMetric>,
    }
}

mirror! {
    /// What the leverage machinery did (ENGINE.md §4.3).
    EngineMetrics from engine::backtest::EngineMetrics {
        liquidations: i32,
        margin_calls: i32,
        rounds: i32,
        liquidation_rate: Option<f64>,
        avg_days_in_round: Option<f64>,
        avg_loss_per_liquidation: Option<f64>,
        worst_single_loss: Option<f64>,
        worst_single_loss_pct: Option<f64>,
        time_in_market: f64,
        days_in_market: i32,
        waiting_days: i32,
        total_interest: f64,
        total_dividends: f64,
        net_interest_cost: f64,
        transaction_costs: f64,
        slippage_costs: f64,
        all_in_cost: f64,
        max_equity: f64,
        final_equity: f64,
        final_wealth: f64,
        total_deficit: f64,
        leverage_mean: Option<f64>,
        leverage_min: Option<f64>,
        leverage_max: Option<f64>,
        leverage_std: Option<f64>,
        rebalances: i32,
        avg_days_between_rebalances: Option<f64>,
        capital_deployed: f64,
        return_on_capital: Option<f64>,
        money_multiple: Option<f64>,
        cagr_on_capital: Option<f64>,
    }
}

mirror! {
    BacktestRound from engine::backtest::Round {
        round: i32,
        start_date: Date,
        end_date: Date,
        open: bool,
        trading_days: i32,
        start_price: f64,
        end_price: f64,
        price_change_pct: f64,
        start_position_value: f64,
        end_position_value: f64,
        start_equity: f64,
        end_equity: f64,
        margin_call: bool,
        return_pct: f64,
        interest_paid: f64,
        dividends: f64,
        deficit: f64,
        margin_calls: i32,
        rebalances: i32,
        transaction_costs: f64,
    }
}

mirror! {
    /// An entry, liquidation, margin-call restore or rebalance; fields that do not apply to
    /// the kind are null.
    BacktestEvent from engine::backtest::Event {
        kind: EventKind,
        date: Date,
        round: i32,
        price: f64,
        equity: f64,
        shares: Option<f64>,
        position_value: Option<f64>,
        loan: Option<f64>,
        fill_price: Option<f64>,
        entry_price: Option<f64>,
        days_in_position: Option<f64>,
        entry_equity: Option<f64>,
        loss_amount: Option<f64>,
        loss_pct: Option<f64>,
        shortfall: Option<f64>,
        deficit: Option<f64>,
        amount_sold: Option<f64>,
        growth_pct: Option<f64>,
        leverage_before: Option<f64>,
        cost: Option<f64>,
        value_after: Option<f64>,
    }
}

impl super::mirror::Conv<Option<f64>> for Option<u32> {
    fn conv(&self) -> Option<f64> {
        self.map(f64::from)
    }
}

mirror! {
    ZoneShares from engine::cushion::ZoneShares {
        safe: f64,
        caution: f64,
        warning: f64,
        critical: f64,
    }
}

mirror! {
    ZoneDays from engine::cushion::ZoneDays {
        safe: i32,
        caution: i32,
        warning: i32,
        critical: i32,
    }
}

impl super::mirror::Conv<ZoneDays> for engine::cushion::ZoneDays {
    fn conv(&self) -> ZoneDays {
        self.into()
    }
}

impl super::mirror::Conv<ZoneShares> for engine::cushion::ZoneShares {
    fn conv(&self) -> ZoneShares {
        self.into()
    }
}

mirror! {
    /// Distance from a margin call on in-position days, with the account's own maintenance.
    CushionAnalysis from engine::cushion::CushionAnalysis {
        maintenance: f64,
        days_in_position: i32,
        current_cushion: Option<f64>,
        current_cushion_pct: Option<f64>,
        current_zone: Option<Zone>,
        min_cushion_pct: Option<f64>,
        min_cushion_date: Option<Date>,
        mean_cushion_pct: Option<f64>,
        zone_days: ZoneDays,
        zone_share: ZoneShares,
        min_distance_to_call_pct: Option<f64>,
        min_distance_to_call_date: Option<Date>,
    }
}

mirror! {
    /// Compounded monthly returns of one year (January first; null outside the run).
    MonthlyReturns from engine::tables::MonthlyRow {
        year: i32,
        months: Vec<Option<f64>>,
        year_return: f64,
    }
}

mirror! {
    YearSummary from engine::tables::YearRow {
        year: i32,
        trading_days: i32,
        days_in_market: i32,
        year_return: f64,
        start_wealth: f64,
        end_wealth: f64,
        end_equity: f64,
        max_drawdown: f64,
        liquidations: i32,
        margin_calls: i32,
        rebalances: i32,
        entries: i32,
        interest: f64,
        dividends: f64,
        transaction_costs: f64,
    }
}

/// Daily columns a chart can ask for.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum DailyColumn {
    Price,
    Status,
    InPosition,
    WaitDaysRemaining,
    Round,
    DaysInPosition,
    FedFundsRate,
    MarginRate,
    Shares,
    PositionValue,
    Loan,
    Equity,
    Wealth,
    Contributed,
    Flow,
    MaintenanceRequired,
    Cushion,
    CushionPct,
    MarginCallPrice,
    Leverage,
    DailyInterest,
    CumulativeInterest,
    Dividend,
    CumulativeDividends,
    TransactionCost,
    DailyReturn,
    Drawdown,
}

impl DailyColumn {
    const ALL: [DailyColumn; 27] = [
        DailyColumn::Price,
        DailyColumn::Status,
        DailyColumn::InPosition,
        DailyColumn::WaitDaysRemaining,
        DailyColumn::Round,
        DailyColumn::DaysInPosition,
        DailyColumn::FedFundsRate,
        DailyColumn::MarginRate,
        DailyColumn::Shares,
        DailyColumn::PositionValue,
        DailyColumn::Loan,
        DailyColumn::Equity,
        DailyColumn::Wealth,
        DailyColumn::Contributed,
        DailyColumn::Flow,
        DailyColumn::MaintenanceRequired,
        DailyColumn::Cushion,
        DailyColumn::CushionPct,
        DailyColumn::MarginCallPrice,
        DailyColumn::Leverage,
        DailyColumn::DailyInterest,
        DailyColumn::CumulativeInterest,
        DailyColumn::Dividend,
        DailyColumn::CumulativeDividends,
        DailyColumn::TransactionCost,
        DailyColumn::DailyReturn,
        DailyColumn::Drawdown,
    ];

    /// The key of the column in the stored JSON.
    fn json_key(self) -> &'static str {
        match self {
            DailyColumn::Price => "price",
            DailyColumn::Status => "status",
            DailyColumn::InPosition => "inPosition",
            DailyColumn::WaitDaysRemaining => "waitDaysRemaining",
            DailyColumn::Round => "round",
            DailyColumn::DaysInPosition => "daysInPosition",
            DailyColumn::FedFundsRate => "fedFundsRate",
            DailyColumn::MarginRate => "marginRate",
            DailyColumn::Shares => "shares",
            DailyColumn::PositionValue => "positionValue",
            DailyColumn::Loan => "loan",
            DailyColumn::Equity => "equity",
            DailyColumn::Wealth => "wealth",
            DailyColumn::Contributed => "contributed",
            DailyColumn::Flow => "flow",
            DailyColumn::MaintenanceRequired => "maintenanceRequired",
            DailyColumn::Cushion => "cushion",
            DailyColumn::CushionPct => "cushionPct",
            DailyColumn::MarginCallPrice => "marginCallPrice",
            DailyColumn::Leverage => "leverage",
            DailyColumn::DailyInterest => "dailyInterest",
            DailyColumn::CumulativeInterest => "cumulativeInterest",
            DailyColumn::Dividend => "dividend",
            DailyColumn::CumulativeDividends => "cumulativeDividends",
            DailyColumn::TransactionCost => "transactionCost",
            DailyColumn::DailyReturn => "dailyReturn",
            DailyColumn::Drawdown => "drawdown",
        }
    }
}

/// One daily column: numbers (money in cents, ratios to 8 significant digits, exactly as
/// stored), or statuses, or flags, by the column's kind.
#[derive(SimpleObject, Clone, Debug)]
pub struct DailyColumnValues {
    pub column: DailyColumn,
    pub numbers: Option<Vec<Option<f64>>>,
    pub statuses: Option<Vec<DayStatus>>,
    pub flags: Option<Vec<bool>>,
}

/// Daily rows, column by column, sampled every `every` rows (the last row always included).
#[derive(SimpleObject, Clone, Debug)]
pub struct DailySeries {
    /// Trading days in the whole run.
    pub total_rows: i32,
    pub every: i32,
    pub dates: Vec<Date>,
    pub columns: Vec<DailyColumnValues>,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct Figure {
    pub name: FigureName,
    /// Plotly JSON: `{data, layout}`.
    pub figure: Json<serde_json::Value>,
}

/// A backtest result, typed. Ask only for what you draw: `daily`, `figures` and `raw` are
/// the expensive fields (and cost more against the query complexity limit).
#[derive(Clone)]
pub struct BacktestResultView(pub Arc<BacktestResult>);

fn sample_indices(len: usize, every: usize) -> Vec<usize> {
    if len == 0 {
        return Vec::new();
    }
    let mut idx: Vec<usize> = (0..len).step_by(every.max(1)).collect();
    if idx.last() != Some(&(len - 1)) {
        idx.push(len - 1);
    }
    idx
}

#[Object(name = "BacktestResult")]
impl BacktestResultView {
    async fn engine_version(&self) -> &str {
        &self.0.engine_version
    }

    async fn dataset_fingerprint(&self) -> &str {
        &self.0.dataset_fingerprint
    }

    /// The normalised input the run used (dates snapped to trading days, defaults explicit).
    async fn parameters(&self) -> Json<serde_json::Value> {
        Json(serde_json::to_value(&self.0.input).unwrap_or_default())
    }

    async fn summary(&self) -> BacktestSummary {
        (&self.0.summary).into()
    }

    async fn metrics(&self) -> BacktestMetrics {
        (&self.0.metrics).into()
    }

    async fn engine_metrics(&self) -> EngineMetrics {
        (&self.0.engine_metrics).into()
    }

    #[graphql(complexity = "5 + child_complexity")]
    async fn rounds(&self) -> Vec<BacktestRound> {
        self.0.rounds.iter().map(Into::into).collect()
    }

    #[graphql(complexity = "5 + child_complexity")]
    async fn events(&self) -> Vec<BacktestEvent> {
        self.0.events.iter().map(Into::into).collect()
    }

    async fn cushion(&self) -> CushionAnalysis {
        (&self.0.cushion).into()
    }

    async fn monthly_returns(&self) -> Vec<MonthlyReturns> {
        self.0.monthly_returns.iter().map(Into::into).collect()
    }

    async fn yearly(&self) -> Vec<YearSummary> {
        self.0.yearly.iter().map(Into::into).collect()
    }

    async fn warnings(&self) -> &[String] {
        &self.0.warnings
    }

    /// Daily rows column-wise. `columns` null: every column. `every`: keep one row in
    /// `every` (1–1000; the last row is always kept).
    #[graphql(complexity = "50 + child_complexity")]
    async fn daily(
        &self,
        columns: Option<Vec<DailyColumn>>,
        every: Option<i32>,
    ) -> ApiResult<DailySeries> {
        let every = every.unwrap_or(1);
        if !(1..=1000).contains(&every) {
            return Err(ApiError::input("every", "must be between 1 and 1000"));
        }
        let columns = columns.unwrap_or_else(|| DailyColumn::ALL.to_vec());
        let result = self.0.clone();
        let step = usize::try_from(every).unwrap_or(1);
        let series = tokio::task::spawn_blocking(move || daily_series(&result, &columns, step))
            .await
            .map_err(ApiError::internal)?;
        Ok(DailySeries { every, ..series })
    }

    /// Plotly figures by name (null: all of them), built from the result on demand.
    #[graphql(complexity = "100 + child_complexity")]
    async fn figures(&self, names: Option<Vec<FigureName>>) -> ApiResult<Vec<Figure>> {
        let names: Vec<engine::figures::FigureName> = match names {
            Some(names) => names.into_iter().map(Into::into).collect(),
            None => engine::figures::FigureName::ALL.to_vec(),
        };
        let result = self.0.clone();
        let built = tokio::task::spawn_blocking(move || engine::figures::build(&result, &names))
            .await
            .map_err(ApiError::internal)?;
        Ok(built
            .into_iter()
            .map(|(name, figure)| Figure {
                name: name.into(),
                figure: Json(figure),
            })
            .collect())
    }

    /// The complete stored result as JSON.
    #[graphql(complexity = 200)]
    async fn raw(&self) -> ApiResult<Json<serde_json::Value>> {
        let result = self.0.clone();
        let value = tokio::task::spawn_blocking(move || serde_json::to_value(&*result))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        Ok(Json(value))
    }
}

fn daily_series(result: &BacktestResult, columns: &[DailyColumn], every: usize) -> DailySeries {
    let daily = &result.daily;
    let idx = sample_indices(daily.len(), every);
    // The stored JSON form rounds each column; serving the same rounding whatever layer
    // the result came from keeps cold and cached answers identical.
    let json = serde_json::to_value(daily).unwrap_or_default();
    let mut out = Vec::with_capacity(columns.len());
    for &column in columns {
        if out.iter().any(|c: &DailyColumnValues| c.column == column) {
            continue;
        }
        let mut values = DailyColumnValues {
            column,
            numbers: None,
            statuses: None,
            flags: None,
        };
        match column {
            DailyColumn::Status => {
                values.statuses = Some(idx.iter().map(|&i| daily.status[i].into()).collect());
            }
            DailyColumn::InPosition => {
                values.flags = Some(idx.iter().map(|&i| daily.in_position[i]).collect());
            }
            other => {
                let array = json.get(other.json_key()).and_then(|v| v.as_array());
                values.numbers = Some(
                    idx.iter()
                        .map(|&i| {
                            array
                                .and_then(|a| a.get(i))
                                .and_then(serde_json::Value::as_f64)
                        })
                        .collect(),
                );
            }
        }
        out.push(values);
    }
    DailySeries {
        total_rows: i32::try_from(daily.len()).unwrap_or(i32::MAX),
        every: 1,
        dates: idx.iter().map(|&i| Date(daily.date[i])).collect(),
        columns: out,
    }
}

/// A backtest run.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct BacktestSession {
    pub session_id: Uuid,
    pub status: BacktestStatus,
    /// True when the result came from the cache (or from an identical run under way).
    pub cache_hit: bool,
    pub execution_time_ms: Option<f64>,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub error_message: Option<String>,
    pub ticker: String,
    pub mode: Option<Mode>,
    pub start_date: Date,
    pub end_date: Date,
    /// The normalised input.
    pub parameters: Json<serde_json::Value>,
    #[graphql(skip)]
    pub view: SessionView,
}

impl From<SessionView> for BacktestSession {
    fn from(view: SessionView) -> Self {
        let r = &view.record;
        Self {
            session_id: r.session_id,
            status: SessionStatus::parse(&r.status).into(),
            cache_hit: r.cache_hit,
            execution_time_ms: r.execution_time_ms,
            created_at: r.created_at,
            completed_at: r.completed_at,
            error_message: r.error_message.clone(),
            ticker: r.etf.clone(),
            mode: mode_from_db(&r.mode),
            start_date: Date(r.start_date),
            end_date: Date(r.end_date),
            parameters: Json(r.parameters.clone()),
            view: view.clone(),
        }
    }
}

#[ComplexObject]
impl BacktestSession {
    /// The result once COMPLETED (null before, and for ERROR/CANCELLED).
    async fn result(&self, ctx: &Context<'_>) -> ApiResult<Option<BacktestResultView>> {
        if let Some(result) = &self.view.result {
            return Ok(Some(BacktestResultView(result.clone())));
        }
        if self.view.status() != SessionStatus::Completed {
            return Ok(None);
        }
        let state = app_state(ctx);
        if let Some(key) = &self.view.record.cache_key
            && let Some(found) = state
                .loaders
                .results
                .load_one(key.clone())
                .await
                .ok()
                .flatten()
        {
            return Ok(Some(BacktestResultView(found)));
        }
        let result = state.backtests.result_of(&self.view.record).await?;
        Ok(result.map(BacktestResultView))
    }
}

/// What a progress subscription delivers.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProgressKind {
    /// The session's state when the subscription started (always first).
    Snapshot,
    /// The computation started.
    Running,
    /// A progress step (with `event` when an entry, liquidation or rebalance happened).
    Progress,
    Completed,
    Error,
    Cancelled,
}

#[derive(SimpleObject, Clone, Debug)]
pub struct BacktestProgress {
    pub kind: ProgressKind,
    pub session_id: Uuid,
    pub status: BacktestStatus,
    pub percent: Option<f64>,
    pub current_date: Option<Date>,
    pub equity: Option<f64>,
    pub event: Option<EventKind>,
    /// With COMPLETED.
    pub summary: Option<BacktestSummary>,
    /// With ERROR.
    pub message: Option<String>,
    pub execution_time_ms: Option<f64>,
}
