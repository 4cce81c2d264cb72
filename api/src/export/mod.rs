//! A result's tables as CSV (RFC 4180: a header row, CRLF line ends, fields quoted only when
//! they need it, ISO dates), written a chunk of rows at a time so a server can stream a
//! 33-year daily table without holding the file. Used by `GET /exports/…` and the CLI's
//! `--format csv`.

pub(crate) mod columns;
mod tables;

use std::sync::Arc;

use engine::backtest::BacktestResult;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use columns::DailyColumn;

/// Rows per chunk: about 40 KB of a full daily table, small enough that the first bytes
/// leave at once, large enough that chunk overhead does not matter.
const CHUNK_ROWS: usize = 256;

/// The tables a result exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Daily,
    Rounds,
    Events,
    Monthly,
}

impl Table {
    pub const ALL: [Table; 4] = [Table::Daily, Table::Rounds, Table::Events, Table::Monthly];

    pub fn name(self) -> &'static str {
        match self {
            Table::Daily => "daily",
            Table::Rounds => "rounds",
            Table::Events => "events",
            Table::Monthly => "monthly",
        }
    }

    /// `daily` (the CLI's `--table`) or `daily.csv` (the last part of an export path).
    pub fn parse(text: &str) -> Option<Table> {
        let name = text.strip_suffix(".csv").unwrap_or(text);
        Table::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// Where an exported result lives, which names its export URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportSource {
    Session(Uuid),
    Saved(Uuid),
}

impl ExportSource {
    /// The path of one table's export, relative to the server's origin.
    pub fn path(self, table: Table) -> String {
        let (kind, id) = match self {
            ExportSource::Session(id) => ("backtests", id),
            ExportSource::Saved(id) => ("saved", id),
        };
        format!("/exports/{kind}/{id}/{}.csv", table.name())
    }
}

/// `?columns=` of a daily export: names separated by commas, as the JSON keys (`cushionPct`)
/// or the GraphQL enum (`CUSHION_PCT`), in any case; each column once, in the order given.
pub fn parse_columns(text: &str) -> ApiResult<Vec<DailyColumn>> {
    let squash = |name: &str| name.replace('_', "").to_ascii_lowercase();
    let mut columns = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let wanted = squash(name);
        let Some(&column) = DailyColumn::ALL
            .iter()
            .find(|c| squash(c.json_key()) == wanted)
        else {
            let shown: String = name.chars().take(40).collect();
            return Err(ApiError::input(
                "columns",
                format!("unknown daily column {shown:?} (see the DailyColumn enum)"),
            ));
        };
        if !columns.contains(&column) {
            columns.push(column);
        }
    }
    if columns.is_empty() {
        return Err(ApiError::input("columns", "name at least one daily column"));
    }
    Ok(columns)
}

/// A descriptive file name: ticker, mode, dates and table, e.g.
/// `SPY_profit-threshold_1993-01-29_2025-09-26_daily.csv`.
pub fn file_name(result: &BacktestResult, table: Table) -> String {
    let input = &result.input;
    let mode = input.mode.as_str().to_ascii_lowercase().replace('_', "-");
    // Tickers are validated against the data set, but a file name must never carry a quote
    // or a path separator whatever the data holds.
    let ticker: String = input
        .ticker
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    format!(
        "{ticker}_{mode}_{}_{}_{}.csv",
        input.start_date,
        input.end_date,
        table.name()
    )
}

/// One table of a result as CSV, in chunks of [`CHUNK_ROWS`] rows (the first also carries the
/// header row). The chunks joined are the whole file.
pub struct CsvChunks {
    result: Arc<BacktestResult>,
    table: Table,
    columns: Vec<DailyColumn>,
    next_row: usize,
    header_written: bool,
}

impl CsvChunks {
    /// `columns` applies to the daily table only (None: every column).
    pub fn new(
        result: Arc<BacktestResult>,
        table: Table,
        columns: Option<Vec<DailyColumn>>,
    ) -> Self {
        Self {
            result,
            table,
            columns: columns.unwrap_or_else(|| DailyColumn::ALL.to_vec()),
            next_row: 0,
            header_written: false,
        }
    }

