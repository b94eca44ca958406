//! Non-blocking drivers: the only place where the async client crates are used.
//!
//! A [`Driver`] opens [`Conn`]s for one URL. A connection runs compiled SQL and hands each
//! result row, as a [`RawRow`], to the core's [`RowSink`] — so rows decode by index straight
//! from the driver's buffers into the caller's type, exactly as in the blocking engine.
//!
//! Dispatch is an enum, not a trait object: three drivers, no boxed future per call.
//!
//! Every operation marks the connection *busy* while it runs. A future dropped mid-operation
//! leaves the mark set, which tells the pool that the connection's state is unknown: it is
//! reset (cancel, then `ROLLBACK`) or discarded, never handed out as it is.

/// MySQL: the blocking driver's `mysql/row.rs` (result decoding, with its tests in `row/`)
/// and this crate's `mysql.rs`, as siblings in one module, so that the driver sees the row
/// decoder's `pub(super)` items. A directory `#[path]` on an inline module, since a file
/// included by `#[path]` would look for its own `mod tests;` beside it, not in `row/`.
#[cfg(feature = "mysql")]
#[path = "../../../src/driver/mysql"]
pub(crate) mod my {
    #[path = "../../../async/src/driver/mysql.rs"]
    pub(crate) mod mysql;
    mod packet;
    mod row;
}
#[cfg(feature = "mysql")]
pub(crate) use my::mysql;
#[cfg(feature = "postgres")]
mod pg_binary;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

use std::sync::Arc;

use quarry_core::dialect::Dialect;
use quarry_core::{Compiled, Error, FromRow, Outcome, RawRow, Result, RowSink, Url};

use crate::stream::Source;

/// Opens connections to one database.
#[derive(Debug)]
pub(crate) enum Driver {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteDriver),
    #[cfg(feature = "postgres")]
    Postgres(Box<postgres::PgDriver>),
    #[cfg(feature = "mysql")]
    Mysql(Box<mysql::MysqlDriver>),
}

impl Driver {
    /// The driver for `url`'s dialect.
    pub(crate) fn for_url(url: &Url) -> Result<Self> {
        if let Some(driver) = url.driver_name() {
            let own = match url.dialect_name() {
                "sqlite" => "rusqlite",
                "postgresql" => "tokio_postgres",
                _ => "mysql_async",
            };
            if driver != own && !matches!(driver, "asyncpg" | "aiosqlite" | "aiomysql") {
                return Err(url.error(format!(
                    "unknown async driver {driver:?} for {}; expected {own} (or none)",
                    url.dialect_name()
                )));
            }
        }
        match url.dialect_name() {
            #[cfg(feature = "sqlite")]
            "sqlite" => Ok(Driver::Sqlite(sqlite::SqliteDriver::new(url)?)),
            #[cfg(feature = "postgres")]
            "postgresql" => Ok(Driver::Postgres(Box::new(postgres::PgDriver::new(url)?))),
            #[cfg(feature = "mysql")]
            "mysql" | "mariadb" => Ok(Driver::Mysql(Box::new(mysql::MysqlDriver::new(url)?))),
            other => Err(Error::config(format!(
                "the async engine has no driver for the {other:?} dialect in this build; \
                 available: {} (cargo features `tokio` plus `sqlite`, `postgres`, `mysql`)",
                available().join(", ")
            ))),
        }
    }

    /// The dialect of the database.
    pub(crate) fn dialect(&self) -> &'static dyn Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            Driver::Sqlite(_) => &quarry_core::dialect::Sqlite,
            #[cfg(feature = "postgres")]
            Driver::Postgres(_) => &quarry_core::dialect::Postgres,
            #[cfg(feature = "mysql")]
            Driver::Mysql(_) => &quarry_core::dialect::Mysql,
        }
    }

    /// Whether every connection opens a new, empty database (SQLite in memory): the engine
    /// then keeps one connection and hands it out in turn.
    pub(crate) fn each_connection_is_a_new_database(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Driver::Sqlite(d) => d.is_memory(),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// Open a new connection.
    pub(crate) async fn connect(&self) -> Result<Conn> {
        let inner = match self {
            #[cfg(feature = "sqlite")]
            Driver::Sqlite(d) => Inner::Sqlite(d.connect().await?),
            #[cfg(feature = "postgres")]
            Driver::Postgres(d) => Inner::Postgres(d.connect().await?),
            #[cfg(feature = "mysql")]
            Driver::Mysql(d) => Inner::Mysql(Box::new(d.connect().await?)),
        };
        Ok(Conn {
            inner,
            busy: false,
            in_transaction: false,
            lost: false,
        })
    }
}

/// The built-in dialects whose async drivers this build has.
pub(crate) fn available() -> Vec<&'static str> {
    let mut names = Vec::new();
    if cfg!(feature = "sqlite") {
        names.push("sqlite");
    }
    if cfg!(feature = "postgres") {
        names.push("postgresql");
    }
    if cfg!(feature = "mysql") {
        names.extend(["mysql", "mariadb"]);
    }
    names
}

