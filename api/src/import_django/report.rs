//! What an import did, table by table: the JSON written by `--report FILE` and the summary
//! printed on standard output (the same numbers).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A legacy row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skip {
    /// The row's id in the Django database.
    pub id: i64,
    /// Its natural key when it has one (a saved result's or session's UUID, an email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub reason: String,
}

/// One imported table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableReport {
    pub table: String,
    /// Rows read from the Django database.
    pub read: u64,
    /// Rows written here by this run.
    pub imported: u64,
    /// Rows found here already (matched by natural key) and left as they are.
    pub already_present: u64,
    /// Rows neither imported nor present, each with its reason.
    pub skipped: Vec<Skip>,
    pub elapsed_ms: u64,
}

impl TableReport {
    pub fn new(table: &str) -> Self {
        Self {
            table: table.to_string(),
            ..Self::default()
        }
    }

    pub fn skip(&mut self, id: i64, key: Option<String>, reason: impl Into<String>) {
        self.skipped.push(Skip {
            id,
            key,
            reason: reason.into(),
        });
    }

    pub fn skipped_ids(&self) -> Vec<i64> {
        self.skipped.iter().map(|s| s.id).collect()
    }
}

/// A Django table deliberately left behind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedTable {
    pub table: String,
    pub rows: u64,
    pub why: String,
}

/// A saved result imported with its legacy payload only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyOnly {
    pub legacy_id: i64,
    pub result_id: Uuid,
    pub reason: String,
}

/// A Django user whose email already had an account here: the account is left as it is and
/// the user's rows are attached to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedUser {
    pub legacy_id: i64,
    pub email: String,
    pub user_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The Django database, its password masked.
    pub source: String,
    /// Everything ran in a transaction that was rolled back: nothing was written.
    pub dry_run: bool,
    pub started_at: DateTime<Utc>,
    pub elapsed_ms: u64,
    /// The quota the saved results were imported under.
    pub saved_results_quota: u32,
    pub tables: Vec<TableReport>,
    pub skipped_tables: Vec<SkippedTable>,
    pub legacy_only_results: Vec<LegacyOnly>,
    pub matched_users: Vec<MatchedUser>,
}

impl Report {
    pub fn new(source: String, dry_run: bool, saved_results_quota: u32) -> Self {
        Self {
            source,
            dry_run,
            started_at: Utc::now(),
            elapsed_ms: 0,
            saved_results_quota,
            tables: Vec::new(),
            skipped_tables: Vec::new(),
            legacy_only_results: Vec::new(),
            matched_users: Vec::new(),
        }
    }

    /// The report of one table, if it was imported.
    pub fn table(&self, table: &str) -> Option<&TableReport> {
        self.tables.iter().find(|t| t.table == table)
    }

    /// Rows this run wrote, over every table.
    pub fn imported(&self) -> u64 {
        self.tables.iter().map(|t| t.imported).sum()
    }

    /// The human summary printed on standard output.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "import-django from {}{}",
            self.source,
            if self.dry_run {
                " (dry run: rolled back, nothing was written)"
            } else {
                ""
            }
        );
        let _ = writeln!(
            out,
            "{:<42} {:>8} {:>9} {:>8} {:>8}",
            "table", "read", "imported", "present", "skipped"
        );
        for t in &self.tables {
            let _ = writeln!(
                out,
                "{:<42} {:>8} {:>9} {:>8} {:>8}",
                t.table,
                t.read,
                t.imported,
                t.already_present,
                t.skipped.len()
            );
        }
        for t in &self.skipped_tables {
            let _ = writeln!(
                out,
                "not imported: {} ({} rows): {}",
                t.table, t.rows, t.why
            );
        }
        if !self.matched_users.is_empty() {
            let _ = writeln!(
                out,
                "{} users already had an account here (matched by email, left as they are; \
                 their rows were attached to it)",
                self.matched_users.len()
            );
        }
        if !self.legacy_only_results.is_empty() {
            let _ = writeln!(
                out,
                "{} saved results could not be re-run and keep their legacy numbers only \
                 (legacy: true):",
                self.legacy_only_results.len()
            );
            for r in self.legacy_only_results.iter().take(20) {
                let _ = writeln!(out, "  {} (#{}): {}", r.result_id, r.legacy_id, r.reason);
            }
            if self.legacy_only_results.len() > 20 {
                let _ = writeln!(
                    out,
                    "  … {} more in the report",
                    self.legacy_only_results.len() - 20
                );
            }
        }
        let skips: usize = self.tables.iter().map(|t| t.skipped.len()).sum();
        if skips > 0 {
            let _ = writeln!(out, "skipped rows:");
            let mut shown = 0;
            for t in &self.tables {
                for s in &t.skipped {
                    if shown < 50 {
                        let key = s
                            .key
                            .as_deref()
                            .map(|k| format!(" {k}"))
                            .unwrap_or_default();
                        let _ = writeln!(out, "  {} #{}{key}: {}", t.table, s.id, s.reason);
                    }
                    shown += 1;
                }
            }
            if shown > 50 {
                let _ = writeln!(out, "  … {} more in the report", shown - 50);
            }
        }
        if self.imported() == 0 {
            let _ = writeln!(
                out,
                "nothing to import: every importable row is already present"
            );
        }
        let _ = write!(out, "elapsed {} ms", self.elapsed_ms);
        out
    }
}
