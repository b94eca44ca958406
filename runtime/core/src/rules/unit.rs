//! A session's unit of work as a state machine: the queues, the identity map, and what a
//! flush, a commit and a rollback do to them.
//!
//! The engine keeps its connections and transactions; this keeps the objects. A flush takes
//! the queues as a [`FlushPlan`] (or refuses a delete that cannot be); after the plan ran, the
//! engine hands back the keys it gave out ([`UnitOfWork::flushed`]). A commit first expires the
//! identity map ([`UnitOfWork::expire`]); when every transaction committed, the handed-out keys
//! are kept for good ([`UnitOfWork::committed`]). A rollback, a failed commit or a failed flush
//! takes them back ([`UnitOfWork::rolled_back`], [`UnitOfWork::discard`]): the engine unsets
//! each, since the rows they name are gone.
//!
//! ```
//! use quarry_core::rules::flush::{QueuedDelete, QueuedRow};
//! use quarry_core::rules::unit::UnitOfWork;
//! use quarry_core::{TableDef, Value};
//!
//! static T: TableDef = TableDef::new("t", &[], &quarry_core::DEFAULT_METADATA);
//! struct Row;
//! impl QueuedRow for Row {
//!     fn table(&self) -> &'static TableDef { &T }
//!     fn primary_key(&self) -> Vec<Value> { Vec::new() }
//! }
//!
//! // Objects: boxed rows; keys handed out: plain strings here.
//! let mut work = UnitOfWork::<Row, (), &str>::default();
//! work.add(Row);
//! let plan = work.flush()?.expect("one insert is queued");
//! assert_eq!(plan.inserts(), 1);
//! work.flushed(["key of the row"]);
//! assert_eq!(work.rolled_back(), ["key of the row"]); // unset it: its row is gone
//! assert!(work.flush()?.is_none());
//! # Ok::<(), quarry_core::Error>(())
//! ```

use std::collections::HashMap;

use super::flush::{FlushPlan, IdentityKey, QueuedDelete, QueuedRow, first_refused};
use crate::error::Result;

/// Queued inserts `R`, queued deletes, the identity map of objects `O`, and the keys `K` handed
/// out by flushes in the current transactions.
#[derive(Debug)]
pub struct UnitOfWork<R, O, K> {
    pending: Vec<R>,
    deleted: Vec<QueuedDelete>,
    identity: HashMap<IdentityKey, O>,
    flushed: Vec<K>,
}

impl<R, O, K> Default for UnitOfWork<R, O, K> {
    fn default() -> Self {
        UnitOfWork {
            pending: Vec::new(),
            deleted: Vec::new(),
            identity: HashMap::new(),
            flushed: Vec::new(),
        }
    }
}

impl<R: QueuedRow, O, K> UnitOfWork<R, O, K> {
    /// Queue `row` for insertion.
    pub fn add(&mut self, row: R) {
        self.pending.push(row);
    }

    /// Queue a row for deletion by its key.
    pub fn delete(&mut self, delete: QueuedDelete) {
        self.deleted.push(delete);
    }

    /// The inserts queued.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// The deletes queued.
    pub fn deleted(&self) -> usize {
        self.deleted.len()
    }

    /// The objects in the identity map.
    pub fn identities(&self) -> usize {
        self.identity.len()
    }

    /// Start a flush: `None` when nothing is queued; else the queues, emptied, as a plan to run
    /// (see [`FlushPlan`]). After it ran, report the keys handed out with
    /// [`UnitOfWork::flushed`], or on a failure [`UnitOfWork::discard`].
    ///
    /// # Errors
    /// The first queued delete that cannot be ([`QueuedDelete::check`]): it leaves the queue,
    /// the rest of the work stays queued.
    pub fn flush(&mut self) -> Result<Option<FlushPlan<R>>> {
        if self.pending.is_empty() && self.deleted.is_empty() {
            return Ok(None);
        }
        if let Some(i) = first_refused(&self.deleted) {
            return self.deleted.remove(i).check().map(|()| None);
        }
        let pending = std::mem::take(&mut self.pending);
        let deleted = std::mem::take(&mut self.deleted);
        Ok(Some(FlushPlan::new(pending, deleted)))
    }

    /// The object with identity `key`, if the map holds one.
    pub fn get(&self, key: &IdentityKey) -> Option<&O> {
        self.identity.get(key)
    }

    /// Put `obj` in the identity map under `key` (a flushed or loaded row).
    pub fn remember(&mut self, key: IdentityKey, obj: O) {
        self.identity.insert(key, obj);
    }

    /// Take the object with identity `key` out of the map (a deleted row).
    pub fn forget(&mut self, key: &IdentityKey) {
        self.identity.remove(key);
    }

