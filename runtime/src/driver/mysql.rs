//! The MySQL and MariaDB driver, on the `mysql` crate (blocking, binary protocol).
//!
//! Statements run as server-side prepared statements, cached per connection by their text: the
//! crate's statement cache (`STMT_CACHE_SIZE`) owns them and closes what it evicts, and a memo in
//! front of it (`statements.rs`) keeps the crate's `Statement`s by the text, so that a statement
//! run again skips `Conn::prep` and its parse of the text, as a program that prepares once. The
//! memo follows the crate's cache (same size, first in first out) and is emptied whenever the
//! native connection is handed out (which may reset it) or lost. The few statements the server
//! cannot prepare (error 1295) fall back to the text protocol when they have no parameters. Rows are read by index straight from the crate's `Row`, and each value is
//! interpreted with the column's type, so the text protocol (where every value arrives as bytes)
//! and the binary protocol decode alike.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use mysql::prelude::{Protocol, Queryable};

use super::{Driver, DriverConnection, Outcome, RowSink};
use crate::dialect::{Dialect, Mysql};
use crate::error::{DatabaseError, DatabaseErrorKind, Error, Result};
use crate::url::{SecondsRange, Url};
use crate::value::{Value, temporal};

mod hosts;
mod limits;
mod packet;
mod row;
mod statements;
use row::{MysqlRow, column_name};
use statements::{Prepared, Statements};

/// Prepared statements kept per connection (by the crate's cache, and by the driver's memo in
/// front of it, `statements.rs`). The server caps prepared statements across all sessions
/// (`max_prepared_stmt_count`, 16382 by default).
const STMT_CACHE_SIZE: usize = 256;
/// `ER_UNSUPPORTED_PS`: the statement cannot run in the prepared statement protocol.
const ER_UNSUPPORTED_PS: u16 = 1295;
/// `ER_LOCK_DEADLOCK`: the server rolled the whole transaction back.
const ER_LOCK_DEADLOCK: u16 = 1213;

/// The query arguments a MySQL URL may carry.
const ALLOWED_KEYS: &[&str] = &[
    "charset",
    "connect_timeout",
    "init_command",
    "program_name",
    "prepared_statements",
    "read_timeout",
    "ssl_mode",
    "target_session_attrs",
    "write_timeout",
];

/// `connect_timeout`, `read_timeout`, `write_timeout`: more than 0 (a zero socket timeout is
/// refused by the OS) and at most a year (the server's own `connect_timeout` maximum).
const TIMEOUT: SecondsRange = SecondsRange {
    min: 0.0,
    min_inclusive: false,
    max: 31_536_000.0,
    whole: false,
};

/// What a MySQL URL asks for, before it becomes the crate's options.
#[derive(Clone, PartialEq)]
struct Settings {
    host: String,
    port: u16,
    /// The other hosts of a multi-host URL (`mysql://h1:3306,h2:3307/db`), tried in order
    /// after the first.
    fallbacks: Vec<(String, u16)>,
    /// `target_session_attrs`, as libpq's (read from `@@global.read_only`).
    session_attrs: hosts::SessionAttrs,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
    connect_timeout: Option<Duration>,
    /// Socket read / write limits: a server that stops answering fails the call (and, read
    /// timeout, bounds a pool pre-ping).
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    program_name: Option<String>,
    init_commands: Vec<String>,
}

