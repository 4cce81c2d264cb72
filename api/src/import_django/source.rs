//! The Django database being moved in, read through raw statements: SQLite (opened
//! read-only) or PostgreSQL, whatever columns its tables have.
//!
//! Every cell comes back as a [`Cell`] and is parsed by the accessor of the type the importer
//! expects, so a row whose value does not parse is a skip with a reason, never a panic:
//! PostgreSQL cells are selected as text (exact for `double precision`, `numeric`,
//! `timestamptz`, `uuid`, `jsonb`), SQLite cells as the value they hold (integer, real, text).

use std::{collections::HashMap, sync::Arc};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, QueryResult,
    Statement, Value,
};
use uuid::Uuid;

/// One value of a legacy row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

/// A row of a legacy table: its `id` and its cells by column name.
#[derive(Debug, Clone)]
pub struct LegacyRow {
    pub id: i64,
    columns: Arc<HashMap<String, usize>>,
    cells: Vec<Cell>,
}

/// Why a cell could not be read as the type asked for (the column is named).
pub type CellResult<T> = Result<T, String>;

impl LegacyRow {
    /// A row from its cells (for tests and for the reader).
    pub fn new(id: i64, columns: Arc<HashMap<String, usize>>, cells: Vec<Cell>) -> Self {
        Self { id, columns, cells }
    }

    pub fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    fn cell(&self, column: &str) -> &Cell {
        self.columns
            .get(column)
            .and_then(|&i| self.cells.get(i))
            .unwrap_or(&Cell::Null)
    }

    /// The text of a column (numbers written out); None when NULL or absent.
    pub fn opt_text(&self, column: &str) -> Option<String> {
        match self.cell(column) {
            Cell::Null => None,
            Cell::Int(v) => Some(v.to_string()),
            Cell::Real(v) => Some(v.to_string()),
            Cell::Text(t) => Some(t.clone()),
        }
    }

    /// The text of a required column; an empty string is allowed.
    pub fn text(&self, column: &str) -> CellResult<String> {
        self.opt_text(column)
            .ok_or_else(|| format!("{column} is missing"))
    }

    /// The text of a nullable column, with the empty string read as NULL (Django stores ""
    /// for an empty optional CharField or TextField).
    pub fn opt_nonempty(&self, column: &str) -> Option<String> {
        self.opt_text(column).filter(|t| !t.trim().is_empty())
    }

    /// An IP address: PostgreSQL's `inet` text carries a prefix length (`10.0.0.1/32`),
    /// which is dropped; the empty string is NULL.
    pub fn opt_ip(&self, column: &str) -> Option<String> {
        self.opt_nonempty(column)
            .map(|ip| ip.trim().split('/').next().unwrap_or_default().to_string())
            .filter(|ip| !ip.is_empty())
    }

    pub fn opt_i64(&self, column: &str) -> CellResult<Option<i64>> {
        match self.cell(column) {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            Cell::Real(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(Some(*v as i64)),
            Cell::Text(t) => t
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| format!("{column} is not an integer ({t:?})")),
            Cell::Real(v) => Err(format!("{column} is not an integer ({v})")),
        }
    }

    pub fn i64(&self, column: &str) -> CellResult<i64> {
        self.opt_i64(column)?
            .ok_or_else(|| format!("{column} is missing"))
    }

    pub fn opt_f64(&self, column: &str) -> CellResult<Option<f64>> {
        let value = match self.cell(column) {
            Cell::Null => return Ok(None),
            Cell::Int(v) => *v as f64,
            Cell::Real(v) => *v,
            Cell::Text(t) => t
                .trim()
                .parse::<f64>()
                .map_err(|_| format!("{column} is not a number ({t:?})"))?,
        };
        if value.is_finite() {
            Ok(Some(value))
        } else {
            Err(format!("{column} is not a finite number"))
        }
    }

    pub fn f64(&self, column: &str) -> CellResult<f64> {
        self.opt_f64(column)?
            .ok_or_else(|| format!("{column} is missing"))
    }

