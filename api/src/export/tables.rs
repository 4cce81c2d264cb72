//! The header and rows of each exported table. Headers are the JSON names of the fields
//! (camelCase), so a CSV column and the GraphQL/JSON field of the same value match; a value
//! that does not exist on a row (cushion out of position, an event's fields of other kinds)
//! is an empty cell.

use chrono::NaiveDate;
use csv::Writer;
use engine::backtest::{BacktestResult, Event, Round};

use super::{Table, columns::Cells, columns::DailyColumn};
use crate::graphql::types::scalars::Date;

/// One CSV cell; numbers print as Rust's shortest exact form (`1234.5`, never an exponent
/// for the magnitudes a result holds).
enum Cell {
    Text(&'static str),
    Date(NaiveDate),
    Number(f64),
    Count(u32),
    Flag(bool),
    Empty,
}

impl Cell {
    fn write(&self, writer: &mut Writer<Vec<u8>>) -> csv::Result<()> {
        match self {
            Cell::Text(name) => writer.write_field(name),
            Cell::Date(day) => writer.write_field(Date(*day).iso()),
            Cell::Number(v) => write_number(writer, *v),
            Cell::Count(n) => writer.write_field(itoa::Buffer::new().format(*n)),
            Cell::Flag(b) => writer.write_field(if *b { "true" } else { "false" }),
            Cell::Empty => writer.write_field(""),
        }
    }
}

/// Whole numbers without a fraction (`100000`, as the stored JSON writes them), others in the
/// shortest form that reads back as the same f64 (`1234.56`, `1.5e-7`).
fn write_number(writer: &mut Writer<Vec<u8>>, v: f64) -> csv::Result<()> {
    if let Some(n) = engine::whole_number(v) {
        writer.write_field(itoa::Buffer::new().format(n))
    } else if v.is_finite() {
        writer.write_field(zmij::Buffer::new().format_finite(v))
    } else {
        // The engine emits no NaN or infinity; should one appear, the cell is empty.
        writer.write_field("")
    }
}

fn optional(v: Option<f64>) -> Cell {
    v.map_or(Cell::Empty, Cell::Number)
}

const ROUND_HEADER: [&str; 20] = [
    "round",
    "startDate",
    "endDate",
    "open",
    "tradingDays",
    "startPrice",
    "endPrice",
    "priceChangePct",
    "startPositionValue",
    "endPositionValue",
    "startEquity",
    "endEquity",
    "marginCall",
    "returnPct",
    "interestPaid",
    "dividends",
    "deficit",
    "marginCalls",
    "rebalances",
    "transactionCosts",
];

const EVENT_HEADER: [&str; 21] = [
    "kind",
    "date",
    "round",
    "price",
    "equity",
    "shares",
    "positionValue",
    "loan",
    "fillPrice",
    "entryPrice",
    "daysInPosition",
    "entryEquity",
    "lossAmount",
    "lossPct",
    "shortfall",
    "deficit",
    "amountSold",
    "growthPct",
    "leverageBefore",
    "cost",
    "valueAfter",
];

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

pub(super) fn write_header(
    writer: &mut Writer<Vec<u8>>,
    table: Table,
    columns: &[DailyColumn],
) -> csv::Result<()> {
    match table {
        Table::Daily => {
            writer.write_record(std::iter::once("date").chain(columns.iter().map(|c| c.json_key())))
        }
        Table::Rounds => writer.write_record(ROUND_HEADER),
        Table::Events => writer.write_record(EVENT_HEADER),
        Table::Monthly => writer.write_record(
            std::iter::once("year")
                .chain(MONTHS)
                .chain(std::iter::once("yearReturn")),
        ),
    }
}

pub(super) fn write_row(
    writer: &mut Writer<Vec<u8>>,
    result: &BacktestResult,
    table: Table,
    columns: &[DailyColumn],
    row: usize,
) -> csv::Result<()> {
    match table {
        Table::Daily => {
            let daily = &result.daily;
            Cell::Date(daily.date[row]).write(writer)?;
            for column in columns {
                daily_cell(column.cells(daily), row).write(writer)?;
            }
        }
        Table::Rounds => {
            for cell in round_cells(&result.rounds[row]) {
                cell.write(writer)?;
            }
        }
        Table::Events => {
            let event = &result.events[row];
            Cell::Text(event.kind.as_str()).write(writer)?;
            Cell::Date(event.date).write(writer)?;
            for cell in event_cells(event) {
                cell.write(writer)?;
            }
        }
        Table::Monthly => {
            let month = &result.monthly_returns[row];
            writer.write_field(month.year.to_string())?;
            for value in month.months {
                optional(value).write(writer)?;
            }
            Cell::Number(month.year_return).write(writer)?;
        }
    }
    writer.write_record(None::<&[u8]>)
}

fn daily_cell(cells: Cells<'_>, row: usize) -> Cell {
    match cells {
        Cells::Numbers(v) => Cell::Number(v[row]),
        Cells::Optional(v) => optional(v[row]),
        Cells::Counts(v) => Cell::Count(v[row]),
        Cells::Flags(v) => Cell::Flag(v[row]),
        Cells::Statuses(v) => Cell::Text(v[row].as_str()),
    }
}

fn round_cells(r: &Round) -> [Cell; 20] {
    [
        Cell::Count(r.round),
        Cell::Date(r.start_date),
        Cell::Date(r.end_date),
        Cell::Flag(r.open),
        Cell::Count(r.trading_days),
        Cell::Number(r.start_price),
        Cell::Number(r.end_price),
        Cell::Number(r.price_change_pct),
        Cell::Number(r.start_position_value),
        Cell::Number(r.end_position_value),
        Cell::Number(r.start_equity),
        Cell::Number(r.end_equity),
        Cell::Flag(r.margin_call),
        Cell::Number(r.return_pct),
        Cell::Number(r.interest_paid),
        Cell::Number(r.dividends),
        Cell::Number(r.deficit),
        Cell::Count(r.margin_calls),
        Cell::Count(r.rebalances),
        Cell::Number(r.transaction_costs),
    ]
}

fn event_cells(e: &Event) -> [Cell; 19] {
    [
        Cell::Count(e.round),
        Cell::Number(e.price),
        Cell::Number(e.equity),
        optional(e.shares),
        optional(e.position_value),
        optional(e.loan),
        optional(e.fill_price),
        optional(e.entry_price),
        e.days_in_position.map_or(Cell::Empty, Cell::Count),
        optional(e.entry_equity),
        optional(e.loss_amount),
        optional(e.loss_pct),
        optional(e.shortfall),
        optional(e.deficit),
        optional(e.amount_sold),
        optional(e.growth_pct),
        optional(e.leverage_before),
        optional(e.cost),
        optional(e.value_after),
    ]
}
