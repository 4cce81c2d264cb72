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
    /// The headline numbers of a run. Returns are fractions (0.25 = 25 %), money is US
    /// dollars; a ratio that is undefined for the run's returns is null (see
    /// `BacktestMetrics.undefined`).
    BacktestSummary from engine::backtest::Summary {
        /// Dataset symbol.
        ticker: String,
        /// What the run did with capital after a liquidation.
        mode: Mode,
        /// Account type whose margin fractions the run used.
        account_type: AccountType,
        /// Target leverage (position value / equity at entry).
        leverage: f64,
        /// First trading day of the run.
        start_date: Date,
        /// Last trading day of the run.
        end_date: Date,
        /// Trading days in the run, both ends included.
        trading_days: i32,
        /// Starting equity (cash); in FRESH_CAPITAL, the deposit of every round.
        initial_investment: f64,
        /// Equity on the last day (in FRESH_CAPITAL without what earlier rounds banked).
        final_equity: f64,
        /// Wealth on the last day: final equity, plus in FRESH_CAPITAL what was banked.
        final_wealth: f64,
        /// Capital put in over the run (more than `initialInvestment` only in FRESH_CAPITAL).
        contributed: f64,
        /// Time-weighted total return (fraction).
        total_return: Option<f64>,
        /// FRESH_CAPITAL: return on capital deployed; otherwise the total return.
        headline_return: Option<f64>,
        /// Compound annual growth rate of the time-weighted return, fraction per year (252
        /// trading days); −1 when wealth fell to zero.
        cagr: Option<f64>,
        /// Annualised standard deviation of daily returns (fraction).
        volatility: Option<f64>,
        /// Annualised Sharpe ratio over `riskFreeRatePct`.
        sharpe: Option<f64>,
        /// Annualised Sortino ratio (downside deviation) over `riskFreeRatePct`.
        sortino: Option<f64>,
        /// Deepest fall of the wealth index below its running peak, fraction ≤ 0.
        max_drawdown: Option<f64>,
        /// CAGR / |max drawdown|; null without a drawdown.
        calmar: Option<f64>,
        /// Margin calls that sold the whole position.
        liquidations: i32,
        /// Margin calls met by a partial sale (RESTORE policy).
        margin_calls: i32,
        /// Positions opened (an entry starts a round).
        rounds: i32,
        /// PROFIT_THRESHOLD re-leverings.
        rebalances: i32,
        /// Margin interest charged over the run.
        total_interest: f64,
        /// Cash dividends received (and reinvested) over the run.
        total_dividends: f64,
        /// Share of trading days in position (fraction).
        time_in_market: f64,
    }
}

mirror! {
    /// A run of days with the wealth index below its previous peak.
    DrawdownEpisode from engine::metrics::DrawdownEpisode {
        /// First day below the peak.
        start: Date,
        /// Deepest day.
        valley: Date,
        /// Last day below the peak (the run's last day when not recovered).
        end: Date,
        /// Calendar days `end − start + 1`.
        days: f64,
        /// Drawdown at the valley, fraction < 0 (−0.3 = 30 % below the peak).
        depth: f64,
        /// False when the run ends still below the peak.
        recovered: bool,
    }
}

