//! Drivers: the only place where database client crates are used.
//!
//! A [`Driver`] opens [`DriverConnection`]s for one URL. A connection runs SQL with bound
//! [`Value`]s and hands each result row, as a [`RawRow`](crate::value::RawRow), to a [`RowSink`] — so rows are decoded
//! by index straight from the driver's buffers into the caller's type.

#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
pub(crate) mod registry;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;

/// The driver crates, for code that uses a native connection from
/// [`Engine::raw_connection`](crate::Engine::raw_connection) or
/// [`Connection::driver_connection`](crate::Connection::driver_connection).
pub mod native {
    #[cfg(feature = "mysql")]
    pub use ::mysql;
    #[cfg(feature = "postgres")]
    pub use ::postgres;
    #[cfg(feature = "sqlite")]
    pub use ::rusqlite;
}

pub use crate::sink::{Outcome, RowSink, send_column_names};

use std::any::Any;
use std::fmt::Debug;
use std::sync::Arc;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::url::Url;
use crate::value::Value;

/// Opens connections to one database.
pub trait Driver: Debug + Send + Sync + 'static {
    /// The dialect of the database.
    fn dialect(&self) -> &'static dyn Dialect;
    /// Open a new connection.
    ///
    /// # Errors
    /// A database error of kind `Connection` when the database cannot be reached.
    fn connect(&self) -> Result<Box<dyn DriverConnection>>;
    /// Whether `connect` may block on the network (then the pool bounds it by the checkout's
    /// deadline, running it on a thread of its own). Default true; embedded databases say
    /// false.
    fn connect_may_block(&self) -> bool {
        true
    }
    /// Whether every connection opens a new, empty database of its own (SQLite in memory).
    /// An engine then defaults to [`PoolClass::SingletonThread`](crate::PoolClass) and
    /// refuses the `Queue` and `Null` pools. Default false; a driver wrapping another says
    /// what the wrapped one says.
    fn each_connection_is_a_new_database(&self) -> bool {
        false
    }
}

/// One open connection of a driver.
pub trait DriverConnection: Send + 'static {
    /// Run `sql` with `params`, feeding any result rows to `sink`. Prepared statements are
    /// cached per connection.
    ///
    /// # Errors
    /// A database error carrying `sql` and `params`, or whatever `sink` returned.
    fn run(&mut self, sql: &str, params: &[Value], sink: &mut dyn RowSink) -> Result<Outcome>;
    /// As [`DriverConnection::run`], for a streamed result: rows are read from the database
    /// as `sink` takes them, never the whole result first (SQLite steps, MySQL reads its
    /// text or binary result unbuffered, PostgreSQL reads the rows off the socket one at a
    /// time). The default is `run`, right for drivers whose `run` already streams.
    ///
    /// # Errors
    /// As `run`.
    fn run_streaming(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
    ) -> Result<Outcome> {
        self.run(sql, params, sink)
    }
    /// `COPY table (columns) FROM STDIN` in PostgreSQL's binary format: `values` holds the
    /// rows one after another, `columns.len()` values each; the rows written. Names are
    /// unquoted (the driver quotes them). Default: [`Error::Unsupported`].
    ///
    /// # Errors
    /// A database error (nothing is written), or `Unsupported`.
    fn copy_in(&mut self, table: &str, columns: &[&str], values: &[Value]) -> Result<u64> {
        let _ = (table, columns, values);
        Err(Error::Unsupported {
            feature: "COPY … FROM STDIN (copy_in)".into(),
            dialect: "this driver",
        })
    }
    /// Run SQL without parameters or result rows, unprepared and uncached: transaction control
    /// (`SAVEPOINT sp_1`), session settings (`SET …`), several statements separated by `;`.
    ///
    /// # Errors
    /// A database error carrying `sql`.
    fn batch(&mut self, sql: &str) -> Result<()>;
    /// Check that the connection is alive with a round trip (pre-ping).
    ///
    /// # Errors
    /// A database error; [`Error::is_disconnect`] tells whether the connection is gone.
    fn ping(&mut self) -> Result<()>;
    /// The most bytes one statement may take on the wire (MySQL's `max_allowed_packet`,
    /// asked once per connection), for `insert_many` to cut its batches under; `None` where
    /// only the bind count limits a statement. Default `None`.
    ///
    /// # Errors
    /// A database error from asking.
    fn max_statement_bytes(&mut self) -> Result<Option<usize>> {
        Ok(None)
    }
    /// [`DriverConnection::ping`], failing if no answer comes within `timeout` (a connection
    /// that timed out is left in an unknown state: the pool closes it). The default ignores
    /// the timeout.
    ///
    /// # Errors
    /// As `ping`, and a disconnect error on timeout.
    fn ping_within(&mut self, timeout: std::time::Duration) -> Result<()> {
        let _ = timeout;
        self.ping()
    }
    /// Start a transaction.
    ///
    /// # Errors
    /// A database error.
    fn begin(&mut self) -> Result<()>;
    /// Commit the open transaction.
    ///
    /// # Errors
    /// A database error.
    fn commit(&mut self) -> Result<()>;
    /// Roll back the open transaction, if any — also one the driver cannot know of, opened
    /// through the native connection. The pool's reset on return.
    ///
    /// # Errors
    /// A database error; a disconnect error when an earlier call found the connection lost
    /// (the pool then discards it instead of keeping it).
    fn rollback(&mut self) -> Result<()>;
    /// True while a transaction is open.
    fn in_transaction(&self) -> bool;
    /// The open transaction was ended by SQL sent through [`DriverConnection::batch`]
    /// (`PREPARE TRANSACTION`): forget it, so that no `ROLLBACK` is sent for it.
    fn forget_transaction(&mut self);
    /// Cancel statements running longer than `timeout` (`None`: no limit).
    ///
    /// # Errors
    /// A database error, or [`Error::Unsupported`] where the backend has no such limit.
    fn set_statement_timeout(&mut self, timeout: Option<std::time::Duration>) -> Result<()>;
    /// The native connection, for `raw_connection()`.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// The native connection, for `raw_connection()`, shared.
    fn as_any(&self) -> &dyn Any;
}

