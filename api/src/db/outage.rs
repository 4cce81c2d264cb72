//! Pooled connections that outlived a database outage. Connections are pinged before reuse
//! only after 30 s idle, so when the database restarts (or a proxy drops its connections)
//! the pool still holds dead ones, each of which would fail one request after the database
//! is back. Once any connection failure has been seen, a connection idle since before it
//! is pinged before it is handed out, and a dead one is replaced, within the same acquire.

use std::{
    sync::{
        LazyLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

static ORIGIN: LazyLock<Instant> = LazyLock::new(Instant::now);
/// Milliseconds after ORIGIN, plus one, of the last failure seen; 0: none yet.
static LAST_FAILURE: AtomicU64 = AtomicU64::new(0);

fn now_ms() -> u64 {
    u64::try_from(ORIGIN.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Records that a connection to the database failed just now.
pub fn note_failure() {
    LAST_FAILURE.fetch_max(now_ms().saturating_add(1), Ordering::Relaxed);
}

/// True when a connection idle for `idle_for` was last used before (or when) the last
/// failure was seen, so it may have died with it.
pub fn idle_through_failure(idle_for: Duration) -> bool {
    let last = LAST_FAILURE.load(Ordering::Relaxed);
    if last == 0 {
        return false;
    }
    let idle_ms = u64::try_from(idle_for.as_millis()).unwrap_or(u64::MAX);
    // Last used at or before the failure's millisecond: `last` is that millisecond plus one.
    now_ms().saturating_sub(idle_ms) < last
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_idle_since_before_a_failure_are_suspect() {
        note_failure();
        assert!(idle_through_failure(Duration::from_secs(3600)));
        std::thread::sleep(Duration::from_millis(5));
        assert!(
            !idle_through_failure(Duration::ZERO),
            "used after the failure"
        );
    }
}