    /// A boolean: SQLite's 0/1, PostgreSQL's `true`/`false` (as text `t`/`f` too).
    pub fn bool(&self, column: &str) -> CellResult<bool> {
        match self.cell(column) {
            Cell::Int(0) => Ok(false),
            Cell::Int(1) => Ok(true),
            Cell::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
                "true" | "t" | "1" => Ok(true),
                "false" | "f" | "0" => Ok(false),
                _ => Err(format!("{column} is not a boolean ({t:?})")),
            },
            Cell::Null => Err(format!("{column} is missing")),
            other => Err(format!("{column} is not a boolean ({other:?})")),
        }
    }

    pub fn opt_datetime(&self, column: &str) -> CellResult<Option<DateTime<Utc>>> {
        match self.opt_text(column) {
            None => Ok(None),
            Some(t) if t.trim().is_empty() => Ok(None),
            Some(t) => parse_datetime(&t)
                .map(Some)
                .ok_or_else(|| format!("{column} is not a date and time ({t:?})")),
        }
    }

    pub fn datetime(&self, column: &str) -> CellResult<DateTime<Utc>> {
        self.opt_datetime(column)?
            .ok_or_else(|| format!("{column} is missing"))
    }

    pub fn date(&self, column: &str) -> CellResult<NaiveDate> {
        let text = self.text(column)?;
        let day = text.trim().get(..10).unwrap_or(text.trim());
        NaiveDate::parse_from_str(day, "%Y-%m-%d")
            .map_err(|_| format!("{column} is not a date ({text:?})"))
    }

    /// A UUID: 32 hex digits (Django's `char(32)` on SQLite) or the dashed form.
    pub fn uuid(&self, column: &str) -> CellResult<Uuid> {
        let text = self.text(column)?;
        Uuid::try_parse(text.trim()).map_err(|_| format!("{column} is not a UUID ({text:?})"))
    }

    /// A JSON column: the parsed value (text on SQLite, `jsonb` as text on PostgreSQL).
    pub fn json(&self, column: &str) -> CellResult<serde_json::Value> {
        let text = self.text(column)?;
        serde_json::from_str(&text).map_err(|err| format!("{column} is not valid JSON ({err})"))
    }
}

/// Django's datetimes as either database writes them: `YYYY-MM-DD HH:MM:SS[.ffffff]` (UTC,
/// SQLite), with an offset `+00`, `+00:00` or `Z` (PostgreSQL's text of a `timestamptz`, in
/// the session's time zone), or with a `T`.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(at) = DateTime::parse_from_str(text, format) {
            return Some(at.with_timezone(&Utc));
        }
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Some(at.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .map(|day| day.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// The Django database, open for reading.
pub struct Source {
    pub db: DatabaseConnection,
    pub backend: DbBackend,
}

/// `--from` with SQLite opened read-only: `mode=ro` replaces any mode the URL gives.
pub fn read_only_url(url: &str) -> String {
    if !url.starts_with("sqlite:") {
        return url.to_string();
    }
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut params: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("mode="))
        .collect();
    params.push("mode=ro");
    format!("{base}?{}", params.join("&"))
}

impl Source {
    /// Opens the database at `url` (`sqlite://…` or `postgres://…`).
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            anyhow::bail!("--from must be a sqlite:// or postgres:// URL");
        }
        let mut options = ConnectOptions::new(read_only_url(url));
        options
            .max_connections(2)
            .min_connections(1)
            .connect_timeout(std::time::Duration::from_secs(10))
            .acquire_timeout(std::time::Duration::from_secs(30))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts| opts.read_only(true));
        let db = Database::connect(options).await.map_err(|err| {
            anyhow::anyhow!(
                "cannot open the Django database {}: {}",
                crate::redact::mask_url(url),
                crate::redact::scrub(&err.to_string(), url)
            )
        })?;
        let backend = db.get_database_backend();
        let source = Self { db, backend };
        if !source.columns("seaql_migrations").await?.is_empty() {
            anyhow::bail!(
                "{} is a database of this service, not of the Django apps",
                crate::redact::mask_url(url)
            );
        }
        Ok(source)
    }

    fn placeholder(&self, n: usize) -> String {
        match self.backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_string(),
        }
    }

    /// The columns of `table`, in order; empty when there is no such table.
    pub async fn columns(&self, table: &str) -> anyhow::Result<Vec<String>> {
        let sql = match self.backend {
            DbBackend::Postgres => format!(
                "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = {} \
                 ORDER BY ordinal_position",
                self.placeholder(1)
            ),
            _ => format!(
                "SELECT name FROM pragma_table_info({}) ORDER BY cid",
                self.placeholder(1)
            ),
        };
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                self.backend,
                sql,
                [Value::from(table)],
            ))
            .await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<String>("", "name")?))
            .collect()
    }

    /// Rows in `table` (0 when there is no such table).
    pub async fn count(&self, table: &str) -> anyhow::Result<u64> {
        if self.columns(table).await?.is_empty() {
            return Ok(0);
        }
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.backend,
                format!("SELECT COUNT(*) AS n FROM {}", quote(table)),
            ))
            .await?;
        let n = row.map_or(Ok(0), |row| row.try_get::<i64>("", "n"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// A reader of `table` in id order, `batch` rows at a time; None when there is no such
    /// table.
    pub async fn reader(&self, table: &str, batch: u64) -> anyhow::Result<Option<TableReader<'_>>> {
        let columns = self.columns(table).await?;
        if columns.is_empty() {
            return Ok(None);
        }
        if !columns.iter().any(|c| c == "id") {
            anyhow::bail!("{table} has no id column");
        }
        let select = columns
            .iter()
            .map(|c| match self.backend {
                DbBackend::Postgres => format!("CAST({0} AS TEXT) AS {0}", quote(c)),
                _ => quote(c),
            })
            .collect::<Vec<_>>()
            .join(", ");
        // Qualified, so the order is the table's integer id, not the text the select list
        // names `id` on PostgreSQL.
        let sql = format!(
            "SELECT {select} FROM {table_q} WHERE {table_q}.\"id\" > {} \
             ORDER BY {table_q}.\"id\" LIMIT {batch}",
            self.placeholder(1),
            table_q = quote(table),
        );
        let index = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i))
            .collect();
        Ok(Some(TableReader {
            source: self,
            sql,
            columns: Arc::new(index),
            width: columns.len(),
            after: i64::MIN,
            done: false,
        }))
    }

    /// Every row of `table` (for the small tables).
    pub async fn all(&self, table: &str) -> anyhow::Result<Vec<LegacyRow>> {
        let mut rows = Vec::new();
        if let Some(mut reader) = self.reader(table, 2_000).await? {
            while let Some(batch) = reader.next_batch().await? {
                rows.extend(batch);
            }
        }
        Ok(rows)
    }
}

