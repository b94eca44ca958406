//! The connection pool, after SQLAlchemy's: four classes behind one [`Pool`] handle.
//!
//! - [`PoolClass::Queue`] — up to `pool_size` idle connections kept, up to `max_overflow` more
//!   opened under load and closed on return; a checkout that finds the pool exhausted waits, in
//!   FIFO order, up to `pool_timeout`. The default, except for `sqlite://` memory databases.
//! - [`PoolClass::Null`] — a new connection per checkout, closed on return.
//! - [`PoolClass::Static`] — exactly one connection, shared by every checkout.
//! - [`PoolClass::SingletonThread`] — one connection per thread, shared by the checkouts of that
//!   thread: the default for `sqlite://`, where every connection is its own database.
//!
//! Every class applies `pool_recycle` and `pool_pre_ping` at checkout, resets connections on
//! return (`reset_on_return`), replaces every connection older than one that reported a
//! disconnect (pool-wide invalidation), runs the [`PoolBuilder::on_connect`] & co. event hooks,
//! and can report connections held longer than a leak-detection threshold with their checkout
//! site. No lock is held while a connection is opened, pinged or closed, except by the shared
//! classes (`Static`, `SingletonThread`), whose one connection the waiting checkouts need anyway.
//!
//! ```
//! use std::time::Duration;
//! use quarry::Url;
//! use quarry::driver;
//! use quarry::pool::{Pool, PoolClass};
//!
//! let pool = Pool::builder()
//!     .poolclass(PoolClass::Static)
//!     .pool_timeout(Duration::from_secs(5))
//!     .on_connect(|conn, _info| conn.batch("PRAGMA foreign_keys=ON"))
//!     .build(driver::for_url(&Url::parse("sqlite://")?)?)?;
//! let conn = pool.get()?;
//! assert_eq!(pool.status().checked_out, 1);
//! drop(conn);
//! assert_eq!(pool.status().checked_in, 1);
//! # Ok::<(), quarry::Error>(())
//! ```

mod connect;
mod leak;
mod queue;
mod shared;
#[cfg(test)]
mod tests;

use std::cell::OnceCell;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::driver::{Driver, DriverConnection};
use crate::error::{Error, Result};

use leak::LeakDetector;
use queue::QueueStore;
use shared::SharedStore;

/// Which pool implementation an engine uses (SQLAlchemy's `poolclass`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PoolClass {
    /// `pool_size` idle connections kept, `max_overflow` more under load, checkouts wait up to
    /// `pool_timeout` in FIFO order. The default for servers and SQLite files.
    Queue,
    /// Open a connection per checkout and close it on return; no limit, nothing kept.
    Null,
    /// Exactly one connection, shared by every checkout (statements of concurrent users are
    /// serialized on it). Shares one `sqlite://` memory database between threads.
    Static,
    /// One connection per thread, shared by the checkouts of that thread; at most `pool_size`
    /// connections of finished or idle threads are kept. The default for `sqlite://` memory.
    SingletonThread,
}

/// What the pool does to a connection coming back (SQLAlchemy's `reset_on_return`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResetOnReturn {
    /// Roll back whatever transaction is open. The default.
    Rollback,
    /// Commit whatever transaction is open.
    Commit,
    /// Nothing: the next user inherits any open transaction.
    None,
}

/// What the pool knows of one connection; passed to the event hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    id: u64,
    created: Instant,
}

impl ConnectionInfo {
    /// The pool's number for the connection: 1 for the first one it opened, then counting up,
    /// so a smaller id means an older connection.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// When the connection was opened.
    pub fn created(&self) -> Instant {
        self.created
    }
}

/// An open connection and what the pool knows of it.
pub(crate) struct Entry {
    conn: Box<dyn DriverConnection>,
    info: ConnectionInfo,
    /// The shared connection behind `conn`, for the shared classes.
    holder: Option<Arc<shared::Holder>>,
}

type ConnectHook =
    Arc<dyn Fn(&mut dyn DriverConnection, &ConnectionInfo) -> Result<()> + Send + Sync>;
type NotifyHook = Arc<dyn Fn(&mut dyn DriverConnection, &ConnectionInfo) + Send + Sync>;
type InvalidateHook = Arc<dyn Fn(&ConnectionInfo, Option<&Error>) + Send + Sync>;

