//! Large writes wait for a slot before they take a pooled connection. A saved result is a
//! ~1 MB row: a burst of them would otherwise hold every connection while they queue on
//! SQLite's single writer (or PostgreSQL's CPU), and every other request — signing in
//! included — would wait for the pool until its acquire timeout. Waiting for a slot holds
//! nothing; the request timeout bounds it.

use std::sync::Arc;

use sea_orm::DatabaseBackend;
use tokio::sync::{Semaphore, SemaphorePermit};

/// The slots of one process (one per `AppState`, shared by its clones), so servers in one
/// process (the tests) do not queue on each other's writes.
#[derive(Clone)]
pub(crate) struct WriteSlots(Arc<Semaphore>);

impl WriteSlots {
    pub(crate) fn for_backend(backend: DatabaseBackend) -> Self {
        let slots = match backend {
            // SQLite writes one transaction at a time whatever the pool holds.
            DatabaseBackend::Sqlite => 1,
            // Parsing a large `jsonb` value is CPU work in PostgreSQL; more at once than its
            // cores gains nothing.
            _ => 4,
        };
        Self(Arc::new(Semaphore::new(slots)))
    }

    /// A slot for one large write transaction, held until dropped.
    pub(crate) async fn acquire(&self) -> Option<SemaphorePermit<'_>> {
        // The semaphore is never closed, so acquiring only fails in theory; then go without.
        self.0.acquire().await.ok()
    }
}
