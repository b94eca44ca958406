//! [`AsyncSession`]: the blocking `Session`'s unit of work on the async engine, driving the
//! same core rules (`rules::unit` for the queues and identity map, `rules::flush` for the
//! flush plan: parents inserted first, children deleted first, the row switch). One engine;
//! the first use checks out a connection and begins a transaction, `commit` / `rollback` end
//! it and return the connection.

use std::any::Any;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use quarry_core::rules::flush::{
    FlushPlan, FlushStep, IdentityKey, QueuedDelete, QueuedRow, check_arity, key_condition,
};
use quarry_core::rules::transaction::{End, TxKind};
use quarry_core::rules::unit::UnitOfWork;
use quarry_core::{
    Error, Identity, Insert, Insertable, MetaData, PrimaryKey, Result, Statement, Table, TableDef,
    Value,
};

use crate::connection::AsyncConnection;
use crate::engine::AsyncEngine;
use crate::rows::Rows;

/// An object queued by [`AsyncSession::add`]: tells its primary key once flushed (unset again
/// if its transaction rolls back).
pub struct Added<T> {
    slot: Arc<KeySlot>,
    _row: PhantomData<fn() -> T>,
}

impl<T> Clone for Added<T> {
    fn clone(&self) -> Self {
        Added {
            slot: Arc::clone(&self.slot),
            _row: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Added<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Added")
            .field("primary_key", &self.slot.get())
            .finish()
    }
}

impl<T> Added<T> {
    /// The primary key's values once the object is flushed (and not rolled back).
    pub fn primary_key(&self) -> Option<Vec<Value>> {
        self.slot.get()
    }

    /// The key of a table with a single integer primary key, once flushed.
    pub fn id(&self) -> Option<i64> {
        match self.slot.get()?.as_slice() {
            [Value::I16(v)] => Some(i64::from(*v)),
            [Value::I32(v)] => Some(i64::from(*v)),
            [Value::I64(v)] => Some(*v),
            _ => None,
        }
    }

    /// True once flushed (and not rolled back).
    pub fn is_flushed(&self) -> bool {
        self.slot.get().is_some()
    }
}

impl<T: Table> PrimaryKey for &Added<T> {
    fn into_key(self) -> Result<Vec<Value>> {
        self.slot.get().ok_or_else(|| {
            Error::config(format!(
                "the added {} row has no primary key: it was not flushed, or its transaction \
                 was rolled back",
                T::table().name()
            ))
        })
    }
}

#[derive(Debug, Default)]
struct KeySlot(Mutex<Option<Vec<Value>>>);

impl KeySlot {
    fn get(&self) -> Option<Vec<Value>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
    fn set(&self, key: Option<Vec<Value>>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = key;
    }
}

/// An object of some table, queued for insertion.
trait PendingRow: Send {
    fn table(&self) -> &'static TableDef;
    fn insert(&self) -> Insert<()>;
    fn values(&self, out: &mut Vec<(usize, Value)>);
    fn primary_key(&self) -> Vec<Value>;
    fn set_autoincrement_key(&mut self, key: i64) -> Result<()>;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

impl<T: Identity + Insertable + Send> PendingRow for T {
    fn table(&self) -> &'static TableDef {
        T::table()
    }
    fn insert(&self) -> Insert<()> {
        T::insert(self)
    }
    fn values(&self, out: &mut Vec<(usize, Value)>) {
        Insertable::values(self, out);
    }
    fn primary_key(&self) -> Vec<Value> {
        Identity::primary_key(self)
    }
    fn set_autoincrement_key(&mut self, key: i64) -> Result<()> {
        Identity::set_autoincrement_key(self, key)
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

struct PendingInsert {
    row: Box<dyn PendingRow>,
    slot: Arc<KeySlot>,
}

impl QueuedRow for PendingInsert {
    fn table(&self) -> &'static TableDef {
        self.row.table()
    }
    fn primary_key(&self) -> Vec<Value> {
        self.row.primary_key()
    }
}

/// The unit of work on an [`AsyncEngine`] (SQLAlchemy's `AsyncSession`): `add`, `delete`,
/// `get` through the identity map, `execute`, `flush`, `commit`, `rollback`, `close`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> quarry_core::Result<()> {
/// use quarry_async::{AsyncSession, create_async_engine};
/// use quarry_core::text;
///
/// let engine = create_async_engine("sqlite://").await?;
/// engine.execute(text("CREATE TABLE t (x INTEGER)")).await?;
/// let mut session = AsyncSession::new(&engine);
/// session.execute(text("INSERT INTO t VALUES (1)")).await?;
/// session.rollback().await?;
/// let n: i64 = engine.execute(text("SELECT count(*) FROM t")).await?.scalar()?;
/// assert_eq!(n, 0);
/// # Ok(())
/// # }
/// ```
pub struct AsyncSession {
    binds: Binds,
    /// One connection in its transaction per engine of `binds`, opened on first use.
    conns: Vec<Option<(AsyncConnection, TxKind)>>,
    work: UnitOfWork<PendingInsert, Box<dyn Any + Send>, Arc<KeySlot>>,
}

/// Which engine each table's statements go to (the core's rule, as the blocking session's).
type Binds = quarry_core::rules::binds::Binds<AsyncEngine>;

/// The one engine `stmt`'s tables go to (the default for none).
fn slot_for_statement(binds: &Binds, stmt: &impl Statement) -> Result<usize> {
    let mut tables = Vec::new();
    stmt.tables(&mut tables);
    binds
        .slot_for_tables(&tables)
        .map_err(|((first, first_table), (slot, table))| {
            Error::Unbound(format!(
                "the statement spans the session's engines: table \"{}\" is bound to {} and \
                 table \"{}\" to {}; a statement runs on one engine",
                first_table.name(),
                binds.engines[first].url(),
                table.name(),
                binds.engines[slot].url(),
            ))
        })
}

/// An [`AsyncSession`] over several engines: `AsyncSession::builder(&default)`, then
/// `bind_metadata` / `bind_table`, then `build()` (the blocking `SessionBuilder`'s binds).
#[derive(Debug)]
#[must_use = "call .build() to get the session"]
pub struct AsyncSessionBuilder {
    binds: Binds,
}

impl AsyncSessionBuilder {
    /// Send the statements of every table of `metadata` to `engine`. A later bind of the
    /// same metadata replaces an earlier one; a table bind beats a metadata bind.
    pub fn bind_metadata(mut self, metadata: &'static MetaData, engine: &AsyncEngine) -> Self {
        let slot = self.binds.slot_of(engine, AsyncEngine::same);
        self.binds.metadata.push((metadata, slot));
        self
    }