impl Settings {
    fn from_url(url: &Url) -> Result<Self> {
        match url.driver_name() {
            None | Some("mysql") => {}
            Some(other) => {
                return Err(url.error(format!(
                    "unknown MySQL driver {other:?}; the only one built in is \"mysql\" \
                     (write {}:// or {}+mysql://)",
                    url.dialect_name(),
                    url.dialect_name()
                )));
            }
        }
        let mut settings = Settings {
            host: url.host().unwrap_or("127.0.0.1").to_owned(),
            port: url.port().unwrap_or(3306),
            fallbacks: url
                .hosts()
                .skip(1)
                .map(|(h, p)| (h.unwrap_or("127.0.0.1").to_owned(), p.unwrap_or(3306)))
                .collect(),
            session_attrs: hosts::SessionAttrs::Any,
            user: url.username().map(str::to_owned),
            password: url.password().map(str::to_owned),
            database: url.database().map(str::to_owned),
            connect_timeout: None,
            read_timeout: None,
            write_timeout: None,
            program_name: None,
            init_commands: Vec::new(),
        };
        let mut seen: Vec<&str> = Vec::new();
        for (key, value) in url.query() {
            if key != "init_command" && seen.contains(&key.as_str()) {
                return Err(url.error(format!("query argument {key:?} is given twice")));
            }
            seen.push(key);
            let seconds = || url.seconds_arg(key, value, TIMEOUT).map(Some);
            match key.as_str() {
                "connect_timeout" => settings.connect_timeout = seconds()?,
                "read_timeout" => settings.read_timeout = seconds()?,
                "write_timeout" => settings.write_timeout = seconds()?,
                "charset" => {
                    if !matches!(value.to_ascii_lowercase().as_str(), "utf8mb4" | "utf8") {
                        return Err(url.error(format!(
                            "charset {value:?} is not supported: quarry always talks utf8mb4 \
                             to MySQL (charset=utf8mb4 or charset=utf8 are accepted)"
                        )));
                    }
                }
                "init_command" => settings.init_commands.push(value.clone()),
                "target_session_attrs" => {
                    settings.session_attrs =
                        hosts::SessionAttrs::parse(value).ok_or_else(|| {
                            url.arg_error(
                                key,
                                value,
                                &format!("is not one of {}", hosts::SessionAttrs::NAMES.join(", ")),
                            )
                        })?;
                }
                "prepared_statements" if value == "true" => {}
                "prepared_statements" => {
                    return Err(url.arg_error(
                        key,
                        value,
                        "is for PostgreSQL behind a transaction pooler (pgbouncer); quarry's \
                         MySQL driver prepares every statement with parameters (connect to the \
                         server, or through a proxy that keeps prepared statements)",
                    ));
                }
                "program_name" => settings.program_name = Some(value.clone()),
                "ssl_mode" if value.eq_ignore_ascii_case("disabled") => {}
                k if k.starts_with("ssl") => {
                    return Err(url.arg_error(
                        k,
                        value,
                        &format!(
                            "asks for TLS, which is not built into quarry's MySQL driver; \
                             connect without TLS (omit {k}, or ssl_mode=DISABLED) or through a \
                             TLS tunnel"
                        ),
                    ));
                }
                other => {
                    return Err(url.error(format!(
                        "unknown query argument {other:?} for MySQL; allowed: {}",
                        ALLOWED_KEYS.join(", ")
                    )));
                }
            }
        }
        Ok(settings)
    }

    /// The crate's options for the first host.
    #[cfg(test)]
    fn opts(&self) -> mysql::Opts {
        self.opts_at(&self.host, self.port)
    }

    /// Every `(host, port)` in the order they are tried.
    fn hosts(&self) -> impl Iterator<Item = (&str, u16)> {
        std::iter::once((self.host.as_str(), self.port))
            .chain(self.fallbacks.iter().map(|(h, p)| (h.as_str(), *p)))
    }

    fn opts_at(&self, host: &str, port: u16) -> mysql::Opts {
        let mut builder = mysql::OptsBuilder::new()
            .ip_or_hostname(Some(host.to_owned()))
            .tcp_port(port)
            .user(self.user.clone())
            .pass(self.password.clone())
            .db_name(self.database.clone())
            .prefer_socket(false)
            .stmt_cache_size(STMT_CACHE_SIZE)
            // Rows matched rather than rows changed, as the other backends count (and as
            // SQLAlchemy's MySQL dialects ask for).
            .additional_capabilities(mysql::consts::CapabilityFlags::CLIENT_FOUND_ROWS)
            .tcp_connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .write_timeout(self.write_timeout);
        if let Some(name) = &self.program_name {
            builder = builder.connect_attrs(Some([("program_name", name.as_str())].into()));
        }
        builder.into()
    }

    /// `host:port[,host:port…]`, for messages.
    fn address(&self) -> String {
        self.hosts()
            .map(|(host, port)| hosts::address(host, port))
            .collect::<Vec<_>>()
            .join(",")
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the password.
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("fallbacks", &self.fallbacks)
            .field("session_attrs", &self.session_attrs)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("connect_timeout", &self.connect_timeout)
            .field("program_name", &self.program_name)
            .field("init_commands", &self.init_commands)
            .finish_non_exhaustive()
    }
}

