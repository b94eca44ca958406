//! Connections: a proxy for one pooled driver connection.

use std::any::Any;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::driver::{DriverConnection, Outcome, RowSink};
use crate::engine::Engine;
use crate::error::{Error, Result};
pub use crate::isolation::IsolationLevel;
use crate::pool::PooledConnection;
use crate::rows::Rows;
use crate::rows::stream::{self, Running};
use crate::schema::FromRow;
use crate::sql::{Compiled, Run, Statement};
use crate::transaction::{TxKind, TxState};
use crate::value::{RawRow, Value};

/// Per-connection execution options (SQLAlchemy's `Connection.execution_options`).
///
/// Start from [`ExecutionOptions::default`] and set what you need:
///
/// ```
/// use std::time::Duration;
/// use quarry::prelude::*;
/// use quarry::{ExecutionOptions, IsolationLevel};
///
/// let engine = create_engine("sqlite://")?;
/// let mut conn = engine.connect()?;
/// conn.execution_options(
///     ExecutionOptions::default()
///         .autocommit(true)
///         .isolation_level(IsolationLevel::Serializable)
///         .timeout(Duration::from_secs(5)),
/// )?;
/// # Ok::<(), quarry::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use = "pass the options to Connection::execution_options"]
pub struct ExecutionOptions {
    autocommit: Option<bool>,
    isolation_level: Option<IsolationLevel>,
    timeout: Option<Option<Duration>>,
    yield_per: Option<usize>,
}

impl ExecutionOptions {
    /// Accepted for SQLAlchemy 1.x code: outside a transaction every statement already commits
    /// at once (the drivers' autocommit mode); inside one, statements stay part of it.
    pub fn autocommit(mut self, on: bool) -> Self {
        self.autocommit = Some(on);
        self
    }

    /// The isolation level of the connection's next transactions. Reset when the connection
    /// goes back to the pool. Default: the engine's `isolation_level`, else the server's.
    pub fn isolation_level(mut self, level: IsolationLevel) -> Self {
        self.isolation_level = Some(level);
        self
    }

    /// Cancel any statement that runs longer than `timeout` (PostgreSQL `statement_timeout`,
    /// MariaDB `max_statement_time`, MySQL `max_execution_time` for SELECT, SQLite an interrupt
    /// from the progress handler). Reset when the connection goes back to the pool. Default: none.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(Some(timeout));
        self
    }

    /// Remove a timeout set earlier.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = Some(None);
        self
    }

    /// Rows per chunk of a streamed result ([`Connection::stream`]): the driver reads this
    /// many ahead of the caller at most, times three (SQLAlchemy's `yield_per`). Default
    /// 1000; 0 counts as 1.
    pub fn yield_per(mut self, rows: usize) -> Self {
        self.yield_per = Some(rows);
        self
    }
}

/// A connection checked out of an [`Engine`]'s pool.
///
/// Dropping it (or calling [`Connection::close`]) returns the driver connection to the pool,
/// rolled back. With no transaction open every statement takes effect at once (autocommit):
/// `INSERT`, `UPDATE`, `DELETE` and DDL commit immediately, and a `SELECT` leaves no snapshot or
/// lock behind.
///
/// Under [`Strategy::ThreadLocal`](crate::Strategy::ThreadLocal) the connections of
/// [`Engine::contextual_connect`] and of the engine's connectionless executions on one thread
/// are handles of one shared connection (and its transaction): each call locks it for its
/// duration, and it goes back to the pool when the last handle is dropped.
pub struct Connection {
    engine: Engine,
    core: Core,
}

/// Where a connection's state lives: in the `Connection` itself, or shared by the handles of
/// a thread-local strategy.
enum Core {
    Own(State),
    Shared(Arc<Mutex<State>>),
}

/// What a connection is: the pooled driver connection, its transaction stack and the session
/// settings to undo. Returned to the pool (after ending leaked transactions and undoing
/// settings) when dropped.
pub(crate) struct State {
    engine: Engine,
    /// `None` after [`Connection::invalidate`], until the next use checks out a new one, and
    /// while a streamed result has it (`running`).
    conn: Option<PooledConnection>,
    /// The worker of a streamed result, which has the connection until it ends.
    running: Option<Running>,
    /// Rows per chunk of a streamed result.
    yield_per: usize,
    pub(crate) tx: TxState,
    /// Session settings changed by `execution_options`, to undo on return to the pool.
    changed_isolation: bool,
    changed_timeout: bool,
    autocommit: bool,
    /// The column names of recent results, most recent first: a statement run again (the
    /// common case) shares its `Rows::keys` instead of allocating them per execution.
    recent_keys: Vec<Arc<[String]>>,
}

