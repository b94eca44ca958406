//! The SQLite driver, on rusqlite.

use std::any::Any;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{OpenFlags, ffi};

use super::{Driver, DriverConnection, Outcome, RowSink};
use crate::dialect::{Dialect, Sqlite};
use crate::error::{DatabaseError, DatabaseErrorKind, DecodeError, Error, Result};
use crate::url::{SecondsRange, Url};
use crate::value::{RawRow, Value, temporal};

/// Where a SQLite database lives.
#[derive(Debug, Clone)]
enum Target {
    Memory,
    File(PathBuf),
}

/// Opens SQLite connections.
#[derive(Debug)]
pub(crate) struct SqliteDriver {
    target: Target,
    flags: OpenFlags,
    /// How long a statement waits for another connection's lock (`?timeout=5`, seconds).
    busy_timeout: Option<Duration>,
}

/// URL query arguments this driver understands.
const QUERY_ARGS: &[&str] = &["mode", "timeout"];

/// `?timeout=`: SQLite takes its busy timeout in milliseconds as a C `int`.
const BUSY_TIMEOUT: SecondsRange = SecondsRange {
    min: 0.0,
    min_inclusive: true,
    max: 2_147_483.0,
    whole: false,
};

impl SqliteDriver {
    pub(crate) fn new(url: &Url) -> Result<Self> {
        if url.host().is_some() {
            return Err(url.error(
                "a SQLite URL has no host: use sqlite:// for memory, sqlite:///relative.db or \
                 sqlite:////absolute.db",
            ));
        }
        let target = match url.database() {
            None | Some("") | Some(":memory:") => Target::Memory,
            Some(path) => Target::File(PathBuf::from(path)),
        };
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut busy_timeout = None;
        for (key, value) in url.query() {
            match key.as_str() {
                "mode" => {
                    let access = match value.as_str() {
                        "ro" => OpenFlags::SQLITE_OPEN_READ_ONLY,
                        "rw" => OpenFlags::SQLITE_OPEN_READ_WRITE,
                        "rwc" => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
                        other => {
                            return Err(url.arg_error(
                                key,
                                other,
                                "is not a SQLite open mode; expected ro, rw or rwc",
                            ));
                        }
                    };
                    flags = access | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                }
                "timeout" => {
                    busy_timeout = Some(url.seconds_arg(key, value, BUSY_TIMEOUT)?);
                }
                "prepared_statements" if value == "true" => {}
                "prepared_statements" => {
                    return Err(url.arg_error(
                        key,
                        value,
                        "is for PostgreSQL behind a transaction pooler (pgbouncer); SQLite \
                         prepares in-process, with nothing between it and its database",
                    ));
                }
                other => {
                    return Err(url.error(format!(
                        "unknown query argument {other:?} for sqlite; expected one of {}",
                        QUERY_ARGS.join(", ")
                    )));
                }
            }
        }
        Ok(SqliteDriver {
            target,
            flags,
            busy_timeout,
        })
    }
}

impl Driver for SqliteDriver {
    fn dialect(&self) -> &'static dyn Dialect {
        &Sqlite
    }

    fn connect(&self) -> Result<Box<dyn DriverConnection>> {
        let flags = self.flags;
        let conn = match &self.target {
            Target::Memory => rusqlite::Connection::open_in_memory_with_flags(flags),
            Target::File(path) => rusqlite::Connection::open_with_flags(path, flags),
        }
        .map_err(|e| {
            let mut err = convert(e, None, &[]);
            err.kind = DatabaseErrorKind::Connection;
            if let Target::File(path) = &self.target {
                err.message = format!(
                    "cannot open SQLite database {}: {}",
                    path.display(),
                    err.message
                );
            }
            crate::error::DatabaseError::into_error(err)
        })?;
        if let Some(timeout) = self.busy_timeout {
            conn.busy_timeout(timeout)
                .map_err(|e| crate::error::DatabaseError::into_error(convert(e, None, &[])))?;
        }
        Ok(Box::new(SqliteConnection::new(conn)))
    }

    fn connect_may_block(&self) -> bool {
        false
    }

    fn each_connection_is_a_new_database(&self) -> bool {
        matches!(self.target, Target::Memory)
    }
}

pub(crate) struct SqliteConnection {
    conn: rusqlite::Connection,
    timeout: Option<Duration>,
    /// The connection's `SQLITE_LIMIT_VARIABLE_NUMBER`: more parameters are refused unsent.
    max_parameters: usize,
}

