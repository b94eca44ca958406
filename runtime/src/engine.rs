//! The engine: a dialect, a driver and a pool for one database URL.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use crate::connection::{self, Connection, IsolationLevel, State};
use crate::dialect::Dialect;
use crate::driver::{self, Driver, DriverConnection, NativeConnection};
use crate::error::{DatabaseError, DatabaseErrorKind, Error, Result};
use crate::pool::{ConnectionInfo, Pool, PoolBuilder, PoolClass, PooledConnection};
use crate::rows::Rows;
use crate::rules::routing::{self, Route};
use crate::schema::FromRow;
use crate::sql::{Compiled, Statement};
use crate::transaction::EngineTransaction;
use crate::url::Url;
use crate::value::Value;

/// Home base for one database: hands out [`Connection`]s from its pool.
///
/// Cheap to clone (all clones share the pool); create one per database URL and keep it for the
/// life of the program.
///
/// ```
/// use quarry::prelude::*;
///
/// let engine = create_engine("sqlite://")?;
/// let mut conn = engine.connect()?;
/// assert_eq!(engine.dialect().name(), "sqlite");
/// # Ok::<(), quarry::Error>(())
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
    /// Where this handle sends statements when the engine has replicas
    /// ([`Engine::with_route`]).
    route: Route,
}

struct Inner {
    url: Url,
    dialect: &'static dyn Dialect,
    pool: Pool,
    echo: bool,
    hide_parameters: bool,
    isolation_level: Option<IsolationLevel>,
    strategy: Strategy,
    /// Under [`Strategy::ThreadLocal`]: each thread's shared connection, while any handle of
    /// it lives.
    local: Mutex<HashMap<ThreadId, Weak<Mutex<State>>>>,
    /// Read replicas ([`EngineBuilder::replicas`]), each with a pool of its own.
    replicas: Vec<Replica>,
    /// Round robin over `replicas`.
    next_replica: AtomicUsize,
    /// How long a replica that failed stays out before it is tried again.
    replica_retry_after: Duration,
}

/// One read replica: its URL, its own pool, and when it last failed.
struct Replica {
    url: Url,
    pool: Pool,
    failed: Mutex<Option<(Instant, String)>>,
}

impl Replica {
    fn is_up(&self, retry_after: Duration) -> bool {
        connection::lock(&self.failed)
            .as_ref()
            .is_none_or(|(at, _)| at.elapsed() >= retry_after)
    }

    fn failed(&self, error: &Error) {
        tracing::warn!(target: "quarry::pool", replica = %self.url, %error, "replica failed; reads go elsewhere until it is retried");
        *connection::lock(&self.failed) = Some((Instant::now(), error.to_string()));
    }

    fn served(&self) {
        let mut failed = connection::lock(&self.failed);
        if failed.is_some() {
            *failed = None;
        }
    }
}

/// One member of an engine (the primary or a replica) as [`Engine::members`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberStatus {
    /// The member's URL, password masked.
    pub url: String,
    /// True for the primary.
    pub primary: bool,
    /// False while a replica that failed is out of the rotation.
    pub up: bool,
    /// Why a replica is out: its last error.
    pub last_error: Option<String>,
    /// Its pool's counters.
    pub pool: crate::pool::PoolStatus,
}

/// How connectionless executions find their connection (SQLAlchemy's `strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// Every connectionless execution and every [`Engine::begin`] checks out a connection of
    /// its own. The default.
    #[default]
    Plain,
    /// One connection per thread: connectionless and implicit executions on a thread share
    /// it while any of their [`Rows`] are open, [`Engine::begin`] binds a transaction to the
    /// thread that they all join until it ends, and [`Engine::contextual_connect`] hands out
    /// handles of it. [`Engine::connect`] still gives an independent connection, and other
    /// threads are never affected.
    ThreadLocal,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Engine({})", self.inner.url)
    }
}

/// Create an engine with default settings; same as `Engine::builder(url).build()`.
///
/// URLs, RFC-1738 style: `sqlite://` (memory), `sqlite:///relative.db`,
/// `sqlite:////absolute.db`, `postgresql://user:password@host:port/db`,
/// `postgresql+postgres://…`, `mysql://…`, `mariadb://…`, with query arguments for the driver
/// (`?application_name=app&connect_timeout=5`, SQLite `?mode=ro`).
///
/// # Errors
/// [`Error::Url`] for a malformed URL, naming the bad part; [`Error::Config`] when no driver of
/// this build serves its dialect (see the cargo features `postgres` and `mysql`).
pub fn create_engine(url: &str) -> Result<Engine> {
    Engine::builder(url).build()
}

