//! What the shared classes — `Static` (one connection for every checkout) and
//! `SingletonThread` (one connection per thread) — have in common: a [`Holder`] per shared
//! connection, [`Slots`] listing them with their owner and users, and [`SharedConn`], a
//! checkout's handle, which locks the connection for each call, so checkouts sharing it never
//! hold it at the same time. The connection is reset when the last of them comes back.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use super::{
    ConnectionInfo, Entry, Pool, PoolStatus, PooledConnection, Prepared, Shared, close_entry, lock,
};
use crate::driver::{DriverConnection, RowSink};
use crate::error::{Error, Result};
use crate::value::Value;

/// One shared connection.
pub(crate) struct Holder {
    /// `None` while one checkout has it for native use, or after it was discarded.
    entry: Mutex<Option<Entry>>,
    info: ConnectionInfo,
    discarded: AtomicBool,
}

/// Whose a shared connection is: a thread's (`SingletonThread`), or everyone's (`Static`).
pub(super) type Owner = Option<ThreadId>;

pub(super) struct Slot {
    owner: Owner,
    holder: Arc<Holder>,
    /// Checkouts sharing the connection now.
    users: usize,
}

/// The shared connections of a pool.
pub(super) struct Slots(Mutex<Vec<Slot>>);

/// [`Slots`], locked.
pub(super) struct Locked<'a>(MutexGuard<'a, Vec<Slot>>);

impl Slots {
    pub(super) fn with_capacity(n: usize) -> Self {
        Slots(Mutex::new(Vec::with_capacity(n)))
    }

    pub(super) fn lock(&self) -> Locked<'_> {
        Locked(lock(&self.0))
    }

    /// Take back a checkout; when it was the connection's last user, reset the connection
    /// and keep it, or close it if the reset failed or it is stale.
    pub(super) fn checkin(&self, shared: &Shared, mut entry: Entry) {
        let Some(holder) = entry.holder.take() else {
            return close_entry(entry);
        };
        // Dropping the `SharedConn` puts back a connection it held for native use.
        drop(entry);
        let mut slots = lock(&self.0);
        let Some(i) = slots.iter().position(|s| Arc::ptr_eq(&s.holder, &holder)) else {
            // Discarded or disposed meanwhile.
            drop(slots);
            return close_holder(&holder);
        };
        slots[i].users -= 1;
        if slots[i].users > 0 {
            return;
        }
        let mut guard = lock(&holder.entry);
        let keep = match guard.as_mut() {
            Some(entry) => shared.reset(entry).is_ok() && !shared.is_stale(&entry.info),
            None => false,
        };
        drop(guard);
        if !keep {
            slots.remove(i);
            drop(slots);
            close_holder(&holder);
        }
    }

    /// The connection is gone: every checkout sharing it gets errors from now on, and the
    /// next checkout opens a new one.
    pub(super) fn discard(&self, mut entry: Entry) {
        let Some(holder) = entry.holder.take() else {
            return close_entry(entry);
        };
        drop(entry);
        let mut slots = lock(&self.0);
        slots.retain(|s| !Arc::ptr_eq(&s.holder, &holder));
        drop(slots);
        close_holder(&holder);
    }

    /// `dispose()`: close the connections not in use now; those in use are stale and closed
    /// when their last user returns.
    pub(super) fn close_idle(&self) -> usize {
        let mut slots = lock(&self.0);
        let mut idle = Vec::new();
        slots.retain(|s| {
            if s.users == 0 {
                idle.push(Arc::clone(&s.holder));
                false
            } else {
                true
            }
        });
        drop(slots);
        for holder in &idle {
            close_holder(holder);
        }
        idle.len()
    }

    pub(super) fn status(&self, size: usize) -> PoolStatus {
        let slots = lock(&self.0);
        PoolStatus {
            size,
            checked_in: slots.iter().filter(|s| s.users == 0).count(),
            checked_out: slots.iter().map(|s| s.users).sum(),
            overflow: 0,
        }
    }
}