/// How many results' column names a connection keeps for reuse.
const RECENT_KEYS: usize = 4;

/// Lock a shared state; a panic while it was locked leaves nothing half-written that the
/// transaction stack cannot recover from, so a poisoned lock is used as is.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Mutable access to a connection's state (locked while it lives, when shared).
pub(crate) enum StateMut<'a> {
    Own(&'a mut State),
    Shared(MutexGuard<'a, State>),
}

impl Deref for StateMut<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        match self {
            StateMut::Own(s) => s,
            StateMut::Shared(g) => g,
        }
    }
}

impl DerefMut for StateMut<'_> {
    fn deref_mut(&mut self) -> &mut State {
        match self {
            StateMut::Own(s) => s,
            StateMut::Shared(g) => g,
        }
    }
}

/// Read access to a connection's state.
enum StateRef<'a> {
    Own(&'a State),
    Shared(MutexGuard<'a, State>),
}

impl Deref for StateRef<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        match self {
            StateRef::Own(s) => s,
            StateRef::Shared(g) => g,
        }
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (in_transaction, invalidated) = match &self.core {
            Core::Own(s) => (s.tx.is_open(), s.invalidated()),
            // Never wait for a lock in Debug (it may be held by the caller on this thread).
            Core::Shared(m) => match m.try_lock() {
                Ok(s) => (s.tx.is_open(), s.invalidated()),
                Err(_) => (false, false),
            },
        };
        f.debug_struct("Connection")
            .field("url", &self.engine.url().to_string())
            .field("in_transaction", &in_transaction)
            .field("invalidated", &invalidated)
            .field("thread_local", &matches!(self.core, Core::Shared(_)))
            .finish()
    }
}

impl Connection {
    pub(crate) fn new(engine: Engine, conn: PooledConnection) -> Self {
        Connection {
            core: Core::Own(State::new(engine.clone(), conn)),
            engine,
        }
    }

    /// A handle of a connection shared by the users of one thread.
    pub(crate) fn shared(engine: Engine, state: Arc<Mutex<State>>) -> Self {
        Connection {
            engine,
            core: Core::Shared(state),
        }
    }