#[derive(Clone, Default)]
struct Events {
    connect: Vec<ConnectHook>,
    checkout: Vec<ConnectHook>,
    checkin: Vec<NotifyHook>,
    reset: Vec<NotifyHook>,
    invalidate: Vec<InvalidateHook>,
}

/// Settings for a [`Pool`]; every setter states its default. [`crate::EngineBuilder`] has the
/// same setters and passes them on.
#[derive(Clone)]
#[must_use = "call .build(driver) to get the pool"]
pub struct PoolBuilder {
    class: PoolClass,
    size: usize,
    max_overflow: isize,
    timeout: Duration,
    recycle: Option<Duration>,
    pre_ping: bool,
    use_lifo: bool,
    reset_on_return: ResetOnReturn,
    leak_threshold: Option<Duration>,
    events: Events,
}

impl fmt::Debug for PoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolBuilder")
            .field("poolclass", &self.class)
            .field("pool_size", &self.size)
            .field("max_overflow", &self.max_overflow)
            .field("pool_timeout", &self.timeout)
            .field("pool_recycle", &self.recycle)
            .field("pool_pre_ping", &self.pre_ping)
            .field("pool_use_lifo", &self.use_lifo)
            .field("reset_on_return", &self.reset_on_return)
            .field("leak_detection_threshold", &self.leak_threshold)
            .finish_non_exhaustive()
    }
}

impl Default for PoolBuilder {
    fn default() -> Self {
        PoolBuilder {
            class: PoolClass::Queue,
            size: 5,
            max_overflow: 10,
            timeout: Duration::from_secs(30),
            recycle: None,
            pre_ping: false,
            use_lifo: false,
            reset_on_return: ResetOnReturn::Rollback,
            leak_threshold: None,
            events: Events::default(),
        }
    }
}

impl PoolBuilder {
    /// The pool implementation. Default [`PoolClass::Queue`] (an engine picks
    /// [`PoolClass::SingletonThread`] for `sqlite://` memory databases unless told otherwise).
    pub fn poolclass(mut self, class: PoolClass) -> Self {
        self.class = class;
        self
    }

    /// Idle connections a `Queue` pool keeps; connections of other threads a `SingletonThread`
    /// pool keeps. Default 5.
    pub fn pool_size(mut self, n: usize) -> Self {
        self.size = n;
        self
    }

    /// Connections a `Queue` pool opens beyond `pool_size` under load, closed on return;
    /// `-1` = unbounded. Default 10.
    pub fn max_overflow(mut self, n: isize) -> Self {
        self.max_overflow = n;
        self
    }

    /// How long a checkout may take in all — waiting for a free connection and opening a new
    /// one — before it fails. Default 30 s.
    pub fn pool_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replace connections older than this at checkout (never while in use), e.g. below a
    /// server's idle-connection timeout. Default: never.
    pub fn pool_recycle(mut self, age: Duration) -> Self {
        self.recycle = Some(age);
        self
    }

    /// Test every reused connection with a round trip at checkout and replace it if it is gone;
    /// a dead one also marks every older connection for replacement. Bounded by the time left
    /// of `pool_timeout` (MySQL/MariaDB: by the URL's `read_timeout`). Default off.
    pub fn pool_pre_ping(mut self, on: bool) -> Self {
        self.pre_ping = on;
        self
    }

    /// Hand out the most recently returned idle connection first (so that the ones beyond
    /// need stay idle and may time out server-side) instead of the least recently returned.
    /// Default off (FIFO).
    pub fn pool_use_lifo(mut self, on: bool) -> Self {
        self.use_lifo = on;
        self
    }

    /// What to do with a connection's open transaction when it comes back. Default
    /// [`ResetOnReturn::Rollback`].
    pub fn reset_on_return(mut self, reset: ResetOnReturn) -> Self {
        self.reset_on_return = reset;
        self
    }

    /// Log (a `tracing` warning on target `quarry::pool`) every connection held longer than
    /// `threshold`, naming the source line that checked it out; once more when it comes back.
    /// Default off. With it on, the pool runs one watchdog thread.
    pub fn leak_detection_threshold(mut self, threshold: Duration) -> Self {
        self.leak_threshold = Some(threshold);
        self
    }