mirror! {
    /// Return-series metrics (engine/SPEC.md §4), as quantstats/empyrical compute them. A metric
    /// that is undefined for the series is null, with the reason in `undefined`.
    ///
    /// They are computed on the daily time-weighted returns after the first day, 252 trading
    /// days a year; returns, quantiles and drawdowns are fractions (0.01 = 1 %).
    BacktestMetrics from engine::metrics::Metrics {
        /// Daily returns measured (trading days − 1).
        n_returns: i32,
        /// Compounded return over the run, fraction.
        total_return: Option<f64>,
        /// `(1 + totalReturn)^(252/nReturns) − 1`, fraction per year.
        cagr: Option<f64>,
        /// True when wealth fell to zero or below and `cagr` is −1 by convention.
        cagr_flagged: bool,
        /// Sample standard deviation of daily returns × √252, fraction per year.
        volatility: Option<f64>,
        /// Mean / standard deviation of daily returns in excess of `riskFreeRatePct`, × √252;
        /// null with zero variance.
        sharpe: Option<f64>,
        /// Mean excess return / downside deviation × √252; null without a losing day.
        sortino: Option<f64>,
        /// Deepest fall of the wealth index below its running peak, fraction ≤ 0.
        max_drawdown: Option<f64>,
        /// `cagr / |maxDrawdown|`; null without a drawdown.
        calmar: Option<f64>,
        /// Root mean square of the daily drawdowns (n − 1 in the denominator), fraction.
        ulcer_index: Option<f64>,
        /// Best daily return.
        best_day: Option<f64>,
        /// Worst daily return.
        worst_day: Option<f64>,
        /// Best compounded calendar month (a partial month at either end counts).
        best_month: Option<f64>,
        /// Worst compounded calendar month.
        worst_month: Option<f64>,
        /// Best compounded calendar year (a partial year at either end counts).
        best_year: Option<f64>,
        /// Worst compounded calendar year.
        worst_year: Option<f64>,
        /// Share of non-zero daily returns that are positive, fraction.
        win_rate: Option<f64>,
        /// Mean of the non-zero daily returns.
        avg_return: Option<f64>,
        /// Mean of the positive daily returns.
        avg_win: Option<f64>,
        /// Mean of the negative daily returns (negative).
        avg_loss: Option<f64>,
        /// `avgWin / |avgLoss|`.
        payoff_ratio: Option<f64>,
        /// Sum of non-negative daily returns / |sum of negative ones|.
        profit_factor: Option<f64>,
        /// Sum of all daily returns / |sum of negative ones|.
        gain_to_pain: Option<f64>,
        /// Omega ratio at a 0 threshold: sum of gains / |sum of losses|.
        omega: Option<f64>,
        /// `|95th percentile / 5th percentile|` of daily returns.
        tail_ratio: Option<f64>,
        /// Historical 5 % quantile (empyrical `value_at_risk`).
        var95: Option<f64>,
        /// `μ + σΦ⁻¹(0.05)` (quantstats `value_at_risk`).
        var95_parametric: Option<f64>,
        /// Mean of the worst `⌊(n−1)·0.05⌋+1` returns (empyrical `conditional_value_at_risk`).
        cvar95: Option<f64>,
        /// Gaussian expected shortfall (quantstats `cvar`, its default method).
        cvar95_parametric: Option<f64>,
        /// Bias-corrected skewness (G1) of daily returns.
        skew: Option<f64>,
        /// Bias-corrected excess kurtosis (G2) of daily returns.
        kurtosis: Option<f64>,
        /// Kelly fraction `(payoff · winRate − (1 − winRate)) / payoff`: share of capital to bet.
        kelly: Option<f64>,
        /// `((1 − winRate)/(1 + winRate))^nReturns`, a probability.
        risk_of_ruin: Option<f64>,
        /// Most consecutive days with a positive return.
        longest_win_streak: i32,
        /// Most consecutive days with a negative return.
        longest_loss_streak: i32,
        /// R² of cumulative log returns against time, 0–1 (1 = steady growth).
        stability: Option<f64>,
        /// Drawdown episodes (runs of days below the peak).
        drawdown_count: i32,
        /// Longest episode, calendar days; null without a drawdown.
        longest_drawdown_days: Option<f64>,
        /// Mean episode length, calendar days; null without a drawdown.
        avg_drawdown_days: Option<f64>,
        /// Mean episode depth, fraction < 0; null without a drawdown.
        avg_drawdown_depth: Option<f64>,
        /// The ten deepest episodes, deepest first.
        worst_drawdowns: Vec<DrawdownEpisode>,
        /// The metrics above that are null, each with the reason.
        undefined: Vec<UndefinedMetric>,
    }
}

