//! The one error type of Quarry.

use std::fmt;
use std::time::Duration;

use crate::value::Value;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in Quarry.
///
/// Large payloads are boxed so that `Result<T>` stays small on the hot path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database rejected a statement or the connection failed while running it.
    #[error("{0}")]
    Database(Box<DatabaseError>),

    /// A column value could not be decoded into the Rust type asked for.
    #[error("{0}")]
    Decode(Box<DecodeError>),

    /// A database URL could not be understood.
    #[error("invalid database URL {url:?}: {message}")]
    Url {
        /// The URL with any password masked.
        url: String,
        /// What is wrong with it, naming the bad part.
        message: String,
    },

    /// A statement uses a feature the dialect does not have.
    #[error("{feature} is not supported by the {dialect} dialect")]
    Unsupported {
        /// The feature, e.g. `RETURNING`.
        feature: String,
        /// The dialect's name.
        dialect: &'static str,
    },

    /// No connection became available within `pool_timeout`.
    #[error(
        "pool limit of size {size} overflow {overflow} reached, connection timed out, timeout {}{}",
        DisplayDuration(*timeout),
        last_connect_error.as_deref().map(|e| format!("; last connect error: {e}")).unwrap_or_default()
    )]
    PoolTimeout {
        /// `pool_size` of the pool.
        size: usize,
        /// `max_overflow` of the pool (`-1` = unbounded).
        overflow: isize,
        /// `pool_timeout` of the pool.
        timeout: Duration,
        /// Why the last attempt to open a connection failed, if it failed (a success clears it).
        last_connect_error: Option<String>,
    },

    /// `one()` found no row.
    #[error("no row was found when one was required")]
    NoRows,

    /// Rows were fetched from the result of a statement that returns none — an `INSERT`,
    /// `UPDATE` or `DELETE` without `RETURNING`, DDL — as SQLAlchemy's `ResourceClosedError`
    /// ("This result object does not return rows"). Its `rowcount()` says what it changed.
    #[error(
        "this result object does not return rows: the statement has no result set (read \
         rowcount() or last_insert_id() instead, or add RETURNING to get rows back)"
    )]
    NoResultSet,

    /// `one()` or `one_or_none()` found more than one row.
    #[error("multiple rows were found when exactly one was required")]
    MultipleRows,

    /// A transaction was used after an inner transaction rolled it back.
    #[error("this transaction is inactive: {0}")]
    InactiveTransaction(String),

    /// A dynamic row has no column by that name or index.
    #[error("{0}")]
    NoSuchColumn(String),

    /// The engine or a table was configured in a way that cannot work.
    #[error("{0}")]
    Config(String),

    /// A statement exceeds a limit of the database — more bound parameters than one statement
    /// may carry, or (MySQL) more bytes than the server's `max_allowed_packet` — and was
    /// refused before it was sent: the connection is intact and is not a disconnect.
    #[error(
        "the statement has {count} {what}, over the {dialect} limit of {limit}; it was not sent: {hint}"
    )]
    TooLarge {
        /// What was counted: `bound parameters`, `bytes`.
        what: &'static str,
        /// How many the statement has.
        count: usize,
        /// The most the database takes.
        limit: usize,
        /// The dialect's name.
        dialect: &'static str,
        /// What to do instead.
        hint: &'static str,
    },

    /// A transaction run with retries (`Engine::transaction_with_retry`) failed with a
    /// retryable error on its last allowed attempt: `last` is that error.
    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted {
        /// How many times the transaction ran.
        attempts: u32,
        /// The error of the last attempt.
        last: Box<Error>,
    },

    /// Implicit execution (`stmt.execute()`, `META.create_all(None)`) found no engine: the
    /// tables' `MetaData` is not bound (SQLAlchemy's `UnboundExecutionError`), or the tables
    /// of one statement are bound to different engines. Names the tables and how to bind them.
    #[error("{0}")]
    Unbound(String),

    /// A migration could not be planned or run: a destructive step not allowed, an applied
    /// migration whose file changed since, a failed step. Says which migration or step and
    /// what to do.
    #[error("{0}")]
    Migration(String),
}

impl Error {
    /// True when the error means the connection to the database is gone.
    pub fn is_disconnect(&self) -> bool {
        matches!(self, Error::Database(e) if e.disconnect)
    }