    /// Send the statements of table `T` to `engine`.
    pub fn bind_table<T: Table>(mut self, engine: &AsyncEngine) -> Self {
        let slot = self.binds.slot_of(engine, AsyncEngine::same);
        self.binds.tables.push((T::table(), slot));
        self
    }

    /// The session; no connection until the first use.
    pub fn build(self) -> AsyncSession {
        AsyncSession {
            conns: (0..self.binds.engines.len()).map(|_| None).collect(),
            binds: self.binds,
            work: UnitOfWork::default(),
        }
    }
}

impl std::fmt::Debug for AsyncSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSession")
            .field("in_transaction", &self.in_transaction())
            .field("pending", &self.work.pending())
            .finish_non_exhaustive()
    }
}

fn unset(slots: Vec<Arc<KeySlot>>) {
    for slot in slots {
        slot.set(None);
    }
}

impl AsyncSession {
    /// A session on `engine`; no connection until the first use.
    pub fn new(engine: &AsyncEngine) -> Self {
        AsyncSession::builder(engine).build()
    }

    /// A session whose tables may go to other engines than `default` (see
    /// [`AsyncSessionBuilder`]). Each engine gets a connection and a transaction of its own;
    /// `commit` commits them in turn (not a two-phase commit, as SQLAlchemy's default).
    pub fn builder(default: &AsyncEngine) -> AsyncSessionBuilder {
        AsyncSessionBuilder {
            binds: Binds::new(default.clone()),
        }
    }

    /// The engine table `T`'s statements go to.
    pub fn get_bind<T: Table>(&self) -> &AsyncEngine {
        &self.binds.engines[self.binds.slot_for(T::table())]
    }

    /// Queue `obj` for insertion at the next flush.
    pub fn add<T: Identity + Insertable + Send + 'static>(&mut self, obj: T) -> Added<T> {
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

    /// Queue the row of `obj` for deletion by its primary key at the next flush.
    pub fn delete<T: Identity + Insertable>(&mut self, obj: &T) {
        let table = T::table();
        let mut values = Vec::new();
        obj.values(&mut values);
        self.work.delete(QueuedDelete {
            parent: QueuedDelete::parent_of(table, &values),
            ..QueuedDelete::new(table, obj.primary_key())
        });
    }

    /// True while the session holds a transaction open (on any of its engines).
    pub fn in_transaction(&self) -> bool {
        self.conns.iter().any(Option::is_some)
    }

    /// The session's connection to engine `slot`, in its transaction (begun on first use).
    async fn connection(&mut self, slot: usize) -> Result<&mut AsyncConnection> {
        let held = &mut self.conns[slot];
        if held.is_none() {
            let mut conn = self.binds.engines[slot].connect().await?;
            let kind = conn.begin_root().await?;
            *held = Some((conn, kind));
        }
        match held.as_mut() {
            Some((conn, _)) => Ok(conn),
            None => unreachable!("a connection was just opened"),
        }
    }