impl SqliteConnection {
    pub(crate) fn new(conn: rusqlite::Connection) -> Self {
        conn.set_prepared_statement_cache_capacity(64);
        let max_parameters = conn
            .limit(rusqlite::limits::Limit::SQLITE_LIMIT_VARIABLE_NUMBER)
            .ok()
            .and_then(|n| usize::try_from(n).ok())
            .or(Sqlite.max_parameters())
            .unwrap_or(usize::MAX);
        SqliteConnection {
            conn,
            timeout: None,
            max_parameters,
        }
    }
}

impl DriverConnection for SqliteConnection {
    fn run(&mut self, sql: &str, params: &[Value], sink: &mut dyn RowSink) -> Result<Outcome> {
        let fail = |e: rusqlite::Error| {
            crate::error::DatabaseError::into_error(convert(e, Some(sql), params))
        };
        Error::check_parameters(params.len(), self.max_parameters, "sqlite")?;
        refuse_silent_changes(params)?;
        if let Some(timeout) = self.timeout {
            // SQLite has no statement timeout; interrupt from the progress handler instead.
            let deadline = Instant::now() + timeout;
            self.conn
                .progress_handler(1000, Some(move || Instant::now() > deadline))
                .map_err(fail)?;
        }
        let mut stmt = self.conn.prepare_cached(sql).map_err(fail)?;
        let expected = stmt.parameter_count();
        if expected != params.len() {
            return Err(Error::config(format!(
                "statement expects {expected} parameters but {} were given: {sql}",
                params.len()
            )));
        }
        for (i, v) in params.iter().enumerate() {
            stmt.raw_bind_parameter(i + 1, Bind(v)).map_err(fail)?;
        }
        let readonly = stmt.readonly();
        let mut fetched = 0u64;
        if stmt.column_count() == 0 {
            sink.columns(&[]);
            stmt.raw_execute().map_err(fail)?;
        } else {
            super::send_column_names(stmt.column_count(), |i| stmt.column_name(i), sink)
                .map_err(fail)?;
            let mut rows = stmt.raw_query();
            while let Some(row) = rows.next().map_err(fail)? {
                fetched += 1;
                sink.row(&SqliteRow { row })?;
            }
        }
        if readonly {
            return Ok(Outcome {
                rows_affected: fetched,
                last_insert_id: None,
            });
        }
        Ok(Outcome {
            rows_affected: self.conn.changes(),
            last_insert_id: Some(self.conn.last_insert_rowid()),
        })
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| crate::error::DatabaseError::into_error(convert(e, Some(sql), &[])))
    }

    fn ping(&mut self) -> Result<()> {
        // An embedded database cannot lose its connection; this still checks the handle works.
        self.batch("SELECT 1")
    }

    fn begin(&mut self) -> Result<()> {
        self.batch("BEGIN")
    }

    fn commit(&mut self) -> Result<()> {
        self.batch("COMMIT")
    }

    fn rollback(&mut self) -> Result<()> {
        if self.in_transaction() {
            self.batch("ROLLBACK")
        } else {
            Ok(())
        }
    }

    fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    fn forget_transaction(&mut self) {
        // SQLite reports its own state; nothing is tracked here.
    }

    fn set_statement_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.timeout = timeout;
        if timeout.is_none() {
            self.conn
                .progress_handler(0, None::<fn() -> bool>)
                .map_err(|e| crate::error::DatabaseError::into_error(convert(e, None, &[])))?;
        }
        Ok(())
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        &mut self.conn
    }

    fn as_any(&self) -> &dyn Any {
        &self.conn
    }
}

/// Refuse the values SQLite would store as something else without a word: NaN (stored as
/// NULL), and decimals of more significant digits than a NUMERIC column keeps (SQLite converts
/// them to a 64-bit float, rounding `1234567890123456789.0123456789`).
fn refuse_silent_changes(params: &[Value]) -> Result<()> {
    for (i, v) in params.iter().enumerate() {
        let feature = match v {
            Value::F32(f) if f.is_nan() => "NaN (SQLite stores it as NULL)".to_owned(),
            Value::F64(f) if f.is_nan() => "NaN (SQLite stores it as NULL)".to_owned(),
            Value::Date(Value::DATE_INFINITY | Value::DATE_NEG_INFINITY)
            | Value::Timestamp(Value::TIMESTAMP_INFINITY | Value::TIMESTAMP_NEG_INFINITY)
            | Value::TimestampTz(Value::TIMESTAMP_INFINITY | Value::TIMESTAMP_NEG_INFINITY) => {
                "an infinite date or timestamp (PostgreSQL's; SQLite's are ISO 8601 text)"
                    .to_owned()
            }
            Value::Decimal(d) => {
                let digits = significant_digits(d);
                // An integer that fits 64 bits is kept exactly, as an INTEGER.
                let integer = d.split_once('.').map_or(d.as_str(), |(int, frac)| {
                    if frac.bytes().all(|b| b == b'0') {
                        int
                    } else {
                        ""
                    }
                });
                if digits <= SQLITE_DECIMAL_DIGITS || integer.parse::<i64>().is_ok() {
                    continue;
                }
                format!(
                    "a decimal of {digits} significant digits (SQLite keeps {SQLITE_DECIMAL_DIGITS} \
                     in a NUMERIC column, as a float; bind it as text, a String, to keep it exact)"
                )
            }
            _ => continue,
        };
        return Err(Error::Unsupported {
            feature: format!("{feature}, in parameter {}", i + 1),
            dialect: "sqlite",
        });
    }
    Ok(())
}