    /// Run `f` on every new connection before its first use — e.g.
    /// `|c, _| c.batch("PRAGMA foreign_keys=ON")`. An error fails the checkout and closes the
    /// connection. Hooks run in the order they were added.
    pub fn on_connect<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut dyn DriverConnection, &ConnectionInfo) -> Result<()> + Send + Sync + 'static,
    {
        self.events.connect.push(Arc::new(f));
        self
    }

    /// Run `f` on every checkout, after pre-ping. An error invalidates the connection; a
    /// disconnect error ([`Error::is_disconnect`]) makes the pool try another connection (up to
    /// three times), any other error fails the checkout.
    pub fn on_checkout<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut dyn DriverConnection, &ConnectionInfo) -> Result<()> + Send + Sync + 'static,
    {
        self.events.checkout.push(Arc::new(f));
        self
    }

    /// Run `f` on every connection coming back, after its reset.
    pub fn on_checkin<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut dyn DriverConnection, &ConnectionInfo) + Send + Sync + 'static,
    {
        self.events.checkin.push(Arc::new(f));
        self
    }

    /// Run `f` just before a returned connection is reset (rolled back or committed).
    pub fn on_reset<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut dyn DriverConnection, &ConnectionInfo) + Send + Sync + 'static,
    {
        self.events.reset.push(Arc::new(f));
        self
    }

    /// Run `f` when a connection is invalidated — explicitly, after a disconnect error, or by
    /// a failed pre-ping — with the error that caused it, if any.
    pub fn on_invalidate<F>(mut self, f: F) -> Self
    where
        F: Fn(&ConnectionInfo, Option<&Error>) + Send + Sync + 'static,
    {
        self.events.invalidate.push(Arc::new(f));
        self
    }

    /// Build the pool. No connection is opened until the first checkout.
    ///
    /// # Errors
    /// [`Error::Config`] for a `max_overflow` below -1, a `Queue` pool that could never hold a
    /// connection, or a zero leak-detection threshold.
    pub fn build(self, driver: Arc<dyn Driver>) -> Result<Pool> {
        if self.max_overflow < -1 {
            return Err(Error::config(format!(
                "max_overflow must be -1 (unbounded) or at least 0, got {}",
                self.max_overflow
            )));
        }
        if self.class == PoolClass::Queue && self.size == 0 && self.max_overflow == 0 {
            return Err(Error::config(
                "a Queue pool of pool_size 0 and max_overflow 0 can never hand out a connection",
            ));
        }
        if self.leak_threshold == Some(Duration::ZERO) {
            return Err(Error::config(
                "leak_detection_threshold must be longer than zero",
            ));
        }
        let store = match self.class {
            PoolClass::Queue => Store::Queue(QueueStore::new(
                self.size,
                usize::try_from(self.max_overflow)
                    .ok()
                    .map(|o| self.size.saturating_add(o)),
                self.use_lifo,
            )),
            PoolClass::Null => Store::Null(AtomicUsize::new(0)),
            PoolClass::Static => Store::Shared(SharedStore::new_static()),
            PoolClass::SingletonThread => Store::Shared(SharedStore::new_per_thread(self.size)),
        };
        Ok(Pool {
            shared: Arc::new(Shared {
                driver,
                store,
                next_id: AtomicU64::new(1),
                stale_below: AtomicU64::new(0),
                last_connect_error: Mutex::new(None),
                leaks: self.leak_threshold.map(LeakDetector::start),
                options: self,
            }),
        })
    }
}

/// A connection pool: see the [module documentation](self). Cheap to clone; clones share it.
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
}

pub(crate) struct Shared {
    driver: Arc<dyn Driver>,
    options: PoolBuilder,
    store: Store,
    /// The id of the next connection opened.
    next_id: AtomicU64,
    /// Connections whose id is below this are replaced at checkout and closed on return:
    /// raised by a disconnect (pool-wide invalidation) and by `dispose()`.
    stale_below: AtomicU64,
    /// The last failure to open a connection, cleared by a success: carried by pool timeouts.
    last_connect_error: Mutex<Option<String>>,
    leaks: Option<LeakDetector>,
}

