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

mod builder;
mod connect;
mod leak;
mod null;
// The checkout decisions are the core's, shared with the async pool.
use quarry_core::rules::pool as policy;
mod queue;
mod shared;
mod singleton_thread;
mod static_;
#[cfg(test)]
mod tests;

use std::fmt;
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::driver::{Driver, DriverConnection};
use crate::error::{Error, Result};

pub use builder::PoolBuilder;
pub(crate) use builder::pool_setters;
pub use policy::ResetOnReturn;

use leak::LeakDetector;
use policy::{Generations, Replace, ResetAction, Screen};

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

/// One pool class: where its connections are between checkouts, and how a checkout gets one.
/// What every class shares — screening at checkout, reset on return, pool-wide invalidation,
/// hooks — is [`Pool`]'s and [`Shared`]'s, for the class to call.
///
/// A new class is a file implementing this and an arm in [`PoolBuilder::build`].
pub(crate) trait PoolStore: Send + Sync {
    /// Hand out a connection, ready for use: screened (stale, recycle, pre-ping) if it was
    /// open already, `on_checkout` hooks run (see [`Pool::run_checkout_hooks`]).
    fn checkout(&self, pool: &Pool) -> Result<PooledConnection>;

    /// Take back a connection its user returned: reset it (see [`Shared::reset`]), then keep
    /// it or close it.
    fn checkin(&self, pool: &Shared, entry: Entry);

    /// Close a connection that was invalidated (the hooks have run), freeing its place.
    fn discard(&self, pool: &Shared, entry: Entry);

    /// A connect that its checkout stopped waiting for (at its deadline) finished: the place
    /// reserved for it is the store's again.
    fn opened_late(&self, pool: &Shared, result: Result<Entry>);

    /// `dispose()`: close the idle connections now (every connection is stale already);
    /// returns how many.
    fn close_idle(&self, pool: &Shared) -> usize;

    /// A disconnect marked every connection open now stale. The default does nothing: stale
    /// connections are replaced at checkout and closed on return anyway.
    fn stale_marked(&self, pool: &Shared) {
        let _ = pool;
    }

    /// The counters now, for a pool of `pool_size` `size`.
    fn status(&self, size: usize) -> PoolStatus;

    /// Checkouts queued for a connection now.
    #[cfg(test)]
    fn waiting(&self) -> usize {
        0
    }
}

/// A connection pool: see the [module documentation](self). Cheap to clone; clones share it.
#[derive(Clone)]
pub struct Pool {
    shared: Arc<Shared>,
}

/// What every class shares; the store keeps the class's own state.
pub(crate) struct Shared {
    driver: Arc<dyn Driver>,
    options: PoolBuilder,
    class: PoolClass,
    store: Box<dyn PoolStore>,
    /// Connection ids and the pool-wide invalidation mark: connections older than a
    /// disconnect, or than `dispose()`, are replaced at checkout and closed on return.
    generations: Generations,
    /// The last failure to open a connection, cleared by a success: carried by pool timeouts.
    last_connect_error: Mutex<Option<String>>,
    leaks: Option<LeakDetector>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("poolclass", &self.shared.class)
            .field("status", &self.status())
            .finish()
    }
}

