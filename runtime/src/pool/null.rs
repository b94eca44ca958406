//! The `Null` class: a new connection per checkout, closed on return; nothing kept, no limit.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Entry, Pool, PoolStatus, PoolStore, PooledConnection, Shared, close_entry, connect};
use crate::error::Result;

#[derive(Default)]
pub(super) struct NullStore {
    /// Connections open (all checked out) or being opened.
    open: AtomicUsize,
}

impl NullStore {
    fn closed(&self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl PoolStore for NullStore {
    fn checkout(&self, pool: &Pool) -> Result<PooledConnection> {
        self.open.fetch_add(1, Ordering::Relaxed);
        let conn = match connect::open_within(&pool.shared, pool.deadline()) {
            Ok(entry) => pool.wrap(entry),
            Err(connect::Failed::Error(e)) => {
                self.closed();
                return Err(e);
            }
            // The connect still under way counts itself out when it ends (`opened_late`).
            Err(connect::Failed::TimedOut) => return Err(pool.timeout_error()),
        };
        pool.run_checkout_hooks(conn)
    }

    fn checkin(&self, pool: &Shared, mut entry: Entry) {
        // Closed either way, so a failed reset changes nothing.
        let _ = pool.reset(&mut entry);
        close_entry(entry);
        self.closed();
    }

    fn discard(&self, _: &Shared, entry: Entry) {
        close_entry(entry);
        self.closed();
    }

    fn opened_late(&self, _: &Shared, result: Result<Entry>) {
        if let Ok(entry) = result {
            close_entry(entry);
        }
        self.closed();
    }

    fn close_idle(&self, _: &Shared) -> usize {
        0
    }

    fn status(&self, _size: usize) -> PoolStatus {
        PoolStatus {
            size: 0,
            checked_in: 0,
            checked_out: self.open.load(Ordering::Relaxed),
            overflow: 0,
        }
    }
}
