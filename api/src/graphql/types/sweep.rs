//! Sweeps: a grid of backtests over one or two parameters (`runSweep`), its cells, the best
//! cell for a metric and a Plotly heatmap.

use std::sync::Arc;

use async_graphql::{
    Enum, ID, InputObject, Json, Object, SimpleObject,
    connection::{Connection, Edge},
};
use chrono::{DateTime, Utc};
use engine::sweep as engine_sweep;

use super::{
    backtest::{BacktestInput, BacktestSummary},
    margin_enums::BacktestStatus,
    scalars::Uuid,
};
use crate::{
    error::{ApiError, ApiResult},
    graphql::{
        ids::{Kind, global_id},
        pagination::{Listing, ListingFields},
    },
    services::{
        pagination::{Cursor, Page, PageRequest, TotalCount},
        sweeps::SweepView,
    },
};

/// The input a sweep axis varies. Each value replaces the base run's, as a user would set it.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::sweep::SweepParameter")]
pub enum SweepParameter {
    /// `leverage` (×), 1 to the account's maximum.
    Leverage,
    /// `initialInvestment`: starting equity, US dollars.
    InitialInvestment,
    /// `profitThresholdPct`, percent; changes only PROFIT_THRESHOLD runs.
    ProfitThresholdPct,
    /// The maintenance override in percent (25 = 25 %), replacing the account's.
    MaintenancePct,
    /// The spread over the base rate of the base run's FED_FUNDS_PLUS or TBILL_PLUS model,
    /// percent per year.
    InterestSpreadPct,
    /// A FIXED interest rate, percent per year.
    FixedRatePct,
    /// `options.waitDays`, whole trading days.
    WaitDays,
    /// `options.minEquity`, US dollars.
    MinEquity,
    /// `options.restoreBuffer`, a fraction; changes only RESTORE runs.
    RestoreBuffer,
    /// `options.liquidationSlippageBps`, basis points.
    LiquidationSlippageBps,
    /// `options.releverBand`, a fraction of the target leverage; PROFIT_THRESHOLD only.
    ReleverBand,
    /// The base run's start moved to the first trading day of that year in the data (1993 →
    /// 1993-01-29 for SPY); the end stays.
    StartYear,
}

/// A headline number of a cell's summary.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::sweep::SweepMetric")]
pub enum SweepMetric {
    /// Compound annual growth rate, a fraction.
    Cagr,
    /// Time-weighted total return, a fraction.
    TotalReturn,
    /// Equity at the end, US dollars.
    FinalEquity,
    /// Deepest fall from a peak, a fraction ≤ 0; the best is the one closest to zero.
    MaxDrawdown,
    /// Annualised Sharpe ratio.
    Sharpe,
    /// Annualised Sortino ratio.
    Sortino,
    /// CAGR over the maximum drawdown's depth.
    Calmar,
    /// Annualised volatility of daily returns, a fraction; lower is better.
    Volatility,
    /// Forced sales; fewer is better.
    Liquidations,
    /// Share of trading days in position, a fraction.
    TimeInMarket,
    /// Margin interest paid, US dollars; lower is better.
    TotalInterest,
}

/// Which end of a metric counts as best.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "engine::sweep::Direction")]
pub enum SweepDirection {
    /// The largest value.
    Highest,
    /// The smallest value.
    Lowest,
}

/// One axis of a sweep.
#[derive(InputObject, Clone, Debug)]
pub struct SweepAxisInput {
    /// The input the axis varies.
    pub parameter: SweepParameter,
    /// Its values, 1–100, in the order the grid shows them.
    pub values: Vec<f64>,
}

/// A grid of backtests: the base run with one parameter (`x`) or two (`x` and `y`) varied;
/// at most 10,000 cells.
#[derive(InputObject, Clone, Debug)]
pub struct SweepInput {
    /// The run every cell starts from.
    pub base: BacktestInput,
    /// The first axis (the heatmap's columns).
    pub x: SweepAxisInput,
    /// The second axis (the heatmap's rows); null: a one-parameter sweep.
    pub y: Option<SweepAxisInput>,
}

