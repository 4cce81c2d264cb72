//! How many subscription sockets one client address and one user hold at once. A socket
//! holds its places from the upgrade (address) and from `connection_init` (user) until it
//! closes, so a client cannot keep opening sockets that each cost a task and a buffer.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum SocketOwner {
    Address(String),
    User(i64),
}

/// The open sockets per owner, shared by every socket of one server.
#[derive(Clone, Default)]
pub(crate) struct SocketCounts {
    open: Arc<Mutex<HashMap<SocketOwner, usize>>>,
}

impl SocketCounts {
    /// A place for one more socket of `owner`, or None when it already holds `cap`.
    pub(crate) fn hold(&self, owner: SocketOwner, cap: usize) -> Option<SocketPlace> {
        let mut open = self.lock();
        let held = open.entry(owner.clone()).or_insert(0);
        if *held >= cap {
            return None;
        }
        *held += 1;
        Some(SocketPlace {
            counts: self.clone(),
            owner,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketOwner, usize>> {
        // Plain counters, no code panics while holding the lock.
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One socket's place; given back when dropped.
pub(crate) struct SocketPlace {
    counts: SocketCounts,
    owner: SocketOwner,
}

impl Drop for SocketPlace {
    fn drop(&mut self) {
        let mut open = self.counts.lock();
        if let Some(held) = open.get_mut(&self.owner) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                open.remove(&self.owner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_owner_and_given_back() {
        let counts = SocketCounts::default();
        let me = || SocketOwner::Address("192.0.2.1".into());
        let first = counts.hold(me(), 2).expect("room");
        let _second = counts.hold(me(), 2).expect("room");
        assert!(counts.hold(me(), 2).is_none(), "the third is over the cap");
        assert!(
            counts.hold(SocketOwner::User(1), 2).is_some(),
            "others are apart"
        );
        drop(first);
        assert!(
            counts.hold(me(), 2).is_some(),
            "a closed socket gives its place back"
        );
    }
}