    pub(crate) fn state(&mut self) -> StateMut<'_> {
        match &mut self.core {
            Core::Own(s) => StateMut::Own(s),
            Core::Shared(m) => StateMut::Shared(lock(m)),
        }
    }

    fn state_ref(&self) -> StateRef<'_> {
        match &self.core {
            Core::Own(s) => StateRef::Own(s),
            Core::Shared(m) => StateRef::Shared(lock(m)),
        }
    }

    /// True when this is a handle of a thread's shared connection (see
    /// [`Engine::contextual_connect`]).
    pub fn is_contextual(&self) -> bool {
        matches!(self.core, Core::Shared(_))
    }

    /// The engine this connection came from.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compile `stmt` for this connection's dialect and run it.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table, Debug, PartialEq)]
    /// #[table(metadata = META)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// META.create_all(&engine)?;
    /// let mut conn = engine.connect()?;
    /// conn.execute(insert!(Pet { name: "Rex" }))?;
    /// let pets: Vec<Pet> = conn.execute(select!(Pet WHERE Pet::name == "Rex"))?.all()?;
    /// assert_eq!(pets, [Pet { id: 1, name: "Rex".into() }]);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// A compile error ([`crate::Error::Unsupported`]), a database error carrying the SQL, a
    /// decode error naming the column, or [`Error::InactiveTransaction`] when an inner
    /// transaction rolled back and the outer one has not been ended yet.
    ///
    /// A statement binding more parameters than the backend takes (SQLite 32,766, PostgreSQL
    /// and MySQL 65,535) is refused with [`Error::TooLarge`] before anything is sent — except
    /// a multi-row `INSERT` (`insert_many`), which runs as several statements under the limit,
    /// in one transaction when none is open (all rows or none), else inside the open one (no
    /// savepoint: a failure leaves that transaction to the caller, as any failed statement
    /// does). Its result counts the rows of every part.
    pub fn execute<S: Statement>(&mut self, stmt: S) -> Result<Rows<S::Row>> {
        let dialect = self.engine.dialect();
        // A learned static call site: its text and values as they stand, nothing compiled.
        if let Some(run) = stmt.learned(dialect) {
            return self.state().run::<S::Row>(run);
        }
        if let Some(limit) = dialect.max_parameters()
            && let Some(batches) =
                stmt.compile_batches(dialect, limit, &mut || self.max_statement_bytes())?
        {
            return self.state().run_batches::<S::Row>(&batches);
        }
        let compiled = stmt.into_execution(dialect)?;
        self.state().run_compiled::<S::Row>(&compiled)
    }

    pub(crate) fn run_compiled<R: FromRow>(&mut self, compiled: &Compiled) -> Result<Rows<R>> {
        self.state().run_compiled(compiled)
    }

    /// The driver's size limit of one statement (MySQL's `max_allowed_packet`), if any.
    pub(crate) fn max_statement_bytes(&mut self) -> Result<Option<usize>> {
        self.state().driver()?.max_statement_bytes()
    }

    /// Run the parts of a statement split under the bind limit (see [`Connection::execute`]).
    pub(crate) fn run_batches<R: FromRow>(&mut self, batches: &[Compiled]) -> Result<Rows<R>> {
        self.state().run_batches(batches)
    }

    /// Compile `stmt` and run it, the driver reading the rows as the caller iterates
    /// (SQLAlchemy's `execution_options(stream_results=True)`): a result of any size takes
    /// the memory of about three chunks of [`ExecutionOptions::yield_per`] rows (default
    /// 1000). SQLite steps the statement, MySQL reads its result unbuffered, PostgreSQL reads
    /// the rows off the socket one at a time.
    ///
    /// The connection is busy until the rows are read to the end, closed or dropped; its next
    /// use (another statement, a commit, its return to the pool) closes them first, and
    /// their iteration then ends with an error saying so. A statement that fails at once
    /// fails here; a failure mid-result (a decode error, a lost connection) is the last item
    /// of the iteration, and the pool stays healthy (a lost connection is replaced). A
    /// statement without result rows, or an `insert_many` split under the bind limit, runs
    /// as [`Connection::execute`] does.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut conn = engine.connect()?;
    /// let mut total = 0;
    /// for n in conn.stream(text("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL \
    ///                            SELECT n + 1 FROM c WHERE n < 100000) SELECT n FROM c"))? {
    ///     let n: i64 = n?.get(0)?;
    ///     total += n;
    /// }
    /// assert_eq!(total, 5_000_050_000);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Connection::execute`].
    pub fn stream<S>(&mut self, stmt: S) -> Result<Rows<S::Row>>
    where
        S: Statement,
        S::Row: Send + 'static,
    {
        let dialect = self.engine.dialect();
        if let Some(limit) = dialect.max_parameters()
            && let Some(batches) =
                stmt.compile_batches(dialect, limit, &mut || self.max_statement_bytes())?
        {
            return self.state().run_batches::<S::Row>(&batches);
        }
        let compiled = stmt.into_execution(dialect)?;
        if compiled.returns_key {
            return self.state().run_compiled::<S::Row>(&compiled);
        }
        self.state().stream::<S::Row>(compiled)
    }

    /// Run DDL or other SQL without results or parameters.
    pub(crate) fn run_sql(&mut self, sql: &str) -> Result<()> {
        self.state().run_sql(sql)
    }

    /// True while a transaction (begun by [`Connection::begin`] and friends) is open.
    pub fn in_transaction(&self) -> bool {
        self.state_ref().tx.is_open()
    }

    /// False once an inner `begin()` rolled back the whole transaction.
    pub(crate) fn transaction_active(&self) -> bool {
        self.state_ref().tx.check_active().is_ok()
    }

    /// True while a savepoint (begun by [`Connection::begin_nested`]) is open.
    pub fn in_nested_transaction(&self) -> bool {
        self.state_ref().tx.savepoints() > 0
    }

    /// Begin a transaction; the returned guard commits with [`Transaction::commit`] and rolls
    /// back when dropped without one.
    ///
    /// Inside an open transaction this *nests*, as SQLAlchemy 1.x's `begin()` does: the inner
    /// guard's commit does nothing (only the outermost commit commits), and its rollback rolls
    /// back the whole transaction at once, after which the outer guard's commit fails with
    /// [`Error::InactiveTransaction`] — unless it was begun inside a savepoint
    /// ([`Connection::begin_nested`]): then it rolls back to that savepoint only.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut conn = engine.connect()?;
    /// let mut outer = conn.begin()?;
    /// {
    ///     let inner = outer.begin()?;      // nests
    ///     inner.rollback()?;               // rolls back everything, outer becomes inactive
    /// }
    /// assert!(matches!(outer.commit(), Err(Error::InactiveTransaction(_))));
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// A database error from `BEGIN`; [`Error::InactiveTransaction`] if the transaction this
    /// would nest in was already rolled back by an inner one.
    pub fn begin(&mut self) -> Result<Transaction<'_>> {
        let kind = self.state().begin()?;
        Ok(Transaction::new(self, kind))
    }

    /// Run `f` in a transaction on this connection: commit if it returns `Ok`, roll back if
    /// it returns `Err` (or panics). Inside an open transaction this nests as
    /// [`Connection::begin`] does. `E` is any error a [`quarry::Error`](crate::Error) converts
    /// into.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut conn = engine.connect()?;
    /// conn.execute(text("CREATE TABLE t (x INTEGER)"))?;
    /// let failed = conn.transaction(|tx| -> quarry::Result<()> {
    ///     tx.execute(text("INSERT INTO t VALUES (1)"))?;
    ///     Err(Error::config("changed my mind"))
    /// });
    /// assert!(failed.is_err());
    /// let n: i64 = conn.execute(text("SELECT count(*) FROM t"))?.scalar()?;
    /// assert_eq!(n, 0);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// `f`'s error (after the rollback), or a database error from `BEGIN` / `COMMIT`
    /// converted into `E`.
    pub fn transaction<T, E>(
        &mut self,
        f: impl FnOnce(&mut Connection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E>
    where
        E: From<Error>,
    {
        let mut tx = self.begin()?;
        let value = f(&mut tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Begin a nested transaction: `SAVEPOINT`. Its commit is `RELEASE SAVEPOINT`, its
    /// rollback `ROLLBACK TO SAVEPOINT`, which undoes only what ran since the savepoint and
    /// leaves the enclosing transaction active. With no transaction open this begins one.
    ///
    /// # Errors
    /// A database error; [`Error::InactiveTransaction`] as for [`Connection::begin`].
    pub fn begin_nested(&mut self) -> Result<Transaction<'_>> {
        let kind = self.state().begin_nested()?;
        Ok(Transaction::new(self, kind))
    }

    /// Begin a two-phase transaction with global id `xid` (a generated one when `None`):
    /// PostgreSQL `PREPARE TRANSACTION` / `COMMIT PREPARED`, MySQL/MariaDB `XA`. Call
    /// [`Transaction::prepare`], then [`Transaction::commit`]; committing unprepared commits in
    /// one phase.
    ///
    /// # Errors
    /// [`Error::Unsupported`] on SQLite; [`Error::Config`] inside another transaction; a
    /// database error from the server (PostgreSQL needs `max_prepared_transactions > 0`).
    pub fn begin_twophase(&mut self, xid: Option<&str>) -> Result<Transaction<'_>> {
        let kind = self.state().begin_twophase(xid)?;
        Ok(Transaction::new(self, kind))
    }

    /// Set execution options for this connection: isolation level, statement timeout,
    /// autocommit. Session settings are undone when the connection goes back to the pool.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a level the database lacks (SQLite: only `SERIALIZABLE`
    /// and `READ UNCOMMITTED`); [`Error::Config`] to change the isolation level inside a
    /// transaction; a database error.
    pub fn execution_options(&mut self, options: ExecutionOptions) -> Result<&mut Self> {
        self.state().execution_options(options)?;
        Ok(self)
    }

    /// Whether `execution_options(autocommit)` was set. Outside a transaction statements
    /// commit at once either way.
    pub fn autocommit(&self) -> bool {
        self.state_ref().autocommit
    }

    /// Discard the driver connection: it is closed instead of going back to the pool, and the
    /// next statement on this `Connection` checks out a fresh one. Use it when a connection is
    /// known to be broken; a lost connection is invalidated automatically.
    pub fn invalidate(&mut self) {
        self.state().invalidate();
    }

    /// True after [`Connection::invalidate`] until the next use.
    pub fn invalidated(&self) -> bool {
        self.state_ref().invalidated()
    }

    /// The driver's own connection — `rusqlite::Connection`, `postgres::Client` or
    /// `mysql::Conn` (re-exported under [`crate::driver::native`]) — for what Quarry does not
    /// wrap. Downcast it with `downcast_mut`.
    ///
    /// ```
    /// use quarry::prelude::*;
    /// use quarry::driver::native::rusqlite;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut conn = engine.connect()?;
    /// let raw = conn.driver_connection()?.downcast_mut::<rusqlite::Connection>().unwrap();
    /// assert!(raw.is_autocommit());
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// As a checkout, when this connection was invalidated; [`Error::Config`] on a
    /// thread-local strategy's contextual connection, whose driver connection the other users
    /// of the thread share (use [`Engine::raw_connection`] or [`Engine::connect`] there).
    pub fn driver_connection(&mut self) -> Result<&mut dyn Any> {
        match &mut self.core {
            Core::Own(s) => Ok(s.driver()?.as_any_mut()),
            Core::Shared(_) => Err(Error::config(
                "driver_connection() is not available on a contextual connection of the \
                 thread-local strategy: the other users on this thread share its driver \
                 connection; use engine.raw_connection() or engine.connect() for native work",
            )),
        }
    }

    /// Return the connection to the pool now (rolled back); same as dropping it. A handle of
    /// a thread's shared connection only lets go of it; the last handle returns it.
    pub fn close(self) {}
}

impl State {
    pub(crate) fn new(engine: Engine, conn: PooledConnection) -> Self {
        State {
            engine,
            conn: Some(conn),
            running: None,
            yield_per: stream::DEFAULT_YIELD_PER,
            tx: TxState::default(),
            changed_isolation: false,
            changed_timeout: false,
            autocommit: false,
            recent_keys: Vec::new(),
        }
    }

    /// True after an invalidation, until the next use.
    fn invalidated(&self) -> bool {
        self.conn.is_none() && self.running.is_none()
    }

    /// Close a streamed result that still has the connection, and take the connection back
    /// (or, when the stream found it lost, be invalidated).
    fn settle(&mut self) {
        if let Some(running) = self.running.take() {
            match running.reclaim() {
                Some(conn) => self.conn = Some(conn),
                None => self.tx.invalidate(),
            }
        }
    }

    /// Run `compiled` as a streamed result (see [`Connection::stream`]).
    pub(crate) fn stream<R: FromRow + Send + 'static>(
        &mut self,
        compiled: Compiled,
    ) -> Result<Rows<R>> {
        self.tx.check_active()?;
        self.engine.log_statement(compiled.sql(), compiled.params());
        let hide = self.engine.hide_parameters();
        self.driver()?;
        let Some(conn) = self.conn.take() else {
            unreachable!("driver() checked a connection out")
        };
        match stream::start::<R>(conn, compiled, self.yield_per, hide) {
            Ok((reader, running)) => {
                self.running = Some(running);
                Ok(Rows::streamed(reader))
            }
            Err(failed) => {
                let stream::Failed { error: e, conn } = *failed;
                if conn.is_none() {
                    // Lost: the worker invalidated it.
                    self.tx.invalidate();
                }
                self.conn = conn;
                Err(e)
            }
        }
    }

    /// The driver connection, checking out a new one if this connection was invalidated.
    pub(crate) fn driver(&mut self) -> Result<&mut dyn DriverConnection> {
        self.settle();
        if self.conn.is_none() {
            if self.tx.is_open() {
                return Err(Error::InactiveTransaction(
                    "the connection was invalidated inside a transaction; roll the transaction \
                     back before using the connection again"
                        .into(),
                ));
            }
            self.conn = Some(self.engine.checkout()?);
        }
        match self.conn.as_mut() {
            Some(c) => Ok(c.get()),
            None => unreachable!("a connection was just checked out"),
        }
    }

    pub(crate) fn run_compiled<R: FromRow>(&mut self, compiled: &Compiled) -> Result<Rows<R>> {
        self.run(compiled.as_run())
    }

    /// Run a statement (a [`Compiled`]'s parts, or a learned call site's borrowed).
    pub(crate) fn run<R: FromRow>(&mut self, compiled: Run<'_>) -> Result<Rows<R>> {
        self.tx.check_active()?;
        self.engine.log_statement(compiled.sql, compiled.params);
        let _span = tracing::debug_span!(target: "quarry::engine", "execute").entered();
        // A static call site's column names, kept from its first result: the driver need
        // not read them again.
        let kept = compiled.keys;
        let known = kept.and_then(|k| k.get().cloned());
        let mut sink = Collect::<R> {
            first: None,
            rows: Vec::new(),
            knows: known.is_some(),
            keys: known,
            recent: std::mem::take(&mut self.recent_keys),
            key_only: compiled.returns_key,
            key: None,
            unnamed: false,
        };
        let hide = self.engine.hide_parameters();
        let ran = self.driver()?.run(compiled.sql, compiled.params, &mut sink);
        self.recent_keys = std::mem::take(&mut sink.recent);
        let outcome: Outcome = ran.map_err(|e| self.after_error(e, hide))?;
        // Not the empty names of a result the driver could not name: the site's real ones
        // come with its next row.
        if !sink.knows
            && !sink.unnamed
            && let (Some(slot), Some(keys)) = (kept, &sink.keys)
        {
            let _ = slot.set(Arc::clone(keys));
        }
        if compiled.returns_key {
            return Ok(Rows::new(
                Vec::new(),
                Arc::from(Vec::new()),
                Outcome {
                    last_insert_id: sink.key,
                    ..outcome
                },
            ));
        }
        let keys = sink.keys.unwrap_or_else(|| Arc::from(Vec::new()));
        let rows = Rows::split(sink.first, sink.rows, keys, outcome);
        Ok(if sink.unnamed {
            rows.with_result_set()
        } else {
            rows
        })
    }

    /// Run the parts of a statement split under the bind limit (see [`Connection::execute`]):
    /// in a transaction of their own when none is open, rolled back entirely on a failure.
    pub(crate) fn run_batches<R: FromRow>(&mut self, batches: &[Compiled]) -> Result<Rows<R>> {
        self.tx.check_active()?;
        let own = !self.tx.is_open() && !self.driver()?.in_transaction();
        if own {
            self.begin_driver()?;
        }
        let ran = self.run_each::<R>(batches);
        if !own {
            return ran;
        }
        let ended = match &ran {
            Ok(_) => self.commit_driver(),
            Err(_) => self.rollback_driver(),
        };
        match (ran, ended) {
            (Ok(rows), Ok(())) => Ok(rows),
            (Ok(_), Err(e)) => {
                // A failed COMMIT may leave the transaction open (SQLite's SQLITE_BUSY).
                if self.conn.as_mut().is_some_and(|c| c.get().in_transaction()) {
                    let _ = self.rollback_driver();
                }
                Err(e)
            }
            (Err(e), _) => Err(e),
        }
    }

    fn run_each<R: FromRow>(&mut self, batches: &[Compiled]) -> Result<Rows<R>> {
        let mut all: Vec<R> = Vec::new();
        let mut keys: Option<Arc<[String]>> = None;
        let mut outcome = Outcome::default();
        for compiled in batches {
            let (rows, k, part) = self.run_compiled::<R>(compiled)?.into_parts()?;
            all.extend(rows);
            keys.get_or_insert(k);
            outcome.rows_affected += part.rows_affected;
            outcome.last_insert_id = part.last_insert_id.or(outcome.last_insert_id);
        }
        let keys = keys.unwrap_or_else(|| Arc::from(Vec::new()));
        Ok(Rows::new(all, keys, outcome))
    }

    /// `COPY table (columns) FROM STDIN` of `values`, row after row (see
    /// [`Connection::copy_in`]).
    pub(crate) fn copy_in(
        &mut self,
        table: &str,
        columns: &[&str],
        values: &[Value],
    ) -> Result<u64> {
        self.tx.check_active()?;
        self.engine.log_text(&format!(
            "COPY {table} ({}) FROM STDIN (FORMAT binary) -- {} values",
            columns.join(", "),
            values.len()
        ));
        let hide = self.engine.hide_parameters();
        self.driver()?
            .copy_in(table, columns, values)
            .map_err(|e| self.after_error(e, hide))
    }

    /// Note a failed statement: hide parameters if asked, and drop a connection that is gone
    /// so that the next use gets a fresh one.
    fn after_error(&mut self, mut e: Error, hide: bool) -> Error {
        if let Error::Database(db) = &mut e
            && hide
        {
            db.params.clear();
        }
        if e.is_disconnect() {
            tracing::warn!(target: "quarry::pool", error = %e, "connection lost; invalidating it and every older connection of the pool");
            self.invalidate_because(Some(&e));
        }
        e
    }

    /// Run DDL or other SQL without results or parameters.
    pub(crate) fn run_sql(&mut self, sql: &str) -> Result<()> {
        self.run_compiled::<()>(&Compiled::new(sql.to_owned(), Vec::new()))
            .map(drop)
    }

    /// Run transaction-control SQL (`SAVEPOINT`, `PREPARE TRANSACTION`) unprepared.
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        self.engine.log_text(sql);
        let hide = self.engine.hide_parameters();
        self.driver()?
            .batch(sql)
            .map_err(|e| self.after_error(e, hide))
    }

    pub(crate) fn begin_driver(&mut self) -> Result<()> {
        self.engine.log_text("BEGIN (implicit)");
        let hide = self.engine.hide_parameters();
        self.driver()?
            .begin()
            .map_err(|e| self.after_error(e, hide))
    }

    pub(crate) fn commit_driver(&mut self) -> Result<()> {
        self.engine.log_text("COMMIT");
        let hide = self.engine.hide_parameters();
        self.driver()?
            .commit()
            .map_err(|e| self.after_error(e, hide))
    }

    pub(crate) fn rollback_driver(&mut self) -> Result<()> {
        self.settle();
        self.engine.log_text("ROLLBACK");
        let hide = self.engine.hide_parameters();
        match self.conn.as_mut() {
            Some(c) => c.get().rollback().map_err(|e| self.after_error(e, hide)),
            // An invalidated connection's transaction died with it.
            None => Ok(()),
        }
    }

    /// `BEGIN`, or a nesting marker inside an open transaction; the guard's kind.
    pub(crate) fn begin(&mut self) -> Result<TxKind> {
        let step = self.tx.begin()?;
        let ran = crate::transaction::run(self, step.actions());
        self.tx.begun(step, ran)
    }

    /// `SAVEPOINT`, or `BEGIN` with no transaction open; the guard's kind.
    pub(crate) fn begin_nested(&mut self) -> Result<TxKind> {
        let step = self.tx.begin_nested()?;
        let ran = crate::transaction::run(self, step.actions());
        self.tx.begun(step, ran)
    }

    fn begin_twophase(&mut self, xid: Option<&str>) -> Result<TxKind> {
        let dialect = self.engine.dialect();
        let style = dialect.two_phase().ok_or_else(|| Error::Unsupported {
            feature: "two-phase commit".into(),
            dialect: dialect.name(),
        })?;
        let step = self
            .tx
            .begin_twophase(style, xid, crate::transaction::generate_xid)?;
        let ran = crate::transaction::run(self, step.actions());
        self.tx.begun(step, ran)
    }

    fn execution_options(&mut self, options: ExecutionOptions) -> Result<()> {
        if let Some(on) = options.autocommit {
            self.autocommit = on;
        }
        if let Some(level) = options.isolation_level {
            if self.tx.is_open() {
                return Err(Error::config(
                    "the isolation level cannot change inside a transaction; set it before begin()",
                ));
            }
            self.set_isolation(level)?;
            self.changed_isolation = true;
        }
        if let Some(timeout) = options.timeout {
            self.driver()?.set_statement_timeout(timeout)?;
            self.changed_timeout = true;
        }
        if let Some(rows) = options.yield_per {
            self.yield_per = rows.max(1);
        }
        Ok(())
    }

    pub(crate) fn set_isolation(&mut self, level: IsolationLevel) -> Result<()> {
        if level == IsolationLevel::Autocommit {
            return Ok(());
        }
        let sql = self.engine.dialect().isolation_level_sql(level)?;
        self.batch(&sql)
    }

    /// Put session settings back the way the pool handed the connection out.
    fn reset_session(&mut self) -> Result<()> {
        if self.changed_timeout {
            self.driver()?.set_statement_timeout(None)?;
        }
        if self.changed_isolation {
            match self.engine.isolation_level() {
                Some(level) => self.set_isolation(level)?,
                None => {
                    let candidates = self.engine.dialect().reset_isolation_sql();
                    let mut last = Ok(());
                    for sql in candidates {
                        last = self.driver()?.batch(sql);
                        if last.is_ok() {
                            break;
                        }
                    }
                    last?;
                }
            }
        }
        Ok(())
    }

    /// Discard the driver connection (see [`Connection::invalidate`]).
    pub(crate) fn invalidate(&mut self) {
        self.invalidate_because(None);
    }

    /// Invalidate after `error`; a disconnect error also retires every older connection of
    /// the pool (they are likely gone too).
    fn invalidate_because(&mut self, error: Option<&Error>) {
        self.settle();
        if let Some(conn) = self.conn.take() {
            conn.invalidate(error);
        }
        self.tx.invalidate();
    }
}

