//! [`AsyncConnection`] and [`AsyncTransaction`]: statements, streams and SQLAlchemy 1.x's
//! transaction nesting, decided by the core's transaction stack (`rules::transaction`) as in
//! the blocking engine; this file only performs the actions it names.
//!
//! Cancellation: every operation may be dropped at any await. A connection whose operation
//! was cut short is in an unknown state; the next use hands it back to the pool (which
//! cancels and rolls back, or closes it) and marks an open transaction inactive, so that only
//! its rollback may follow. A guard dropped without commit or rollback — also one whose commit
//! future was dropped — is rolled back before the connection's next statement, or by the
//! pool's reset when the connection goes back.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

use quarry_core::rules::transaction::{End, TxAction, TxKind, TxState};
use quarry_core::{Compiled, Error, FromRow, Result, Statement};

use crate::driver::Conn;
use crate::engine::AsyncEngine;
use crate::pool::PooledConn;
use crate::rows::Rows;
use crate::stream::RowStream;

/// A connection checked out of an [`AsyncEngine`]'s pool; back to the pool when dropped
/// (rolled back first when a transaction is open).
pub struct AsyncConnection {
    engine: AsyncEngine,
    conn: Option<PooledConn>,
    /// Where it was checked out (leak detection names it, also for a connection checked out
    /// again after `invalidate`).
    site: &'static std::panic::Location<'static>,
    tx: TxState,
    /// Guards dropped without commit or rollback, to roll back before the next use.
    dropped: Vec<TxKind>,
}

impl std::fmt::Debug for AsyncConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncConnection")
            .field("conn", &self.conn)
            .field("tx", &self.tx)
            .finish_non_exhaustive()
    }
}

/// How a guard begins.
#[derive(Clone, Copy)]
enum How<'x> {
    Begin,
    Nested,
    TwoPhase(Option<&'x str>),
}

/// A transaction-id for `begin_twophase(None)`: unique within the process and across runs.
fn generate_xid() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "quarry_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

impl AsyncConnection {
    pub(crate) fn new(
        engine: AsyncEngine,
        conn: PooledConn,
        site: &'static std::panic::Location<'static>,
    ) -> Self {
        AsyncConnection {
            engine,
            conn: Some(conn),
            site,
            tx: TxState::default(),
            dropped: Vec::new(),
        }
    }

    /// The engine this connection came from.
    pub fn engine(&self) -> &AsyncEngine {
        &self.engine
    }

    /// Run a statement and read its rows, decoded into `S::Row` by the core's `FromRow`.
    ///
    /// # Errors
    /// A compile error, a database error carrying the SQL, a decode error naming the column,
    /// or [`Error::InactiveTransaction`] after an inner rollback (or after the connection was
    /// lost, or an operation on it was cut short, inside a transaction).
    pub async fn execute<S: Statement>(&mut self, stmt: S) -> Result<Rows<S::Row>>
    where
        S::Row: Send + 'static,
    {
        let compiled = stmt.into_execution(self.engine.dialect())?;
        self.run(compiled).await
    }