    /// True when running the whole transaction again may succeed: the database rolled it back
    /// as a serialization failure or a deadlock victim, a lock was not granted in time, or a
    /// Galera node saw a conflict with another node (see [`DatabaseErrorKind::is_retryable`]).
    /// Never true for a lost connection (whether the commit happened is unknown) nor for any
    /// error of Quarry's own.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut attempts = 0;
    /// let n: i64 = loop {
    ///     attempts += 1;
    ///     match engine.transaction(|conn| {
    ///         conn.execute(text("SELECT 41 + 1"))?.scalar::<i64>()
    ///     }) {
    ///         Err(e) if e.is_retryable() && attempts < 3 => continue,
    ///         other => break other?,
    ///     }
    /// };
    /// assert_eq!(n, 42);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Database(e) if e.kind.is_retryable())
    }

    /// The database error, if this is one (for [`Error::RetriesExhausted`], the last
    /// attempt's).
    pub fn as_database(&self) -> Option<&DatabaseError> {
        match self {
            Error::Database(e) => Some(e),
            Error::RetriesExhausted { last, .. } => last.as_database(),
            _ => None,
        }
    }

    /// Refuse a statement of `count` bound parameters where `dialect` takes at most `limit`
    /// ([`Error::TooLarge`]); drivers call this before they send anything.
    ///
    /// # Errors
    /// [`Error::TooLarge`] naming the count and the limit when `count > limit`.
    pub fn check_parameters(count: usize, limit: usize, dialect: &'static str) -> Result<()> {
        if count <= limit {
            return Ok(());
        }
        Err(Error::TooLarge {
            what: "bound parameters",
            count,
            limit,
            dialect,
            hint: "split it into smaller statements (an IN list or insert_many in batches), or \
                   pass the values through a temporary table",
        })
    }

    /// A configuration error ([`Error::Config`]): something set up or written so that it
    /// cannot work, said in `message`.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }
}

/// What kind of failure a database error is, independent of the backend's codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseErrorKind {
    /// A UNIQUE or PRIMARY KEY constraint was violated.
    UniqueViolation,
    /// A FOREIGN KEY constraint was violated.
    ForeignKeyViolation,
    /// A NOT NULL constraint was violated.
    NotNullViolation,
    /// A CHECK constraint was violated.
    CheckViolation,
    /// The statement could not be parsed or names something that does not exist.
    Syntax,
    /// The connection is broken or could not be made.
    Connection,
    /// The transaction could not be serialized with concurrent ones and was rolled back:
    /// PostgreSQL `40001`, MariaDB `1020` (snapshot isolation), SQLite `SQLITE_BUSY_SNAPSHOT`.
    /// Running the transaction again may succeed.
    SerializationFailure,
    /// The transaction was chosen as a deadlock victim and rolled back: PostgreSQL `40P01`,
    /// MySQL/MariaDB `1213`. Running the transaction again may succeed.
    Deadlock,
    /// A lock could not be had in time (or at once, with `NOWAIT`): PostgreSQL `55P03`,
    /// MySQL/MariaDB `1205` / `3572`, SQLite `SQLITE_BUSY` / `SQLITE_LOCKED`.
    LockTimeout,
    /// A Galera cluster node refused the transaction with a `WSREP` error: a conflict with a
    /// transaction of another node, or a node not ready for it (MariaDB `1213` / `1180` /
    /// `1047` whose message names `WSREP`). A certification conflict found at `COMMIT` is
    /// reported by MariaDB as a plain deadlock (`1213`, [`Deadlock`](Self::Deadlock)).
    /// Running the transaction again may succeed.
    ClusterConflict,
    /// Anything else.
    Other,
}

impl DatabaseErrorKind {
    /// True for the kinds after which running the whole transaction again may succeed:
    /// [`SerializationFailure`](Self::SerializationFailure), [`Deadlock`](Self::Deadlock),
    /// [`LockTimeout`](Self::LockTimeout) and [`ClusterConflict`](Self::ClusterConflict).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            DatabaseErrorKind::SerializationFailure
                | DatabaseErrorKind::Deadlock
                | DatabaseErrorKind::LockTimeout
                | DatabaseErrorKind::ClusterConflict
        )
    }
}

/// A database error, with the statement that caused it.
///
/// `Display` shows the message, the code and the SQL, never the parameter values: they may hold
/// secrets. They are reachable through [`DatabaseError::params`].
#[derive(Debug)]
pub struct DatabaseError {
    #[doc(hidden)]
    pub kind: DatabaseErrorKind,
    #[doc(hidden)]
    pub code: Option<String>,
    #[doc(hidden)]
    pub sqlstate: Option<String>,
    #[doc(hidden)]
    pub message: String,
    #[doc(hidden)]
    pub constraint: Option<String>,
    #[doc(hidden)]
    pub sql: Option<String>,
    #[doc(hidden)]
    pub params: Vec<Value>,
    #[doc(hidden)]
    pub disconnect: bool,
}

impl DatabaseError {
    /// A database error of `kind` saying `message`; drivers fill in the rest (code, SQL,
    /// parameters, whether the connection was lost).
    pub fn new(kind: DatabaseErrorKind, message: impl Into<String>) -> Self {
        DatabaseError {
            kind,
            code: None,
            sqlstate: None,
            message: message.into(),
            constraint: None,
            sql: None,
            params: Vec::new(),
            disconnect: false,
        }
    }

