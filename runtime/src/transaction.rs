//! Transactions: guards over a [`Connection`] with SQLAlchemy 1.x's nesting rules.
//!
//! A connection keeps a stack of the transaction guards open on it ([`TxState`]). The first is
//! the real transaction (`BEGIN`); a `begin()` inside it pushes a *marker* whose commit does
//! nothing and whose rollback rolls back the real transaction at once and marks it inactive
//! (inside a savepoint: rolls back to the savepoint only); `begin_nested()` pushes a savepoint. Borrowing makes the stack discipline a compile-time
//! fact: an inner guard borrows the outer one, so it ends first.
//!
//! The rules are the core's (`quarry_core::rules::transaction`): the stack decides what each
//! begin, commit, rollback and prepare takes as a list of actions; this module runs them on
//! the connection ([`run`]) and reports the result back to the stack.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::connection::{Connection, State};
use crate::engine::Engine;
use crate::error::{Error, Result};
use quarry_core::rules::transaction::{End, TxAction};
pub(crate) use quarry_core::rules::transaction::{TxKind, TxState};

/// A transaction-id for `begin_twophase(None)`: unique within the process and across runs.
pub(crate) fn generate_xid() -> String {
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

/// Carry out the transaction stack's actions on `conn`, in order, stopping at the first
/// failure. The stack still holds the guard meanwhile (a disconnect marks it inactive, and an
/// invalidated connection refuses SQL inside it); the caller reports the result to the stack.
pub(crate) fn run(conn: &mut State, actions: &[TxAction]) -> Result<()> {
    actions.iter().try_for_each(|action| match action {
        TxAction::Begin => conn.begin_driver(),
        TxAction::Commit => conn.commit_driver(),
        TxAction::Rollback => conn.rollback_driver(),
        TxAction::Sql(sql) => conn.batch(sql),
        TxAction::ForgetTransaction => {
            conn.driver()?.forget_transaction();
            Ok(())
        }
    })
}

/// End the transaction `kind` on `conn`, committing or rolling back.
fn finish(conn: &mut State, kind: &TxKind, end: End) -> Result<()> {
    let ending = conn.tx.end(kind, end);
    let ran = run(conn, ending.actions());
    conn.tx.ended(ending, ran)
}

fn prepare(conn: &mut State, kind: &TxKind) -> Result<()> {
    let step = conn.tx.prepare(kind)?;
    let ran = run(conn, step.actions());
    conn.tx.prepared(step, ran)
}

/// A guard dropped without commit or rollback: roll back; if even that fails, the connection's
/// state is unknown, so it is discarded rather than returned to the pool.
fn rollback_dropped(conn: &mut State, kind: &TxKind) {
    if let Err(e) = finish(conn, kind, End::Rollback) {
        tracing::warn!(target: "quarry::engine", error = %e, "rollback of a dropped transaction failed");
        conn.invalidate();
    }
}

/// Called when a connection is dropped with guards still open (a guard was leaked): end them
/// all, innermost first.
pub(crate) fn abandon(conn: &mut State) -> Result<()> {
    while let Some(kind) = conn.tx.innermost().cloned() {
        finish(conn, &kind, End::Rollback)?;
    }
    Ok(())
}

/// An open transaction on a borrowed [`Connection`]; derefs to it.
///
/// [`Transaction::commit`] commits, [`Transaction::rollback`] rolls back, and dropping the guard
/// without either rolls back (also during a panic). See [`Connection::begin`] for nesting.
#[must_use = "a transaction rolls back when dropped; call .commit() to keep its work"]
pub struct Transaction<'c> {
    conn: &'c mut Connection,
    kind: TxKind,
    done: bool,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("kind", &self.kind)
            .field("active", &self.conn.transaction_active())
            .finish()
    }
}

impl<'c> Transaction<'c> {
    pub(crate) fn new(conn: &'c mut Connection, kind: TxKind) -> Self {
        Transaction {
            conn,
            kind,
            done: false,
        }
    }

