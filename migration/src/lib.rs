//! Schema migrations. Both databases run the same statements: sea-query renders `jsonb` on
//! PostgreSQL and text on SQLite, and SQLite gets its foreign keys inline at CREATE TABLE.

pub use sea_orm_migration::prelude::*;

mod m20260101_000001_accounts;
mod m20260101_000002_margin;
mod m20260101_000003_api_tokens;
mod m20260101_000004_saved_payload_last;
mod m20260101_000005_run_leases;
mod m20260101_000006_saved_keys;
mod m20260101_000007_quarantine_calculations;
mod m20260101_000008_sweep_sessions;
mod m20260101_000009_legacy_import;
mod m20260101_000010_saved_sweeps;

/// Upper bound of the quota counter enforced by the database; the configurable per-user quota
/// must stay at or below it.
pub const MAX_SAVED_RESULTS_QUOTA: i32 = 1000;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_accounts::Migration),
            Box::new(m20260101_000002_margin::Migration),
            Box::new(m20260101_000003_api_tokens::Migration),
            Box::new(m20260101_000004_saved_payload_last::Migration),
            Box::new(m20260101_000005_run_leases::Migration),
            Box::new(m20260101_000006_saved_keys::Migration),
            Box::new(m20260101_000007_quarantine_calculations::Migration),
            Box::new(m20260101_000008_sweep_sessions::Migration),
            Box::new(m20260101_000009_legacy_import::Migration),
            Box::new(m20260101_000010_saved_sweeps::Migration),
        ]
    }
}