/// The error of a call on a connection that an earlier call found lost (`server` names the
/// database): a disconnect, so that the pool discards the connection.
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(dead_code, reason = "used by the server drivers")
)]
pub(crate) fn lost_connection(server: &str) -> Error {
    let mut err = crate::error::DatabaseError::new(
        crate::error::DatabaseErrorKind::Connection,
        format!("the connection to {server} was lost"),
    );
    err.disconnect = true;
    crate::error::DatabaseError::into_error(err)
}

/// Hashes the server drivers' statement-cache keys (SQL text) eight bytes at a time, the Fx
/// way: the default SipHash cost as much as the rest of a cached lookup on every call, and the
/// keys are the application's own SQL in a cache of bounded size, so flooding resistance buys
/// nothing.
#[cfg(any(feature = "postgres", feature = "mysql"))]
#[derive(Default)]
pub(crate) struct SqlHasher(u64);

#[cfg(any(feature = "postgres", feature = "mysql"))]
impl std::hash::Hasher for SqlHasher {
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(SEED);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(SEED);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A driver's own connection type, which an engine's `creator` may return.
pub trait NativeConnection: Send + 'static {
    /// Wrap it for the pool.
    fn into_driver_connection(self) -> Box<dyn DriverConnection>;
}

#[cfg(feature = "sqlite")]
impl NativeConnection for ::rusqlite::Connection {
    fn into_driver_connection(self) -> Box<dyn DriverConnection> {
        Box::new(sqlite::SqliteConnection::new(self))
    }
}

#[cfg(feature = "postgres")]
impl NativeConnection for ::postgres::Client {
    fn into_driver_connection(self) -> Box<dyn DriverConnection> {
        Box::new(postgres::PgConnection::new(self))
    }
}

#[cfg(feature = "mysql")]
impl NativeConnection for ::mysql::Conn {
    fn into_driver_connection(self) -> Box<dyn DriverConnection> {
        Box::new(mysql::MysqlConnection::from_native(self))
    }
}

/// Whether `sql`, sent as text, opens (`Some(true)`) or ends (`Some(false)`) the current
/// transaction — `BEGIN`, `START TRANSACTION`, `COMMIT`, `ROLLBACK`, `END` (not `ROLLBACK TO`
/// a savepoint, nor `COMMIT PREPARED`) — so that drivers tracking the transaction with a flag
/// stay true to the server, and the pool rolls back a transaction a user opened with
/// `text("BEGIN")` before anyone else gets the connection.
#[cfg_attr(
    not(any(feature = "postgres", feature = "mysql")),
    allow(dead_code, reason = "used by the server drivers")
)]
pub(crate) fn transaction_effect(sql: &str) -> Option<bool> {
    let is = |word: &str, keyword: &str| word.eq_ignore_ascii_case(keyword);
    let mut words = sql
        .trim_start()
        .split(|c: char| c.is_ascii_whitespace() || c == ';')
        .filter(|w| !w.is_empty());
    let first = words.next()?;
    if is(first, "begin") {
        return Some(true);
    }
    // Every statement passes here: the second word is looked at (without a copy) only after
    // a transaction keyword.
    if is(first, "start") {
        return words
            .next()
            .is_some_and(|w| is(w, "transaction"))
            .then_some(true);
    }
    if !(is(first, "commit") || is(first, "rollback") || is(first, "end")) {
        return None;
    }
    match words.next() {
        None => Some(false),
        Some(w) if is(w, "work") || is(w, "transaction") || is(w, "and") => Some(false),
        Some(_) => None,
    }
}