mirror! {
    /// What the leverage machinery did (engine/SPEC.md §4.3). Money is US dollars; a value
    /// is null when there is nothing to measure (no round, no liquidation, …).
    EngineMetrics from engine::backtest::EngineMetrics {
        /// Margin calls that sold the whole position.
        liquidations: i32,
        /// Margin calls met by a partial sale (RESTORE policy), including one that then had
        /// to sell the rest.
        margin_calls: i32,
        /// Positions opened (an entry starts a round).
        rounds: i32,
        /// Liquidations per round (fraction); null without a round.
        liquidation_rate: Option<f64>,
        /// Mean round length, trading days with both ends included; null without a round.
        avg_days_in_round: Option<f64>,
        /// Mean of entry equity minus equity after the sale, over liquidations; null without
        /// one.
        avg_loss_per_liquidation: Option<f64>,
        /// The largest such loss; null without a liquidation.
        worst_single_loss: Option<f64>,
        /// That liquidation's equity change since entry, percent (negative = loss).
        worst_single_loss_pct: Option<f64>,
        /// Share of trading days in position (fraction).
        time_in_market: f64,
        /// Trading days in position.
        days_in_market: i32,
        /// Trading days sitting out `waitDays` after liquidations.
        waiting_days: i32,
        /// Margin interest charged.
        total_interest: f64,
        /// Cash dividends received (reinvested).
        total_dividends: f64,
        /// Interest minus dividends received.
        net_interest_cost: f64,
        /// Rebalance costs (PROFIT_THRESHOLD).
        transaction_costs: f64,
        /// Value lost to liquidation slippage.
        slippage_costs: f64,
        /// Interest + transaction costs + slippage.
        all_in_cost: f64,
        /// Highest equity at a close.
        max_equity: f64,
        /// Equity on the last day.
        final_equity: f64,
        /// Wealth on the last day (FRESH_CAPITAL: banked plus equity).
        final_wealth: f64,
        /// Sum of the negative equity liquidations left (≤ 0): losses beyond the whole
        /// equity.
        total_deficit: f64,
        /// Mean leverage over in-position days with positive equity; null without one.
        leverage_mean: Option<f64>,
        /// Lowest leverage over those days.
        leverage_min: Option<f64>,
        /// Highest leverage over those days.
        leverage_max: Option<f64>,
        /// Sample standard deviation of leverage over those days; null under two.
        leverage_std: Option<f64>,
        /// PROFIT_THRESHOLD re-leverings.
        rebalances: i32,
        /// Trading days from the first rebalance to the last / (rebalances − 1); null under
        /// two.
        avg_days_between_rebalances: Option<f64>,
        /// Equity put in: every deposit in FRESH_CAPITAL, `initialInvestment` otherwise.
        capital_deployed: f64,
        /// Final wealth / capital deployed − 1, fraction (FRESH_CAPITAL's headline return).
        return_on_capital: Option<f64>,
        /// Final wealth / capital deployed.
        money_multiple: Option<f64>,
        /// Money multiple annualised over the run's trading days (252 a year), fraction per
        /// year; −1 when wealth fell to zero.
        cagr_on_capital: Option<f64>,
    }
}

mirror! {
    /// One round: from an entry to the liquidation that ended it, or to the last day.
    /// Money is US dollars, prices US dollars per share.
    BacktestRound from engine::backtest::Round {
        /// Round number, from 1.
        round: i32,
        /// Entry day.
        start_date: Date,
        /// Day of the liquidation, or the run's last day.
        end_date: Date,
        /// True when the round is still in position on the last day.
        open: bool,
        /// Trading days from entry to end, both included.
        trading_days: i32,
        /// Close on the entry day.
        start_price: f64,
        /// Close on the end day.
        end_price: f64,
        /// Price change over the round, percent.
        price_change_pct: f64,
        /// Position value at entry.
        start_position_value: f64,
        /// Position value at the end (at the fill price for a liquidation).
        end_position_value: f64,
        /// Equity at entry.
        start_equity: f64,
        /// Equity at the end (after the sale for a liquidation, never below 0).
        end_equity: f64,
        /// True when a liquidation ended the round.
        margin_call: bool,
        /// Equity change over the round, percent (negative = loss).
        return_pct: f64,
        /// Margin interest charged in the round.
        interest_paid: f64,
        /// Cash dividends received in the round.
        dividends: f64,
        /// Negative equity left by the liquidation (≤ 0; 0 if none).
        deficit: f64,
        /// Margin calls met by a partial sale (RESTORE policy).
        margin_calls: i32,
        /// PROFIT_THRESHOLD re-leverings in the round.
        rebalances: i32,
        /// Rebalance costs in the round.
        transaction_costs: f64,
    }
}

