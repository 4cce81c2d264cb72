//! A small circuit breaker for Redis: after a few consecutive failures Redis is skipped for a
//! cool-down (every lookup is a miss, every store is dropped), then one call is let through to
//! probe it again.

use std::{
    sync::{
        Mutex,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

pub struct CircuitBreaker {
    failures: AtomicU32,
    open_until: Mutex<Option<Instant>>,
    threshold: u32,
    cool_down: Duration,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, cool_down: Duration) -> Self {
        Self {
            failures: AtomicU32::new(0),
            open_until: Mutex::new(None),
            threshold: threshold.max(1),
            cool_down,
        }
    }

    /// True when a call may be attempted. Once the cool-down has passed one caller gets
    /// through (half-open); its outcome closes or re-opens the breaker.
    pub fn allow(&self) -> bool {
        let mut open = match self.open_until.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        match *open {
            None => true,
            Some(until) if Instant::now() >= until => {
                // Half-open: let this call probe, keep the others out for another period.
                *open = Some(Instant::now() + self.cool_down);
                true
            }
            Some(_) => false,
        }
    }

    pub fn is_open(&self) -> bool {
        let open = match self.open_until.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        open.is_some_and(|until| Instant::now() < until)
    }

    pub fn success(&self) {
        self.failures.store(0, Ordering::Relaxed);
        let mut open = match self.open_until.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *open = None;
    }

    pub fn failure(&self) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= self.threshold {
            let mut open = match self.open_until.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            *open = Some(Instant::now() + self.cool_down);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_threshold_and_probes_after_the_cool_down() {
        let breaker = CircuitBreaker::new(2, Duration::from_millis(30));
        assert!(breaker.allow());
        breaker.failure();
        assert!(breaker.allow());
        breaker.failure();
        assert!(!breaker.allow());
        std::thread::sleep(Duration::from_millis(40));
        assert!(breaker.allow(), "half-open probe");
        assert!(!breaker.allow(), "only one probe");
        breaker.success();
        assert!(breaker.allow());
    }
}
