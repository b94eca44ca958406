//! The connection pool.
//!
//! This is the queue pool of SQLAlchemy's `QueuePool`: up to `pool_size` idle connections are
//! kept; up to `max_overflow` more may be opened under load and are closed on return; a checkout
//! that finds the pool exhausted waits up to `pool_timeout`. Connections are reset (rolled back)
//! when they come back. No lock is held while a connection is opened or reset.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::driver::{Driver, DriverConnection};
use crate::error::{Error, Result};

/// Pool sizing, as given to the engine builder.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolConfig {
    pub(crate) size: usize,
    /// `-1` means unbounded.
    pub(crate) max_overflow: isize,
    pub(crate) timeout: Duration,
}

impl PoolConfig {
    fn capacity(&self) -> Option<usize> {
        usize::try_from(self.max_overflow)
            .ok()
            .map(|o| self.size.saturating_add(o))
    }
}

struct State {
    /// Idle connections with the pool generation they were opened in.
    idle: VecDeque<(Box<dyn DriverConnection>, u64)>,
    /// Bumped by `dispose()`: connections of older generations are closed when returned.
    generation: u64,
    /// Connections open or being opened, idle or checked out.
    open: usize,
}

pub(crate) struct Pool {
    driver: Arc<dyn Driver>,
    config: PoolConfig,
    state: Mutex<State>,
    available: Condvar,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock();
        f.debug_struct("Pool")
            .field("size", &self.config.size)
            .field("max_overflow", &self.config.max_overflow)
            .field("open", &s.open)
            .field("idle", &s.idle.len())
            .finish()
    }
}

impl Pool {
    pub(crate) fn new(driver: Arc<dyn Driver>, config: PoolConfig) -> Arc<Self> {
        Arc::new(Pool {
            driver,
            config,
            state: Mutex::new(State {
                idle: VecDeque::new(),
                generation: 0,
                open: 0,
            }),
            available: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the counters half-updated: every critical
        // section is a single push/pop plus counter change. So a poisoned lock is still sound.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Check out a connection, opening one if there is room, waiting up to `pool_timeout` if not.
    pub(crate) fn checkout(self: &Arc<Self>) -> Result<PooledConnection> {
        let deadline = Instant::now() + self.config.timeout;
        let mut state = self.lock();
        loop {
            if let Some((conn, generation)) = state.idle.pop_back() {
                drop(state);
                tracing::debug!(target: "quarry::pool", "checkout");
                return Ok(PooledConnection::new(self, conn, generation));
            }
            if self.config.capacity().is_none_or(|cap| state.open < cap) {
                state.open += 1;
                let generation = state.generation;
                drop(state);
                return match self.driver.connect() {
                    Ok(conn) => {
                        tracing::debug!(target: "quarry::pool", "connect: opened a new connection");
                        Ok(PooledConnection::new(self, conn, generation))
                    }
                    Err(e) => {
                        self.forget_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::PoolTimeout {
                    size: self.config.size,
                    overflow: self.config.max_overflow,
                    timeout: self.config.timeout,
                });
            }
            state = self
                .available
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// A connection was closed or failed to open: free its slot.
    fn forget_one(&self) {
        let mut state = self.lock();
        state.open -= 1;
        drop(state);
        self.available.notify_one();
    }

    /// Take back a connection: reset it, keep it if the pool is not full, else close it.
    fn checkin(&self, mut conn: Box<dyn DriverConnection>, generation: u64) {
        tracing::debug!(target: "quarry::pool", "checkin: reset (rollback)");
        if let Err(e) = conn.rollback() {
            tracing::warn!(target: "quarry::pool", error = %e, "reset on return failed; closing the connection");
            drop(conn);
            self.forget_one();
            return;
        }
        let mut state = self.lock();
        if generation != state.generation {
            state.open -= 1;
            drop(state);
            drop(conn);
            tracing::debug!(target: "quarry::pool", "closed a connection of a disposed pool on return");
        } else if state.idle.len() < self.config.size {
            state.idle.push_back((conn, generation));
            drop(state);
        } else {
            state.open -= 1;
            drop(state);
            drop(conn);
            tracing::debug!(target: "quarry::pool", "closed an overflow connection on return");
        }
        self.available.notify_one();
    }

    /// Close every idle connection and start a new generation: connections checked out now are
    /// closed when returned instead of being kept.
    pub(crate) fn dispose(&self) {
        let mut state = self.lock();
        let idle: Vec<_> = state.idle.drain(..).collect();
        state.open -= idle.len();
        state.generation += 1;
        tracing::debug!(target: "quarry::pool", closed = idle.len(), "dispose");
        drop(state);
        drop(idle);
        self.available.notify_all();
    }
}

/// A snapshot of a pool's counters (SQLAlchemy's `pool.status()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// `pool_size`: idle connections the pool keeps.
    pub size: usize,
    /// Idle connections in the pool now.
    pub checked_in: usize,
    /// Connections in use now.
    pub checked_out: usize,
    /// Connections open beyond `pool_size` now.
    pub overflow: usize,
}

impl fmt::Display for PoolStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Pool size: {}  Connections in pool: {} Current Overflow: {} Current Checked out connections: {}",
            self.size, self.checked_in, self.overflow, self.checked_out
        )
    }
}

impl Pool {
    /// The pool's counters now.
    pub(crate) fn status(&self) -> PoolStatus {
        let s = self.lock();
        PoolStatus {
            size: self.config.size,
            checked_in: s.idle.len(),
            checked_out: s.open - s.idle.len(),
            overflow: s.open.saturating_sub(self.config.size),
        }
    }
}

/// A connection checked out of the pool; returned (rolled back) when dropped.
pub(crate) struct PooledConnection {
    pool: Arc<Pool>,
    conn: Option<Box<dyn DriverConnection>>,
    generation: u64,
}

impl fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("generation", &self.generation)
            .finish()
    }
}

impl PooledConnection {
    fn new(pool: &Arc<Pool>, conn: Box<dyn DriverConnection>, generation: u64) -> Self {
        PooledConnection {
            pool: Arc::clone(pool),
            conn: Some(conn),
            generation,
        }
    }

    /// Close the connection instead of returning it, freeing its slot.
    pub(crate) fn invalidate(mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn);
            tracing::debug!(target: "quarry::pool", "invalidate: connection closed");
            self.pool.forget_one();
        }
    }

    pub(crate) fn get(&mut self) -> &mut dyn DriverConnection {
        // `conn` is only taken in `drop`, so it is always present here.
        match self.conn.as_deref_mut() {
            Some(c) => c,
            None => unreachable!("pooled connection used after return"),
        }
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.checkin(conn, self.generation);
        }
    }
}
