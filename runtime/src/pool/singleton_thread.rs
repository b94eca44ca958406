//! The `SingletonThread` class: one connection per thread, shared by the checkouts of that
//! thread; at most `pool_size` connections of finished or idle threads are kept.

use std::thread;

use super::shared::{Slots, close_holder};
use super::{Entry, Pool, PoolStatus, PoolStore, PooledConnection, Shared, close_entry, connect};
use crate::error::Result;

pub(super) struct SingletonThreadStore {
    slots: Slots,
    /// Connections kept when not in use.
    keep: usize,
}

impl SingletonThreadStore {
    pub(super) fn new(pool_size: usize) -> Self {
        SingletonThreadStore {
            slots: Slots::with_capacity(0),
            keep: pool_size.max(1),
        }
    }
}

impl PoolStore for SingletonThreadStore {
    fn checkout(&self, pool: &Pool) -> Result<PooledConnection> {
        let deadline = pool.deadline();
        let owner = Some(thread::current().id());
        let shared = self.slots.lock().share(owner, pool, deadline);
        let conn = match shared {
            Some(conn) => conn,
            None => {
                // Other threads go on while this one connects.
                let entry = connect::open(&pool.shared)?;
                let mut slots = self.slots.lock();
                let conn = slots.adopt(owner, entry, pool);
                let evicted = slots.evict(self.keep);
                drop(slots);
                for holder in evicted {
                    close_holder(&holder);
                }
                conn
            }
        };
        pool.run_checkout_hooks(conn)
    }

    fn checkin(&self, pool: &Shared, entry: Entry) {
        self.slots.checkin(pool, entry);
    }

    fn discard(&self, _: &Shared, entry: Entry) {
        self.slots.discard(entry);
    }

    fn opened_late(&self, _: &Shared, result: Result<Entry>) {
        // (It connects inline, never late; a connection of no slot is closed.)
        if let Ok(entry) = result {
            close_entry(entry);
        }
    }

    fn close_idle(&self, _: &Shared) -> usize {
        self.slots.close_idle()
    }

    fn status(&self, size: usize) -> PoolStatus {
        self.slots.status(size)
    }
}