/// The Django databases being moved in: the umbrella app's (accounts) and the margin app's
/// may be one database or two. A table is read from the first that has it.
pub struct Sources {
    list: Vec<Source>,
}

impl Sources {
    /// Opens every URL; one of them must hold `authentication_user`.
    pub async fn open(urls: &[String]) -> anyhow::Result<Self> {
        if urls.is_empty() {
            anyhow::bail!("--from is required");
        }
        let mut list = Vec::with_capacity(urls.len());
        for url in urls {
            list.push(Source::open(url).await?);
        }
        let sources = Self { list };
        if sources.find("authentication_user").await?.is_none() {
            anyhow::bail!(
                "no authentication_user table in {}: not a database of the Django apps",
                urls.iter()
                    .map(|u| crate::redact::mask_url(u))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        Ok(sources)
    }

    async fn find(&self, table: &str) -> anyhow::Result<Option<&Source>> {
        for source in &self.list {
            if !source.columns(table).await?.is_empty() {
                return Ok(Some(source));
            }
        }
        Ok(None)
    }

    /// Rows in `table` (0 when no database has it).
    pub async fn count(&self, table: &str) -> anyhow::Result<u64> {
        match self.find(table).await? {
            Some(source) => source.count(table).await,
            None => Ok(0),
        }
    }

    /// A reader of `table`; None when no database has it.
    pub async fn reader(&self, table: &str, batch: u64) -> anyhow::Result<Option<TableReader<'_>>> {
        match self.find(table).await? {
            Some(source) => source.reader(table, batch).await,
            None => Ok(None),
        }
    }

    /// Every row of `table` (for the small tables).
    pub async fn all(&self, table: &str) -> anyhow::Result<Vec<LegacyRow>> {
        match self.find(table).await? {
            Some(source) => source.all(table).await,
            None => Ok(Vec::new()),
        }
    }

    pub async fn close(self) {
        for source in self.list {
            source.db.close().await.ok();
        }
    }
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// Pages through one table by id.
pub struct TableReader<'a> {
    source: &'a Source,
    sql: String,
    columns: Arc<HashMap<String, usize>>,
    width: usize,
    after: i64,
    done: bool,
}

impl TableReader<'_> {
    /// The next rows in id order; None after the last.
    pub async fn next_batch(&mut self) -> anyhow::Result<Option<Vec<LegacyRow>>> {
        if self.done {
            return Ok(None);
        }
        let rows = self
            .source
            .db
            .query_all_raw(Statement::from_sql_and_values(
                self.source.backend,
                self.sql.clone(),
                [Value::from(self.after)],
            ))
            .await?;
        if rows.is_empty() {
            self.done = true;
            return Ok(None);
        }
        let id_index = self.columns.get("id").copied().unwrap_or(0);
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let cells = (0..self.width)
                .map(|i| read_cell(row, i, self.source.backend))
                .collect::<Vec<_>>();
            let id = match cells.get(id_index) {
                Some(Cell::Int(id)) => *id,
                Some(Cell::Text(t)) => t
                    .trim()
                    .parse()
                    .map_err(|_| anyhow::anyhow!("an id is not an integer: {t:?}"))?,
                other => anyhow::bail!("an id is not an integer: {other:?}"),
            };
            self.after = id;
            out.push(LegacyRow::new(id, self.columns.clone(), cells));
        }
        Ok(Some(out))
    }
}