    /// Commit: `COMMIT` for the outermost transaction, nothing for a nested `begin()`,
    /// `RELEASE SAVEPOINT` for a savepoint, `COMMIT PREPARED` / `XA COMMIT` for two-phase.
    ///
    /// # Errors
    /// [`Error::InactiveTransaction`] when an inner transaction rolled this one back; a
    /// database error (the transaction is over either way).
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        finish(&mut self.conn.state(), &self.kind, End::Commit)
    }

    /// Roll back. For a nested `begin()` this rolls back the whole transaction and makes the
    /// outer ones inactive (a `begin()` inside a savepoint rolls back to the savepoint, as
    /// SQLAlchemy 1.x does); for a savepoint only what ran since it.
    ///
    /// # Errors
    /// A database error.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        finish(&mut self.conn.state(), &self.kind, End::Rollback)
    }

    /// First phase of a two-phase commit: `PREPARE TRANSACTION 'xid'` / `XA PREPARE 'xid'`.
    ///
    /// # Errors
    /// [`Error::Config`] if this is not a two-phase transaction or is already prepared; a
    /// database error.
    pub fn prepare(&mut self) -> Result<()> {
        prepare(&mut self.conn.state(), &self.kind)
    }

    /// The global id of a two-phase transaction.
    pub fn xid(&self) -> Option<&str> {
        match &self.kind {
            TxKind::TwoPhase { xid, .. } => Some(xid),
            _ => None,
        }
    }

    /// True until an inner transaction rolls back the whole.
    pub fn is_active(&self) -> bool {
        self.conn.transaction_active()
    }
}

impl Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            rollback_dropped(&mut self.conn.state(), &self.kind);
        }
    }
}

/// A transaction that owns its connection: what [`Engine::begin`] returns. Derefs to the
/// [`Connection`]; the connection goes back to the pool when the transaction ends.
///
/// Under [`Strategy::ThreadLocal`](crate::Strategy::ThreadLocal) the connection is the
/// thread's shared one, and the transaction is the thread's: connectionless and implicit
/// executions on the thread join it until it ends. A second `engine.begin()` on the thread
/// nests in it (its commit does nothing, its rollback rolls back the whole), and
/// [`Engine::begin_nested`] opens a savepoint in it.
#[must_use = "a transaction rolls back when dropped; call .commit() to keep its work"]
#[derive(Debug)]
pub struct EngineTransaction {
    conn: Connection,
    kind: TxKind,
    done: bool,
}

impl EngineTransaction {
    pub(crate) fn begin(engine: &Engine) -> Result<Self> {
        Self::start(engine.contextual_connect()?, false)
    }

    pub(crate) fn begin_nested(engine: &Engine) -> Result<Self> {
        Self::start(engine.contextual_connect()?, true)
    }

    /// Begin a transaction on `conn`, which the transaction then owns.
    ///
    /// # Errors
    /// [`Error::Config`] when `conn` is already in a transaction; a database error from `BEGIN`.
    pub(crate) fn begin_on(conn: Connection) -> Result<Self> {
        if conn.in_transaction() {
            return Err(Error::config(
                "the connection is already in a transaction; commit or roll it back first",
            ));
        }
        Self::start(conn, false)
    }

    /// `BEGIN` (or, on a thread's shared connection inside its transaction, a nesting marker
    /// or with `nested` a savepoint).
    fn start(mut conn: Connection, nested: bool) -> Result<Self> {
        let kind = if nested {
            conn.state().begin_nested()?
        } else {
            conn.state().begin()?
        };
        Ok(EngineTransaction {
            conn,
            kind,
            done: false,
        })
    }

    /// Commit and return the connection to the pool (for a thread's transaction: let go of
    /// the thread's connection).
    ///
    /// # Errors
    /// As [`Transaction::commit`].
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        finish(&mut self.conn.state(), &self.kind, End::Commit)
    }

    /// Roll back and return the connection to the pool.
    ///
    /// # Errors
    /// A database error.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        finish(&mut self.conn.state(), &self.kind, End::Rollback)
    }

    /// True until an inner transaction rolls back the whole.
    pub fn is_active(&self) -> bool {
        self.conn.transaction_active()
    }
}

impl Deref for EngineTransaction {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl DerefMut for EngineTransaction {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for EngineTransaction {
    fn drop(&mut self) {
        if !self.done {
            rollback_dropped(&mut self.conn.state(), &self.kind);
        }
    }
}