impl SweepInput {
    pub fn to_engine(&self) -> ApiResult<engine_sweep::SweepInput> {
        let axis = |a: &SweepAxisInput| engine_sweep::SweepAxis {
            parameter: a.parameter.into(),
            values: a.values.clone(),
        };
        Ok(engine_sweep::SweepInput {
            base: self.base.to_engine()?,
            x: axis(&self.x),
            y: self.y.as_ref().map(axis),
        })
    }
}

/// Why a cell has no summary: its parameters are invalid for the base run.
#[derive(SimpleObject, Clone, Debug)]
pub struct SweepCellError {
    /// The input field that was refused, e.g. `leverage`.
    pub field: String,
    /// Why, as `BAD_USER_INPUT` would say it.
    pub message: String,
}

/// One backtest of the grid.
#[derive(SimpleObject, Clone, Debug)]
pub struct SweepCell {
    /// The x parameter's value.
    pub x: f64,
    /// The y parameter's value; null in a one-parameter sweep.
    pub y: Option<f64>,
    /// The run's summary, equal to `runBacktest`'s for the same input; null for an error cell
    /// (or a cell not finished yet).
    pub summary: Option<BacktestSummary>,
    /// Why the cell could not run; null when it did.
    pub error: Option<SweepCellError>,
}

impl From<&engine_sweep::SweepCell> for SweepCell {
    fn from(cell: &engine_sweep::SweepCell) -> Self {
        Self {
            x: cell.x,
            y: cell.y,
            summary: cell.summary.as_ref().map(Into::into),
            error: cell.error.as_ref().map(|e| SweepCellError {
                field: e.field.clone(),
                message: e.message.clone(),
            }),
        }
    }
}

/// A sweep run as one session.
pub struct SweepSession {
    id: ID,
    view: SweepView,
}

impl From<SweepView> for SweepSession {
    fn from(view: SweepView) -> Self {
        Self {
            id: global_id(Kind::SweepSession, view.record.sweep_id),
            view,
        }
    }
}

/// The most cells one `cells` page returns.
const MAX_CELLS_PAGE: i32 = 1_000;

/// A page of `cells` in grid order (y outer, x inner); a cell's cursor is its grid index.
fn cells_page(
    cells: &[engine_sweep::SweepCell],
    request: &PageRequest,
) -> Page<(usize, SweepCell)> {
    let n = cells.len();
    let size = usize::try_from(request.first).unwrap_or(usize::MAX);
    let from = |c: &Cursor| usize::try_from(c.id).unwrap_or(0).min(n);
    let rows: Vec<(usize, SweepCell)> = if request.backward {
        let end = request
            .after
            .as_ref()
            .map_or(n, |c| from(c).saturating_sub(1));
        let start = end.saturating_sub(size.saturating_add(1));
        (start..end)
            .rev()
            .map(|i| (i, (&cells[i]).into()))
            .collect()
    } else {
        let start = request.after.as_ref().map_or(0, from);
        let end = start.saturating_add(size.saturating_add(1)).min(n);
        (start..end).map(|i| (i, (&cells[i]).into())).collect()
    };
    let total = u64::try_from(n).unwrap_or(u64::MAX);
    let count: TotalCount = Arc::new(move || Box::pin(async move { Ok(total) }));
    Page::from_rows(rows, request, count)
}

