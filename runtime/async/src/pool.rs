//! The async pool: the blocking `Queue` pool's semantics on tokio, driven by the same
//! decisions (`quarry_core::rules::pool`): `pool_size` idle connections kept, `max_overflow`
//! more under load, checkouts waiting up to `pool_timeout` in FIFO order, pre-ping, recycle,
//! LIFO option, pool-wide invalidation after a disconnect, reset on return.
//!
//! Here the waiters are oneshot senders and the lock is a short `std` mutex never held across
//! an await. What a checkout holds — an idle connection or the room for a new one — is a
//! [`Slot`], whose `Drop` gives it back: so a checkout future dropped at any await point (while
//! waiting, connecting, pinging, or after a connection was handed to it but before it woke)
//! never leaks capacity.
//!
//! A connection comes back with its state known (no transaction open, nothing running): it is
//! returned at once. Otherwise it is dealt with on a task of its own, its room counted until
//! then, so that the pool never hands out, nor forgets, a connection in an unknown state: a
//! transaction left open is rolled back; a connection whose operation was cut short (a future
//! dropped mid-query) is interrupted and rolled back (SQLite) or cancelled and closed
//! (PostgreSQL, MySQL; see `Conn::recoverable_after_interrupt`).
//!
//! With a `leak_detection_threshold`, every checkout records its source line and time, and the
//! blocking pool's detector (its `leak.rs`, included: a watchdog thread of its own, never a
//! task of the runtime) warns about connections held longer.

use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use quarry_core::rules::pool::{
    self as policy, Generations, Queue, Replace, ResetAction, ResetOnReturn, Returned, Screen,
    Settings, Take,
};
use quarry_core::{Error, Result};
use tokio::sync::oneshot;

use crate::driver::{Conn, Driver};
use crate::events::{self, ConnectionInfo, Events};

// The blocking pool's leak detector: std only (a thread, a mutex), calling `super::lock`.
#[path = "../../src/pool/leak.rs"]
mod leak;
use leak::LeakDetector;

/// How long the reset of a returned connection (cancel, `ROLLBACK`) may take before the
/// connection is closed instead.
const RESET_BUDGET: Duration = Duration::from_secs(5);

/// A pooled connection and what the pool knows of it.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) conn: Conn,
    id: u64,
    created: Instant,
}

impl Entry {
    fn info(&self) -> ConnectionInfo {
        ConnectionInfo {
            id: self.id,
            created: self.created,
        }
    }
}

/// A waiting checkout: its number (to leave the queue on timeout) and where to hand it a slot.
type Waiter = (u64, oneshot::Sender<Slot>);

pub(crate) struct Inner {
    driver: Driver,
    settings: Settings,
    queue: Mutex<Queue<Entry, Waiter>>,
    generations: Generations,
    waiter_seq: std::sync::atomic::AtomicU64,
    last_connect_error: Mutex<Option<String>>,
    leaks: Option<LeakDetector>,
    events: Events,
}

/// The pool of an engine.
#[derive(Clone)]
pub(crate) struct Pool {
    inner: Arc<Inner>,
}

/// The pool's counters now (SQLAlchemy's `pool.status()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// `pool_size`.
    pub size: usize,
    /// Idle connections.
    pub checked_in: usize,
    /// Connections handed out, being opened, or being reset after their return.
    pub checked_out: usize,
    /// Connections open beyond `pool_size`: negative while fewer are open, as SQLAlchemy's
    /// `QueuePool.overflow()`.
    pub overflow: isize,
    /// Checkouts waiting for a connection.
    pub waiting: usize,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("settings", &self.inner.settings)
            .field("status", &self.status())
            .finish()
    }
}

impl Pool {
    pub(crate) fn new(
        driver: Driver,
        settings: Settings,
        leak_threshold: Option<Duration>,
        events: Events,
    ) -> Result<Self> {
        settings.validate()?;
        if leak_threshold.is_some_and(|t| t.is_zero()) {
            return Err(Error::config(
                "leak_detection_threshold must be longer than zero",
            ));
        }
        let queue = Queue::new(&settings)?;
        Ok(Pool {
            inner: Arc::new(Inner {
                driver,
                settings,
                queue: Mutex::new(queue),
                generations: Generations::default(),
                waiter_seq: std::sync::atomic::AtomicU64::new(0),
                last_connect_error: Mutex::new(None),
                leaks: leak_threshold.map(LeakDetector::start),
                events,
            }),
        })
    }