fn read_cell(row: &QueryResult, i: usize, backend: DbBackend) -> Cell {
    if backend == DbBackend::Postgres {
        return match row.try_get_by_index::<Option<String>>(i) {
            Ok(Some(text)) => Cell::Text(text),
            _ => Cell::Null,
        };
    }
    if let Ok(value) = row.try_get_by_index::<Option<i64>>(i) {
        return value.map_or(Cell::Null, Cell::Int);
    }
    if let Ok(value) = row.try_get_by_index::<Option<f64>>(i) {
        return value.map_or(Cell::Null, Cell::Real);
    }
    if let Ok(value) = row.try_get_by_index::<Option<String>>(i) {
        return value.map_or(Cell::Null, Cell::Text);
    }
    // A blob: Django writes none in these tables; read as text when it is UTF-8.
    match row.try_get_by_index::<Option<Vec<u8>>>(i) {
        Ok(Some(bytes)) => String::from_utf8(bytes).map_or(Cell::Null, Cell::Text),
        _ => Cell::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn django_datetimes_parse_as_either_database_writes_them() {
        let want = NaiveDate::from_ymd_opt(2024, 6, 5)
            .unwrap()
            .and_hms_micro_opt(16, 52, 55, 848_750)
            .unwrap()
            .and_utc();
        for text in [
            "2024-06-05 16:52:55.848750",
            "2024-06-05 16:52:55.84875+00",
            "2024-06-05 18:52:55.84875+02",
            "2024-06-05 16:52:55.848750+00:00",
            "2024-06-05T16:52:55.848750Z",
        ] {
            assert_eq!(parse_datetime(text), Some(want), "{text}");
        }
        assert_eq!(
            parse_datetime("2023-07-06 10:11:54"),
            NaiveDate::from_ymd_opt(2023, 7, 6)
                .unwrap()
                .and_hms_opt(10, 11, 54)
                .map(|t| t.and_utc())
        );
        assert_eq!(parse_datetime("yesterday"), None);
    }

    #[test]
    fn cells_are_read_as_asked_or_refused_with_the_column() {
        let columns: HashMap<String, usize> = ["n", "x", "b", "t", "u"]
            .iter()
            .enumerate()
            .map(|(i, c)| (c.to_string(), i))
            .collect();
        let row = LegacyRow::new(
            1,
            Arc::new(columns),
            vec![
                Cell::Int(3),
                Cell::Text("2.5".into()),
                Cell::Text("t".into()),
                Cell::Text("".into()),
                Cell::Text("e893be3d73544a6fa160745985c7504b".into()),
            ],
        );
        assert_eq!(row.i64("n"), Ok(3));
        assert_eq!(row.f64("x"), Ok(2.5));
        assert_eq!(row.f64("n"), Ok(3.0));
        assert_eq!(row.bool("b"), Ok(true));
        assert!(row.bool("x").unwrap_err().contains('x'));
        assert_eq!(row.opt_nonempty("t"), None);
        assert_eq!(row.text("t").as_deref(), Ok(""));
        assert!(row.i64("x").is_err());
        assert!(row.text("missing").is_err());
        assert_eq!(
            row.uuid("u").unwrap().to_string(),
            "e893be3d-7354-4a6f-a160-745985c7504b"
        );
    }

    #[test]
    fn sqlite_sources_open_read_only() {
        assert_eq!(
            read_only_url("sqlite:///a/b.db"),
            "sqlite:///a/b.db?mode=ro"
        );
        assert_eq!(
            read_only_url("sqlite:///a/b.db?mode=rwc&cache=shared"),
            "sqlite:///a/b.db?cache=shared&mode=ro"
        );
        assert_eq!(read_only_url("postgres://h/db"), "postgres://h/db");
    }
}
