//! When to run a failed transaction again, and after how long: capped exponential back-off
//! with full jitter (each wait a random fraction of the capped exponential), up to a maximum
//! number of attempts. The engine supplies the randomness and does the waiting.

use std::time::Duration;

use crate::error::Error;

/// How [`transaction_with_retry`](https://docs.rs/quarry) runs a transaction again after a
/// retryable error ([`Error::is_retryable`]: serialization failure, deadlock, lock timeout,
/// Galera conflict).
///
/// The default: at most 5 attempts; waits of up to 10 ms, 20 ms, 40 ms, … capped at 1 s, each
/// a random fraction of that (full jitter), so that transactions that collided do not collide
/// again in step.
///
/// ```
/// use std::time::Duration;
/// use quarry::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .max_attempts(10)
///     .initial_backoff(Duration::from_millis(5))
///     .max_backoff(Duration::from_millis(200));
/// assert_eq!(policy.attempts(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_secs(1),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// At most `n` runs in all (at least 1; default 5).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }
    /// The cap of the first wait (default 10 ms); each later cap doubles.
    pub fn initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }
    /// The largest wait (default 1 s).
    pub fn max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }
    /// Wait a random fraction of each cap (default `true`); `false` waits the cap itself.
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }
    /// The most runs.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// After attempt `attempt` (counted from 1) failed with `error`: the wait before the next
    /// one, or `None` to stop (the error is not retryable, or that was the last attempt).
    /// `random` is in `[0, 1)`, the engine's source of jitter.
    pub fn next(&self, attempt: u32, error: &Error, random: f64) -> Option<Duration> {
        if !error.is_retryable() || attempt >= self.max_attempts {
            return None;
        }
        let cap = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(attempt - 1).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        Some(if self.jitter {
            cap.mul_f64(random.clamp(0.0, 1.0))
        } else {
            cap
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{DatabaseError, DatabaseErrorKind};

    fn deadlock() -> Error {
        DatabaseError::new(DatabaseErrorKind::Deadlock, "deadlock detected").into_error()
    }

    #[test]
    fn waits_double_up_to_the_cap_then_stop_at_the_last_attempt() {
        let policy = RetryPolicy::default()
            .jitter(false)
            .max_attempts(6)
            .initial_backoff(Duration::from_millis(10))
            .max_backoff(Duration::from_millis(50));
        let waits: Vec<Option<Duration>> =
            (1..=6).map(|a| policy.next(a, &deadlock(), 0.5)).collect();
        let ms = |n| Some(Duration::from_millis(n));
        assert_eq!(waits, [ms(10), ms(20), ms(40), ms(50), ms(50), None]);
    }

    #[test]
    fn jitter_waits_a_fraction_of_the_cap() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.next(1, &deadlock(), 0.0), Some(Duration::ZERO));
        assert_eq!(
            policy.next(2, &deadlock(), 0.5),
            Some(Duration::from_millis(10))
        );
    }

    #[test]
    fn errors_that_are_not_retryable_stop_at_once() {
        let policy = RetryPolicy::default();
        let unique: Error =
            DatabaseError::new(DatabaseErrorKind::UniqueViolation, "dup").into_error();
        assert_eq!(policy.next(1, &unique, 0.5), None);
        assert_eq!(policy.next(1, &Error::NoRows, 0.5), None);
        assert_eq!(RetryPolicy::default().max_attempts(0).attempts(), 1);
    }
}
