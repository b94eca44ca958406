//! The `Static` class: exactly one connection, shared by every checkout.

use super::shared::Slots;
use super::{Entry, Pool, PoolStatus, PoolStore, PooledConnection, Shared, close_entry, connect};
use crate::error::Result;

pub(super) struct StaticStore {
    /// At most one, owned by no thread.
    slots: Slots,
}

impl Default for StaticStore {
    fn default() -> Self {
        StaticStore {
            slots: Slots::with_capacity(1),
        }
    }
}

impl PoolStore for StaticStore {
    fn checkout(&self, pool: &Pool) -> Result<PooledConnection> {
        let deadline = pool.deadline();
        let mut slots = self.slots.lock();
        let conn = match slots.share(None, pool, deadline) {
            Some(conn) => conn,
            // The other checkouts need this one connection: they wait for it on the lock.
            None => slots.adopt(None, connect::open(&pool.shared)?, pool),
        };
        drop(slots);
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

    fn status(&self, _size: usize) -> PoolStatus {
        self.slots.status(1)
    }
}
