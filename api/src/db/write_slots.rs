//! Large writes wait for a slot before they take a pooled connection. A saved result is a
//! ~1 MB row: a burst of them would otherwise hold every connection while they queue on
//! SQLite's single writer (or PostgreSQL's CPU), and every other request — signing in
//! included — would wait for the pool until its acquire timeout. Waiting for a slot holds
//! nothing; the request timeout bounds it.

use sea_orm::DatabaseBackend;
use tokio::sync::{Semaphore, SemaphorePermit};

/// SQLite writes one transaction at a time whatever the pool holds.
static SQLITE: Semaphore = Semaphore::const_new(1);
/// Parsing a large `jsonb` value is CPU work in PostgreSQL; more at once than its cores
/// gains nothing.
static POSTGRES: Semaphore = Semaphore::const_new(4);

/// A slot for one large write transaction on `backend`, held until dropped.
pub async fn acquire(backend: DatabaseBackend) -> Option<SemaphorePermit<'static>> {
    let slots = match backend {
        DatabaseBackend::Sqlite => &SQLITE,
        _ => &POSTGRES,
    };
    // The semaphores are never closed, so acquiring only fails in theory; then go without.
    slots.acquire().await.ok()
}