pub(crate) enum Inner {
    #[cfg(feature = "sqlite")]
    Sqlite(sqlite::SqliteConn),
    #[cfg(feature = "postgres")]
    Postgres(postgres::PgConn),
    #[cfg(feature = "mysql")]
    Mysql(Box<mysql::MysqlConn>),
}

/// One open connection.
pub(crate) struct Conn {
    pub(crate) inner: Inner,
    /// An operation started and has not finished: a future was dropped mid-operation if this
    /// is still set when nobody is running one.
    pub(crate) busy: bool,
    /// A transaction is open on the server (begun by us, or by SQL sent as text).
    pub(crate) in_transaction: bool,
    /// An operation failed with a disconnect: the connection is gone.
    pub(crate) lost: bool,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("busy", &self.busy)
            .field("in_transaction", &self.in_transaction)
            .finish_non_exhaustive()
    }
}

/// The decoded result of a statement.
pub(crate) struct Collected<R> {
    pub(crate) rows: Vec<R>,
    pub(crate) keys: Arc<[String]>,
    pub(crate) outcome: Outcome,
}

/// Decodes every row into `R` as the driver produces it (and, for an insert executed with
/// `RETURNING` its key, keeps that key only).
pub(crate) struct Collect<R> {
    pub(crate) rows: Vec<R>,
    pub(crate) keys: Option<Arc<[String]>>,
    pub(crate) key_only: bool,
    pub(crate) key: Option<i64>,
}

impl<R> Collect<R> {
    pub(crate) fn new(key_only: bool) -> Self {
        Collect {
            rows: Vec::new(),
            keys: None,
            key_only,
            key: None,
        }
    }

    pub(crate) fn finish(self, outcome: Outcome) -> Collected<R> {
        let keys = self.keys.unwrap_or_else(|| Arc::from(Vec::new()));
        if self.key_only {
            return Collected {
                rows: Vec::new(),
                keys: Arc::from(Vec::new()),
                outcome: Outcome {
                    last_insert_id: self.key,
                    ..outcome
                },
            };
        }
        Collected {
            rows: self.rows,
            keys,
            outcome,
        }
    }
}

impl<R: FromRow> RowSink for Collect<R> {
    fn columns(&mut self, names: &[&str]) {
        self.keys = Some(names.iter().map(|n| (*n).to_owned()).collect());
    }

    fn expect_rows(&mut self, rows: usize) {
        if !self.key_only {
            self.rows.reserve_exact(rows);
        }
    }

    fn row(&mut self, row: &dyn RawRow) -> Result<()> {
        if self.key_only {
            self.key = row.get_i64(0)?;
        } else {
            self.rows.push(R::from_row(row, 0)?);
        }
        Ok(())
    }
}