/// A `cells` connection over a grid, forward or backward, up to [`MAX_CELLS_PAGE`] a page.
fn cells_connection(
    cells: &[engine_sweep::SweepCell],
    (first, after): (Option<i32>, Option<String>),
    (last, before): (Option<i32>, Option<String>),
) -> ApiResult<Listing<SweepCell>> {
    let backward = last.is_some() || before.is_some();
    let size = if backward { last } else { first }.unwrap_or(100);
    if !(1..=MAX_CELLS_PAGE).contains(&size) {
        let field = if backward { "last" } else { "first" };
        return Err(ApiError::input(
            field,
            format!("must be between 1 and {MAX_CELLS_PAGE} (got {size})"),
        ));
    }
    // PageRequest's own size limit is the connections' 100; a sweep pages by up to 1,000.
    let mut request = PageRequest::either(
        (!backward).then_some(1),
        after.as_deref(),
        backward.then_some(1),
        before.as_deref(),
    )?;
    request.first = u64::try_from(size).unwrap_or(1);
    let page = cells_page(cells, &request);
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ListingFields(page.total),
    );
    connection
        .edges
        .extend(page.items.into_iter().map(|(index, cell)| {
            let cursor = Cursor::id(i64::try_from(index + 1).unwrap_or(i64::MAX)).encode();
            Edge::new(cursor, cell)
        }));
    Ok(connection)
}

/// A sweep session: its progress, then its grid.
#[Object]
impl SweepSession {
    /// Global id (`node(id:)`); `sweepId` is the same sweep's UUID.
    pub async fn id(&self) -> &ID {
        &self.id
    }
    /// The sweep's UUID: the key to follow and fetch it.
    async fn sweep_id(&self) -> Uuid {
        self.view.record.sweep_id.into()
    }
    /// PENDING (waiting for a compute slot), RUNNING, then COMPLETED, ERROR or CANCELLED.
    async fn status(&self) -> BacktestStatus {
        self.view.record.status.into()
    }
    /// Finished cells (error cells included) as a percentage of the grid, 0–100.
    async fn percent(&self) -> f64 {
        let total = f64::from(self.view.record.cell_count.max(1));
        let done = self.completed() as f64;
        (done / total * 100.0).clamp(0.0, 100.0)
    }
    /// Cells in the grid.
    async fn cell_count(&self) -> i32 {
        self.view.record.cell_count
    }
    /// Cells finished so far, error cells included.
    async fn completed_cells(&self) -> i32 {
        i32::try_from(self.completed()).unwrap_or(i32::MAX)
    }
    /// Wall time from the request to the end, milliseconds; null until finished.
    async fn execution_time_ms(&self) -> Option<f64> {
        self.view.record.execution_time_ms
    }
    /// Why the sweep failed (ERROR only).
    async fn error_message(&self) -> Option<&str> {
        self.view.record.error_message.as_deref()
    }
    /// When the sweep was asked for.
    async fn created_at(&self) -> DateTime<Utc> {
        self.view.record.created_at
    }
    /// When it finished; null until then.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.view.record.completed_at
    }
    /// The normalised input, as the engine ran it (JSON of the sweep input).
    async fn input(&self) -> Json<serde_json::Value> {
        Json(self.view.record.input.clone())
    }
    /// The grid's cells in grid order (y outer, x inner); empty until COMPLETED.
    async fn cells(
        &self,
        #[graphql(desc = "Forward paging: at most this many cells (1–1000, default 100).")]
        first: Option<i32>,
        #[graphql(desc = "Forward paging: the `endCursor` of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Backward paging: at most this many cells (1–1000).")] last: Option<i32>,
        #[graphql(desc = "Backward paging: the `startCursor` of the next page.")] before: Option<
            String,
        >,
    ) -> ApiResult<Listing<SweepCell>> {
        let cells = self.view.result.as_ref().map_or(&[][..], |r| &r.cells[..]);
        cells_connection(cells, (first, after), (last, before))
    }
    /// The best finished cell for `metric` (error cells skipped; ties: the first in grid
    /// order); null until COMPLETED or when no cell has the metric.
    async fn best(
        &self,
        #[graphql(desc = "The number to rank the cells by.")] metric: SweepMetric,
        #[graphql(
            desc = "Which end is best; null: the metric's own (highest CAGR, drawdown closest to zero, fewest liquidations, …)."
        )]
        direction: Option<SweepDirection>,
    ) -> Option<SweepCell> {
        let result = self.view.result.as_ref()?;
        result
            .best(metric.into(), direction.map(Into::into))
            .map(Into::into)
    }
    /// A Plotly heatmap (`{data, layout}`) of `metric` over the grid: x and y labelled with
    /// the parameters and their units, a diverging scale centred on zero for returns and
    /// ratios; error cells are gaps. Null until COMPLETED.
    async fn heatmap(
        &self,
        #[graphql(desc = "The number each cell shows.")] metric: SweepMetric,
    ) -> Option<Json<serde_json::Value>> {
        let result = self.view.result.as_ref()?;
        Some(Json(result.heatmap(metric.into())))
    }
}