/// Opens MySQL and MariaDB connections.
#[derive(Debug)]
pub(crate) struct MysqlDriver {
    settings: Settings,
}

impl MysqlDriver {
    pub(crate) fn new(url: &Url) -> Result<Self> {
        Ok(MysqlDriver {
            settings: Settings::from_url(url)?,
        })
    }

    fn connect_error(&self, e: mysql::Error) -> Error {
        let mut err = convert(e, None, &[]);
        err.kind = DatabaseErrorKind::Connection;
        err.disconnect = true;
        err.message = format!(
            "cannot connect to MySQL at {}: {}",
            self.settings.address(),
            err.message
        );
        err.into_error()
    }
}

impl Driver for MysqlDriver {
    fn dialect(&self) -> &'static dyn Dialect {
        &Mysql
    }

    fn connect(&self) -> Result<Box<dyn DriverConnection>> {
        let mut conn = hosts::connect(&self.settings)?;
        conn.query_drop("SET NAMES utf8mb4")
            .map_err(|e| self.connect_error(e))?;
        let mut conn = MysqlConnection::with_memo(conn, STMT_CACHE_SIZE);
        for cmd in &self.settings.init_commands {
            conn.batch(cmd).map_err(|e| match e {
                Error::Database(mut d) => {
                    d.message = format!(
                        "init_command failed on MySQL at {}: {}",
                        self.settings.address(),
                        d.message
                    );
                    Error::Database(d)
                }
                other => other,
            })?;
        }
        Ok(Box::new(conn))
    }
}

pub(crate) struct MysqlConnection {
    conn: mysql::Conn,
    /// The crate's statements by their SQL text, so that a statement run again skips
    /// `Conn::prep` (which parses the text on every call).
    statements: Statements,
    /// Set by `begin`, cleared by `commit`, `rollback`, a deadlock (the server rolls back) and a
    /// lost connection. The crate does not expose the server's status flags, so a transaction
    /// the server ends on its own (an implicit commit by DDL) still counts as open until
    /// `commit` or `rollback`; both are harmless then.
    in_tx: bool,
    /// The native connection was handed out (`raw_connection`): only the server knows whether
    /// a transaction is open now, so `rollback` asks it.
    tx_unknown: bool,
    /// A call failed with a disconnect: the connection is gone, and `rollback` says so, so
    /// that the pool discards it instead of keeping it.
    lost: bool,
    /// The session's `max_allowed_packet`, asked for the first time a statement could exceed
    /// the smallest value the server allows.
    max_packet: Option<usize>,
}

impl MysqlConnection {
    /// Wrap a connection opened elsewhere (an engine's `creator`). Its statement cache size
    /// cannot be read, so it gets no memo: every statement goes through `Conn::prep`.
    pub(crate) fn from_native(conn: mysql::Conn) -> Self {
        Self::with_memo(conn, 0)
    }

    /// Wrap a connection whose crate statement cache holds `stmt_cache_size` statements.
    fn with_memo(conn: mysql::Conn, stmt_cache_size: usize) -> Self {
        MysqlConnection {
            conn,
            statements: Statements::new(stmt_cache_size),
            in_tx: false,
            tx_unknown: false,
            lost: false,
            max_packet: None,
        }
    }