mirror! {
    /// An entry, liquidation, margin-call restore or rebalance; fields that do not apply to
    /// the kind are null. Money is US dollars, prices US dollars per share.
    BacktestEvent from engine::backtest::Event {
        /// What happened; it says which of the optional fields are set.
        kind: EventKind,
        /// Trading day it happened.
        date: Date,
        /// Round it belongs to (0 for INSUFFICIENT_EQUITY before any entry).
        round: i32,
        /// Close of the day.
        price: f64,
        /// Equity after the event (LIQUIDATION: after the sale, never below 0).
        equity: f64,
        /// Shares held after the event; LIQUIDATION: the shares sold.
        shares: Option<f64>,
        /// Position value after the event; LIQUIDATION: the value at the fill price.
        position_value: Option<f64>,
        /// Margin loan after the event; LIQUIDATION: the loan repaid.
        loan: Option<f64>,
        /// LIQUIDATION, MARGIN_CALL_RESTORED: price of the sale (the close, or with
        /// `intraday` the lower of the open and the margin-call price).
        fill_price: Option<f64>,
        /// LIQUIDATION: close on the round's entry day.
        entry_price: Option<f64>,
        /// LIQUIDATION: trading days since the round's entry.
        days_in_position: Option<f64>,
        /// LIQUIDATION: equity at the round's entry.
        entry_equity: Option<f64>,
        /// LIQUIDATION: entry equity minus equity after the sale (positive = loss).
        loss_amount: Option<f64>,
        /// LIQUIDATION: equity change since entry, percent (negative = loss).
        loss_pct: Option<f64>,
        /// LIQUIDATION, MARGIN_CALL_RESTORED: `m·V − E` at the fill price before the sale.
        shortfall: Option<f64>,
        /// LIQUIDATION: negative equity the sale left (≤ 0; 0 if none).
        deficit: Option<f64>,
        /// MARGIN_CALL_RESTORED: value of the shares sold at the fill price.
        amount_sold: Option<f64>,
        /// REBALANCE: growth of the position since the last entry or rebalance, percent.
        growth_pct: Option<f64>,
        /// REBALANCE: leverage before re-levering.
        leverage_before: Option<f64>,
        /// REBALANCE: transaction cost.
        cost: Option<f64>,
        /// REBALANCE: position value after re-levering.
        value_after: Option<f64>,
    }
}

impl Conv<Option<f64>> for Option<u32> {
    fn conv(&self) -> Option<f64> {
        self.map(f64::from)
    }
}

mirror! {
    /// Share of in-position days in each cushion zone, fractions summing to 1 (all 0 without
    /// an in-position day).
    ZoneShares from engine::cushion::ZoneShares {
        /// Share of days SAFE (cushion ≥ 50 % of equity).
        safe: f64,
        /// Share of days CAUTION (20–50 %).
        caution: f64,
        /// Share of days WARNING (5–20 %).
        warning: f64,
        /// Share of days CRITICAL (under 5 %, or equity not positive).
        critical: f64,
    }
}