impl Engine {
    /// Configure an engine for `url`.
    pub fn builder(url: impl Into<String>) -> EngineBuilder {
        EngineBuilder {
            url: url.into(),
            pool: PoolBuilder::default(),
            echo: false,
            hide_parameters: false,
            isolation_level: None,
            connect_args: Vec::new(),
            creator: None,
            strategy: Strategy::Plain,
            replicas: Vec::new(),
            replica_retry_after: Duration::from_secs(30),
        }
    }

    /// Check out a connection from the pool.
    ///
    /// # Errors
    /// A connection error, or [`Error::PoolTimeout`] when the pool stays exhausted.
    #[track_caller]
    pub fn connect(&self) -> Result<Connection> {
        Ok(Connection::new(self.clone(), self.checkout()?))
    }

    #[track_caller]
    pub(crate) fn checkout(&self) -> Result<PooledConnection> {
        if self.route == Route::Replica
            && let Some(conn) = self.checkout_replica()
        {
            return Ok(conn);
        }
        self.inner.pool.get()
    }

    /// A connection from the next replica that is up, round robin; a replica whose checkout
    /// fails is taken out for `replica_retry_after`. `None` when none can serve.
    fn checkout_replica(&self) -> Option<PooledConnection> {
        let replicas = &self.inner.replicas;
        let start = self.inner.next_replica.fetch_add(1, Ordering::Relaxed);
        for i in 0..replicas.len() {
            let replica = &replicas[(start + i) % replicas.len()];
            if !replica.is_up(self.inner.replica_retry_after) {
                continue;
            }
            match replica.pool.get() {
                Ok(conn) => return Some(conn),
                // Busy, not broken: try the next one.
                Err(Error::PoolTimeout { .. }) => {}
                Err(e) => replica.failed(&e),
            }
        }
        None
    }

    /// Run a read on a replica: the next one up, round robin; one that fails to connect or
    /// loses its connection is taken out and the read goes to the next, then to the primary,
    /// so the caller sees no error from a replica that is down.
    fn read_on_replica<R: FromRow>(&self, compiled: &Compiled) -> Result<Rows<R>> {
        let replicas = &self.inner.replicas;
        let start = self.inner.next_replica.fetch_add(1, Ordering::Relaxed);
        for i in 0..replicas.len() {
            let replica = &replicas[(start + i) % replicas.len()];
            if !replica.is_up(self.inner.replica_retry_after) {
                continue;
            }
            let pooled = match replica.pool.get() {
                Ok(conn) => conn,
                Err(Error::PoolTimeout { .. }) => continue,
                Err(e) => {
                    replica.failed(&e);
                    continue;
                }
            };
            let mut conn = Connection::new(self.with_route(Route::Replica), pooled);
            match conn.run_compiled::<R>(compiled) {
                Ok(rows) => {
                    replica.served();
                    return Ok(rows.owning(conn));
                }
                Err(e) if e.is_disconnect() => replica.failed(&e),
                Err(e) => return Err(e),
            }
        }
        let mut conn = Connection::new(self.with_route(Route::Primary), self.inner.pool.get()?);
        let rows = conn.run_compiled::<R>(compiled)?;
        Ok(rows.owning(conn))
    }

    /// This engine, sending statements by `route`: [`Route::Primary`] for reads that must see
    /// the latest writes or have side effects, [`Route::Replica`] to send everything,
    /// connections included, to a replica (the primary when none is up), [`Route::Auto`] (the
    /// default) to route by statement. A cheap handle on the same pools; without replicas
    /// every route is the primary.
    ///
    /// ```
    /// use quarry::prelude::*;
    /// use quarry::Route;
    ///
    /// let engine = Engine::builder("sqlite:///route_primary_doc.db")
    ///     .replicas(["sqlite:///route_replica_doc.db"])
    ///     .build()?;
    /// let primary = engine.with_route(Route::Primary);
    /// primary.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))?;
    /// // Reads of `primary` see the primary's table; `engine` would read the replica.
    /// let n: i64 = primary.execute(text("SELECT count(*) FROM t").columns::<i64>())?.scalar()?;
    /// assert_eq!(n, 0);
    /// # drop((engine, primary));
    /// # std::fs::remove_file("route_primary_doc.db").ok();
    /// # std::fs::remove_file("route_replica_doc.db").ok();
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn with_route(&self, route: Route) -> Engine {
        Engine {
            inner: Arc::clone(&self.inner),
            route,
        }
    }