impl Locked<'_> {
    /// One more checkout of `owner`'s connection, if it has one. Not in use, it is screened
    /// first: a stale, too old or dead one is dropped, and there is none.
    pub(super) fn share(
        &mut self,
        owner: Owner,
        pool: &Pool,
        deadline: Option<Instant>,
    ) -> Option<PooledConnection> {
        let slots = &mut self.0;
        let i = slots.iter().position(|s| s.owner == owner)?;
        if slots[i].users == 0 {
            let holder = Arc::clone(&slots[i].holder);
            let taken = lock(&holder.entry).take();
            let ready = match taken {
                Some(entry) => match pool.prepare(entry, || deadline) {
                    Prepared::Ready(entry) => Some(entry),
                    Prepared::Replace => None,
                },
                None => None,
            };
            match ready {
                Some(entry) => *lock(&holder.entry) = Some(entry),
                None => {
                    holder.discarded.store(true, Ordering::Release);
                    slots.remove(i);
                    return None;
                }
            }
        }
        let slot = &mut slots[i];
        slot.users += 1;
        Some(shared_checkout(pool, &slot.holder))
    }

    /// A new connection, `owner`'s from now on, checked out once.
    pub(super) fn adopt(&mut self, owner: Owner, entry: Entry, pool: &Pool) -> PooledConnection {
        let holder = Arc::new(Holder {
            info: entry.info,
            entry: Mutex::new(Some(entry)),
            discarded: AtomicBool::new(false),
        });
        let conn = shared_checkout(pool, &holder);
        self.0.push(Slot {
            owner,
            holder,
            users: 1,
        });
        conn
    }

    /// Beyond `keep` connections, remove those not in use, oldest first; the caller closes
    /// them (with [`close_holder`], after unlocking).
    pub(super) fn evict(&mut self, keep: usize) -> Vec<Arc<Holder>> {
        let slots = &mut self.0;
        let mut evicted = Vec::new();
        let mut i = 0;
        while slots.len() > keep && i < slots.len() {
            if slots[i].users == 0 {
                evicted.push(slots.remove(i).holder);
            } else {
                i += 1;
            }
        }
        evicted
    }
}

fn shared_checkout(pool: &Pool, holder: &Arc<Holder>) -> PooledConnection {
    pool.wrap(Entry {
        conn: Box::new(SharedConn {
            holder: Arc::clone(holder),
            taken: None,
        }),
        info: holder.info,
        holder: Some(Arc::clone(holder)),
    })
}

pub(super) fn close_holder(holder: &Holder) {
    holder.discarded.store(true, Ordering::Release);
    if let Some(entry) = lock(&holder.entry).take() {
        close_entry(entry);
    }
}

/// A checkout's handle on a shared connection.
pub(crate) struct SharedConn {
    holder: Arc<Holder>,
    /// The connection, taken out of the holder for native use (`as_any_mut`) until this
    /// checkout ends.
    taken: Option<Entry>,
}

impl SharedConn {
    fn with<T>(&mut self, f: impl FnOnce(&mut dyn DriverConnection) -> Result<T>) -> Result<T> {
        if let Some(entry) = &mut self.taken {
            return f(entry.conn.as_mut());
        }
        let mut guard = lock(&self.holder.entry);
        match guard.as_mut() {
            Some(entry) => f(entry.conn.as_mut()),
            None => Err(self.unavailable()),
        }
    }

    fn unavailable(&self) -> Error {
        let mut e = crate::error::DatabaseError::new(
            crate::error::DatabaseErrorKind::Connection,
            if self.holder.discarded.load(Ordering::Acquire) {
                "the shared connection was invalidated by another checkout".to_owned()
            } else {
                "the shared connection is in native use by another checkout (raw_connection / \
                 driver_connection); end that checkout first"
                    .to_owned()
            },
        );
        e.disconnect = self.holder.discarded.load(Ordering::Acquire);
        crate::error::DatabaseError::into_error(e)
    }
}

impl Drop for SharedConn {
    fn drop(&mut self) {
        if let Some(entry) = self.taken.take() {
            if self.holder.discarded.load(Ordering::Acquire) {
                close_entry(entry);
            } else {
                *lock(&self.holder.entry) = Some(entry);
            }
        }
    }
}

impl DriverConnection for SharedConn {
    fn run(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
    ) -> Result<crate::driver::Outcome> {
        self.with(|c| c.run(sql, params, sink))
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.with(|c| c.batch(sql))
    }

    fn ping(&mut self) -> Result<()> {
        self.with(|c| c.ping())
    }

    fn ping_within(&mut self, timeout: Duration) -> Result<()> {
        self.with(|c| c.ping_within(timeout))
    }

    fn begin(&mut self) -> Result<()> {
        self.with(|c| c.begin())
    }

    fn commit(&mut self) -> Result<()> {
        self.with(|c| c.commit())
    }

    fn rollback(&mut self) -> Result<()> {
        self.with(|c| c.rollback())
    }

    fn in_transaction(&self) -> bool {
        if let Some(entry) = &self.taken {
            return entry.conn.in_transaction();
        }
        lock(&self.holder.entry)
            .as_ref()
            .is_some_and(|e| e.conn.in_transaction())
    }

    fn forget_transaction(&mut self) {
        // Only fails when the connection is gone, and then there is nothing to forget.
        let _ = self.with(|c| {
            c.forget_transaction();
            Ok(())
        });
    }

    fn set_statement_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.with(|c| c.set_statement_timeout(timeout))
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        if self.taken.is_none() {
            self.taken = lock(&self.holder.entry).take();
        }
        if self.taken.is_none() {
            // Another checkout has it for native use, or it is gone: downcasts find nothing.
            return self;
        }
        match self.taken.as_mut() {
            Some(entry) => entry.conn.as_any_mut(),
            None => unreachable!("checked just above"),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