/// The outcome of trying to hand out a connection that was already open.
enum Prepared {
    Ready(Entry),
    /// The connection was discarded (stale, too old, or dead); its place is kept for a
    /// replacement.
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
        let mut conn = self.shared.store.checkout(self)?;
        if let Some(leaks) = &self.shared.leaks {
            conn.leak = Some(leaks.register(site));
        }
        tracing::debug!(target: "quarry::pool", id = conn.info().id, "checkout");
        Ok(conn)
    }

    /// The deadline of a checkout starting now (`None`: none).
    fn deadline(&self) -> Option<Instant> {
        self.shared.options.settings.deadline(Instant::now())
    }

    fn wrap(&self, entry: Entry) -> PooledConnection {
        PooledConnection {
            pool: Arc::clone(&self.shared),
            entry: Some(entry),
            leak: None,
        }
    }

    /// Screen an idle connection about to be handed out: replace it if it is stale or too
    /// old, pre-ping it (within the time left until `deadline()`) if configured.
    fn prepare(&self, mut entry: Entry, deadline: impl FnOnce() -> Option<Instant>) -> Prepared {
        let shared = &self.shared;
        let info = entry.info;
        let screen = shared.options.settings.screen(
            info.id,
            info.created,
            shared.generations.stale_below(),
            Instant::now,
        );
        match screen {
            Screen::Ready => Prepared::Ready(entry),
            Screen::Replace(why) => {
                match why {
                    Replace::Stale => {
                        tracing::debug!(target: "quarry::pool", id = info.id, "replacing a connection older than an invalidation");
                    }
                    Replace::Recycle => {
                        tracing::debug!(target: "quarry::pool", id = info.id, "recycle: replacing a connection older than pool_recycle");
                    }
                }
                close_entry(entry);
                Prepared::Replace
            }
            Screen::Ping => {
                let budget = policy::ping_budget(deadline(), Instant::now());
                match entry.conn.ping_within(budget) {
                    Ok(()) => Prepared::Ready(entry),
                    Err(e) => {
                        tracing::info!(target: "quarry::pool", id = info.id, error = %e, "pre-ping failed; replacing the connection");
                        shared.invalidated(&info, Some(&e));
                        close_entry(entry);
                        Prepared::Replace
                    }
                }
            }
        }
    }

    /// Run the `on_checkout` hooks; the first error invalidates the connection (freeing its
    /// place) and is returned.
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
        let s = &self.shared.options.settings;
        Error::PoolTimeout {
            size: s.size,
            overflow: s.max_overflow,
            timeout: s.timeout,
            last_connect_error: lock(&self.shared.last_connect_error).clone(),
        }
    }

    /// The pool's counters now.
    pub fn status(&self) -> PoolStatus {
        self.shared.store.status(self.shared.options.settings.size)
    }

    /// Close every idle connection now and retire every checked-out one: they keep working
    /// and are closed, not kept, when they come back. For a `sqlite://` memory database that
    /// means a new, empty database. The pool stays usable.
    pub fn dispose(&self) {
        let shared = &self.shared;
        shared.generations.retire_all();
        let closed = shared.store.close_idle(shared);
        tracing::debug!(target: "quarry::pool", closed, "dispose");
    }

    /// The class of this pool.
    pub fn poolclass(&self) -> PoolClass {
        self.shared.class
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
        if error.is_some_and(Error::is_disconnect) && self.generations.invalidate_all() {
            tracing::info!(target: "quarry::pool", id = info.id, "disconnect: replacing every connection older than this one");
            self.store.stale_marked(self);
        }
    }

    fn is_stale(&self, info: &ConnectionInfo) -> bool {
        self.generations.is_stale(info.id)
    }

    /// Reset a returned connection as configured. On an error the caller closes it; a
    /// disconnect (the driver knows its connection was lost) then also invalidates it,
    /// pool-wide.
    fn reset(&self, entry: &mut Entry) -> Result<()> {
        let conn = entry.conn.as_mut();
        for hook in &self.options.events.reset {
            hook(conn, &entry.info);
        }
        let action = self
            .options
            .settings
            .reset_on_return
            .action(|| conn.in_transaction());
        let result = match action {
            ResetAction::Rollback => conn.rollback(),
            ResetAction::Commit => conn.commit(),
            ResetAction::Nothing => Ok(()),
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
    fn checkin(&self, entry: Entry) {
        tracing::debug!(target: "quarry::pool", id = entry.info.id, "checkin");
        self.store.checkin(self, entry);
    }

    /// Close a connection that is not coming back, freeing its place.
    fn discard(&self, entry: Entry, error: Option<&Error>) {
        tracing::debug!(target: "quarry::pool", id = entry.info.id, "invalidate: connection closed");
        self.invalidated(&entry.info, error);
        self.store.discard(self, entry);
    }

    fn new_info(&self) -> ConnectionInfo {
        ConnectionInfo {
            id: self.generations.next_id(),
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
    /// Connections open beyond `pool_size` now: negative while fewer are open (`-pool_size`
    /// for an empty pool), as SQLAlchemy's `QueuePool.overflow()`; 0 for the other classes.
    pub overflow: isize,
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