impl Drop for State {
    fn drop(&mut self) {
        self.settle();
        if self.conn.is_none() {
            return;
        }
        // A guard leaked with mem::forget can leave a two-phase transaction open: end it, since
        // the pool's plain ROLLBACK cannot.
        if let Err(e) = crate::transaction::abandon(self) {
            tracing::warn!(target: "quarry::pool", error = %e, "ending an abandoned transaction failed; discarding the connection");
            self.invalidate();
            return;
        }
        if let Err(e) = self.reset_session() {
            tracing::warn!(target: "quarry::pool", error = %e, "resetting session settings failed; discarding the connection");
            self.invalidate();
        }
    }
}

pub use crate::transaction::Transaction;

/// Decodes every row into `R` as the driver produces it.
struct Collect<R> {
    /// The first row, apart: a one-row result allocates no `Vec`.
    first: Option<R>,
    /// The rows after the first.
    rows: Vec<R>,
    keys: Option<Arc<[String]>>,
    /// `keys` came with the statement (see `Compiled::kept_columns`): the driver skips them.
    knows: bool,
    /// The connection's recent column names (`State::recent_keys`), lent for the run.
    recent: Vec<Arc<[String]>>,
    /// The statement's one result value is an inserted key (see `Compiled::returns_key`).
    key_only: bool,
    key: Option<i64>,
    /// The driver got a result set without rows or names ([`RowSink::unnamed_result`]).
    unnamed: bool,
}