enum Store {
    Queue(QueueStore),
    /// Connections open (all checked out).
    Null(AtomicUsize),
    Shared(SharedStore),
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("poolclass", &self.shared.options.class)
            .field("status", &self.status())
            .finish()
    }
}

/// The outcome of trying to hand out a connection that was already open.
enum Prepared {
    Ready(Entry),
    /// The connection was discarded (stale, too old, dead, or refused by a checkout hook);
    /// its slot is kept for a replacement.
    Replace,
}

impl Pool {
    /// Settings for a pool, to `build` with a driver.
    pub fn builder() -> PoolBuilder {
        PoolBuilder::default()
    }

    /// Check out a connection: an idle one (recycled or pre-pinged as configured), a new one if
    /// there is room, or the first one returned while waiting up to `pool_timeout`. Returned to
    /// the pool (reset) when dropped.
    ///
    /// # Errors
    /// The error of opening a connection, an error of an `on_connect` / `on_checkout` hook, or
    /// [`Error::PoolTimeout`] (carrying the last connect error, if a connect failed since the
    /// last success) when no connection became available in time.
    #[track_caller]
    pub fn get(&self) -> Result<PooledConnection> {
        let site = Location::caller();
        let deadline = || Instant::now().checked_add(self.shared.options.timeout);
        let mut conn = match &self.shared.store {
            Store::Queue(q) => self.checkout_queue(q, deadline)?,
            Store::Null(open) => {
                open.fetch_add(1, Ordering::Relaxed);
                match connect::open_within(&self.shared, deadline()) {
                    Ok(entry) => self.wrap(entry),
                    Err(connect::Failed::Error(e)) => {
                        open.fetch_sub(1, Ordering::Relaxed);
                        return Err(e);
                    }
                    Err(connect::Failed::TimedOut) => return Err(self.timeout_error()),
                }
            }
            Store::Shared(s) => s.checkout(self, deadline())?,
        };
        if !matches!(self.shared.store, Store::Queue(_)) {
            // (The queue runs them itself, retrying on a disconnect.)
            conn = self.run_checkout_hooks(conn)?;
        }
        if let Some(leaks) = &self.shared.leaks {
            conn.leak = Some(leaks.register(site));
        }
        tracing::debug!(target: "quarry::pool", id = conn.info().id, "checkout");
        Ok(conn)
    }

    fn wrap(&self, entry: Entry) -> PooledConnection {
        PooledConnection {
            pool: Arc::clone(&self.shared),
            entry: Some(entry),
            leak: None,
        }
    }

