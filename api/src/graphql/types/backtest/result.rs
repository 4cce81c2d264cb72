//! The typed backtest result (the same type behind `savedResult`) and its parts, mirrored
//! from the engine.

use std::sync::Arc;

use async_graphql::{Json, Object, SimpleObject};
use engine::backtest::BacktestResult;

use super::daily::{DailyColumn, DailySeries};
use crate::{
    error::{ApiError, ApiResult},
    export::{ExportSource, Table},
    graphql::types::{
        margin_enums::{AccountType, EventKind, FigureName, Mode, Zone},
        mirror::{Conv, UndefinedMetric, mirror},
        scalars::Date,
    },
};

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
    /// Return-series metrics (engine/SPEC.md §4), as quantstats/empyrical compute them. A metric
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
    /// What the leverage machinery did (engine/SPEC.md §4.3).
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

impl Conv<Option<f64>> for Option<u32> {
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

impl Conv<ZoneDays> for engine::cushion::ZoneDays {
    fn conv(&self) -> ZoneDays {
        self.into()
    }
}

impl Conv<ZoneShares> for engine::cushion::ZoneShares {
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

#[derive(SimpleObject, Clone, Debug)]
pub struct Figure {
    pub name: FigureName,
    /// Plotly JSON: `{data, layout}`.
    pub figure: Json<engine::figures::Figure>,
}

/// Where to download the result's tables as CSV: paths on this server, fetched with the
/// same credentials as `/graphql` (Bearer token or session cookie).
#[derive(SimpleObject, Clone, Debug)]
pub struct BacktestExports {
    /// Every daily column; add `?columns=equity,loan` to choose.
    pub daily_csv: String,
    pub rounds_csv: String,
    pub events_csv: String,
    pub monthly_csv: String,
}

/// A backtest result, typed, with where it came from (which names its export URLs). Ask only
/// for what you draw: `daily`, `figures` and `raw` are the expensive fields (and cost more
/// against the query complexity limit).
#[derive(Clone)]
pub struct BacktestResultView(pub Arc<BacktestResult>, pub ExportSource);

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

    /// CSV downloads of this result's tables.
    async fn exports(&self) -> BacktestExports {
        let source = self.1;
        BacktestExports {
            daily_csv: source.path(Table::Daily),
            rounds_csv: source.path(Table::Rounds),
            events_csv: source.path(Table::Events),
            monthly_csv: source.path(Table::Monthly),
        }
    }

    /// Daily rows column-wise. `columns` null: every column. Give at most one of `every`
    /// (keep one row in `every`, 1–1000) and `points` (at most about that many rows: the
    /// smallest step that fits); neither gives every row. The last row is always kept.
    #[graphql(complexity = "50 + child_complexity")]
    async fn daily(
        &self,
        columns: Option<Vec<DailyColumn>>,
        every: Option<i32>,
        points: Option<i32>,
    ) -> ApiResult<DailySeries> {
        super::daily::daily(&self.0, columns, every, points)
    }

    /// Plotly figures by name (null: all of them), built from the result on demand. Each
    /// line trace draws at most `maxPoints` days (largest-triangle-three-buckets; 0: every
    /// day), always including the first and last day, event days (entries, rebalances,
    /// liquidations, restored margin calls) and each drawdown's deepest day; dates are ISO
    /// strings, numbers have 6 significant digits.
    #[graphql(complexity = "100 + child_complexity")]
    async fn figures(
        &self,
        names: Option<Vec<FigureName>>,
        #[graphql(default_with = "engine::figures::DEFAULT_MAX_POINTS as i32")] max_points: i32,
    ) -> ApiResult<Vec<Figure>> {
        let max_points = usize::try_from(max_points)
            .map_err(|_| ApiError::input("maxPoints", "must be 0 (every day) or more"))?;
        let names: Vec<engine::figures::FigureName> = match names {
            Some(names) => names.into_iter().map(Into::into).collect(),
            None => engine::figures::FigureName::ALL.to_vec(),
        };
        let result = self.0.clone();
        let options = engine::figures::FigureOptions { max_points };
        let built = tokio::task::spawn_blocking(move || {
            engine::figures::build_figures(&result, &names, options)
        })
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