/// The significant decimal digits a 64-bit float keeps exactly through text.
const SQLITE_DECIMAL_DIGITS: usize = 15;

/// The significant digits of a decimal's text: `-0012.3400` has 3, `1000` has 1.
fn significant_digits(d: &str) -> usize {
    let digits: String = d.chars().filter(char::is_ascii_digit).collect();
    digits.trim_start_matches('0').trim_end_matches('0').len()
}

/// Binds a [`Value`] without copying it.
struct Bind<'a>(&'a Value);

impl rusqlite::ToSql for Bind<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Bool(b) => ValueRef::Integer(i64::from(*b)),
            Value::I16(v) => ValueRef::Integer(i64::from(*v)),
            Value::I32(v) => ValueRef::Integer(i64::from(*v)),
            Value::I64(v) => ValueRef::Integer(*v),
            Value::F32(v) => ValueRef::Real(f64::from(*v)),
            Value::F64(v) => ValueRef::Real(*v),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
            Value::Json(s) | Value::Decimal(s) => ValueRef::Text(s.as_bytes()),
            // SQLite has no date, time or UUID types: ISO 8601 text (UTC for instants) sorts
            // and compares correctly and is what SQLAlchemy stores; UUIDs as 32 hex digits.
            Value::Date(_) | Value::Time(_) | Value::Timestamp(_) | Value::TimestampTz(_) => {
                return Ok(ToSqlOutput::Owned(rusqlite::types::Value::Text(iso_text(
                    self.0,
                ))));
            }
            Value::Uuid(u) => {
                return Ok(ToSqlOutput::Owned(rusqlite::types::Value::Text(
                    temporal::uuid_hex(u),
                )));
            }
            Value::Array(_) => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    "SQLite has no arrays: Vec<T> values bind on PostgreSQL only".into(),
                ));
            }
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    format!("the SQLite driver cannot bind {other:?}").into(),
                ));
            }
        }))
    }
}

/// Dates and times as SQLAlchemy's SQLite types store them: `2024-02-29`, `13:45:00.000000`,
/// `2024-02-29 13:45:00.000000`.
fn iso_text(v: &Value) -> String {
    match v {
        Value::Date(d) => temporal::Date(*d).to_string(),
        Value::Time(t) => {
            let (h, m, s, us) = temporal::hms(*t);
            format!("{h:02}:{m:02}:{s:02}.{us:06}")
        }
        Value::Timestamp(t) | Value::TimestampTz(t) => {
            let (days, time) = temporal::split_timestamp(*t);
            let (y, mo, d) = temporal::civil_from_days(days);
            let (h, m, s, us) = temporal::hms(time);
            format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02}:{s:02}.{us:06}")
        }
        other => format!("{other:?}"),
    }
}

struct SqliteRow<'a, 'stmt> {
    row: &'a rusqlite::Row<'stmt>,
}

impl SqliteRow<'_, '_> {
    fn get(&self, idx: usize) -> Result<ValueRef<'_>> {
        self.row
            .get_ref(idx)
            .map_err(|e| Error::NoSuchColumn(format!("result has no column {idx}: {e}")))
    }

    fn mismatch(&self, idx: usize, expected: &'static str, found: ValueRef<'_>) -> Error {
        let found = match found {
            ValueRef::Null => "NULL",
            ValueRef::Integer(_) => "an INTEGER value",
            ValueRef::Real(_) => "a REAL value",
            ValueRef::Text(_) => "a TEXT value",
            ValueRef::Blob(_) => "a BLOB value",
        };
        DecodeError::new(self.name(idx), expected, found).into_error()
    }
}

impl RawRow for SqliteRow<'_, '_> {
    fn len(&self) -> usize {
        self.row.as_ref().column_count()
    }