    /// A flush ran to its end: `keys` were handed out in the current transactions.
    pub fn flushed(&mut self, keys: impl IntoIterator<Item = K>) {
        self.flushed.extend(keys);
    }

    /// Expire on commit: the identity map is emptied, so the next read sees the committed row.
    pub fn expire(&mut self) {
        self.identity.clear();
    }

    /// Every transaction committed: the keys handed out stay.
    pub fn committed(&mut self) {
        self.flushed.clear();
    }

    /// The transactions rolled back (or a commit failed): the keys handed out in them, to
    /// unset.
    pub fn rolled_back(&mut self) -> Vec<K> {
        std::mem::take(&mut self.flushed)
    }

    /// Forget every object: the queues and the identity map (`expunge_all`). Keys handed out
    /// stay: what was flushed stays in the open transactions.
    pub fn expunge_all(&mut self) {
        self.pending.clear();
        self.deleted.clear();
        self.identity.clear();
    }

    /// Forget all the work, as a rollback does: the objects ([`UnitOfWork::expunge_all`]) and
    /// the keys handed out, returned to unset.
    pub fn discard(&mut self) -> Vec<K> {
        self.expunge_all();
        self.rolled_back()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ColumnDef, DEFAULT_METADATA, TableDef};
    use crate::value::{SqlType, Value};

    static COLUMNS: [ColumnDef; 1] = [ColumnDef::new("id", "id", SqlType::BigInt, false)
        .primary_key()
        .autoincrement()];
    static PETS: TableDef = TableDef::new("pets", &COLUMNS, &DEFAULT_METADATA);

    struct Pet(i64);

    impl QueuedRow for Pet {
        fn table(&self) -> &'static TableDef {
            &PETS
        }
        fn primary_key(&self) -> Vec<Value> {
            vec![Value::I64(self.0)]
        }
    }

    fn delete(id: i64) -> QueuedDelete {
        QueuedDelete::new(&PETS, vec![Value::I64(id)])
    }

    type Work = UnitOfWork<Pet, &'static str, i64>;

    fn id(i: i64) -> IdentityKey {
        IdentityKey::new(&PETS, &[Value::I64(i)])
    }

    #[test]
    fn nothing_queued_flushes_nothing() {
        let mut work = Work::default();
        assert!(work.flush().unwrap().is_none());
    }

    #[test]
    fn a_flush_takes_the_queues() {
        let mut work = Work::default();
        work.add(Pet(0));
        work.delete(delete(4));
        let plan = work.flush().unwrap().unwrap();
        assert_eq!((plan.inserts(), plan.deletes()), (1, 1));
        assert_eq!((work.pending(), work.deleted()), (0, 0));
        assert!(work.flush().unwrap().is_none());
    }

    #[test]
    fn a_refused_delete_leaves_the_queue_and_the_rest_stays() {
        let mut work = Work::default();
        work.add(Pet(0));
        work.delete(delete(3));
        work.delete(delete(0));
        assert!(work.flush().is_err());
        assert_eq!((work.pending(), work.deleted()), (1, 1));
        let plan = work.flush().unwrap().unwrap();
        assert_eq!((plan.inserts(), plan.deletes()), (1, 1));
    }

    #[test]
    fn a_rollback_takes_back_the_keys_handed_out_and_a_commit_keeps_them() {
        let mut work = Work::default();
        work.flushed([1, 2]);
        assert_eq!(work.rolled_back(), [1, 2]);
        assert_eq!(work.rolled_back(), [0; 0]);
        work.flushed([3]);
        work.committed();
        assert_eq!(work.rolled_back(), [0; 0]);
    }

    #[test]
    fn expire_empties_the_identity_map_only() {
        let mut work = Work::default();
        work.remember(id(1), "rex");
        work.flushed([1]);
        work.expire();
        assert_eq!(work.get(&id(1)), None);
        assert_eq!(work.rolled_back(), [1]);
    }

    #[test]
    fn the_identity_map_finds_a_key_of_any_integer_width() {
        let mut work = Work::default();
        work.remember(id(1), "rex");
        assert_eq!(
            work.get(&IdentityKey::new(&PETS, &[Value::I32(1)])),
            Some(&"rex")
        );
        work.forget(&id(1));
        assert_eq!(work.identities(), 0);
    }

    #[test]
    fn expunge_all_keeps_the_keys_and_discard_returns_them() {
        let mut work = Work::default();
        work.add(Pet(0));
        work.remember(id(1), "rex");
        work.flushed([1]);
        work.expunge_all();
        assert_eq!((work.pending(), work.identities()), (0, 0));
        work.add(Pet(0));
        assert_eq!(work.discard(), [1]);
        assert_eq!(work.pending(), 0);
    }
}