    /// Run `sql`; the outcome, and whether the statement opened or ended a transaction.
    fn run_inner(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
    ) -> Result<(Outcome, Option<bool>)> {
        let fail = |e: mysql::Error| {
            crate::error::DatabaseError::into_error(convert(e, Some(sql), params))
        };
        Error::check_parameters(params.len(), limits::MAX_PARAMETERS, "mysql")?;
        // A plain loop: the iterator `collect` into a `Result` cost ~90 instructions a call
        // even without parameters.
        let mut values = Vec::with_capacity(params.len());
        for v in params {
            let value = to_mysql(v).map_err(|m| {
                crate::error::DatabaseError::into_error(value_error(m, sql, params))
            })?;
            values.push(value);
        }
        limits::check_packets(&mut self.conn, &mut self.max_packet, sql, &values)?;
        if let Some(prepared) = self.statements.get(sql) {
            return execute(
                &mut self.conn,
                prepared,
                sql,
                params.len(),
                values,
                sink,
                &fail,
            );
        }
        let prepared = match self.conn.prep(sql) {
            Ok(stmt) => Prepared::new(sql, stmt),
            Err(mysql::Error::MySqlError(e))
                if e.code == ER_UNSUPPORTED_PS && params.is_empty() =>
            {
                let result = self.conn.query_iter(sql).map_err(fail)?;
                let outcome = drain(result, sink, &fail)?;
                return Ok((outcome, super::transaction_effect(sql)));
            }
            Err(e) => return Err(fail(e)),
        };
        // Kept even when the call fails below: the crate's cache has it (statements.rs).
        self.statements.insert(sql, prepared.clone());
        execute(
            &mut self.conn,
            &prepared,
            sql,
            params.len(),
            values,
            sink,
            &fail,
        )
    }

    fn batch_inner(&mut self, sql: &str) -> Result<()> {
        let fail =
            |e: mysql::Error| crate::error::DatabaseError::into_error(convert(e, Some(sql), &[]));
        limits::check_packets(&mut self.conn, &mut self.max_packet, sql, &[])?;
        let mut result = self.conn.query_iter(sql).map_err(fail)?;
        // Dropping a result swallows the errors of later statements: read every set.
        while let Some(set) = result.iter() {
            for row in set {
                row.map_err(fail)?;
            }
        }
        Ok(())
    }

    /// Keeps the transaction flag true to the server: after transaction control sent as text
    /// (`sql`, empty for none), and after a failure that ended the transaction.
    fn observe<T>(&mut self, r: Result<T>, sql: &str) -> Result<T> {
        match r {
            Ok(v) => {
                self.opened_or_ended(super::transaction_effect(sql));
                Ok(v)
            }
            Err(e) => Err(self.observe_error(e)),
        }
    }

    fn opened_or_ended(&mut self, effect: Option<bool>) {
        if let Some(open) = effect {
            self.in_tx = open;
        }
    }

    /// A failure that ended the transaction, or the connection.
    fn observe_error(&mut self, e: Error) -> Error {
        if let Error::Database(e) = &e {
            let code = e.code.as_deref().and_then(|c| c.parse::<u16>().ok());
            if e.disconnect || code == Some(ER_LOCK_DEADLOCK) {
                self.in_tx = false;
            }
            if e.disconnect {
                self.lost = true;
                self.statements.clear();
            }
        }
        e
    }
}

/// Run a prepared statement with `values` (`given` parameters) and feed its rows to `sink`;
/// the outcome, and the statement's effect on the transaction.
fn execute(
    conn: &mut mysql::Conn,
    prepared: &Prepared,
    sql: &str,
    given: usize,
    values: Vec<mysql::Value>,
    sink: &mut dyn RowSink,
    fail: &dyn Fn(mysql::Error) -> Error,
) -> Result<(Outcome, Option<bool>)> {
    let expected = usize::from(prepared.stmt.num_params());
    if expected != given {
        return Err(Error::config(format!(
            "statement expects {expected} parameters but {given} were given: {sql}"
        )));
    }
    let result = conn
        .exec_iter(&prepared.stmt, mysql::Params::Positional(values))
        .map_err(fail)?;
    Ok((drain(result, sink, fail)?, prepared.effect))
}

/// Feed the first result set to `sink`, then read (and check) any further sets.
fn drain<P: Protocol>(
    mut result: mysql::QueryResult<'_, '_, '_, P>,
    sink: &mut dyn RowSink,
    fail: &dyn Fn(mysql::Error) -> Error,
) -> Result<Outcome> {
    let outcome = {
        let columns = result.columns();
        let columns = columns.as_ref();
        if columns.is_empty() {
            sink.columns(&[]);
            Some(Outcome {
                rows_affected: result.affected_rows(),
                last_insert_id: result
                    .last_insert_id()
                    .filter(|id| *id != 0)
                    .and_then(|id| i64::try_from(id).ok()),
            })
        } else {
            if !sink.knows_columns() {
                let names: Vec<&str> = columns.iter().map(column_name).collect();
                sink.columns(&names);
            }
            None
        }
    };
    let mut fetched = 0u64;
    if let Some(set) = result.iter() {
        for row in set {
            let row = row.map_err(fail)?;
            fetched += 1;
            sink.row(&MysqlRow { row: &row })?;
        }
    }
    while let Some(set) = result.iter() {
        for row in set {
            row.map_err(fail)?;
        }
    }
    Ok(outcome.unwrap_or(Outcome {
        rows_affected: fetched,
        last_insert_id: None,
    }))
}