    fn name(&self, idx: usize) -> &str {
        self.row.as_ref().column_name(idx).unwrap_or("?")
    }

    fn get_i64(&self, idx: usize) -> Result<Option<i64>> {
        match self.get(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(v) => Ok(Some(v)),
            other => Err(self.mismatch(idx, "an integer", other)),
        }
    }

    fn get_f64(&self, idx: usize) -> Result<Option<f64>> {
        match self.get(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Real(v) => Ok(Some(v)),
            // SQLite stores integral REAL values as integers when the column has no REAL affinity.
            ValueRef::Integer(v) => Ok(Some(v as f64)),
            other => Err(self.mismatch(idx, "a float", other)),
        }
    }

    fn get_bool(&self, idx: usize) -> Result<Option<bool>> {
        match self.get(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Integer(0) => Ok(Some(false)),
            ValueRef::Integer(1) => Ok(Some(true)),
            ValueRef::Integer(v) => Err(DecodeError::new(
                self.name(idx),
                "bool",
                format!("the INTEGER {v}, which is neither 0 nor 1"),
            )
            .into_error()),
            other => Err(self.mismatch(idx, "bool", other)),
        }
    }

    fn get_text(&self, idx: usize) -> Result<Option<String>> {
        match self.get(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Text(bytes) => String::from_utf8(bytes.to_vec()).map(Some).map_err(|_| {
                DecodeError::new(self.name(idx), "String", "TEXT that is not valid UTF-8")
                    .into_error()
            }),
            other => Err(self.mismatch(idx, "String", other)),
        }
    }

    fn get_blob(&self, idx: usize) -> Result<Option<Vec<u8>>> {
        match self.get(idx)? {
            ValueRef::Null => Ok(None),
            ValueRef::Blob(b) | ValueRef::Text(b) => Ok(Some(b.to_vec())),
            other => Err(self.mismatch(idx, "Vec<u8>", other)),
        }
    }

    fn get_value(&self, idx: usize) -> Result<Value> {
        Ok(match self.get(idx)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(v) => Value::I64(v),
            ValueRef::Real(v) => Value::F64(v),
            ValueRef::Text(b) => Value::Text(String::from_utf8_lossy(b).into_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }

    fn is_null(&self, idx: usize) -> Result<bool> {
        Ok(matches!(self.get(idx)?, ValueRef::Null))
    }
}

/// A rusqlite error as a [`DatabaseError`] carrying the statement.
fn convert(e: rusqlite::Error, sql: Option<&str>, params: &[Value]) -> DatabaseError {
    let (kind, code, message) = match &e {
        rusqlite::Error::SqliteFailure(ffi_err, msg) => {
            let kind = match ffi_err.extended_code {
                ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                    DatabaseErrorKind::UniqueViolation
                }
                ffi::SQLITE_CONSTRAINT_FOREIGNKEY => DatabaseErrorKind::ForeignKeyViolation,
                ffi::SQLITE_CONSTRAINT_NOTNULL => DatabaseErrorKind::NotNullViolation,
                ffi::SQLITE_CONSTRAINT_CHECK => DatabaseErrorKind::CheckViolation,
                // WAL: a read transaction's snapshot is too old to write from.
                ffi::SQLITE_BUSY_SNAPSHOT => DatabaseErrorKind::SerializationFailure,
                _ => match ffi_err.code {
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                        DatabaseErrorKind::LockTimeout
                    }
                    rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::NotADatabase => {
                        DatabaseErrorKind::Connection
                    }
                    _ if msg.as_deref().is_some_and(|m| {
                        m.contains("syntax error") || m.starts_with("no such")
                    }) =>
                    {
                        DatabaseErrorKind::Syntax
                    }
                    _ => DatabaseErrorKind::Other,
                },
            };
            let message = msg.clone().unwrap_or_else(|| ffi_err.to_string());
            (kind, Some(ffi_err.extended_code.to_string()), message)
        }
        rusqlite::Error::SqlInputError { error, msg, .. } => (
            DatabaseErrorKind::Syntax,
            Some(error.extended_code.to_string()),
            msg.clone(),
        ),
        other => (DatabaseErrorKind::Other, None, other.to_string()),
    };
    let mut err = DatabaseError::new(kind, message);
    err.code = code;
    // "UNIQUE constraint failed: users.email" names the columns of the violated constraint.
    if let Some((_, rest)) = err.message.split_once("constraint failed: ") {
        err.constraint = Some(rest.to_owned());
    }
    err.sql = sql.map(str::to_owned);
    err.params = params.to_vec();
    err
}