/// The driver for a parsed URL — what an engine uses, and what a standalone
/// [`Pool`](crate::pool::Pool) is built with.
///
/// A URL `dialect+driver://…` goes to the factory registered as `dialect+driver`, else to the
/// one registered as `dialect` (see [`crate::dialect::register`]), else to the built-in
/// dialect, whose driver must be its own (`sqlite+rusqlite`, `postgresql+postgres`,
/// `mysql+mysql`), another built-in one (`postgresql+wire`, the lean PostgreSQL driver) or
/// unnamed.
///
/// # Errors
/// [`Error::Url`] for an unknown dialect or driver (listing the known ones, built-in and
/// registered), query arguments the driver does not know, or whatever a registered factory
/// returned (naming the registered name); [`Error::Config`] when no driver of this build
/// serves a built-in dialect.
pub fn for_url(url: &Url) -> Result<Arc<dyn Driver>> {
    if let Some((name, factory)) = registry::lookup(url) {
        return factory(url)
            .map_err(|e| url.error(format!("the driver registered as {name:?} failed: {e}")));
    }
    let dialect = url.dialect_name();
    let Some((_, own)) = registry::BUILT_IN.iter().find(|(d, _)| *d == dialect) else {
        let mut known: Vec<String> = registry::BUILT_IN
            .iter()
            .map(|(d, _)| (*d).to_owned())
            .collect();
        known.extend(registry::registered());
        return Err(url.error(format!(
            "unknown dialect {dialect:?}; expected one of {} (more with \
             quarry::dialect::register)",
            known.join(", ")
        )));
    };
    // The lean PostgreSQL driver is built in beside the `postgres` crate's.
    #[cfg(feature = "postgres")]
    if dialect == "postgresql" && url.driver_name() == Some("wire") {
        return Ok(Arc::new(postgres::WireDriver::new(url)?));
    }
    if let Some(driver) = url.driver_name()
        && driver != *own
    {
        let mut known = vec![format!("{dialect}+{own}")];
        if cfg!(feature = "postgres") {
            known.extend(
                (registry::OTHER_BUILT_IN.iter())
                    .filter(|(d, _)| *d == dialect)
                    .map(|(d, drv)| format!("{d}+{drv}")),
            );
        }
        known.extend(registry::drivers_of(dialect));
        return Err(url.error(format!(
            "unknown driver {driver:?} for {dialect}; expected one of {} (or {dialect}:// for \
             the built-in one)",
            known.join(", ")
        )));
    }
    match dialect {
        #[cfg(feature = "sqlite")]
        "sqlite" => Ok(Arc::new(sqlite::SqliteDriver::new(url)?)),
        #[cfg(feature = "postgres")]
        "postgresql" => Ok(Arc::new(postgres::PgDriver::new(url)?)),
        #[cfg(feature = "mysql")]
        "mysql" | "mariadb" => Ok(Arc::new(mysql::MysqlDriver::new(url)?)),
        other => Err(Error::config(format!(
            "no driver for the {other:?} dialect is built into this version of quarry; \
             available: {}",
            available().join(", ")
        ))),
    }
}

/// The built-in dialects whose drivers this build has (cargo features `sqlite`, `postgres`,
/// `mysql`); [`crate::dialect::registered`] lists the others.
pub fn available() -> Vec<&'static str> {
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

#[cfg(test)]
mod tests {
    use super::transaction_effect;

    #[test]
    fn transaction_control_sent_as_text_is_recognised() {
        for sql in [
            "BEGIN",
            " begin;",
            "BEGIN ISOLATION LEVEL SERIALIZABLE",
            "start transaction",
        ] {
            assert_eq!(transaction_effect(sql), Some(true), "{sql}");
        }
        for sql in [
            "COMMIT",
            "rollback;",
            "END",
            "COMMIT WORK",
            "ROLLBACK AND CHAIN",
        ] {
            assert_eq!(transaction_effect(sql), Some(false), "{sql}");
        }
        for sql in [
            "ROLLBACK TO SAVEPOINT sa_1",
            "COMMIT PREPARED 'x'",
            "START SLAVE",
            "SELECT 1",
            "",
            "begins",
        ] {
            assert_eq!(transaction_effect(sql), None, "{sql}");
        }
    }
}