mirror! {
    /// In-position days in each cushion zone.
    ZoneDays from engine::cushion::ZoneDays {
        /// Days SAFE (cushion ≥ 50 % of equity).
        safe: i32,
        /// Days CAUTION (20–50 %).
        caution: i32,
        /// Days WARNING (5–20 %).
        warning: i32,
        /// Days CRITICAL (under 5 %, or equity not positive).
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
    /// The cushion is equity above maintenance; its percent is of equity. Values over
    /// in-position days are null when the run never held a position.
    CushionAnalysis from engine::cushion::CushionAnalysis {
        /// Maintenance fraction used (0.25 = 25 %): the account's, or the override.
        maintenance: f64,
        /// Trading days in position.
        days_in_position: i32,
        /// Cushion on the last day, US dollars; null when not in position then.
        current_cushion: Option<f64>,
        /// Cushion on the last day, percent of equity; null when not in position then.
        current_cushion_pct: Option<f64>,
        /// Zone on the last day; null when not in position then.
        current_zone: Option<Zone>,
        /// Lowest cushion, percent of equity.
        min_cushion_pct: Option<f64>,
        /// Day of the lowest cushion.
        min_cushion_date: Option<Date>,
        /// Mean cushion, percent of equity.
        mean_cushion_pct: Option<f64>,
        /// Day counts per zone.
        zone_days: ZoneDays,
        /// Share of in-position days per zone (sums to 1).
        zone_share: ZoneShares,
        /// Smallest fall from the close to the margin-call price, `(P − P_call)/P` in
        /// percent.
        min_distance_to_call_pct: Option<f64>,
        /// Day of that smallest distance.
        min_distance_to_call_date: Option<Date>,
    }
}

mirror! {
    /// Compounded monthly returns of one year (January first; null outside the run).
    MonthlyReturns from engine::tables::MonthlyRow {
        /// Calendar year.
        year: i32,
        /// Twelve returns, January to December, fractions (0.05 = 5 %); null for months
        /// outside the run.
        months: Vec<Option<f64>>,
        /// The year's compounded return over its days in the run, fraction.
        year_return: f64,
    }
}

mirror! {
    /// One calendar year of the run (the first and last may be partial). Money is US dollars.
    YearSummary from engine::tables::YearRow {
        /// Calendar year.
        year: i32,
        /// Trading days of the year in the run.
        trading_days: i32,
        /// Of those, days in position.
        days_in_market: i32,
        /// Time-weighted return of the year, fraction.
        year_return: f64,
        /// Wealth at the previous year's last close (the first year: the run's first day).
        start_wealth: f64,
        /// Wealth at the year's last close.
        end_wealth: f64,
        /// Equity at the year's last close.
        end_equity: f64,
        /// Deepest drawdown within the year, from the year's own running peak, fraction ≤ 0.
        max_drawdown: f64,
        /// Days with a liquidation.
        liquidations: i32,
        /// Days with a margin call met by a partial sale (RESTORE policy).
        margin_calls: i32,
        /// Days with a PROFIT_THRESHOLD rebalance.
        rebalances: i32,
        /// Days a position was opened.
        entries: i32,
        /// Margin interest charged in the year.
        interest: f64,
        /// Cash dividends received in the year.
        dividends: f64,
        /// Rebalance costs in the year.
        transaction_costs: f64,
    }
}

/// One chart of a result.
#[derive(SimpleObject, Clone, Debug)]
pub struct Figure {
    /// Which chart this is.
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
    /// The rounds table, one row per round.
    pub rounds_csv: String,
    /// The events table, one row per event.
    pub events_csv: String,
    /// The monthly-returns table, one row per year.
    pub monthly_csv: String,
}

/// A backtest result, typed, with where it came from (which names its export URLs).
#[derive(Clone)]
pub struct BacktestResultView(pub Arc<BacktestResult>, pub ExportSource);

/// A backtest result, typed (the same type behind a session's `result` and `savedResult`).
/// Ask only for what you draw: `daily`, `figures` and `raw` are the expensive fields (and
/// cost more against the query complexity limit).
#[Object(name = "BacktestResult")]
impl BacktestResultView {
    /// Version of the engine that computed the result.
    async fn engine_version(&self) -> &str {
        &self.0.engine_version
    }

    /// SHA-256 (hex) of the price dataset the run used: equal fingerprints mean the same data.
    async fn dataset_fingerprint(&self) -> &str {
        &self.0.dataset_fingerprint
    }

    /// The normalised input the run used (dates snapped to trading days, defaults explicit).
    async fn parameters(&self) -> Json<serde_json::Value> {
        Json(serde_json::to_value(&self.0.input).unwrap_or_default())
    }

    /// The headline numbers.
    async fn summary(&self) -> BacktestSummary {
        (&self.0.summary).into()
    }

    /// Return-series metrics of the daily time-weighted returns.
    async fn metrics(&self) -> BacktestMetrics {
        (&self.0.metrics).into()
    }

    /// What the leverage machinery did: liquidations, costs, leverage, capital deployed.
    async fn engine_metrics(&self) -> EngineMetrics {
        (&self.0.engine_metrics).into()
    }

    /// Every round (entry to liquidation or to the last day), in order.
    #[graphql(complexity = "5 + child_complexity")]
    async fn rounds(&self) -> Vec<BacktestRound> {
        self.0.rounds.iter().map(Into::into).collect()
    }

    /// Every entry, liquidation, margin-call restore, rebalance and insufficient-equity stop,
    /// in date order.
    #[graphql(complexity = "5 + child_complexity")]
    async fn events(&self) -> Vec<BacktestEvent> {
        self.0.events.iter().map(Into::into).collect()
    }

    /// How far the in-position days were from a margin call.
    async fn cushion(&self) -> CushionAnalysis {
        (&self.0.cushion).into()
    }

    /// Monthly returns, one row per calendar year of the run.
    async fn monthly_returns(&self) -> Vec<MonthlyReturns> {
        self.0.monthly_returns.iter().map(Into::into).collect()
    }

    /// One row per calendar year of the run.
    async fn yearly(&self) -> Vec<YearSummary> {
        self.0.yearly.iter().map(Into::into).collect()
    }

    /// Notes on the input that did not stop the run (e.g. starting equity below the account
    /// minimum or below `minEquity`); empty when none.
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
        #[graphql(
            desc = "The columns to return, each once in the order given; null: every column."
        )]
        columns: Option<Vec<DailyColumn>>,
        #[graphql(desc = "Keep one row in `every` (1–1000); not with `points`.")] every: Option<
            i32,
        >,
        #[graphql(
            desc = "Keep at most about this many rows (1–1000000) with the smallest step that fits; not with `every`."
        )]
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
        #[graphql(desc = "The figures to build, in the order given; null: all of them.")]
        names: Option<Vec<FigureName>>,
        #[graphql(
            desc = "Most days a line trace draws (0: every day).",
            default_with = "engine::figures::DEFAULT_MAX_POINTS as i32"
        )]
        max_points: i32,
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