    pub(crate) async fn run<R: FromRow + Send + 'static>(
        &mut self,
        compiled: Compiled,
    ) -> Result<Rows<R>> {
        self.settle().await?;
        self.tx.check_active()?;
        self.engine.log_statement(compiled.sql(), compiled.params());
        let hide = self.engine.hide_parameters();
        let conn = self.live().await?;
        match conn.run::<R>(compiled).await {
            Ok(c) => Ok(Rows::new(c)),
            Err(e) => Err(scrub(e, hide)),
        }
    }

    /// Run a statement and give its rows as a [`futures_core::Stream`], pulled from the
    /// server as they are polled (constant memory). The stream borrows the connection.
    ///
    /// # Errors
    /// As [`AsyncConnection::execute`], for what fails before the first row.
    pub async fn stream<S: Statement>(&mut self, stmt: S) -> Result<RowStream<'_, S::Row>>
    where
        S::Row: Send + 'static,
    {
        let compiled = stmt.into_execution(self.engine.dialect())?;
        self.settle().await?;
        self.tx.check_active()?;
        self.engine.log_statement(compiled.sql(), compiled.params());
        let hide = self.engine.hide_parameters();
        let conn = self.live().await?;
        match conn.stream::<S::Row>(compiled).await {
            Ok(source) => Ok(RowStream { source }),
            Err(e) => Err(scrub(e, hide)),
        }
    }

    /// Begin a transaction; the guard commits with [`AsyncTransaction::commit`] and rolls
    /// back when dropped without one. Inside an open transaction this nests as SQLAlchemy
    /// 1.x's `begin()` does (see the blocking `Connection::begin`).
    ///
    /// # Errors
    /// A database error, or [`Error::InactiveTransaction`].
    pub async fn begin(&mut self) -> Result<AsyncTransaction<'_>> {
        let kind = self.begin_kind(How::Begin).await?;
        Ok(AsyncTransaction::new(self, kind))
    }

    /// A savepoint (`SAVEPOINT sa_savepoint_N`) inside an open transaction, else as
    /// [`AsyncConnection::begin`].
    ///
    /// # Errors
    /// A database error, or [`Error::InactiveTransaction`].
    pub async fn begin_nested(&mut self) -> Result<AsyncTransaction<'_>> {
        let kind = self.begin_kind(How::Nested).await?;
        Ok(AsyncTransaction::new(self, kind))
    }

    /// A two-phase transaction (PostgreSQL `PREPARE TRANSACTION`) with the global
    /// id `xid`, or a generated one.
    ///
    /// # Errors
    /// [`Error::Unsupported`] on SQLite; [`Error::Config`] inside another transaction or for
    /// a malformed `xid`; a database error.
    pub async fn begin_twophase(&mut self, xid: Option<&str>) -> Result<AsyncTransaction<'_>> {
        let kind = self.begin_kind(How::TwoPhase(xid)).await?;
        Ok(AsyncTransaction::new(self, kind))
    }

    /// True while a transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.tx.is_open()
    }

    /// True while a savepoint is open.
    pub fn in_nested_transaction(&self) -> bool {
        self.tx.savepoints() > 0
    }

    /// Discard the driver connection (it is closed, not returned); the next statement checks
    /// out a new one. Inside a transaction the transaction becomes inactive.
    pub fn invalidate(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.invalidate(false);
        }
        self.tx.invalidate();
    }

    /// Return the connection to the pool now (as dropping it does).
    pub fn close(self) {}

    /// `begin()` for a holder that keeps the guard's kind itself (the session).
    pub(crate) async fn begin_root(&mut self) -> Result<TxKind> {
        self.begin_kind(How::Begin).await
    }

    /// End the guard `kind` begun by [`AsyncConnection::begin_root`].
    pub(crate) async fn end(&mut self, kind: &TxKind, end: End) -> Result<()> {
        self.settle().await?;
        self.finish(kind, end).await
    }

    pub(crate) async fn run_in_transaction<T>(
        &mut self,
        f: impl AsyncFnOnce(&mut AsyncConnection) -> Result<T>,
    ) -> Result<T> {
        let kind = self.begin_kind(How::Begin).await?;
        // Dropped from here on, the connection goes back with its transaction open, and the
        // pool rolls it back.
        match f(self).await {
            Ok(value) => {
                self.finish(&kind, End::Commit).await?;
                Ok(value)
            }
            Err(e) => {
                if let Err(rollback) = self.finish(&kind, End::Rollback).await {
                    tracing::warn!(target: "quarry::engine", error = %rollback, "rollback after a failed transaction body failed");
                }
                Err(e)
            }
        }
    }

    /// The driver connection, ready for a statement: one whose last operation was cut short
    /// (or that was lost) goes back to the pool for its reset and, outside a transaction, a
    /// new one is checked out; inside one, the transaction is inactive.
    async fn live(&mut self) -> Result<&mut Conn> {
        self.drop_if_unusable();
        if self.conn.is_none() {
            if self.tx.is_open() {
                return Err(Error::InactiveTransaction(
                    "the connection was lost, or an operation on it was cut short (its future \
                     was dropped), inside a transaction; roll the transaction back before using \
                     the connection again"
                        .into(),
                ));
            }
            self.conn = Some(self.engine.inner.pool.checkout(self.site).await?);
        }
        match self.conn.as_mut() {
            Some(c) => Ok(c.conn()),
            None => unreachable!("a connection was just checked out"),
        }
    }

    /// Hand back a connection whose state is unknown (busy: a future was dropped mid-
    /// operation) or that is lost; true if one is left to use.
    fn drop_if_unusable(&mut self) -> bool {
        if let Some(c) = self.conn.as_mut() {
            let conn = c.conn();
            if conn.lost {
                if let Some(c) = self.conn.take() {
                    c.invalidate(true);
                }
                self.tx.invalidate();
            } else if conn.busy {
                // Its reset (cancel, rollback) runs in the pool.
                self.conn = None;
                self.tx.invalidate();
            }
        }
        self.conn.is_some()
    }

    /// Roll back the guards dropped without commit or rollback, innermost first (borrowing
    /// makes inner guards drop first, so in the order they were dropped).
    async fn settle(&mut self) -> Result<()> {
        while !self.dropped.is_empty() {
            let kind = self.dropped.remove(0);
            self.finish(&kind, End::Rollback).await?;
        }
        Ok(())
    }

    async fn begin_kind(&mut self, how: How<'_>) -> Result<TxKind> {
        self.settle().await?;
        self.drop_if_unusable();
        let step = match how {
            How::Begin => self.tx.begin()?,
            How::Nested => self.tx.begin_nested()?,
            How::TwoPhase(xid) => {
                let dialect = self.engine.dialect();
                let style = dialect.two_phase().ok_or_else(|| Error::Unsupported {
                    feature: "two-phase commit".into(),
                    dialect: dialect.name(),
                })?;
                self.tx.begin_twophase(style, xid, generate_xid)?
            }
        };
        let ran = self.perform(step.actions()).await;
        self.tx.begun(step, ran)
    }

    async fn finish(&mut self, kind: &TxKind, end: End) -> Result<()> {
        // A connection cut short or lost makes the transaction inactive before deciding.
        self.drop_if_unusable();
        let ending = self.tx.end(kind, end);
        let ran = self.perform(ending.actions()).await;
        self.tx.ended(ending, ran)
    }

    async fn prepare(&mut self, kind: &TxKind) -> Result<()> {
        let step = self.tx.prepare(kind)?;
        let ran = self.perform(step.actions()).await;
        self.tx.prepared(step, ran)
    }

    /// Carry out the transaction stack's actions, in order, stopping at the first failure.
    async fn perform(&mut self, actions: &[TxAction]) -> Result<()> {
        let hide = self.engine.hide_parameters();
        for action in actions {
            match action {
                TxAction::Begin => {
                    self.engine.log_text("BEGIN (implicit)");
                    self.live()
                        .await?
                        .begin()
                        .await
                        .map_err(|e| scrub(e, hide))?;
                }
                TxAction::Commit => {
                    self.engine.log_text("COMMIT");
                    self.live()
                        .await?
                        .commit()
                        .await
                        .map_err(|e| scrub(e, hide))?;
                }
                TxAction::Rollback => {
                    self.engine.log_text("ROLLBACK");
                    // A connection handed back or lost took its transaction with it.
                    if self.drop_if_unusable()
                        && let Some(c) = self.conn.as_mut()
                    {
                        c.conn().rollback().await.map_err(|e| scrub(e, hide))?;
                    }
                }
                TxAction::Sql(sql) => {
                    self.engine.log_text(sql);
                    if !self.drop_if_unusable() && self.tx.is_open() {
                        // Inside a transaction that died with its connection (a rollback:
                        // commits of an inactive transaction are refused before this).
                        continue;
                    }
                    self.live()
                        .await?
                        .batch(sql)
                        .await
                        .map_err(|e| scrub(e, hide))?;
                }
                TxAction::ForgetTransaction => {
                    if let Some(c) = self.conn.as_mut() {
                        c.conn().in_transaction = false;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Parameters out of an error when the engine hides them.
fn scrub(mut e: Error, hide: bool) -> Error {
    if hide && let Error::Database(db) = &mut e {
        db.params.clear();
    }
    e
}

/// An open transaction on a borrowed [`AsyncConnection`]; derefs to it.
///
/// Dropped without [`AsyncTransaction::commit`] or [`AsyncTransaction::rollback`] — also when
/// the future of either is dropped before it finishes — it is rolled back: before the
/// connection's next use, or by the pool when the connection goes back.
#[must_use = "a transaction rolls back when dropped; call .commit().await to keep its work"]
pub struct AsyncTransaction<'c> {
    conn: &'c mut AsyncConnection,
    kind: TxKind,
    done: bool,
}

impl std::fmt::Debug for AsyncTransaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncTransaction")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl<'c> AsyncTransaction<'c> {
    fn new(conn: &'c mut AsyncConnection, kind: TxKind) -> Self {
        AsyncTransaction {
            conn,
            kind,
            done: false,
        }
    }

    /// Commit: `COMMIT` for the outermost transaction, nothing for a nested `begin()`,
    /// `RELEASE SAVEPOINT` for a savepoint, the second phase for two-phase.
    ///
    /// # Errors
    /// [`Error::InactiveTransaction`] when an inner transaction rolled this one back; a
    /// database error.
    pub async fn commit(mut self) -> Result<()> {
        self.conn.settle().await?;
        let r = self.conn.finish(&self.kind, End::Commit).await;
        self.done = true;
        r
    }

    /// Roll back (a nested `begin()`: the whole transaction; a savepoint: back to it).
    ///
    /// # Errors
    /// A database error.
    pub async fn rollback(mut self) -> Result<()> {
        self.conn.settle().await?;
        let r = self.conn.finish(&self.kind, End::Rollback).await;
        self.done = true;
        r
    }

    /// The first phase of a two-phase commit.
    ///
    /// # Errors
    /// [`Error::Config`] if this is not a two-phase transaction or is prepared already; a
    /// database error.
    pub async fn prepare(&mut self) -> Result<()> {
        self.conn.prepare(&self.kind).await
    }

    /// The global id of a two-phase transaction.
    pub fn xid(&self) -> Option<&str> {
        match &self.kind {
            TxKind::TwoPhase { xid, .. } => Some(xid),
            _ => None,
        }
    }

    /// False once an inner transaction rolled back the whole.
    pub fn is_active(&self) -> bool {
        self.conn.tx.is_active()
    }
}

impl Drop for AsyncTransaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.conn.dropped.push(self.kind.clone());
        }
    }
}

impl Deref for AsyncTransaction<'_> {
    type Target = AsyncConnection;
    fn deref(&self) -> &AsyncConnection {
        self.conn
    }
}

impl DerefMut for AsyncTransaction<'_> {
    fn deref_mut(&mut self) -> &mut AsyncConnection {
        self.conn
    }
}