impl Conn {
    /// Run `compiled`, decoding every row into `R`.
    pub(crate) async fn run<R: FromRow + Send + 'static>(
        &mut self,
        compiled: Compiled,
    ) -> Result<Collected<R>> {
        let effect = transaction_effect(compiled.sql());
        self.busy = true;
        let key_only = compiled.returns_key;
        let sink = Collect::<R>::new(key_only);
        let out = match &mut self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(c) => c.run(compiled, sink).await,
            #[cfg(feature = "postgres")]
            Inner::Postgres(c) => c.run(&compiled, sink).await,
            #[cfg(feature = "mysql")]
            Inner::Mysql(c) => c.run(&compiled, sink).await,
        };
        self.busy = false;
        self.note(&out, effect);
        out
    }

    /// What a finished operation tells of the connection: a transaction opened or ended by
    /// SQL sent as text, a disconnect.
    fn note<T>(&mut self, r: &Result<T>, effect: Option<bool>) {
        match r {
            Ok(_) => {
                if let Some(open) = effect {
                    self.in_transaction = open;
                }
            }
            Err(e) if e.is_disconnect() => self.lost = true,
            Err(_) => {}
        }
    }

    /// Run `compiled`, giving its rows as they come from the server. SQLite's and
    /// PostgreSQL's streams may be dropped at any point (the rest of the result is skipped).
    pub(crate) async fn stream<R: FromRow + Send + 'static>(
        &mut self,
        compiled: Compiled,
    ) -> Result<Source<'_, R>> {
        self.busy = true;
        let busy = &mut self.busy;
        let lost = &mut self.lost;
        let r = match &mut self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(c) => {
                let r = c.stream(compiled).await;
                *busy = false;
                r
            }
            #[cfg(feature = "postgres")]
            Inner::Postgres(c) => {
                let r = c.stream(&compiled).await;
                *busy = false;
                r
            }
            // Busy until read to the end (the stream clears the mark).
            #[cfg(feature = "mysql")]
            Inner::Mysql(c) => c.stream(&compiled, busy).await,
        };
        if let Err(e) = &r
            && e.is_disconnect()
        {
            *lost = true;
        }
        r
    }

    /// Run SQL without parameters or rows (transaction control, settings). The connection is
    /// marked busy across the await, so a future dropped there leaves the mark.
    pub(crate) async fn batch(&mut self, sql: &str) -> Result<()> {
        let effect = transaction_effect(sql);
        self.busy = true;
        let r = match &mut self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(c) => c.batch(sql).await,
            #[cfg(feature = "postgres")]
            Inner::Postgres(c) => c.batch(sql).await,
            #[cfg(feature = "mysql")]
            Inner::Mysql(c) => c.batch(sql).await,
        };
        self.busy = false;
        self.note(&r, effect);
        r
    }

    /// A round trip.
    pub(crate) async fn ping(&mut self) -> Result<()> {
        self.batch("SELECT 1").await
    }

    pub(crate) async fn begin(&mut self) -> Result<()> {
        self.batch("BEGIN").await
    }

    pub(crate) async fn commit(&mut self) -> Result<()> {
        let r = self.batch("COMMIT").await;
        self.in_transaction = false;
        r
    }

    /// Roll back the open transaction, if any: also one opened by SQL sent as text, and —
    /// after an interrupted operation, when nobody knows — whatever may be open.
    pub(crate) async fn rollback(&mut self) -> Result<()> {
        let unknown = self.busy;
        if !self.in_transaction && !unknown {
            return Ok(());
        }
        self.busy = true;
        let r = match &mut self.inner {
            // SQLite refuses a ROLLBACK with no transaction: it asks its own flag.
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(c) => c.rollback_if_open().await,
            #[cfg(feature = "postgres")]
            Inner::Postgres(c) => c.batch("ROLLBACK").await,
            #[cfg(feature = "mysql")]
            Inner::Mysql(c) => c.batch("ROLLBACK").await,
        };
        self.busy = false;
        self.note(&r, None);
        self.in_transaction = false;
        r
    }

    /// Stop whatever the connection is running, where the backend can (SQLite's interrupt,
    /// PostgreSQL's cancel request); after a future was dropped mid-operation.
    pub(crate) async fn cancel(&mut self) {
        match &mut self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(c) => c.interrupt(),
            #[cfg(feature = "postgres")]
            Inner::Postgres(c) => c.cancel().await,
            // The pool closes an interrupted MySQL connection instead.
            #[cfg(feature = "mysql")]
            Inner::Mysql(_) => {}
        }
    }

    /// Whether a connection interrupted mid-operation can be brought back to a known state
    /// (interrupt, then roll back) rather than closed. SQLite's can: its interrupt acts on the
    /// statement running now and nothing later. PostgreSQL's is cancelled, then closed: a
    /// cancel request is delivered asynchronously and could hit the next user's statement.
    /// MySQL's is closed: its reply may be half read.
    pub(crate) fn recoverable_after_interrupt(&self) -> bool {
        match &self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(_) => true,
            #[cfg(feature = "postgres")]
            Inner::Postgres(_) => false,
            #[cfg(feature = "mysql")]
            Inner::Mysql(_) => false,
        }
    }

    /// Close the connection, politely where the protocol asks for it.
    pub(crate) async fn close(self) {
        match self.inner {
            #[cfg(feature = "sqlite")]
            Inner::Sqlite(c) => drop(c),
            #[cfg(feature = "postgres")]
            Inner::Postgres(c) => drop(c),
            #[cfg(feature = "mysql")]
            Inner::Mysql(c) => c.close().await,
        }
    }
}

/// Whether `sql`, sent as text, opens (`Some(true)`) or ends (`Some(false)`) the current
/// transaction (`BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`, `END`; not `ROLLBACK TO`
/// a savepoint): so that the pool rolls back a transaction a user opened with
/// `text("BEGIN")` before anyone else gets the connection.
pub(crate) fn transaction_effect(sql: &str) -> Option<bool> {
    let mut words = sql
        .trim_start()
        .split(|c: char| c.is_ascii_whitespace() || c == ';')
        .filter(|w| !w.is_empty());
    let first = words.next()?;
    let second = words.next().map(str::to_ascii_lowercase);
    let second = second.as_deref();
    if first.eq_ignore_ascii_case("begin") {
        Some(true)
    } else if first.eq_ignore_ascii_case("start") {
        (second == Some("transaction")).then_some(true)
    } else if first.eq_ignore_ascii_case("commit")
        || first.eq_ignore_ascii_case("rollback")
        || first.eq_ignore_ascii_case("end")
    {
        match second {
            None | Some("work" | "transaction" | "and") => Some(false),
            Some(_) => None,
        }
    } else {
        None
    }
}

/// The error of a call on a connection whose worker or socket is gone: a disconnect, so that
/// the pool discards the connection.
#[cfg_attr(not(any(feature = "sqlite", feature = "mysql")), allow(dead_code))]
pub(crate) fn lost_connection(server: &str) -> Error {
    let mut err = quarry_core::DatabaseError::new(
        quarry_core::DatabaseErrorKind::Connection,
        format!("the connection to {server} was lost"),
    );
    err.disconnect = true;
    crate::error::DatabaseError::into_error(err)
}