impl DriverConnection for MysqlConnection {
    fn run(&mut self, sql: &str, params: &[Value], sink: &mut dyn RowSink) -> Result<Outcome> {
        match self.run_inner(sql, params, sink) {
            Ok((outcome, effect)) => {
                self.opened_or_ended(effect);
                Ok(outcome)
            }
            Err(e) => Err(self.observe_error(e)),
        }
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        let r = self.batch_inner(sql);
        self.observe(r, sql)
    }

    fn max_statement_bytes(&mut self) -> Result<Option<usize>> {
        limits::max_allowed_packet(&mut self.conn, &mut self.max_packet).map(Some)
    }

    fn ping(&mut self) -> Result<()> {
        let r = self.conn.ping().map_err(|e| {
            let mut err = convert(e, None, &[]);
            err.kind = DatabaseErrorKind::Connection;
            err.disconnect = true;
            crate::error::DatabaseError::into_error(err)
        });
        self.observe(r, "")
    }

    fn begin(&mut self) -> Result<()> {
        if self.in_tx {
            // MySQL would silently commit the open transaction.
            let mut err = DatabaseError::new(
                DatabaseErrorKind::Other,
                "a transaction is already open on this connection; START TRANSACTION would \
                 commit it",
            );
            err.sql = Some("START TRANSACTION".to_owned());
            return Err(err.into_error());
        }
        self.batch("START TRANSACTION")?;
        self.in_tx = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        self.batch("COMMIT")?;
        self.in_tx = false;
        self.tx_unknown = false;
        Ok(())
    }

    fn rollback(&mut self) -> Result<()> {
        if self.lost {
            return Err(super::lost_connection("MySQL"));
        }
        if !self.in_tx && !self.tx_unknown {
            return Ok(());
        }
        self.batch("ROLLBACK")?;
        self.in_tx = false;
        self.tx_unknown = false;
        Ok(())
    }

    fn in_transaction(&self) -> bool {
        self.in_tx
    }

    fn forget_transaction(&mut self) {
        self.in_tx = false;
    }

    fn set_statement_timeout(&mut self, timeout: Option<std::time::Duration>) -> Result<()> {
        // MariaDB: max_statement_time in seconds, for every statement. MySQL 8 lacks it and has
        // max_execution_time in milliseconds, for SELECT only. 0 means no limit on both.
        let secs = timeout.map_or(0.0, |t| t.as_secs_f64().max(0.001));
        match self.batch(&format!("SET SESSION max_statement_time = {secs}")) {
            Err(Error::Database(e)) if e.code() == Some("1193") => {
                let ms = timeout.map_or(0, |t| t.as_millis().max(1));
                self.batch(&format!("SET SESSION max_execution_time = {ms}"))
            }
            other => other,
        }
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        // Native use may open a transaction this driver does not know of, and may close or
        // reset the statements the memo holds (`statements.rs`).
        self.tx_unknown = true;
        self.statements.clear();
        &mut self.conn
    }

    fn as_any(&self) -> &dyn Any {
        &self.conn
    }
}

