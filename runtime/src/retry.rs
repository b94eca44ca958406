//! `Engine::transaction_with_retry`: a transaction run again after the errors the database
//! says are worth another try, waiting as [`RetryPolicy`] decides.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use crate::connection::Connection;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::rules::retry::RetryPolicy;

impl Engine {
    /// Run `f` in a transaction as [`Engine::transaction`] does, and run it again — in a new
    /// transaction, after a jittered, capped back-off — when it fails with an error
    /// [`Error::is_retryable`] says is worth it: a serialization failure, a deadlock, a lock
    /// timeout, a Galera certification conflict (MariaDB reports it at `COMMIT`, which is
    /// retried too). `f` must be re-runnable: everything it did in a failed attempt was rolled
    /// back.
    ///
    /// ```
    /// use quarry::prelude::*;
    /// use quarry::RetryPolicy;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// engine.execute(text("CREATE TABLE counters (n INTEGER)"))?;
    /// engine.execute(text("INSERT INTO counters VALUES (0)"))?;
    /// let n: i64 = engine.transaction_with_retry(RetryPolicy::default(), |conn| {
    ///     conn.execute(text("UPDATE counters SET n = n + 1"))?;
    ///     conn.execute(text("SELECT n FROM counters"))?.scalar()
    /// })?;
    /// assert_eq!(n, 1);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// An error that is not retryable, as it is; a retryable one on the last allowed attempt
    /// as [`Error::RetriesExhausted`], saying how many attempts were made (its
    /// [`Error::as_database`] is the last attempt's database error).
    pub fn transaction_with_retry<T>(
        &self,
        policy: RetryPolicy,
        mut f: impl FnMut(&mut Connection) -> Result<T>,
    ) -> Result<T> {
        let random = RandomState::new();
        let mut attempt: u32 = 1;
        loop {
            let err = match self.transaction(&mut f) {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            // A fraction in [0, 1) from the process's random hasher keys.
            let unit = (random.hash_one(attempt) >> 11) as f64 / (1u64 << 53) as f64;
            match policy.next(attempt, &err, unit) {
                Some(wait) => {
                    tracing::warn!(
                        target: "quarry::engine",
                        attempt,
                        wait_ms = wait.as_millis() as u64,
                        error = %err,
                        "transaction failed with a retryable error; running it again"
                    );
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                None if err.is_retryable() => {
                    return Err(Error::RetriesExhausted {
                        attempts: attempt,
                        last: Box::new(err),
                    });
                }
                None => return Err(err),
            }
        }
    }
}