    fn checkout_queue(
        &self,
        q: &QueueStore,
        deadline: impl Fn() -> Option<Instant>,
    ) -> Result<PooledConnection> {
        // The clock is read when the checkout first waits, connects or pre-pings: taking an
        // idle connection reads none.
        let start = OnceCell::new();
        let deadline = || *start.get_or_init(&deadline);
        let mut disconnects = 0;
        loop {
            let entry = match q.acquire(deadline) {
                queue::Acquired::Idle(entry) => {
                    let ping_by = if self.shared.options.pre_ping {
                        deadline()
                    } else {
                        None
                    };
                    match self.prepare(entry, ping_by) {
                        Prepared::Ready(entry) => Some(entry),
                        Prepared::Replace => None,
                    }
                }
                queue::Acquired::Reserved => None,
                queue::Acquired::TimedOut => return Err(self.timeout_error()),
            };
            let entry = match entry {
                Some(entry) => entry,
                None => match connect::open_within(&self.shared, deadline()) {
                    Ok(entry) => entry,
                    Err(connect::Failed::Error(e)) => {
                        q.release(1);
                        return Err(e);
                    }
                    Err(connect::Failed::TimedOut) => return Err(self.timeout_error()),
                },
            };
            match self.run_checkout_hooks(self.wrap(entry)) {
                Ok(conn) => return Ok(conn),
                Err(e) if e.is_disconnect() && disconnects < 2 => disconnects += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Apply staleness, recycle and pre-ping to an idle connection about to be handed out.
    fn prepare(&self, mut entry: Entry, deadline: Option<Instant>) -> Prepared {
        let shared = &self.shared;
        if entry.info.id < shared.stale_below.load(Ordering::Acquire) {
            tracing::debug!(target: "quarry::pool", id = entry.info.id, "replacing a connection older than an invalidation");
            close_entry(entry);
            return Prepared::Replace;
        }
        if let Some(recycle) = shared.options.recycle
            && entry.info.created.elapsed() >= recycle
        {
            tracing::debug!(target: "quarry::pool", id = entry.info.id, "recycle: replacing a connection older than pool_recycle");
            close_entry(entry);
            return Prepared::Replace;
        }
        if shared.options.pre_ping {
            let budget = deadline.map_or(Duration::from_secs(30), |d| {
                d.saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(1))
            });
            if let Err(e) = entry.conn.ping_within(budget) {
                tracing::info!(target: "quarry::pool", id = entry.info.id, error = %e, "pre-ping failed; replacing the connection");
                self.shared.invalidated(&entry.info, Some(&e));
                close_entry(entry);
                return Prepared::Replace;
            }
        }
        Prepared::Ready(entry)
    }

    /// Run the `on_checkout` hooks; the first error invalidates the connection (freeing its
    /// slot) and is returned.
    fn run_checkout_hooks(&self, mut conn: PooledConnection) -> Result<PooledConnection> {
        let info = conn.info();
        for hook in &self.shared.options.events.checkout {
            if let Err(e) = hook(conn.get(), &info) {
                conn.invalidate(Some(&e));
                return Err(e);
            }
        }
        Ok(conn)
    }

    fn timeout_error(&self) -> Error {
        let o = &self.shared.options;
        Error::PoolTimeout {
            size: o.size,
            overflow: o.max_overflow,
            timeout: o.timeout,
            last_connect_error: lock(&self.shared.last_connect_error).clone(),
        }
    }

    /// The pool's counters now.
    pub fn status(&self) -> PoolStatus {
        let size = self.shared.options.size;
        match &self.shared.store {
            Store::Queue(q) => q.status(size),
            Store::Null(open) => PoolStatus {
                size: 0,
                checked_in: 0,
                checked_out: open.load(Ordering::Relaxed),
                overflow: 0,
            },
            Store::Shared(s) => s.status(size),
        }
    }

    /// Close every idle connection now and retire every checked-out one: they keep working
    /// and are closed, not kept, when they come back. For a `sqlite://` memory database that
    /// means a new, empty database. The pool stays usable.
    pub fn dispose(&self) {
        let shared = &self.shared;
        shared
            .stale_below
            .store(shared.next_id.load(Ordering::Acquire), Ordering::Release);
        let closed = match &shared.store {
            Store::Queue(q) => q.close_idle(&shared.stale_below),
            Store::Null(_) => 0,
            Store::Shared(s) => s.close_idle(),
        };
        tracing::debug!(target: "quarry::pool", closed, "dispose");
    }

    /// The class of this pool.
    pub fn poolclass(&self) -> PoolClass {
        self.shared.options.class
    }
}

impl Shared {
    /// A connection was invalidated: fire the hooks, and if the error says the server went
    /// away, mark every connection open now for replacement (SQLAlchemy's pool-wide
    /// invalidation: they are likely gone too — a server restart takes them all).
    fn invalidated(&self, info: &ConnectionInfo, error: Option<&Error>) {
        for hook in &self.options.events.invalidate {
            hook(info, error);
        }
        if error.is_some_and(Error::is_disconnect) {
            let now = self.next_id.load(Ordering::Acquire);
            let before = self.stale_below.fetch_max(now, Ordering::AcqRel);
            if before < now {
                tracing::info!(target: "quarry::pool", id = info.id, "disconnect: replacing every connection older than this one");
                if let Store::Queue(q) = &self.store {
                    q.close_idle(&self.stale_below);
                }
            }
        }
    }

    fn is_stale(&self, info: &ConnectionInfo) -> bool {
        info.id < self.stale_below.load(Ordering::Acquire)
    }

    /// Reset a returned connection as configured. On an error close it: a disconnect (the
    /// driver knows its connection was lost) then also invalidates it, pool-wide.
    fn reset(&self, entry: &mut Entry) -> Result<()> {
        let conn = entry.conn.as_mut();
        for hook in &self.options.events.reset {
            hook(conn, &entry.info);
        }
        let result = match self.options.reset_on_return {
            ResetOnReturn::Rollback => conn.rollback(),
            ResetOnReturn::Commit if conn.in_transaction() => conn.commit(),
            ResetOnReturn::Commit | ResetOnReturn::None => Ok(()),
        };
        match &result {
            Ok(()) => {
                for hook in &self.options.events.checkin {
                    hook(conn, &entry.info);
                }
            }
            Err(e) => {
                tracing::warn!(target: "quarry::pool", id = entry.info.id, error = %e, "reset on return failed; closing the connection");
            }
        }
        result
    }

    /// Take back a connection (see `PooledConnection`'s drop).
    fn checkin(&self, mut entry: Entry) {
        tracing::debug!(target: "quarry::pool", id = entry.info.id, "checkin");
        match &self.store {
            Store::Queue(q) => match self.reset(&mut entry) {
                Ok(()) if !self.is_stale(&entry.info) => q.checkin(entry),
                result => {
                    if let Err(e) = &result
                        && e.is_disconnect()
                    {
                        self.invalidated(&entry.info, Some(e));
                    }
                    close_entry(entry);
                    q.release(1);
                }
            },
            Store::Null(open) => {
                let _ = self.reset(&mut entry);
                close_entry(entry);
                open.fetch_sub(1, Ordering::Relaxed);
            }
            Store::Shared(s) => s.checkin(self, entry),
        }
    }

    /// Close a connection that is not coming back, freeing its slot.
    fn discard(&self, entry: Entry, error: Option<&Error>) {
        tracing::debug!(target: "quarry::pool", id = entry.info.id, "invalidate: connection closed");
        self.invalidated(&entry.info, error);
        match &self.store {
            Store::Queue(q) => {
                close_entry(entry);
                q.release(1);
            }
            Store::Null(open) => {
                close_entry(entry);
                open.fetch_sub(1, Ordering::Relaxed);
            }
            Store::Shared(s) => s.discard(entry),
        }
    }

    fn new_info(&self) -> ConnectionInfo {
        ConnectionInfo {
            id: self.next_id.fetch_add(1, Ordering::AcqRel),
            created: Instant::now(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section of the pool is a few pushes, pops and counter changes that cannot
    // panic half-way, so a poisoned lock still guards consistent data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn close_entry(entry: Entry) {
    tracing::debug!(target: "quarry::pool", id = entry.info.id, "close");
    drop(entry);
}

/// A snapshot of a pool's counters (SQLAlchemy's `pool.status()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// `pool_size`: idle connections the pool keeps (0 for a `Null` pool).
    pub size: usize,
    /// Idle connections in the pool now.
    pub checked_in: usize,
    /// Connections in use now (for the shared classes: checkouts sharing them).
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

/// A connection checked out of a [`Pool`]; returned (reset) when dropped.
pub struct PooledConnection {
    pool: Arc<Shared>,
    /// Taken only by `drop` and `invalidate`, which consume the connection.
    entry: Option<Entry>,
    /// The leak detector's record of this checkout.
    leak: Option<usize>,
}

impl fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledConnection")
            .field("info", &self.entry.as_ref().map(|e| e.info))
            .finish()
    }
}

impl PooledConnection {
    fn entry(&self) -> &Entry {
        match &self.entry {
            Some(e) => e,
            None => unreachable!("pooled connection used after return"),
        }
    }

    /// What the pool knows of this connection.
    pub fn info(&self) -> ConnectionInfo {
        self.entry().info
    }

    /// Close the connection instead of returning it, freeing its slot. With an error that
    /// says the server went away, every older connection of the pool is replaced too.
    pub fn invalidate(mut self, error: Option<&Error>) {
        self.release_leak();
        if let Some(entry) = self.entry.take() {
            self.pool.discard(entry, error);
        }
    }

    /// The driver connection.
    pub fn get(&mut self) -> &mut dyn DriverConnection {
        match self.entry.as_mut() {
            Some(e) => e.conn.as_mut(),
            None => unreachable!("pooled connection used after return"),
        }
    }

    fn release_leak(&mut self) {
        if let (Some(key), Some(leaks)) = (self.leak.take(), &self.pool.leaks) {
            leaks.release(key);
        }
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        self.release_leak();
        if let Some(entry) = self.entry.take() {
            self.pool.checkin(entry);
        }
    }
}