    /// How this handle routes statements (see [`Engine::with_route`]).
    pub fn route(&self) -> Route {
        self.route
    }

    /// The primary and every replica: URL, whether it is in the rotation, its last error and
    /// its pool's counters. The primary comes first.
    pub fn members(&self) -> Vec<MemberStatus> {
        let mut members = vec![MemberStatus {
            url: self.inner.url.to_string(),
            primary: true,
            up: true,
            last_error: None,
            pool: self.inner.pool.status(),
        }];
        for replica in &self.inner.replicas {
            members.push(MemberStatus {
                url: replica.url.to_string(),
                primary: false,
                up: replica.is_up(self.inner.replica_retry_after),
                last_error: connection::lock(&replica.failed)
                    .as_ref()
                    .map(|(_, e)| e.clone()),
                pool: replica.pool.status(),
            });
        }
        members
    }

    /// True when connectionless reads of this handle may go to a replica.
    fn routes_reads(&self) -> bool {
        !self.inner.replicas.is_empty()
            && self.route != Route::Primary
            && self.inner.strategy == Strategy::Plain
    }

    /// The connection connectionless executions use: under [`Strategy::ThreadLocal`] a handle
    /// of this thread's shared connection — the same driver connection, transaction included,
    /// for every handle on the thread, returned to the pool when the last handle is dropped
    /// (SQLAlchemy's reference-counted `contextual_connect()`); under [`Strategy::Plain`] a
    /// connection of its own, as [`Engine::connect`].
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = Engine::builder("sqlite:///contextual_doc.db")
    ///     .strategy(Strategy::ThreadLocal)
    ///     .build()?;
    /// let a = engine.contextual_connect()?;
    /// let b = engine.contextual_connect()?;
    /// assert_eq!(engine.pool_status().checked_out, 1);   // one connection, two handles
    /// drop(a);
    /// assert_eq!(engine.pool_status().checked_out, 1);   // b still holds it
    /// drop(b);
    /// assert_eq!(engine.pool_status().checked_out, 0);
    /// # drop(engine); std::fs::remove_file("contextual_doc.db").ok();
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Engine::connect`].
    #[track_caller]
    pub fn contextual_connect(&self) -> Result<Connection> {
        if self.inner.strategy == Strategy::Plain {
            return self.connect();
        }
        let thread = std::thread::current().id();
        if let Some(state) = connection::lock(&self.inner.local)
            .get(&thread)
            .and_then(Weak::upgrade)
        {
            return Ok(Connection::shared(self.clone(), state));
        }
        // Only this thread adds its own entry, so checking out unlocked races with no one.
        let state = Arc::new(Mutex::new(State::new(self.clone(), self.checkout()?)));
        let mut local = connection::lock(&self.inner.local);
        local.retain(|_, handle| handle.strong_count() > 0);
        local.insert(thread, Arc::downgrade(&state));
        Ok(Connection::shared(self.clone(), state))
    }

    /// True when `other` is a clone of this engine (same pool).
    pub(crate) fn same(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The strategy connectionless executions follow.
    pub fn strategy(&self) -> Strategy {
        self.inner.strategy
    }

    /// Connectionless execution: run `stmt` on a connection checked out for it. The returned
    /// [`Rows`] own that connection and return it to the pool once exhausted, closed or
    /// dropped; a statement without rows returns it at once. Under
    /// [`Strategy::ThreadLocal`] the connection is the thread's (see
    /// [`Engine::contextual_connect`]), inside the thread's transaction if one is open.
    ///
    /// # Errors
    /// As [`Engine::connect`] and [`Connection::execute`].
    ///
    /// With replicas ([`EngineBuilder::replicas`]) a statement that only reads
    /// ([`quarry_core::rules::routing::reads_only`]: a `SELECT` without a row lock, …) runs
    /// on a replica, round robin; everything else on the primary. See
    /// [`EngineBuilder::replicas`].
    #[track_caller]
    pub fn execute<S: Statement>(&self, stmt: S) -> Result<Rows<S::Row>> {
        if self.routes_reads() {
            let dialect = self.dialect();
            // An insert_many over a limit is a write, on the primary: connected only when
            // the statement is large enough to ask the primary's size limit, or split.
            let mut primary: Option<Connection> = None;
            let mut max_bytes = || match &mut primary {
                Some(conn) => conn.max_statement_bytes(),
                None => primary
                    .insert(self.with_route(Route::Primary).connect()?)
                    .max_statement_bytes(),
            };
            if let Some(limit) = dialect.max_parameters()
                && let Some(batches) = stmt.compile_batches(dialect, limit, &mut max_bytes)?
            {
                let mut conn = match primary {
                    Some(conn) => conn,
                    None => self.with_route(Route::Primary).connect()?,
                };
                let rows = conn.run_batches::<S::Row>(&batches)?;
                return Ok(rows.owning(conn));
            }
            let compiled = stmt.into_execution(self.dialect())?;
            if self.route == Route::Replica || routing::reads_only(compiled.sql()) {
                return self.read_on_replica(&compiled);
            }
            let mut conn = self.with_route(Route::Primary).connect()?;
            let rows = conn.run_compiled::<S::Row>(&compiled)?;
            return Ok(rows.owning(conn));
        }
        let mut conn = self.contextual_connect()?;
        let rows = conn.execute(stmt)?;
        Ok(rows.owning(conn))
    }

    /// Run `stmt` connectionless as a streamed result ([`Connection::stream`]): the rows own
    /// a connection (the thread's under [`Strategy::ThreadLocal`]) and return it to the pool
    /// once read to the end, closed or dropped. Streams always run on the primary.
    ///
    /// # Errors
    /// As [`Engine::connect`] and [`Connection::stream`].
    pub fn stream<S>(&self, stmt: S) -> Result<Rows<S::Row>>
    where
        S: Statement,
        S::Row: Send + 'static,
    {
        let mut conn = if self.routes_reads() {
            self.with_route(Route::Primary).connect()?
        } else {
            self.contextual_connect()?
        };
        let rows = conn.stream(stmt)?;
        Ok(rows.owning(conn))
    }

    /// Begin a transaction on a connection of its own; the connection goes back to the pool
    /// when the transaction commits, rolls back or is dropped (which rolls back).
    ///
    /// Under [`Strategy::ThreadLocal`] the transaction is bound to this thread instead: it
    /// runs on the thread's shared connection, and connectionless and implicit executions on
    /// the thread join it until it ends; inside it, `begin()` nests (see
    /// [`Connection::begin`]).
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = Engine::builder("sqlite:///thread_tx_doc.db")
    ///     .strategy(Strategy::ThreadLocal)
    ///     .build()?;
    /// engine.execute(text("CREATE TABLE t (x INTEGER)"))?;
    /// let tx = engine.begin()?;
    /// engine.execute(text("INSERT INTO t VALUES (1)"))?;          // joins the transaction
    /// tx.rollback()?;
    /// let n: i64 = engine.execute(text("SELECT count(*) FROM t").columns::<i64>())?.scalar()?;
    /// assert_eq!(n, 0);
    /// # drop(engine); std::fs::remove_file("thread_tx_doc.db").ok();
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Engine::connect`], or a database error from `BEGIN`; inside a thread's
    /// transaction that an inner one rolled back, [`crate::Error::InactiveTransaction`].
    #[track_caller]
    pub fn begin(&self) -> Result<EngineTransaction> {
        EngineTransaction::begin(self)
    }

    /// Under [`Strategy::ThreadLocal`], a savepoint in the thread's transaction (or a new
    /// transaction when none is open): its rollback undoes only what ran since it. Under
    /// [`Strategy::Plain`] the same as [`Engine::begin`].
    ///
    /// # Errors
    /// As [`Engine::begin`].
    #[track_caller]
    pub fn begin_nested(&self) -> Result<EngineTransaction> {
        EngineTransaction::begin_nested(self)
    }

    /// Run `f` in a transaction: commit if it returns `Ok`, roll back if it returns `Err` (or
    /// panics).
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let n: i64 = engine.transaction(|conn| {
    ///     conn.execute(text("CREATE TABLE t (x INTEGER)"))?;
    ///     conn.execute(text("INSERT INTO t VALUES (1)"))?;
    ///     conn.execute(text("SELECT count(*) FROM t").columns::<i64>())?.scalar()
    /// })?;
    /// assert_eq!(n, 1);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// The closure may return any error type that a [`quarry::Error`](crate::Error) converts
    /// into, so that an application's own error passes through (the transaction rolls back):
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// #[derive(Debug)]
    /// enum AppError {
    ///     Db(quarry::Error),
    ///     OutOfStock,
    /// }
    /// impl From<quarry::Error> for AppError {
    ///     fn from(e: quarry::Error) -> Self {
    ///         AppError::Db(e)
    ///     }
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let outcome = engine.transaction(|conn| -> Result<(), AppError> {
    ///     let stock: i64 = conn.execute(text("SELECT 0"))?.scalar()?;
    ///     if stock == 0 {
    ///         return Err(AppError::OutOfStock);
    ///     }
    ///     Ok(())
    /// });
    /// assert!(matches!(outcome, Err(AppError::OutOfStock)));
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// A closure that ends in `Ok(…)` and only uses `?` on Quarry's results gets its error
    /// type from a caller returning `quarry::Result`, which its `?` converts into:
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// fn setup(engine: &Engine) -> quarry::Result<()> {
    ///     engine.transaction(|conn| {
    ///         conn.execute(text("CREATE TABLE t (x INTEGER)"))?;
    ///         Ok(())
    ///     })?;
    ///     Ok(())
    /// }
    /// setup(&create_engine("sqlite://")?)?;
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// Elsewhere (`.unwrap()`, a caller returning another error type) Rust cannot tell which
    /// error type the closure means: name it, `|conn| -> quarry::Result<()> { … }`.
    ///
    /// # Errors
    /// `f`'s error (after the rollback), or a database error from `BEGIN` / `COMMIT`
    /// converted into `E`.
    pub fn transaction<T, E>(
        &self,
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

    /// The driver's own connection, checked out of the pool and returned to it (rolled back)
    /// when dropped: `rusqlite::Connection`, `postgres::Client` or `mysql::Conn`, for what
    /// Quarry does not wrap (PostgreSQL `LISTEN`/`NOTIFY`, stored procedures, `COPY`).
    ///
    /// ```
    /// use quarry::prelude::*;
    /// use quarry::driver::native::rusqlite;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut raw = engine.raw_connection()?;
    /// let sqlite: &mut rusqlite::Connection = raw.downcast_mut().unwrap();
    /// let one: i64 = sqlite.query_row("SELECT 1", [], |r| r.get(0)).unwrap();
    /// assert_eq!(one, 1);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Engine::connect`].
    #[track_caller]
    pub fn raw_connection(&self) -> Result<RawConnection> {
        Ok(RawConnection {
            conn: self.checkout()?,
        })
    }

    /// The dialect statements are compiled for.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.inner.dialect
    }

    /// The URL (its `Display` masks the password).
    pub fn url(&self) -> &Url {
        &self.inner.url
    }

    /// Close every idle connection and start afresh: connections checked out now keep working
    /// and are closed (not kept) when returned. For a `sqlite://` memory database that means
    /// a new, empty database.
    pub fn dispose(&self) {
        self.inner.pool.dispose();
        for replica in &self.inner.replicas {
            replica.pool.dispose();
        }
    }

    /// The primary's pool counters: size, idle, checked out, overflow ([`Engine::members`]
    /// has every replica's too).
    pub fn pool_status(&self) -> crate::pool::PoolStatus {
        self.inner.pool.status()
    }

    /// The engine's connection pool.
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The isolation level every connection gets, if set on the builder.
    pub fn isolation_level(&self) -> Option<IsolationLevel> {
        self.inner.isolation_level
    }

    pub(crate) fn hide_parameters(&self) -> bool {
        self.inner.hide_parameters
    }

    /// Log a statement: a `tracing` event on target `quarry::engine`, and stdout with `echo`.
    pub(crate) fn log_statement(&self, sql: &str, params: &[Value]) {
        if self.inner.hide_parameters {
            tracing::info!(target: "quarry::engine", sql, params = "[hidden]", "execute");
        } else {
            tracing::info!(target: "quarry::engine", sql, ?params, "execute");
        }
        if self.inner.echo {
            println!("{sql}");
            if self.inner.hide_parameters {
                println!("[SQL parameters hidden due to hide_parameters=true]");
            } else {
                println!("[parameters: {params:?}]");
            }
        }
    }

    /// Log transaction control and other parameterless SQL.
    pub(crate) fn log_text(&self, text: &str) {
        tracing::info!(target: "quarry::engine", sql = text, "execute");
        if self.inner.echo {
            println!("{text}");
        }
    }
}

/// A driver connection checked out of the pool, for native use: see
/// [`Engine::raw_connection`]. Returned to the pool (rolled back) when dropped.
pub struct RawConnection {
    conn: PooledConnection,
}

impl fmt::Debug for RawConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawConnection")
    }
}

impl RawConnection {
    /// The native connection as `T` (`rusqlite::Connection`, `postgres::Client`,
    /// `mysql::Conn`), or `None` when the engine's driver is another.
    pub fn downcast_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.conn.get().as_any_mut().downcast_mut()
    }

    /// The native connection, untyped.
    pub fn as_any_mut(&mut self) -> &mut dyn Any {
        self.conn.get().as_any_mut()
    }

    /// Close the connection instead of returning it to the pool (after a native operation
    /// left it in a state the pool should not hand out).
    pub fn invalidate(self) {
        self.conn.invalidate(None);
    }

    /// What the pool knows of the connection (its id, when it was opened).
    pub fn info(&self) -> ConnectionInfo {
        self.conn.info()
    }
}