impl<R: FromRow> RowSink for Collect<R> {
    fn columns(&mut self, names: &[&str]) {
        let same = |keys: &Arc<[String]>| keys.iter().map(String::as_str).eq(names.iter().copied());
        let keys = match self.recent.iter().position(same) {
            Some(at) => self.recent.remove(at),
            None => names.iter().map(|n| (*n).to_owned()).collect(),
        };
        if self.recent.len() == RECENT_KEYS {
            self.recent.pop();
        }
        self.recent.insert(0, Arc::clone(&keys));
        self.keys = Some(keys);
    }

    fn expect_rows(&mut self, rows: usize) {
        // A one-row result stays in `first`, with no `Vec`; a longer one is all in `rows`.
        if !self.key_only && rows > 1 {
            self.rows.reserve_exact(rows);
        }
    }

    fn knows_columns(&self) -> bool {
        self.knows
    }

    fn unnamed_result(&mut self) {
        self.unnamed = true;
        if !self.knows {
            self.columns(&[]);
        }
    }

    fn row(&mut self, row: &dyn RawRow) -> Result<()> {
        if self.key_only {
            self.key = row.get_i64(0)?;
        } else {
            let row = R::from_row(row, 0)?;
            if self.first.is_none() && self.rows.is_empty() {
                self.first = Some(row);
            } else {
                // The second row: the first joins the rest, so that `all()` hands over this
                // `Vec` as it is instead of copying every row into a new one.
                if let Some(first) = self.first.take() {
                    self.rows.push(first);
                }
                self.rows.push(row);
            }
        }
        Ok(())
    }
}