    fn rows(&self) -> usize {
        let result = &self.result;
        match self.table {
            Table::Daily => result.daily.len(),
            Table::Rounds => result.rounds.len(),
            Table::Events => result.events.len(),
            Table::Monthly => result.monthly_returns.len(),
        }
    }

    /// The whole file at once (the CLI prints it; the server streams the chunks instead).
    pub fn into_string(self) -> String {
        let bytes: Vec<u8> = self.flatten().collect();
        // Every field written is UTF-8 text (the csv writer copies it unchanged).
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Iterator for CsvChunks {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let rows = self.rows();
        if self.header_written && self.next_row >= rows {
            return None;
        }
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::with_capacity(48 * 1024));
        let start = self.next_row;
        let end = rows.min(start + CHUNK_ROWS);
        let header = !self.header_written;
        self.header_written = true;
        self.next_row = end;
        let written = (|| {
            if header {
                tables::write_header(&mut writer, self.table, &self.columns)?;
            }
            for row in start..end {
                tables::write_row(&mut writer, &self.result, self.table, &self.columns, row)?;
            }
            writer.flush()?;
            Ok::<_, csv::Error>(())
        })();
        // Writing into a Vec has no I/O to fail; should the writer still refuse (a record
        // of the wrong length would be a bug here), the file ends rather than lies.
        if let Err(err) = written {
            tracing::error!(error = %err, table = self.table.name(), "CSV export stopped");
            self.next_row = rows;
            return None;
        }
        writer.into_inner().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result() -> Arc<BacktestResult> {
        let market = engine::fixtures::case_a_market();
        let input = engine::fixtures::case_a_input(engine::backtest::Mode::LiquidationReentry);
        let never = std::sync::atomic::AtomicBool::new(false);
        let mut result =
            engine::backtest::run_backtest(&market, &input, &mut |_| {}, &never).expect("runs");
        result.daily.round_as_stored();
        Arc::new(result)
    }

    #[test]
    fn the_chunks_make_one_file_with_one_header_and_a_line_per_row() {
        let result = result();
        let rows = result.daily.len();
        let chunks: Vec<Vec<u8>> = CsvChunks::new(result.clone(), Table::Daily, None).collect();
        assert_eq!(chunks.len(), rows.div_ceil(CHUNK_ROWS).max(1));
        let file = String::from_utf8(chunks.concat()).unwrap();
        assert_eq!(
            file,
            CsvChunks::new(result.clone(), Table::Daily, None).into_string()
        );
        let lines: Vec<&str> = file.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), 1 + rows);
        assert!(
            !file.replace("\r\n", "").contains('\n'),
            "CRLF line ends only"
        );
        assert!(lines[0].starts_with("date,price,status,inPosition,"));
        assert_eq!(lines[0].split(',').count(), 1 + DailyColumn::ALL.len());
        assert!(lines[1].starts_with(&result.daily.date[0].to_string()));
        // A table with no rows is its header.
        let mut empty = (*result).clone();
        empty.events.clear();
        let events = CsvChunks::new(Arc::new(empty), Table::Events, None).into_string();
        assert!(events.starts_with("kind,date,round,") && events.ends_with("valueAfter\r\n"));
    }

    #[test]
    fn columns_parse_by_key_or_enum_name_once_each() {
        let columns = parse_columns("equity, CUSHION_PCT,cushionpct,Equity").unwrap();
        assert_eq!(columns, vec![DailyColumn::Equity, DailyColumn::CushionPct]);
        for bad in ["", " , ", "equity,positions"] {
            let err = parse_columns(bad).unwrap_err();
            assert!(matches!(&err, ApiError::BadUserInput { field, .. } if field == "columns"));
        }
    }

    #[test]
    fn names_describe_the_run() {
        let result = result();
        let name = file_name(&result, Table::Rounds);
        assert!(name.starts_with(&format!("{}_liquidation-reentry_", result.input.ticker)));
        assert!(name.ends_with(&format!("_{}_rounds.csv", result.input.end_date)));
        assert_eq!(Table::parse("monthly.csv"), Some(Table::Monthly));
        assert_eq!(Table::parse("events"), Some(Table::Events));
        assert_eq!(Table::parse("positions.csv"), None);
        let id = Uuid::nil();
        assert_eq!(
            ExportSource::Saved(id).path(Table::Daily),
            format!("/exports/saved/{id}/daily.csv")
        );
    }
}
