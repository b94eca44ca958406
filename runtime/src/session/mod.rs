//! `Session`: a unit of work over the engine's connections, with an identity map.
//!
//! SQLAlchemy's `Session` without the ORM's attribute tracking: objects are queued with
//! [`Session::add`] and [`Session::delete`], written by [`Session::flush`] — inserts parents
//! before children by foreign key, autoincrement keys filled back into the objects, then deletes
//! children before parents — and kept in an identity map that [`Session::get`] answers from
//! without a query. The first use checks out a connection and begins a transaction
//! (*autobegin*); [`Session::commit`] and [`Session::rollback`] end it and return the
//! connection to the pool, and the session stays usable.
//!
//! ```
//! use quarry::prelude::*;
//!
//! static META: MetaData = MetaData::new();
//!
//! #[derive(Table, Debug, Clone, PartialEq)]
//! #[table(name = "users", metadata = META)]
//! struct User {
//!     #[column(primary_key)]
//!     id: i64,
//!     name: String,
//! }
//!
//! #[derive(Table, Debug, Clone, PartialEq)]
//! #[table(name = "posts", metadata = META)]
//! struct Post {
//!     #[column(primary_key)]
//!     id: i64,
//!     #[column(references = User::id)]
//!     user_id: i64,
//!     title: String,
//! }
//!
//! let engine = create_engine("sqlite://")?;
//! META.create_all(&engine)?;
//!
//! let mut session = Session::new(&engine);
//! let ed = session.add(User { id: 0, name: "ed".into() });
//! session.flush()?; // INSERT INTO users …; the key comes back
//! let ed_id = ed.id().unwrap();
//! session.add(Post { id: 0, user_id: ed_id, title: "hello".into() });
//! session.commit()?; // flushes the post, then COMMIT; the connection goes back to the pool
//!
//! let ed: User = session.get::<User>(ed_id)?.unwrap(); // a new transaction begins here
//! assert_eq!(ed.name, "ed");
//! session.execute(delete!(Post WHERE Post::user_id == ed_id))?; // in the same transaction
//! session.delete(&ed);
//! session.commit()?; // flushes the delete, then COMMIT
//! assert_eq!(session.get::<User>(ed_id)?, None);
//! # Ok::<(), quarry::Error>(())
//! ```
//!
//! What it does not do (yet): track changes to loaded objects (write an `update!` and
//! [`Session::execute`] it), cascade deletes to children, or put rows loaded by
//! [`Session::execute`] into the identity map (only [`Session::get`] and flushed objects are
//! there).

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use crate::connection::Connection;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::rows::Rows;
use crate::schema::{Insertable, MetaData, TableDef};
use crate::sql::{Identity, Insert, Statement, Table};
use crate::transaction::EngineTransaction;
use crate::value::Value;
use quarry_core::rules::flush::{
    FlushPlan, FlushStep, IdentityKey, QueuedDelete, QueuedRow, check_arity, key_condition,
};
use quarry_core::rules::unit::UnitOfWork;

mod maker;
mod unit;

pub use crate::key::PrimaryKey;
use maker::Binds;
pub use maker::{SessionBuilder, SessionMaker, sessionmaker};
pub use unit::Added;
use unit::*;

