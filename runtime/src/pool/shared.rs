//! The stores of the shared classes: `Static` (one connection for every checkout) and
//! `SingletonThread` (one connection per thread). A checkout holds a [`SharedConn`], which
//! locks the connection for each call, so checkouts sharing it never hold it at the same time;
//! the connection is reset when the last of them comes back.

use std::any::Any;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use super::{
    ConnectionInfo, Entry, Pool, PoolStatus, PooledConnection, Prepared, Shared, close_entry,
    connect, lock,
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

struct Slot {
    /// The thread of a `SingletonThread` connection; `None` for `Static`.
    owner: Option<ThreadId>,
    holder: Arc<Holder>,
    /// Checkouts sharing the connection now.
    users: usize,
}

pub(super) struct SharedStore {
    per_thread: bool,
    /// `SingletonThread`: connections of other threads kept when not in use.
    keep: usize,
    slots: Mutex<Vec<Slot>>,
}

impl SharedStore {
    pub(super) fn new_static() -> Self {
        SharedStore {
            per_thread: false,
            keep: 1,
            slots: Mutex::new(Vec::with_capacity(1)),
        }
    }

    pub(super) fn new_per_thread(keep: usize) -> Self {
        SharedStore {
            per_thread: true,
            keep: keep.max(1),
            slots: Mutex::new(Vec::new()),
        }
    }

    pub(super) fn checkout(
        &self,
        pool: &Pool,
        deadline: Option<Instant>,
    ) -> Result<PooledConnection> {
        let owner = self.per_thread.then(|| thread::current().id());
        let mut slots = lock(&self.slots);
        if let Some(i) = slots.iter().position(|s| s.owner == owner) {
            if slots[i].users == 0 {
                // Not in use: stale, too old or dead connections may be replaced now.
                let holder = Arc::clone(&slots[i].holder);
                let taken = lock(&holder.entry).take();
                let ready = match taken {
                    Some(entry) => match pool.prepare(entry, deadline) {
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
                    }
                }
            }
            if let Some(slot) = slots.iter_mut().find(|s| s.owner == owner) {
                slot.users += 1;
                return Ok(shared_checkout(pool, &slot.holder));
            }
        }
        // A new connection. `Static`: the other checkouts need this one connection, so they
        // wait for it on the lock. `SingletonThread`: other threads go on meanwhile.
        let entry = if self.per_thread {
            drop(slots);
            let entry = connect::open(&pool.shared)?;
            slots = lock(&self.slots);
            entry
        } else {
            connect::open(&pool.shared)?
        };
        let holder = Arc::new(Holder {
            info: entry.info,
            entry: Mutex::new(Some(entry)),
            discarded: AtomicBool::new(false),
        });
        let conn = shared_checkout(pool, &holder);
        slots.push(Slot {
            owner,
            holder,
            users: 1,
        });
        let evicted = self.evict(&mut slots);
        drop(slots);
        for holder in evicted {
            close_holder(&holder);
        }
        Ok(conn)
    }

    /// `SingletonThread`: beyond `keep` connections, drop those of other threads not in use,
    /// oldest first.
    fn evict(&self, slots: &mut Vec<Slot>) -> Vec<Arc<Holder>> {
        let mut evicted = Vec::new();
        let mut i = 0;
        while slots.len() > self.keep && i < slots.len() {
            if slots[i].users == 0 {
                evicted.push(slots.remove(i).holder);
            } else {
                i += 1;
            }
        }
        evicted
    }

    pub(super) fn checkin(&self, shared: &Shared, mut entry: Entry) {
        let Some(holder) = entry.holder.take() else {
            return close_entry(entry);
        };
        // Dropping the `SharedConn` puts back a connection it held for native use.
        drop(entry);
        let mut slots = lock(&self.slots);
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
        let mut slots = lock(&self.slots);
        slots.retain(|s| !Arc::ptr_eq(&s.holder, &holder));
        drop(slots);
        close_holder(&holder);
    }

    /// `dispose()`: close the connections not in use now; those in use are stale and closed
    /// when their last user returns.
    pub(super) fn close_idle(&self) -> usize {
        let mut slots = lock(&self.slots);
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
        let slots = lock(&self.slots);
        PoolStatus {
            size: if self.per_thread { size } else { 1 },
            checked_in: slots.iter().filter(|s| s.users == 0).count(),
            checked_out: slots.iter().map(|s| s.users).sum(),
            overflow: 0,
        }
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

fn close_holder(holder: &Holder) {
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
        Error::from(e)
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