impl SweepSession {
    fn completed(&self) -> usize {
        let stored = usize::try_from(self.view.record.completed_cells).unwrap_or(0);
        self.view.live_cells.map_or(stored, |live| live.max(stored))
    }
}

/// A saved sweep's grid.
pub struct SweepGrid(pub Arc<engine_sweep::SweepResult>);

/// A finished sweep's grid as it was saved (`SavedResult.sweep`): the cells, best cell and
/// heatmap of the `sweepSession` it came from.
#[Object]
impl SweepGrid {
    /// Cells in the grid.
    async fn cell_count(&self) -> i32 {
        i32::try_from(self.0.cell_count).unwrap_or(i32::MAX)
    }
    /// Finished cells, error cells included (all of them, for a saved grid).
    async fn completed_cells(&self) -> i32 {
        i32::try_from(self.0.completed_cells).unwrap_or(i32::MAX)
    }
    /// The normalised input, as the engine ran it (JSON of the sweep input).
    async fn input(&self) -> ApiResult<Json<serde_json::Value>> {
        serde_json::to_value(&self.0.input)
            .map(Json)
            .map_err(ApiError::internal)
    }
    /// Axes that cannot change any run (e.g. a profit threshold outside PROFIT_THRESHOLD).
    async fn warnings(&self) -> &[String] {
        &self.0.warnings
    }
    /// The grid's cells in grid order (y outer, x inner).
    async fn cells(
        &self,
        #[graphql(desc = "Forward paging: at most this many cells (1–1000, default 100).")]
        first: Option<i32>,
        #[graphql(desc = "Forward paging: the `endCursor` of the previous page.")] after: Option<
            String,
        >,
        #[graphql(desc = "Backward paging: at most this many cells (1–1000).")] last: Option<i32>,
        #[graphql(desc = "Backward paging: the `startCursor` of the next page.")] before: Option<
            String,
        >,
    ) -> ApiResult<Listing<SweepCell>> {
        cells_connection(&self.0.cells, (first, after), (last, before))
    }
    /// The best finished cell for `metric` (error cells skipped; ties: the first in grid
    /// order); null when no cell has the metric.
    async fn best(
        &self,
        #[graphql(desc = "The number to rank the cells by.")] metric: SweepMetric,
        #[graphql(
            desc = "Which end is best; null: the metric's own (highest CAGR, drawdown closest to zero, fewest liquidations, …)."
        )]
        direction: Option<SweepDirection>,
    ) -> Option<SweepCell> {
        self.0
            .best(metric.into(), direction.map(Into::into))
            .map(Into::into)
    }
    /// A Plotly heatmap (`{data, layout}`) of `metric` over the grid, as
    /// `SweepSession.heatmap` draws it.
    async fn heatmap(
        &self,
        #[graphql(desc = "The number each cell shows.")] metric: SweepMetric,
    ) -> Json<serde_json::Value> {
        Json(self.0.heatmap(metric.into()))
    }
}

/// The sweep `runSweep` started or `cancelSweep` changed.
pub struct SweepSessionPayload(pub SweepView);

/// What `runSweep` and `cancelSweep` return.
#[Object]
impl SweepSessionPayload {
    /// The sweep session: COMPLETED with its grid, or PENDING/RUNNING to poll, or
    /// CANCELLED.
    async fn sweep_session(&self) -> SweepSession {
        self.0.clone().into()
    }
}