    pub(crate) fn status(&self) -> PoolStatus {
        let q = lock(&self.inner.queue);
        let open = q.open();
        let idle = q.idle();
        PoolStatus {
            size: self.inner.settings.size,
            checked_in: idle,
            checked_out: open - idle,
            overflow: {
                let signed = |n: usize| isize::try_from(n).unwrap_or(isize::MAX);
                signed(open) - signed(self.inner.settings.size)
            },
            waiting: q.waiting(),
        }
    }

    fn timeout_error(&self) -> Error {
        let s = &self.inner.settings;
        Error::PoolTimeout {
            size: s.size,
            overflow: s.max_overflow,
            timeout: s.timeout,
            last_connect_error: lock(&self.inner.last_connect_error).clone(),
        }
    }

    /// A connection, within `pool_timeout` in all (waiting, connecting and pinging), checked
    /// out at `site` (what leak detection names).
    ///
    /// # Errors
    /// [`Error::PoolTimeout`] naming the last connect error if connecting was what failed; a
    /// connect error when the first connection attempt fails at once.
    pub(crate) async fn checkout(&self, site: &'static Location<'static>) -> Result<PooledConn> {
        // An idle connection is handed over without awaiting anything: a task looping on
        // checkouts would never yield and starve the rest of its worker (timers included).
        // One unit of tokio's cooperative budget per checkout makes it yield in time.
        tokio::task::coop::consume_budget().await;
        let deadline = self.inner.settings.deadline(Instant::now());
        let mut attempts = 0;
        loop {
            let slot = self.slot(deadline).await?;
            attempts += 1;
            let filled = match self.fill(slot, deadline).await {
                Ok((conn, fresh)) => self.hooked(conn, fresh).await,
                Err(e) => Err(e),
            };
            match filled {
                Ok(mut conn) => {
                    if let Some(leaks) = &self.inner.leaks {
                        conn.leak = Some(leaks.register(site));
                    }
                    return Ok(conn);
                }
                // A connection lost at once (the server restarted): try another, in time.
                Err(e)
                    if e.is_disconnect()
                        && attempts < policy::CHECKOUT_ATTEMPTS
                        && !policy::expired(deadline, Instant::now()) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Run the `on_connect` hooks on a new connection, then the `on_checkout` hooks; an
    /// error closes the connection (a disconnect retires every older one too).
    async fn hooked(&self, mut conn: PooledConn, fresh: bool) -> Result<PooledConn> {
        let events = &self.inner.events;
        if events.connect.is_empty() && events.checkout.is_empty() {
            return Ok(conn);
        }
        let info = conn.info();
        let dialect = self.inner.driver.dialect();
        let mut r = Ok(());
        if fresh {
            r = events::run(&events.connect, conn.conn(), info, dialect).await;
        }
        if r.is_ok() {
            r = events::run(&events.checkout, conn.conn(), info, dialect).await;
        }
        match r {
            Ok(()) => Ok(conn),
            Err(e) => {
                self.notify_invalidated(&info, Some(&e));
                conn.discard(e.is_disconnect());
                Err(e)
            }
        }
    }

    fn notify_invalidated(&self, info: &ConnectionInfo, cause: Option<&Error>) {
        for hook in &self.inner.events.invalidate {
            hook(info, cause);
        }
    }

    /// An idle connection or room for one, waiting in line if there is neither.
    async fn slot(&self, deadline: Option<Instant>) -> Result<Slot> {
        let rx = {
            let mut q = lock(&self.inner.queue);
            match q.take() {
                Some(Take::Idle(entry)) => return Ok(self.holding(Some(entry))),
                Some(Take::Room) => return Ok(self.holding(None)),
                None => {
                    let id = self
                        .inner
                        .waiter_seq
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let (tx, rx) = oneshot::channel();
                    q.wait((id, tx));
                    (id, rx)
                }
            }
        };
        let (id, mut rx) = rx;
        let waited = match policy::wait(deadline, Instant::now()) {
            policy::Wait::Forever => (&mut rx).await.ok(),
            policy::Wait::For(left) => tokio::time::timeout(left, &mut rx)
                .await
                .ok()
                .and_then(std::result::Result::ok),
            policy::Wait::Expired => None,
        };
        if let Some(slot) = waited {
            return Ok(slot);
        }
        lock(&self.inner.queue).give_up(|w| w.0 == id);
        // A slot handed over just before we left the line is ours to use.
        rx.close();
        rx.try_recv().map_err(|_| self.timeout_error())
    }

    fn holding(&self, entry: Option<Entry>) -> Slot {
        Slot {
            pool: self.clone(),
            entry,
        }
    }

    /// Make `slot` hold a connection ready for use: screen an idle one (replace it when stale
    /// or recycled, pre-ping it), or open one in an empty room.
    async fn fill(&self, mut slot: Slot, deadline: Option<Instant>) -> Result<(PooledConn, bool)> {
        if let Some(entry) = &mut slot.entry {
            let screen = self.inner.settings.screen(
                entry.id,
                entry.created,
                self.inner.generations.stale_below(),
                Instant::now,
            );
            match screen {
                Screen::Ready => return Ok((PooledConn { slot, leak: None }, false)),
                Screen::Ping => {
                    let budget = policy::ping_budget(deadline, Instant::now());
                    match tokio::time::timeout(budget, entry.conn.ping()).await {
                        Ok(Ok(())) => return Ok((PooledConn { slot, leak: None }, false)),
                        Ok(Err(e)) => {
                            tracing::info!(target: "quarry::pool", error = %e, "pre-ping failed; replacing the connection");
                            self.notify_invalidated(&entry.info(), Some(&e));
                            if e.is_disconnect() {
                                self.inner.generations.invalidate_all();
                            }
                        }
                        Err(_) => {
                            tracing::info!(target: "quarry::pool", "pre-ping timed out; replacing the connection");
                        }
                    }
                }
                Screen::Replace(why) => {
                    let why = match why {
                        Replace::Stale => "invalidated",
                        Replace::Recycle => "recycled",
                    };
                    tracing::debug!(target: "quarry::pool", why, "replacing a connection");
                }
            }
            if let Some(old) = slot.entry.take() {
                spawn_close(old.conn);
            }
        }
        let connect = self.inner.driver.connect();
        let opened = match policy::wait(deadline, Instant::now()) {
            policy::Wait::Forever => connect.await,
            policy::Wait::For(left) => match tokio::time::timeout(left, connect).await {
                Ok(r) => r,
                Err(_) => {
                    *lock(&self.inner.last_connect_error) = Some(format!(
                        "connecting did not finish within the pool timeout ({:?})",
                        self.inner.settings.timeout
                    ));
                    return Err(self.timeout_error());
                }
            },
            policy::Wait::Expired => return Err(self.timeout_error()),
        };
        match opened {
            Ok(conn) => {
                *lock(&self.inner.last_connect_error) = None;
                slot.entry = Some(Entry {
                    conn,
                    id: self.inner.generations.next_id(),
                    created: Instant::now(),
                });
                Ok((PooledConn { slot, leak: None }, true))
            }
            Err(e) => {
                *lock(&self.inner.last_connect_error) = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Close every idle connection now and retire the checked-out ones (closed when they come
    /// back).
    pub(crate) async fn dispose(&self) {
        self.inner.generations.retire_all();
        let below = self.inner.generations.stale_below();
        let stale = lock(&self.inner.queue).remove_idle(|e| policy::is_stale(e.id, below));
        for entry in stale {
            entry.conn.close().await;
            self.release();
        }
    }

    /// A connection was lost: every connection open now is replaced at checkout.
    pub(crate) fn invalidate_all(&self) {
        if self.inner.generations.invalidate_all() {
            tracing::warn!(target: "quarry::pool", "a connection was lost; invalidating every older connection of the pool");
        }
    }

    /// A room is free again (its connection closed or never opened): hand it to the first
    /// waiter, else free it.
    fn release(&self) {
        let waiter = lock(&self.inner.queue).release();
        if let Some((_, tx)) = waiter {
            // Dropped unsent (the waiter left): the slot's own drop releases the room again.
            let _ = tx.send(self.holding(None));
        }
    }

    /// A connection in a known state comes back.
    fn checkin(&self, entry: Entry) {
        for hook in &self.inner.events.checkin {
            hook(&entry.info());
        }
        if self.inner.generations.is_stale(entry.id) {
            spawn_close(entry.conn);
            self.release();
            return;
        }
        let returned = lock(&self.inner.queue).checkin(entry);
        match returned {
            Returned::Waiter((_, tx), entry) => {
                let _ = tx.send(self.holding(Some(entry)));
            }
            Returned::Kept => {}
            Returned::Close(entry) => spawn_close(entry.conn),
        }
    }

    /// A connection comes back: at once when its state is known, else after its reset on a
    /// task of its own (closed if that fails, or if there is no runtime to run it on).
    fn give_back(&self, mut entry: Entry) {
        let interrupted = entry.conn.busy;
        let reset = match self.inner.settings.reset_on_return {
            ResetOnReturn::None => ResetAction::Nothing,
            other => other.action(|| entry.conn.in_transaction),
        };
        let needs_reset =
            interrupted || (reset != ResetAction::Nothing && entry.conn.in_transaction);
        if entry.conn.lost {
            self.invalidate_all();
        }
        if entry.conn.lost {
            spawn_close(entry.conn);
            self.release();
            return;
        }
        if interrupted && !entry.conn.recoverable_after_interrupt() {
            // Stop what it runs, then close it; its room stays counted until it is closed,
            // so the server never has more of the pool's sessions than the pool's capacity.
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                drop(entry);
                self.release();
                return;
            };
            let pool = self.clone();
            runtime.spawn(async move {
                let mut conn = entry.conn;
                let _ = tokio::time::timeout(RESET_BUDGET, conn.cancel()).await;
                let _ = tokio::time::timeout(RESET_BUDGET, conn.close()).await;
                pool.release();
            });
            return;
        }
        if !needs_reset {
            self.checkin(entry);
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            // No runtime to reset on (dropped outside one): close, never keep it dirty.
            drop(entry);
            self.release();
            return;
        };
        let pool = self.clone();
        runtime.spawn(async move {
            let reset = async {
                if interrupted {
                    entry.conn.cancel().await;
                }
                match reset {
                    ResetAction::Commit => entry.conn.commit().await,
                    _ => entry.conn.rollback().await,
                }
            };
            match tokio::time::timeout(RESET_BUDGET, reset).await {
                Ok(Ok(())) => {
                    entry.conn.busy = false;
                    pool.checkin(entry);
                }
                Ok(Err(e)) => {
                    tracing::warn!(target: "quarry::pool", error = %e, "reset on return failed; closing the connection");
                    if e.is_disconnect() {
                        pool.invalidate_all();
                    }
                    entry.conn.close().await;
                    pool.release();
                }
                Err(_) => {
                    tracing::warn!(target: "quarry::pool", "reset on return timed out; closing the connection");
                    drop(entry);
                    pool.release();
                }
            }
        });
    }
}

/// Close a connection without waiting for it (on the runtime where there is one).
fn spawn_close(conn: Conn) {
    match tokio::runtime::Handle::try_current() {
        Ok(rt) => {
            rt.spawn(conn.close());
        }
        Err(_) => drop(conn),
    }
}

/// What a checkout holds: an idle connection, or (`entry: None`) a counted room for a new one.
/// Dropped, it gives either back to the pool.
pub(crate) struct Slot {
    pool: Pool,
    entry: Option<Entry>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        match self.entry.take() {
            Some(entry) => self.pool.give_back(entry),
            None => self.pool.release(),
        }
    }
}

/// A checked-out connection; back to the pool when dropped.
pub(crate) struct PooledConn {
    slot: Slot,
    /// The leak detector's record of this checkout.
    leak: Option<usize>,
}

impl Drop for PooledConn {
    fn drop(&mut self) {
        if let (Some(key), Some(leaks)) = (self.leak.take(), &self.slot.pool.inner.leaks) {
            leaks.release(key);
        }
        // Then the slot gives the connection back.
    }
}

impl std::fmt::Debug for PooledConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledConn")
            .field("conn", &self.slot.entry)
            .finish()
    }
}

impl PooledConn {
    /// The driver connection.
    pub(crate) fn conn(&mut self) -> &mut Conn {
        match self.slot.entry.as_mut() {
            Some(entry) => &mut entry.conn,
            None => unreachable!("a PooledConn always holds a connection"),
        }
    }

    /// What the pool knows of the connection.
    pub(crate) fn info(&self) -> ConnectionInfo {
        match self.slot.entry.as_ref() {
            Some(entry) => entry.info(),
            None => unreachable!("a PooledConn always holds a connection"),
        }
    }

    /// Close the connection instead of keeping it (its state is lost or unknown); a disconnect
    /// also retires every older connection of the pool. The `on_invalidate` hooks run.
    pub(crate) fn invalidate(self, disconnect: bool) {
        self.slot.pool.notify_invalidated(&self.info(), None);
        self.discard(disconnect);
    }

    /// [`PooledConn::invalidate`] without the hooks (their caller ran them).
    fn discard(mut self, disconnect: bool) {
        if disconnect {
            self.slot.pool.invalidate_all();
        }
        if let Some(entry) = self.slot.entry.take() {
            spawn_close(entry.conn);
        }
        // The slot, now empty, releases its room as it drops.
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::LeakDetector;

    #[test]
    fn a_checkout_held_past_the_threshold_is_reported_with_its_site() {
        let leaks = LeakDetector::start(Duration::from_millis(20));
        let held = leaks.register(std::panic::Location::caller());
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        while leaks.reported().is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        let reported = leaks.reported();
        assert_eq!(reported.len(), 1, "{reported:?}");
        assert!(reported[0].contains("pool.rs"), "{reported:?}");
        leaks.release(held);
        assert!(leaks.reported().is_empty());
    }
}