/// A unit of work: pending inserts and deletes, an identity map, and a transaction per engine.
///
/// Made by [`Session::new`], [`Session::builder`] (for binds) or a [`SessionMaker`]. Dropping
/// the session, or [`Session::close`], rolls back and returns its connections to the pool.
///
/// ```
/// use quarry::prelude::*;
///
/// static META: MetaData = MetaData::new();
///
/// #[derive(Table, Debug, Clone, PartialEq)]
/// #[table(metadata = META)]
/// struct Pet {
///     #[column(primary_key)]
///     id: i64,
///     name: String,
/// }
///
/// let engine = create_engine("sqlite://")?;
/// META.create_all(&engine)?;
///
/// let mut session = Session::new(&engine);
/// session.add_all([Pet { id: 0, name: "Rex".into() }, Pet { id: 0, name: "Tom".into() }]);
/// let tom = session.get::<Pet>(2)?; // flushes first, then answers from the identity map
/// assert_eq!(tom, Some(Pet { id: 2, name: "Tom".into() }));
/// session.rollback()?; // nothing was committed
/// assert_eq!(session.get::<Pet>(2)?, None);
/// # Ok::<(), quarry::Error>(())
/// ```
pub struct Session {
    binds: Arc<Binds>,
    /// One transaction per bind engine (index as in `Binds::engines`), begun on first use.
    txs: Vec<Option<EngineTransaction>>,
    /// Pending inserts and deletes, the identity map, and the key slots of `Added` handles
    /// filled in the current transactions (unset again when the transactions roll back).
    work: UnitOfWork<PendingInsert, Box<dyn Any + Send>, Arc<KeySlot>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("engines", &self.binds.engines)
            .field("in_transaction", &self.in_transaction())
            .field("pending", &self.work.pending())
            .field("deleted", &self.work.deleted())
            .field("identity_map", &self.work.identities())
            .finish()
    }
}