/// A [`Value`] as the crate's value; the error names what MySQL cannot hold.
fn to_mysql(v: &Value) -> Result<mysql::Value, String> {
    Ok(match v {
        Value::Null => mysql::Value::NULL,
        Value::Bool(b) => mysql::Value::Int(i64::from(*b)),
        Value::I16(v) => mysql::Value::Int(i64::from(*v)),
        Value::I32(v) => mysql::Value::Int(i64::from(*v)),
        Value::I64(v) => mysql::Value::Int(*v),
        Value::F32(v) if !v.is_finite() => {
            return Err(format!(
                "MySQL cannot store {v} in a FLOAT: it has no NaN or infinity"
            ));
        }
        Value::F64(v) if !v.is_finite() => {
            return Err(format!(
                "MySQL cannot store {v} in a DOUBLE: it has no NaN or infinity"
            ));
        }
        Value::F32(v) => mysql::Value::Float(*v),
        Value::F64(v) => mysql::Value::Double(*v),
        Value::Text(s) | Value::Json(s) | Value::Decimal(s) => {
            mysql::Value::Bytes(s.as_bytes().to_vec())
        }
        Value::Blob(b) => mysql::Value::Bytes(b.clone()),
        Value::Date(d) => {
            let (y, m, d) = civil(i64::from(*d), v)?;
            mysql::Value::Date(y, m, d, 0, 0, 0, 0)
        }
        Value::Time(t) => {
            let neg = *t < 0;
            let abs = t.unsigned_abs();
            let day = 86_400_000_000u64;
            let days =
                u32::try_from(abs / day).map_err(|_| format!("the time {v:?} is too long"))?;
            let rest = abs % day;
            let (h, m, s, us) = temporal::hms(rest as i64);
            mysql::Value::Time(neg, days, h as u8, m as u8, s as u8, us)
        }
        // DATETIME has no zone: instants are stored in UTC.
        Value::Timestamp(t) | Value::TimestampTz(t) => {
            let (days, time) = temporal::split_timestamp(*t);
            let (y, mo, d) = civil(days, v)?;
            let (h, mi, s, us) = temporal::hms(time);
            mysql::Value::Date(y, mo, d, h as u8, mi as u8, s as u8, us)
        }
        // The dialect stores UUIDs as CHAR(32), as SQLAlchemy does.
        Value::Uuid(u) => mysql::Value::Bytes(temporal::uuid_hex(u).into_bytes()),
        Value::Array(_) => {
            return Err("MySQL has no arrays: Vec<T> values bind on PostgreSQL only".into());
        }
        other => return Err(format!("the MySQL driver cannot bind {other:?}")),
    })
}

/// (year, month, day) of a day count, for the years MySQL stores (0000 to 9999).
fn civil(days: i64, v: &Value) -> Result<(u16, u8, u8), String> {
    let (y, m, d) = temporal::civil_from_days(days);
    match u16::try_from(y) {
        Ok(y) if y <= 9999 => Ok((y, m as u8, d as u8)),
        _ => Err(format!(
            "{} {v:?} is outside the years MySQL can store (0000 to 9999)",
            v.kind_name()
        )),
    }
}

fn value_error(message: String, sql: &str, params: &[Value]) -> DatabaseError {
    let mut err = DatabaseError::new(DatabaseErrorKind::Other, message);
    err.sql = Some(sql.to_owned());
    err.params = params.to_vec();
    err
}

/// The kind of a server error code (and, for Galera's, its message).
fn kind_of(code: u16, message: &str) -> DatabaseErrorKind {
    match code {
        // A Galera node aborting a transaction that conflicts with one certified on another
        // node (a deadlock or a failed commit), or not ready for it yet: "WSREP …".
        1213 | 1180 | 1047 if message.contains("WSREP") => DatabaseErrorKind::ClusterConflict,
        // ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME
        1062 | 1586 => DatabaseErrorKind::UniqueViolation,
        // ER_ROW_IS_REFERENCED(_2), ER_NO_REFERENCED_ROW(_2)
        1216 | 1217 | 1451 | 1452 => DatabaseErrorKind::ForeignKeyViolation,
        // ER_BAD_NULL_ERROR, ER_NO_DEFAULT_FOR_FIELD
        1048 | 1364 => DatabaseErrorKind::NotNullViolation,
        // ER_CHECK_CONSTRAINT_VIOLATED (MySQL), ER_CONSTRAINT_FAILED (MariaDB)
        3819 | 4025 => DatabaseErrorKind::CheckViolation,
        // ER_PARSE_ERROR, ER_NO_SUCH_TABLE, ER_BAD_FIELD_ERROR, ER_BAD_DB_ERROR
        1064 | 1146 | 1054 | 1049 => DatabaseErrorKind::Syntax,
        // ER_LOCK_DEADLOCK
        1213 => DatabaseErrorKind::Deadlock,
        // ER_LOCK_WAIT_TIMEOUT, ER_LOCK_NOWAIT (MySQL 8)
        1205 | 3572 => DatabaseErrorKind::LockTimeout,
        // ER_CHECKREAD: "Record has changed since last read" (MariaDB snapshot isolation)
        1020 => DatabaseErrorKind::SerializationFailure,
        c if is_disconnect_code(c) => DatabaseErrorKind::Connection,
        _ => DatabaseErrorKind::Other,
    }
}