    /// Write the pending work in the session's transaction, as the blocking `Session::flush`
    /// does.
    ///
    /// # Errors
    /// A database error, after which the transaction is rolled back and the work discarded;
    /// [`Error::Config`] for a delete that cannot be.
    pub async fn flush(&mut self) -> Result<()> {
        let Some(plan) = self.work.flush()? else {
            return Ok(());
        };
        match self.write(plan).await {
            Ok(keys) => {
                let slots = keys.into_iter().map(|(slot, key)| {
                    slot.set(Some(key));
                    slot
                });
                self.work.flushed(slots);
                Ok(())
            }
            Err(e) => {
                tracing::warn!(target: "quarry::session", error = %e, "flush failed; rolling back the session's transaction");
                let _ = self.rollback().await;
                Err(e)
            }
        }
    }

    async fn write(
        &mut self,
        plan: FlushPlan<PendingInsert>,
    ) -> Result<Vec<(Arc<KeySlot>, Vec<Value>)>> {
        let mut keys = Vec::new();
        for step in plan {
            match step {
                FlushStep::Insert(mut step) => {
                    let insert = step.row.row.insert();
                    let slot = self.binds.slot_for(step.table);
                    let rows = self.connection(slot).await?.execute(insert).await?;
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
                        let slot = self.binds.slot_for(step.table);
                        let rows = self.connection(slot).await?.execute(update).await?;
                        if !step.matched(rows.rowcount()) {
                            tracing::warn!(target: "quarry::session", table = step.table.name(), "UPDATE of a switched row matched 0 rows");
                        }
                    }
                    let identity = step.identity();
                    let PendingInsert { row, slot } = step.row;
                    self.work.remember(identity, row.into_any());
                    keys.push((slot, step.key));
                }
                FlushStep::Delete(step) => {
                    let delete = step.statement();
                    let slot = self.binds.slot_for(step.table);
                    let rows = self.connection(slot).await?.execute(delete).await?;
                    if !step.matched(rows.rowcount()) {
                        tracing::warn!(target: "quarry::session", table = step.table.name(), "DELETE matched 0 rows");
                    }
                    self.work.forget(&step.identity());
                }
            }
        }
        Ok(keys)
    }

    /// The row of `T` with primary key `key`: the session's copy if it has one, else loaded
    /// in the session's transaction and kept. Pending work is flushed first.
    ///
    /// # Errors
    /// A flush error; [`Error::Config`] for a key of the wrong arity; a database error.
    pub async fn get<T>(&mut self, key: impl PrimaryKey) -> Result<Option<T>>
    where
        T: Identity + Clone + Send + 'static,
    {
        self.flush().await?;
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
            .connection(self.binds.slot_for(table))
            .await?
            .execute(stmt)
            .await?
            .one_or_none()?;
        if let Some(obj) = &found {
            self.work.remember(
                IdentityKey::new(table, &obj.primary_key()),
                Box::new(obj.clone()),
            );
        }
        Ok(found)
    }

    /// Run `stmt` in the session's transaction, after flushing pending work.
    ///
    /// # Errors
    /// A flush error, or as [`AsyncConnection::execute`].
    pub async fn execute<S: Statement>(&mut self, stmt: S) -> Result<Rows<S::Row>>
    where
        S::Row: Send + 'static,
    {
        self.flush().await?;
        let slot = slot_for_statement(&self.binds, &stmt)?;
        self.connection(slot).await?.execute(stmt).await
    }

    /// Flush, then commit the session's transactions (one per engine used, in the order of
    /// the binds) and return their connections.
    ///
    /// # Errors
    /// A flush error (nothing is committed), or the first `COMMIT`'s (the transactions after
    /// it are rolled back; those before it stay committed).
    pub async fn commit(&mut self) -> Result<()> {
        self.flush().await?;
        self.work.expire();
        let mut r = Ok(());
        for held in &mut self.conns {
            let Some((mut conn, kind)) = held.take() else {
                continue;
            };
            let end = if r.is_ok() {
                End::Commit
            } else {
                End::Rollback
            };
            let ended = conn.end(&kind, end).await;
            if r.is_ok() {
                r = ended;
            }
        }
        if r.is_ok() {
            self.work.committed();
        } else {
            unset(self.work.rolled_back());
        }
        r
    }

    /// Discard the pending work and the identity map, roll back the transaction and return
    /// the connection. The session stays usable.
    ///
    /// # Errors
    /// The `ROLLBACK`'s error (the transaction is over regardless).
    pub async fn rollback(&mut self) -> Result<()> {
        unset(self.work.discard());
        let mut r = Ok(());
        for held in &mut self.conns {
            if let Some((mut conn, kind)) = held.take() {
                let ended = conn.end(&kind, End::Rollback).await;
                if r.is_ok() {
                    r = ended;
                }
            }
        }
        r
    }

    /// Roll back and return the connection, discarding all work (also what dropping the
    /// session does: the pool rolls the connection back).
    pub async fn close(&mut self) {
        if let Err(e) = self.rollback().await {
            tracing::warn!(target: "quarry::session", error = %e, "rollback on close failed");
        }
    }
}

impl Drop for AsyncSession {
    fn drop(&mut self) {
        unset(self.work.discard());
    }
}