impl Session {
    /// A session bound to `engine`; it checks out no connection until it is used.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut session = Session::new(&engine);
    /// assert_eq!(engine.pool_status().checked_out, 0);
    /// session.connection()?; // autobegin: a connection and a transaction
    /// assert_eq!(engine.pool_status().checked_out, 1);
    /// session.close();
    /// assert_eq!(engine.pool_status().checked_out, 0);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn new(engine: &Engine) -> Session {
        Session::builder(engine).build()
    }

    /// Configure a session whose default engine is `engine`: binds per table or metadata;
    /// see [`SessionBuilder`].
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static ARCHIVE: MetaData = MetaData::new();
    /// let engine = create_engine("sqlite://")?;
    /// let archive = create_engine("sqlite://")?;
    /// let session = Session::builder(&engine).bind_metadata(&ARCHIVE, &archive).build();
    /// assert!(!session.in_transaction());
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn builder(engine: &Engine) -> SessionBuilder {
        SessionBuilder {
            binds: Binds::new(engine.clone()),
        }
    }

    fn with_binds(binds: Arc<Binds>) -> Session {
        let txs = binds.engines.iter().map(|_| None).collect();
        Session {
            binds,
            txs,
            work: UnitOfWork::default(),
        }
    }

    /// Queue `obj` for insertion at the next flush. An autoincrement primary key left `0` is
    /// assigned by the database and written into the object at the flush; the returned
    /// [`Added`] tells the key afterwards, and [`Session::get`] accepts it.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone, PartialEq)]
    /// #[table(metadata = META)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut session = Session::new(&engine);
    /// let rex = session.add(Pet { id: 0, name: "Rex".into() });
    /// assert_eq!(rex.id(), None); // not flushed yet
    /// let rex: Pet = session.get(&rex)?.unwrap(); // flushes, then finds it by its new key
    /// assert_eq!(rex, Pet { id: 1, name: "Rex".into() });
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn add<T: Identity + Insertable + Send>(&mut self, obj: T) -> Added<T> {
        let slot = Arc::new(KeySlot::default());
        self.work.add(PendingInsert {
            row: Box::new(obj),
            slot: Arc::clone(&slot),
        });
        Added {
            slot,
            _row: PhantomData,
        }
    }

    /// Queue every object of `objs` for insertion, in order; see [`Session::add`].
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(metadata = META)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut session = Session::new(&engine);
    /// let pets = session.add_all(["Rex", "Tom"].map(|n| Pet { id: 0, name: n.into() }));
    /// session.flush()?;
    /// assert_eq!(pets.iter().map(|p| p.id()).collect::<Vec<_>>(), [Some(1), Some(2)]);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn add_all<T, I>(&mut self, objs: I) -> Vec<Added<T>>
    where
        T: Identity + Insertable + Send,
        I: IntoIterator<Item = T>,
    {
        objs.into_iter().map(|obj| self.add(obj)).collect()
    }

    /// Queue the row of `obj` for deletion by its primary key at the next flush; the object
    /// leaves the identity map then. Deleting an object whose autoincrement key is still `0`
    /// (never flushed) fails at the flush, naming the table.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone, PartialEq)]
    /// #[table(metadata = META)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut session = Session::new(&engine);
    /// session.add(Pet { id: 0, name: "Rex".into() });
    /// let rex = session.get::<Pet>(1)?.unwrap();
    /// session.delete(&rex);
    /// assert_eq!(session.get::<Pet>(1)?, None);
    ///
    /// session.delete(&Pet { id: 0, name: "ghost".into() });
    /// let e = session.flush().unwrap_err();
    /// assert_eq!(
    ///     e.to_string(),
    ///     "cannot delete the pet row with primary key 0: it was never \
    ///      flushed, so the database has no row for it"
    /// );
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn delete<T: Identity + Insertable>(&mut self, obj: &T) {
        let table = T::table();
        let mut values = Vec::new();
        obj.values(&mut values);
        self.work.delete(QueuedDelete {
            parent: QueuedDelete::parent_of(table, &values),
            ..QueuedDelete::new(table, obj.primary_key())
        });
    }

    /// Write the pending work, inside the session's transactions: inserts ordered parents
    /// before children by foreign key (add order within a table; a table that references
    /// itself needs its parent rows added first), filling each autoincrement key from the
    /// database; then deletes, children before parents (within a table that references
    /// itself too, by the rows' references). An object deleted and another added with the
    /// same primary key in one flush is an `UPDATE` of the row (SQLAlchemy's row switch),
    /// where the insert would have run. Flushed objects enter the identity map; deleted ones
    /// leave it. Nothing pending: nothing happens (no connection is checked
    /// out).
    ///
    /// Each object is one `INSERT`/`DELETE` statement (no batching into multi-row
    /// statements). A delete that finds no row logs a warning, as SQLAlchemy does.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(metadata = META)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut session = Session::new(&engine);
    /// let rex = session.add(Pet { id: 0, name: "Rex".into() });
    /// session.flush()?;
    /// assert_eq!(rex.id(), Some(1));
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// A database error, after which the session's transactions are rolled back and all its
    /// work is discarded (pending objects, identity map), as SQLAlchemy's rollback after a
    /// failed flush; [`Error::Config`] for a delete that cannot be (a key never flushed, a
    /// table without a primary key), which is dropped from the queue, the rest of the work
    /// staying queued.
    pub fn flush(&mut self) -> Result<()> {
        let Some(plan) = self.work.flush()? else {
            return Ok(());
        };
        let _span = tracing::debug_span!(
            target: "quarry::session",
            "flush",
            inserts = plan.inserts(),
            deletes = plan.deletes()
        )
        .entered();
        match self.write(plan) {
            Ok(keys) => {
                let slots = keys.into_iter().map(|(slot, key)| {
                    slot.set(Some(key));
                    slot
                });
                self.work.flushed(slots);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(target: "quarry::session", error = %e, "flush failed; rolling back the session's transactions");
                self.discard();
                Err(e)
            }
        }
    }

    /// Run the flush plan; the keys for the `Added` handles once all succeeded.
    fn write(&mut self, plan: FlushPlan<PendingInsert>) -> Result<Vec<(Arc<KeySlot>, Vec<Value>)>> {
        let mut keys = Vec::new();
        for step in plan {
            match step {
                FlushStep::Insert(mut step) => {
                    let rows = self
                        .connection_for_table(step.table)?
                        .execute(step.row.row.insert())?;
                    if let Some(id) = step.assigned_key(rows.last_insert_id())? {
                        step.row.row.set_autoincrement_key(id)?;
                    }
                    let key = step.row.row.primary_key();
                    let identity = step.identity(&key);
                    let PendingInsert { row, slot } = step.row;
                    if let Some(identity) = identity {
                        self.work.remember(identity, row.into_any());
                    }
                    keys.push((slot, key));
                }
                FlushStep::Update(step) => {
                    let mut values = Vec::new();
                    step.row.row.values(&mut values);
                    if let Some(update) = step.statement(values) {
                        let rows = self.connection_for_table(step.table)?.execute(update)?;
                        if !step.matched(rows.rowcount()) {
                            tracing::warn!(
                                target: "quarry::session",
                                table = step.table.name(),
                                key = ?step.key,
                                "UPDATE of a switched row expected to match 1 row; 0 were matched"
                            );
                        }
                    }
                    let identity = step.identity();
                    let PendingInsert { row, slot } = step.row;
                    self.work.remember(identity, row.into_any());
                    keys.push((slot, step.key));
                }
                FlushStep::Delete(step) => {
                    let rows = self
                        .connection_for_table(step.table)?
                        .execute(step.statement())?;
                    if !step.matched(rows.rowcount()) {
                        tracing::warn!(
                            target: "quarry::session",
                            table = step.table.name(),
                            key = ?step.key,
                            "DELETE expected to delete 1 row; 0 were matched"
                        );
                    }
                    self.work.forget(&step.identity());
                }
            }
        }
        Ok(keys)
    }

    /// The row of `T` with primary key `key`: the session's copy if it has one (no query),
    /// else loaded with `SELECT … WHERE <key> = ?` in the session's transaction and kept.
    /// Pending work is flushed first (SQLAlchemy's autoflush), so added objects are found.
    ///
    /// `key` is a value (`1`, `"ed"`), a tuple for a composite key in the order of
    /// [`TableDef::primary_key`] (`(1, "ed")`), a `Vec<Value>`, or an [`Added`] handle.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone, PartialEq)]
    /// #[table(primary_key(owner, name), metadata = META)]
    /// struct Pet {
    ///     owner: String,
    ///     name: String,
    ///     age: i32,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut session = Session::new(&engine);
    /// session.add(Pet { owner: "ed".into(), name: "Rex".into(), age: 3 });
    /// let rex = session.get::<Pet>(("ed", "Rex"))?;
    /// assert_eq!(rex.map(|p| p.age), Some(3));
    /// assert_eq!(session.get::<Pet>(("ed", "Tom"))?, None);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// A flush error; [`Error::Config`] when the key has the wrong number of values or the
    /// table has no primary key; a database or decode error.
    pub fn get<T: Identity + Clone + Send>(&mut self, key: impl PrimaryKey) -> Result<Option<T>> {
        self.flush()?;
        let table = T::table();
        let key = key.into_key()?;
        check_arity(table, &key)?;
        if let Some(obj) = self
            .work
            .get(&IdentityKey::new(table, &key))
            .and_then(|obj| obj.downcast_ref::<T>())
        {
            return Ok(Some(obj.clone()));
        }
        let stmt = T::select().filter(key_condition(table, &key));
        let found = self
            .connection_for_table(table)?
            .execute(stmt)?
            .one_or_none()?;
        if let Some(obj) = &found {
            self.work.remember(
                IdentityKey::new(table, &obj.primary_key()),
                Box::new(obj.clone()),
            );
        }
        Ok(found)
    }

    /// Run `stmt` inside the session's transaction, after flushing pending work. Rows it
    /// returns do not enter the identity map.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(metadata = META)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut session = Session::new(&engine);
    /// session.add(Pet { id: 0, name: "Rex".into() });
    /// let n: i64 = session.execute(select!(count(Pet::id) FROM Pet))?.scalar()?;
    /// assert_eq!(n, 1); // the pending insert was flushed first
    /// session.execute(update!(Pet SET name = "Max" WHERE Pet::id == 1))?;
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// The statement runs on the engine its tables are bound to in this session (see
    /// [`SessionBuilder`]); a statement naming no table (`text()`) on the default engine.
    ///
    /// # Errors
    /// A flush error; [`crate::Error::Unbound`] when the statement's tables are bound to
    /// different engines in this session (naming a table of each); as [`Connection::execute`].
    pub fn execute<S: Statement>(&mut self, stmt: S) -> Result<Rows<S::Row>> {
        self.flush()?;
        let slot = self.slot_for_statement(&stmt)?;
        self.connection_at(slot)?.execute(stmt)
    }

    /// The one engine slot of the statement's tables (the default for none).
    fn slot_for_statement<S: Statement>(&self, stmt: &S) -> Result<usize> {
        let mut tables = Vec::new();
        stmt.tables(&mut tables);
        match crate::bind::one_key(&tables, |t| self.binds.slot_for(t), |a, b| a == b) {
            Ok(found) => Ok(found.map_or(0, |(slot, _)| slot)),
            Err(((first, first_table), (slot, table))) => Err(Error::Unbound(format!(
                "the statement spans the session's engines: table \"{}\" is bound to {} and \
                 table \"{}\" to {}; a statement runs on one engine",
                first_table.name(),
                self.binds.engines[first].url(),
                table.name(),
                self.binds.engines[slot].url(),
            ))),
        }
    }

    /// The default engine's connection, in the session's transaction (begun if none is open);
    /// does not flush. Down to the driver with [`Connection::driver_connection`].
    ///
    /// ```
    /// use quarry::prelude::*;
    /// use quarry::driver::native::rusqlite;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut session = Session::new(&engine);
    /// let raw = session.connection()?.driver_connection()?;
    /// let raw = raw.downcast_mut::<rusqlite::Connection>().unwrap();
    /// assert!(!raw.is_autocommit()); // inside the session's transaction
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Engine::connect`], or a database error from `BEGIN`.
    pub fn connection(&mut self) -> Result<&mut Connection> {
        self.connection_at(0)
    }

    /// The connection of the engine bound to table `T` (see [`SessionBuilder`]), in the
    /// session's transaction on that engine; does not flush.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(metadata = META)]
    /// struct Audit {
    ///     #[column(primary_key)]
    ///     id: i64,
    /// }
    ///
    /// let main = create_engine("sqlite://")?;
    /// let audit = create_engine("sqlite://")?;
    /// META.create_all(&audit)?;
    /// let mut session = Session::builder(&main).bind_table::<Audit>(&audit).build();
    /// session.connection_for::<Audit>()?.execute(delete!(Audit))?;
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Session::connection`].
    pub fn connection_for<T: Table>(&mut self) -> Result<&mut Connection> {
        self.connection_for_table(T::table())
    }

    /// The engine table `T`'s statements go to (SQLAlchemy's `get_bind`).
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// #[derive(Table)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let session = Session::new(&engine);
    /// assert_eq!(session.get_bind::<Pet>().url(), engine.url());
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn get_bind<T: Table>(&self) -> &Engine {
        &self.binds.engines[self.binds.slot_for(T::table())]
    }

    /// True while the session holds a connection with a transaction open (on any of its
    /// engines).
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut session = Session::new(&engine);
    /// assert!(!session.in_transaction());
    /// session.execute(text("SELECT 1"))?;
    /// assert!(session.in_transaction());
    /// session.commit()?;
    /// assert!(!session.in_transaction());
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn in_transaction(&self) -> bool {
        self.txs.iter().any(Option::is_some)
    }

    fn connection_for_table(&mut self, table: &'static TableDef) -> Result<&mut Connection> {
        self.connection_at(self.binds.slot_for(table))
    }

    /// Autobegin: the transaction on engine `slot`, checking out a connection and beginning
    /// one if none is open.
    fn connection_at(&mut self, slot: usize) -> Result<&mut Connection> {
        let tx = match self.txs[slot].take() {
            Some(tx) => tx,
            None => {
                tracing::debug!(target: "quarry::session", engine = ?self.binds.engines[slot], "autobegin");
                EngineTransaction::begin_on(self.binds.engines[slot].connect()?)?
            }
        };
        Ok(&mut **self.txs[slot].insert(tx))
    }

    /// Flush, commit each open transaction and return the connections to the pool. The
    /// identity map is emptied (SQLAlchemy's expire-on-commit: the next [`Session::get`] reads
    /// the committed row); the session stays usable and begins anew on its next use.
    ///
    /// With several engines the commits run one after the other, not as a two-phase commit:
    /// when one fails the remaining transactions are rolled back, but the earlier ones stay
    /// committed.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(metadata = META)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut session = Session::new(&engine);
    /// session.add(Pet { id: 0, name: "Rex".into() });
    /// session.commit()?;
    /// assert!(!session.in_transaction());
    /// assert_eq!(engine.pool_status().checked_out, 0);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// A flush error (nothing is committed), or the first database error from a `COMMIT`.
    pub fn commit(&mut self) -> Result<()> {
        self.flush()?;
        self.work.expire();
        let mut result = Ok(());
        for tx in self.txs.iter_mut().filter_map(Option::take) {
            if result.is_ok() {
                result = tx.commit();
            } else if let Err(e) = tx.rollback() {
                tracing::warn!(target: "quarry::session", error = %e, "rollback after a failed commit failed");
            }
        }
        if result.is_ok() {
            self.work.committed();
        } else {
            unset(self.work.rolled_back());
        }
        result
    }

    /// Discard the pending work and the identity map, roll back each open transaction and
    /// return the connections to the pool. [`Added`] handles of objects flushed in the rolled
    /// back transactions no longer have a key. The session stays usable.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(metadata = META)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut session = Session::new(&engine);
    /// let rex = session.add(Pet { id: 0, name: "Rex".into() });
    /// session.flush()?;
    /// session.rollback()?;
    /// assert_eq!(rex.id(), None);
    /// let n: i64 = engine.execute(select!(count(Pet::id) FROM Pet))?.scalar()?;
    /// assert_eq!(n, 0);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// The first database error from a `ROLLBACK` (every transaction is ended regardless).
    pub fn rollback(&mut self) -> Result<()> {
        self.forget_work();
        let mut result = Ok(());
        for tx in self.txs.iter_mut().filter_map(Option::take) {
            let r = tx.rollback();
            if result.is_ok() {
                result = r;
            }
        }
        result
    }

    /// Roll back and return the connections to the pool, discarding all work, as dropping the
    /// session does (SQLAlchemy's `session.close()`). A connection whose rollback fails is
    /// discarded instead of returned. The session stays usable.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut session = Session::new(&engine);
    /// session.execute(text("SELECT 1"))?;
    /// assert_eq!(engine.pool_status().checked_out, 1);
    /// session.close();
    /// assert_eq!(engine.pool_status().checked_out, 0);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn close(&mut self) {
        self.discard();
    }

    /// Forget every object: the pending inserts and deletes and the identity map (SQLAlchemy's
    /// `expunge_all`). The transactions stay open; what was flushed stays in them.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, Clone)]
    /// #[table(metadata = META)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut session = Session::new(&engine);
    /// let rex = session.add(Pet { id: 0, name: "Rex".into() });
    /// session.expunge_all();
    /// session.commit()?; // nothing to flush
    /// assert!(!rex.is_flushed());
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn expunge_all(&mut self) {
        self.work.expunge_all();
    }

    /// Drop the work and the transactions (their guards roll back on drop, discarding a
    /// connection whose rollback fails).
    fn discard(&mut self) {
        self.forget_work();
        for tx in &mut self.txs {
            *tx = None;
        }
    }

    fn forget_work(&mut self) {
        unset(self.work.discard());
    }
}

/// The keys of rows rolled back: their `Added` handles no longer have one.
fn unset(slots: Vec<Arc<KeySlot>>) {
    for slot in slots {
        slot.set(None);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<Session>();
        send::<SessionMaker>();
        fn sync<T: Sync>() {}
        sync::<SessionMaker>();
    }
}