type Creator = Arc<dyn Fn() -> Result<Box<dyn DriverConnection>> + Send + Sync>;

/// Settings for an [`Engine`]; every setter states its default.
#[derive(Clone)]
#[must_use = "call .build() to get the engine"]
pub struct EngineBuilder {
    url: String,
    /// The pool's settings; its class, unless set, is chosen by URL in `build`.
    pool: PoolBuilder,
    echo: bool,
    hide_parameters: bool,
    isolation_level: Option<IsolationLevel>,
    connect_args: Vec<(String, String)>,
    creator: Option<Creator>,
    strategy: Strategy,
    replicas: Vec<String>,
    replica_retry_after: Duration,
}

impl fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineBuilder")
            // Masked as every URL error is, whether it parses or not.
            .field("url", &crate::url::mask(&self.url))
            .field("pool", &self.pool)
            .field("echo", &self.echo)
            .field("isolation_level", &self.isolation_level)
            .field("creator", &self.creator.is_some())
            .field("strategy", &self.strategy)
            .field(
                "replicas",
                &self
                    .replicas
                    .iter()
                    .map(|u| crate::url::mask(u))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

// `poolclass`, `pool_size`, … `on_invalidate`: the pool's setters, declared once in
// `pool::builder`, passed on to the `PoolBuilder` in `pool`.
crate::pool::pool_setters!(EngineBuilder.pool);

impl EngineBuilder {
    /// Print every statement and its parameters to stdout (besides the `tracing` events on target
    /// `quarry::engine`, which are always emitted). Default off.
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    /// Keep parameter values out of logs, `echo` and errors (SQLAlchemy's `hide_parameters`).
    /// Default off: errors carry the values (never shown by `Display`), logs show them.
    pub fn hide_parameters(mut self, on: bool) -> Self {
        self.hide_parameters = on;
        self
    }

    /// The isolation level of every connection's transactions, set when it is opened.
    /// Default: the server's (READ COMMITTED on PostgreSQL, REPEATABLE READ on MySQL,
    /// SERIALIZABLE on SQLite).
    pub fn isolation_level(mut self, level: IsolationLevel) -> Self {
        self.isolation_level = Some(level);
        self
    }

    /// How connectionless executions find their connection: [`Strategy::Plain`] (the
    /// default) or [`Strategy::ThreadLocal`].
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Read replicas of the primary: statements that only read, run outside a transaction
    /// ([`Engine::execute`], implicit execution through bound metadata), go to one of them,
    /// round robin; writes, DDL, row locks (`FOR UPDATE`), every explicit
    /// [`Engine::connect`], [`Engine::begin`], [`Engine::transaction`], the [`crate::Session`]
    /// and the thread-local strategy go to the primary, so a unit of work reads its own writes.
    /// [`Engine::with_route`] forces either. Each replica has a pool of its own with the
    /// engine's pool settings and the same driver arguments; one that fails to connect or
    /// loses its connection is taken out of the rotation for
    /// [`EngineBuilder::replica_retry_after`] and the read goes to the next, then to the
    /// primary — the caller sees no error. [`Engine::members`] shows each one.
    ///
    /// Replication is asynchronous on most setups: a read right after a write outside a
    /// transaction may not see it on a replica yet; read through
    /// `engine.with_route(Route::Primary)` where that matters.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = Engine::builder("sqlite:///replicas_primary_doc.db")
    ///     .replicas(["sqlite:///replicas_replica_doc.db"])
    ///     .build()?;
    /// engine.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))?; // DDL: the primary
    /// // A read: the replica, which has no table `t`.
    /// assert!(engine.execute(text("SELECT x FROM t")).is_err());
    /// assert_eq!(engine.members().len(), 2);
    /// # drop(engine);
    /// # std::fs::remove_file("replicas_primary_doc.db").ok();
    /// # std::fs::remove_file("replicas_replica_doc.db").ok();
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn replicas<I>(mut self, urls: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.replicas.extend(urls.into_iter().map(Into::into));
        self
    }

    /// How long a replica that failed stays out of the rotation before it is tried again.
    /// Default 30 s.
    pub fn replica_retry_after(mut self, after: Duration) -> Self {
        self.replica_retry_after = after;
        self
    }

    /// A driver argument, as if it were in the URL's query (and overriding one there):
    /// `.connect_arg("application_name", "worker")`. Default none.
    pub fn connect_arg(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.connect_args.push((key.into(), value.into()));
        self
    }

    /// Whether statements are prepared once per connection and kept on the server (default
    /// `true`). `false` for a transaction pooler such as pgbouncer with `pool_mode =
    /// transaction`, which runs each transaction on whichever server connection is free:
    /// every statement is then sent unnamed, in one round trip, its parameters typed by their
    /// values (text and NULL left for the server to infer), and whatever would leave session
    /// state behind — `SET`, `LISTEN`, `PREPARE`, a statement timeout, an engine-wide
    /// isolation level — is refused with an error naming pgbouncer's transaction mode.
    /// PostgreSQL only; the same as `?prepared_statements=false` in the URL.
    ///
    /// ```no_run
    /// use quarry::prelude::*;
    ///
    /// let engine = Engine::builder("postgresql://app@127.0.0.1:6432/test")  // pgbouncer
    ///     .prepared_statements(false)
    ///     .build()?;
    /// let n: i64 = engine.execute(text("SELECT count(*) FROM users").columns::<i64>())?.scalar()?;
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn prepared_statements(self, on: bool) -> Self {
        self.connect_arg("prepared_statements", if on { "true" } else { "false" })
    }

    /// Open connections with `f` instead of from the URL, which then only picks the dialect
    /// (SQLAlchemy's `creator`). `f` returns the driver's own connection type.
    ///
    /// ```
    /// use quarry::prelude::*;
    /// use quarry::driver::native::rusqlite;
    ///
    /// let engine = Engine::builder("sqlite://")
    ///     .creator(|| {
    ///         let conn = rusqlite::Connection::open_in_memory()?;
    ///         conn.execute_batch("CREATE TABLE made_by_creator (x INTEGER)")?;
    ///         Ok(conn)
    ///     })
    ///     .build()?;
    /// let mut conn = engine.connect()?;
    /// conn.execute(text("SELECT x FROM made_by_creator"))?;
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn creator<C, F>(mut self, f: F) -> Self
    where
        C: NativeConnection,
        F: Fn() -> std::result::Result<C, Box<dyn std::error::Error + Send + Sync>>
            + Send
            + Sync
            + 'static,
    {
        self.creator = Some(Arc::new(move || match f() {
            Ok(native) => Ok(native.into_driver_connection()),
            Err(e) => {
                let mut err = DatabaseError::new(
                    DatabaseErrorKind::Connection,
                    format!("the engine's creator failed: {e}"),
                );
                err.disconnect = true;
                Err(crate::error::DatabaseError::into_error(err))
            }
        }));
        self
    }

    /// Build the engine. No connection is opened until the first checkout.
    ///
    /// # Errors
    /// [`Error::Url`] for a malformed URL or an unknown query argument; [`Error::Config`] for
    /// settings that cannot work.
    pub fn build(self) -> Result<Engine> {
        let mut url = Url::parse(&self.url)?;
        for (key, value) in &self.connect_args {
            url.set_query_arg(key.clone(), value.clone());
        }
        let base: Arc<dyn Driver> = driver::for_url(&url)?;
        let dialect = base.dialect();
        let pooled = (url.query().iter()).any(|(k, v)| k == "prepared_statements" && v == "false");
        if pooled
            && self
                .isolation_level
                .is_some_and(|l| l != IsolationLevel::Autocommit)
        {
            return Err(Error::config(
                "an engine-wide isolation_level is session state, which pgbouncer's transaction \
                 mode (prepared_statements(false)) does not keep: give the level per \
                 transaction, or set it on the role (ALTER ROLE … SET default_transaction_isolation)",
            ));
        }
        // The driver says (a registered one wrapping SQLite memory too), not the URL's name.
        let memory = base.each_connection_is_a_new_database();
        let mut init = Vec::new();
        if let Some(level) = self
            .isolation_level
            .filter(|l| *l != IsolationLevel::Autocommit)
        {
            init.push(dialect.isolation_level_sql(level)?);
        }
        let driver: Arc<dyn Driver> = if self.creator.is_some() || !init.is_empty() {
            Arc::new(Configured {
                base,
                creator: self.creator,
                init: init.clone(),
            })
        } else {
            base
        };
        let class = match self.pool.chosen_class() {
            Some(class @ (PoolClass::Queue | PoolClass::Null)) if memory => {
                return Err(Error::config(format!(
                    "poolclass {class:?} cannot serve {url}, a memory database: each \
                     connection to one is a new, empty database. Use PoolClass::SingletonThread \
                     (the default: one per thread) or PoolClass::Static (one for all threads)"
                )));
            }
            Some(class) => class,
            None if memory => PoolClass::SingletonThread,
            None => PoolClass::Queue,
        };
        let mut replicas = Vec::with_capacity(self.replicas.len());
        for replica in &self.replicas {
            let mut replica_url = Url::parse(replica)?;
            for (key, value) in &self.connect_args {
                replica_url.set_query_arg(key.clone(), value.clone());
            }
            let replica_driver = driver::for_url(&replica_url)?;
            if replica_driver.dialect().name() != dialect.name() {
                return Err(Error::config(format!(
                    "replica {replica_url} speaks {}, the primary {url} speaks {}: replicas \
                     must be of the primary's database",
                    replica_driver.dialect().name(),
                    dialect.name()
                )));
            }
            let replica_class = match self.pool.chosen_class() {
                Some(class) => class,
                None if replica_driver.each_connection_is_a_new_database() => {
                    PoolClass::SingletonThread
                }
                None => PoolClass::Queue,
            };
            let replica_driver: Arc<dyn Driver> = if init.is_empty() {
                replica_driver
            } else {
                Arc::new(Configured {
                    base: replica_driver,
                    creator: None,
                    init: init.clone(),
                })
            };
            replicas.push(Replica {
                url: replica_url,
                pool: self
                    .pool
                    .clone()
                    .poolclass(replica_class)
                    .build(replica_driver)?,
                failed: Mutex::new(None),
            });
        }
        let pool = self.pool.poolclass(class).build(driver)?;
        Ok(Engine {
            inner: Arc::new(Inner {
                dialect,
                pool,
                url,
                echo: self.echo,
                hide_parameters: self.hide_parameters,
                isolation_level: self.isolation_level,
                strategy: self.strategy,
                local: Mutex::new(HashMap::new()),
                replicas,
                next_replica: AtomicUsize::new(0),
                replica_retry_after: self.replica_retry_after,
            }),
            route: Route::Auto,
        })
    }
}

/// A driver with a `creator` and/or statements to run on every new connection.
struct Configured {
    base: Arc<dyn Driver>,
    creator: Option<Creator>,
    init: Vec<String>,
}

impl fmt::Debug for Configured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Configured")
            .field("base", &self.base)
            .field("init", &self.init)
            .finish_non_exhaustive()
    }
}

impl Driver for Configured {
    fn dialect(&self) -> &'static dyn Dialect {
        self.base.dialect()
    }

    fn connect_may_block(&self) -> bool {
        self.creator.is_some() || self.base.connect_may_block()
    }

    fn connect(&self) -> Result<Box<dyn DriverConnection>> {
        let mut conn = match &self.creator {
            Some(create) => create()?,
            None => self.base.connect()?,
        };
        for sql in &self.init {
            conn.batch(sql)?;
        }
        Ok(conn)
    }
}
