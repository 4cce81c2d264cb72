//! Saved results answer the same on SQLite and PostgreSQL: a `name_key` column (the name
//! lower-cased by the service, compared byte-wise) for name ordering, and a tag table
//! (`historical_backtest_savedresulttag`, one lower-cased key per tag) for exact,
//! case-insensitive tag filters. Existing rows are backfilled here, with the keys computed
//! by the same Rust function the service uses (`str::to_lowercase`), so the database's own
//! `lower()` (ASCII-only on SQLite, locale-dependent on PostgreSQL) decides nothing.
//!
//! SQLite appends an added column after `results_data`, and reading a column placed after
//! the ~0.8 MB payload walks its overflow pages (see migration 4), so on SQLite the payload
//! is moved back to the end: copied into a new last column, the old one dropped and the new
//! one renamed. Working on whatever columns the table has keeps this independent of the
//! exact column list.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SAVED: &str = "historical_backtest_savedbacktestresult";
const NAME_INDEX: &str = "idx_savedresult_user_namekey";
const BATCH: i64 = 500;

#[derive(DeriveIden)]
enum SavedResultTag {
    #[sea_orm(iden = "historical_backtest_savedresulttag")]
    Table,
    SavedResultId,
    TagKey,
}

/// The key a name or tag is ordered and matched by; the service uses the same definition.
fn key(text: &str) -> String {
    text.trim().to_lowercase()
}

async fn run(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(sql)
        .await
        .map(|_| ())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        if backend == DbBackend::Postgres {
            // Byte order ("C"), as SQLite's BINARY: the same order whatever the database's
            // default collation.
            run(
                manager,
                &format!(
                    "ALTER TABLE {SAVED} ADD COLUMN name_key TEXT COLLATE \"C\" NOT NULL DEFAULT ''"
                ),
            )
            .await?;
            run(
                manager,
                &format!("UPDATE {SAVED} SET name_key = lower(name)"),
            )
            .await?;
        } else {
            run(
                manager,
                &format!("ALTER TABLE {SAVED} ADD COLUMN name_key TEXT NOT NULL DEFAULT ''"),
            )
            .await?;
            run(
                manager,
                &format!(
                    "ALTER TABLE {SAVED} ADD COLUMN results_data_last TEXT NOT NULL DEFAULT '{{}}'"
                ),
            )
            .await?;
            run(
                manager,
                &format!(
                    "UPDATE {SAVED} SET name_key = lower(name), results_data_last = results_data"
                ),
            )
            .await?;
            run(
                manager,
                &format!("ALTER TABLE {SAVED} DROP COLUMN results_data"),
            )
            .await?;
            run(
                manager,
                &format!("ALTER TABLE {SAVED} RENAME COLUMN results_data_last TO results_data"),
            )
            .await?;
        }
        run(
            manager,
            &format!("CREATE INDEX {NAME_INDEX} ON {SAVED} (user_id, name_key, id)"),
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(SavedResultTag::Table)
                    .col(
                        ColumnDef::new(SavedResultTag::SavedResultId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(SavedResultTag::TagKey).text().not_null())
                    .primary_key(
                        Index::create()
                            .col(SavedResultTag::SavedResultId)
                            .col(SavedResultTag::TagKey),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_savedresulttag_result")
                            .from(SavedResultTag::Table, SavedResultTag::SavedResultId)
                            .to(Alias::new(SAVED), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        backfill(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SavedResultTag::Table).to_owned())
            .await?;
        run(manager, &format!("DROP INDEX {NAME_INDEX}")).await?;
        // On SQLite the rewrite keeps the remaining columns in order, the payload last.
        run(
            manager,
            &format!("ALTER TABLE {SAVED} DROP COLUMN name_key"),
        )
        .await
    }
}

/// Corrects `name_key` where the database's `lower()` differed from the service's, and
/// writes the tag keys, in batches of rows read by id (names and tags only, never payloads).
async fn backfill(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let tags_text = if backend == DbBackend::Postgres {
        "CAST(tags AS TEXT)"
    } else {
        "tags"
    };
    let mut after = 0_i64;
    loop {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT id, name, name_key, {tags_text} AS tags FROM {SAVED} \
                     WHERE id > $1 ORDER BY id LIMIT {BATCH}"
                ),
                [after.into()],
            ))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = last.try_get::<i64>("", "id")?;
        let mut tag_rows: Vec<(i64, String)> = Vec::new();
        for row in &rows {
            let id = row.try_get::<i64>("", "id")?;
            let name_key = key(&row.try_get::<String>("", "name")?);
            if row.try_get::<String>("", "name_key")? != name_key {
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    format!("UPDATE {SAVED} SET name_key = $1 WHERE id = $2"),
                    [name_key.into(), id.into()],
                ))
                .await?;
            }
            let tags: serde_json::Value =
                serde_json::from_str(&row.try_get::<String>("", "tags")?).unwrap_or_default();
            let mut keys: Vec<String> = tags
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(key))
                .filter(|k| !k.is_empty())
                .collect();
            keys.sort();
            keys.dedup();
            tag_rows.extend(keys.into_iter().map(|k| (id, k)));
        }
        for chunk in tag_rows.chunks(BATCH as usize) {
            let mut insert = Query::insert();
            insert
                .into_table(SavedResultTag::Table)
                .columns([SavedResultTag::SavedResultId, SavedResultTag::TagKey]);
            for (id, tag_key) in chunk {
                insert
                    .values([(*id).into(), tag_key.clone().into()])
                    .map_err(|e| DbErr::Migration(e.to_string()))?;
            }
            db.execute(&insert).await?;
        }
    }
}
