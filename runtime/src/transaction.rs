//! Transactions: guards over a [`Connection`] with SQLAlchemy 1.x's nesting rules.
//!
//! A connection keeps a stack of the transaction guards open on it ([`TxState`]). The first is
//! the real transaction (`BEGIN`); a `begin()` inside it pushes a *marker* whose commit does
//! nothing and whose rollback rolls back the real transaction at once and marks it inactive;
//! `begin_nested()` pushes a savepoint. Borrowing makes the stack discipline a compile-time
//! fact: an inner guard borrows the outer one, so it ends first.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::connection::{Connection, State};
use crate::dialect::TwoPhase;
use crate::engine::Engine;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TxKind {
    /// The real transaction: `BEGIN` … `COMMIT` / `ROLLBACK`.
    Root,
    /// A `begin()` inside an open transaction.
    Marker,
    /// `SAVEPOINT name`.
    Savepoint(String),
    /// A two-phase transaction with its global id.
    TwoPhase { xid: String, style: TwoPhase },
}

/// The transaction guards open on one connection, outermost first.
#[derive(Debug, Default)]
pub(crate) struct TxState {
    stack: Vec<TxKind>,
    /// An inner `begin()` rolled back: the real transaction is gone, and only a rollback of the
    /// outer guards may follow.
    inactive: bool,
    savepoint_seq: u32,
    prepared: bool,
}

const INACTIVE: &str = "an inner transaction was rolled back, which rolled back the whole \
                        transaction; roll back the outer transaction before running more statements";

impl TxState {
    pub(crate) fn is_open(&self) -> bool {
        !self.stack.is_empty()
    }

    pub(crate) fn savepoints(&self) -> usize {
        self.stack
            .iter()
            .filter(|k| matches!(k, TxKind::Savepoint(_)))
            .count()
    }

    pub(crate) fn check_active(&self) -> Result<()> {
        if self.inactive {
            Err(Error::InactiveTransaction(INACTIVE.into()))
        } else {
            Ok(())
        }
    }

    pub(crate) fn begin_kind(&self) -> Result<TxKind> {
        if self.stack.is_empty() {
            return Ok(TxKind::Root);
        }
        self.check_active()?;
        if self.prepared {
            return Err(Error::InactiveTransaction(
                "the two-phase transaction is prepared; only commit or rollback may follow".into(),
            ));
        }
        Ok(TxKind::Marker)
    }

    pub(crate) fn push(&mut self, kind: TxKind) {
        self.stack.push(kind);
    }

    fn pop(&mut self) {
        self.stack.pop();
        if self.stack.is_empty() {
            self.inactive = false;
            self.prepared = false;
        }
    }

    pub(crate) fn next_savepoint_name(&mut self) -> String {
        self.savepoint_seq += 1;
        format!("sa_savepoint_{}", self.savepoint_seq)
    }

    /// The driver connection was discarded: any open transaction is gone with it.
    pub(crate) fn invalidate(&mut self) {
        if self.is_open() {
            self.inactive = true;
        }
    }
}

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

/// A caller's xid goes into SQL as a string literal: allow only characters that need no quoting.
pub(crate) fn check_xid(xid: &str) -> Result<String> {
    if xid.is_empty()
        || xid.len() > 64
        || !xid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b))
    {
        return Err(Error::config(format!(
            "two-phase transaction id {xid:?} must be 1 to 64 characters of letters, digits, \
             '_', '-', '.' or ':'"
        )));
    }
    Ok(xid.to_owned())
}

/// End the transaction `kind` on `conn`, committing or rolling back.
fn finish(conn: &mut State, kind: &TxKind, commit: bool) -> Result<()> {
    let result = if commit {
        commit_kind(conn, kind)
    } else {
        rollback_kind(conn, kind)
    };
    let was_marker = *kind == TxKind::Marker;
    conn.tx.pop();
    if was_marker && !commit && conn.tx.is_open() {
        conn.tx.inactive = true;
    }
    result
}

fn commit_kind(conn: &mut State, kind: &TxKind) -> Result<()> {
    if conn.tx.inactive {
        if *kind == TxKind::Root {
            // Nothing is left to commit; make sure the server agrees, then say why.
            conn.rollback_driver()?;
        }
        return Err(Error::InactiveTransaction(
            "an inner transaction was rolled back, so nothing \
             can be committed"
                .into(),
        ));
    }
    match kind {
        TxKind::Root => conn.commit_driver(),
        TxKind::Marker => Ok(()),
        TxKind::Savepoint(name) => conn.batch(&format!("RELEASE SAVEPOINT {name}")),
        TxKind::TwoPhase { xid, style } => {
            let steps = style.commit_sql(xid, conn.tx.prepared);
            if steps.is_empty() {
                return conn.commit_driver();
            }
            steps.iter().try_for_each(|sql| conn.batch(sql))
        }
    }
}

fn rollback_kind(conn: &mut State, kind: &TxKind) -> Result<()> {
    match kind {
        TxKind::Root | TxKind::Marker => conn.rollback_driver(),
        // Inside a transaction that is already gone the savepoint went with it.
        TxKind::Savepoint(_) if conn.tx.inactive => Ok(()),
        TxKind::Savepoint(name) => conn.batch(&format!("ROLLBACK TO SAVEPOINT {name}")),
        TxKind::TwoPhase { xid, style } => {
            let steps = style.rollback_sql(xid, conn.tx.prepared);
            if steps.is_empty() {
                return conn.rollback_driver();
            }
            steps.iter().try_for_each(|sql| conn.batch(sql))
        }
    }
}

fn prepare(conn: &mut State, kind: &TxKind) -> Result<()> {
    let TxKind::TwoPhase { xid, style } = kind else {
        return Err(Error::config(
            "prepare() is only for transactions begun with begin_twophase()",
        ));
    };
    conn.tx.check_active()?;
    if conn.tx.prepared {
        return Err(Error::config(format!(
            "two-phase transaction {xid:?} is already prepared"
        )));
    }
    for sql in style.prepare_sql(xid) {
        conn.batch(&sql)?;
    }
    if style.prepare_ends_session_transaction() {
        conn.driver()?.forget_transaction();
    }
    conn.tx.prepared = true;
    Ok(())
}

/// A guard dropped without commit or rollback: roll back; if even that fails, the connection's
/// state is unknown, so it is discarded rather than returned to the pool.
fn rollback_dropped(conn: &mut State, kind: &TxKind) {
    if let Err(e) = finish(conn, kind, false) {
        tracing::warn!(target: "quarry::engine", error = %e, "rollback of a dropped transaction failed");
        conn.invalidate();
    }
}

/// Called when a connection is dropped with guards still open (a guard was leaked): end them
/// all, innermost first.
pub(crate) fn abandon(conn: &mut State) -> Result<()> {
    while let Some(kind) = conn.tx.stack.last().cloned() {
        finish(conn, &kind, false)?;
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
        finish(&mut self.conn.state(), &self.kind, true)
    }

    /// Roll back. For a nested `begin()` this rolls back the whole transaction and makes the
    /// outer ones inactive; for a savepoint only what ran since it.
    ///
    /// # Errors
    /// A database error.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        finish(&mut self.conn.state(), &self.kind, false)
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
        finish(&mut self.conn.state(), &self.kind, true)
    }

    /// Roll back and return the connection to the pool.
    ///
    /// # Errors
    /// A database error.
    pub fn rollback(mut self) -> Result<()> {
        self.done = true;
        finish(&mut self.conn.state(), &self.kind, false)
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