    /// The kind of failure.
    pub fn kind(&self) -> DatabaseErrorKind {
        self.kind
    }
    /// The backend's code: SQLSTATE on PostgreSQL, the error number on MySQL (`1062`), the
    /// extended result code on SQLite (`2067`).
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }
    /// The five-character SQLSTATE (PostgreSQL, MySQL/MariaDB; SQLite has none): comparable
    /// across backends, e.g. `23000` / `23505` for a unique violation.
    pub fn sqlstate(&self) -> Option<&str> {
        self.sqlstate.as_deref()
    }
    /// The backend's message.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The violated constraint, where the backend names it.
    pub fn constraint(&self) -> Option<&str> {
        self.constraint.as_deref()
    }
    /// The SQL that failed, if a statement was running.
    pub fn sql(&self) -> Option<&str> {
        self.sql.as_deref()
    }
    /// The bound parameters of the failed statement. Not shown by `Display`.
    pub fn params(&self) -> &[Value] {
        &self.params
    }
    /// True when the connection is gone.
    pub fn is_disconnect(&self) -> bool {
        self.disconnect
    }
    /// True when running the whole transaction again may succeed; see
    /// [`Error::is_retryable`].
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

impl fmt::Display for DatabaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(code) = &self.code {
            write!(f, " (code {code})")?;
        }
        if let Some(sql) = &self.sql {
            write!(f, "\n[SQL: {sql}]")?;
            if !self.params.is_empty() {
                write!(f, "\n[{} parameters hidden]", self.params.len())?;
            }
        }
        Ok(())
    }
}

// No `From<DatabaseError>` or `From<DecodeError>` for `Error`: with `From<T> for T` the only
// conversion into `Error`, a closure given to `Engine::transaction` that ends in `Ok(…)` and
// uses `?` has its error type inferred as `Error` from a caller returning `quarry::Result`
// (CONTRACT.md's `engine.transaction(|conn| { …; Ok(()) })?`) while any other
// `E: From<Error>` stays possible. Convert with `DatabaseError::into_error` and
// `DecodeError::into_error`.

impl DatabaseError {
    /// This error as an [`Error::Database`].
    pub fn into_error(self) -> Error {
        Error::Database(Box::new(self))
    }
}

/// A value that could not be turned into the Rust type asked for.
#[derive(Debug)]
pub struct DecodeError {
    pub(crate) column: String,
    pub(crate) expected: &'static str,
    pub(crate) found: String,
}

impl DecodeError {
    /// Build a decode error: `column` by name, the Rust type asked for, and what was found.
    pub fn new(
        column: impl Into<String>,
        expected: &'static str,
        found: impl Into<String>,
    ) -> Self {
        DecodeError {
            column: column.into(),
            expected,
            found: found.into(),
        }
    }
    /// The column, by name.
    pub fn column(&self) -> &str {
        &self.column
    }
    /// The Rust type asked for.
    pub fn expected(&self) -> &'static str {
        self.expected
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot decode column \"{}\" as {}: found {}",
            self.column, self.expected, self.found
        )
    }
}

impl DecodeError {
    /// This error as an [`Error::Decode`].
    pub fn into_error(self) -> Error {
        Error::Decode(Box::new(self))
    }
}

/// The candidate closest to `name` within edit distance 2, for "did you mean" hints (the
/// runtime's twin of the one in `quarry-macros`, which the runtime cannot depend on). A
/// candidate is never suggested when every one of its characters would have to change.
#[doc(hidden)]
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= 2 && *d < c.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Durations as SQLAlchemy prints them: `30s`, `1.5s`, `250ms`.
struct DisplayDuration(Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_nanos() == 0 {
            write!(f, "{}s", d.as_secs())
        } else if d < Duration::from_secs(1) {
            write!(f, "{}ms", d.as_millis())
        } else {
            write!(f, "{}s", d.as_secs_f64())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_timeout_message_matches_sqlalchemy() {
        let e = Error::PoolTimeout {
            size: 5,
            overflow: 10,
            timeout: Duration::from_secs(30),
            last_connect_error: None,
        };
        assert_eq!(
            e.to_string(),
            "pool limit of size 5 overflow 10 reached, connection timed out, timeout 30s"
        );
    }

    #[test]
    fn database_error_display_hides_parameter_values() {
        let mut e = DatabaseError::new(DatabaseErrorKind::UniqueViolation, "UNIQUE failed");
        e.sql = Some("INSERT INTO t (secret) VALUES (?)".into());
        e.params = vec![Value::Text("hunter2".into())];
        let shown = crate::error::DatabaseError::into_error(e).to_string();
        assert!(shown.contains("INSERT INTO t"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("1 parameters hidden"), "{shown}");
    }

    #[test]
    fn did_you_mean_finds_the_closest_name_within_two_edits() {
        assert_eq!(did_you_mean("nmae", ["id", "name"]), Some("name"));
        assert_eq!(did_you_mean("email", ["id", "name"]), None);
        assert_eq!(did_you_mean("x", ["a", "id"]), None);
    }
}