/// Codes after which the connection is gone.
fn is_disconnect_code(code: u16) -> bool {
    // CR_SERVER_GONE_ERROR, CR_SERVER_LOST, ER_SERVER_SHUTDOWN, ER_CONNECTION_KILLED (MariaDB),
    // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
    matches!(code, 2006 | 2013 | 1053 | 1927 | 4031)
}

/// The constraint (or, for NOT NULL, the column) a server message names.
fn constraint_of(code: u16, message: &str) -> Option<String> {
    let between = |start: &str, end: char| {
        let (_, rest) = message.split_once(start)?;
        let (name, _) = rest.split_once(end)?;
        Some(name.to_owned())
    };
    match code {
        // "Duplicate entry 'a' for key 'users.name'" (MySQL 8: table.key; MariaDB: key).
        1062 | 1586 => between("for key '", '\''),
        // "... a foreign key constraint fails (`db`.`t`, CONSTRAINT `fk` FOREIGN KEY ...)"
        1216 | 1217 | 1451 | 1452 => between("CONSTRAINT `", '`'),
        // "Column 'name' cannot be null", "Field 'name' doesn't have a default value"
        1048 => between("Column '", '\''),
        1364 => between("Field '", '\''),
        // "Check constraint 'chk' is violated."
        3819 => between("onstraint '", '\''),
        // "CONSTRAINT `chk` failed for `db`.`t`"
        4025 => between("CONSTRAINT `", '`'),
        _ => None,
    }
}

/// A `mysql` error as a [`DatabaseError`] carrying the statement.
fn convert(e: mysql::Error, sql: Option<&str>, params: &[Value]) -> DatabaseError {
    let mut err = match &e {
        mysql::Error::MySqlError(server) => {
            let mut err = DatabaseError::new(
                kind_of(server.code, &server.message),
                server.message.clone(),
            );
            err.code = Some(server.code.to_string());
            err.sqlstate = Some(server.state.clone());
            err.constraint = constraint_of(server.code, &server.message);
            err.disconnect = is_disconnect_code(server.code);
            err
        }
        mysql::Error::DriverError(driver) => match driver {
            // Mistakes in the call, not in the connection.
            mysql::DriverError::MismatchedStmtParams(..)
            | mysql::DriverError::MixedParams
            | mysql::DriverError::Params(_)
            | mysql::DriverError::BulkExecute(_) => {
                DatabaseError::new(DatabaseErrorKind::Other, lower_first(&driver.to_string()))
            }
            mysql::DriverError::CouldNotConnect(Some((_, desc, _))) => {
                let mut err = DatabaseError::new(DatabaseErrorKind::Connection, desc.clone());
                err.disconnect = true;
                err
            }
            other => {
                let mut err = DatabaseError::new(
                    DatabaseErrorKind::Connection,
                    lower_first(&other.to_string()),
                );
                err.disconnect = true;
                err
            }
        },
        mysql::Error::IoError(io) => {
            let mut err = DatabaseError::new(
                DatabaseErrorKind::Connection,
                format!("lost connection to MySQL server: {io}"),
            );
            err.disconnect = true;
            err
        }
        mysql::Error::CodecError(codec) => {
            let mut err = DatabaseError::new(
                DatabaseErrorKind::Connection,
                format!("broken MySQL protocol stream: {codec}"),
            );
            err.disconnect = true;
            err
        }
        other => DatabaseError::new(DatabaseErrorKind::Other, lower_first(&other.to_string())),
    };
    err.sql = sql.map(str::to_owned);
    err.params = params.to_vec();
    err
}

/// The crate's messages start with a capital; ours do not.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod live;
#[cfg(test)]
mod tests;
