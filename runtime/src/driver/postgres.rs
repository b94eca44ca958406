//! The PostgreSQL driver, on the `postgres` crate.
//!
//! Parameters are encoded and columns decoded in PostgreSQL's binary format by Quarry itself
//! (see `binary`: [`Param`] and [`PgRow`]), so that a [`Value`] binds to whatever type the server
//! inferred for its placeholder (an `i64` into an `INTEGER` column, a decimal into `NUMERIC`) and
//! a column decodes by index straight from the row buffer into the caller's type.

use std::any::Any;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::time::Duration;

use postgres::config::TargetSessionAttrs;
use postgres::types::{FromSql, ToSql, Type};
use postgres::{Client, Config, NoTls, Statement};

use super::{Driver, DriverConnection, Outcome, RowSink, SqlHasher};
use crate::dialect::{Dialect, Postgres};
use crate::error::{DatabaseErrorKind, Error, Result};
use crate::url::{SecondsRange, Url};
use crate::value::Value;

mod binary;
mod error;
mod outside;
mod pooler;
mod wire;
use binary::{BinaryRow, Param, PgRow};
use error::convert;
use outside::{PgSink, outside_runtime, outside_runtime_into};
pub(crate) use wire::WireDriver;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// The most parameters a Bind message can count (an Int16).
const PG_MAX_PARAMETERS: usize = 65_535;

/// The largest message the server reads (`PQ_LARGE_MESSAGE_LIMIT`, 1 GiB less a byte): a
/// longer Bind is a protocol violation after which the server ends the connection.
const PG_MAX_MESSAGE: usize = (1 << 30) - 1;

/// Refuse a statement whose Parse or Bind message would exceed [`PG_MAX_MESSAGE`], before it
/// is sent: the SQL text, and the parameters' bytes with their length words (a value's binary
/// form is at most its text's length, or 16 bytes for fixed-width values and 4 for a NUMERIC
/// digit group of each 4 characters; this counts each as its largest).
fn check_message_size(sql: &str, params: &[Value]) -> Result<()> {
    check_message_within(sql, params, PG_MAX_MESSAGE)
}

fn check_message_within(sql: &str, params: &[Value], limit: usize) -> Result<()> {
    let value_bytes = |v: &Value| match v {
        Value::Text(s) | Value::Json(s) | Value::Decimal(s) => s.len() + 1,
        Value::Blob(b) => b.len(),
        _ => 16,
    };
    let bind = params
        .iter()
        .map(|v| value_bytes(v).saturating_add(6))
        .fold(sql.len() + 64, usize::saturating_add);
    let (count, what) = if sql.len() + 64 > limit {
        (sql.len(), "bytes of SQL text")
    } else {
        (bind, "bytes in one Bind message")
    };
    if count <= limit {
        return Ok(());
    }
    Err(Error::TooLarge {
        what,
        count,
        limit,
        dialect: "postgresql",
        hint: "send less in one statement: split the rows into batches, or stream a large \
               value with COPY or large objects",
    })
}

/// Parameters and result columns up to this many are gathered on the stack for each call.
const INLINE: usize = 16;

/// Fills the unused slots of the inline parameter buffer.
static NO_VALUE: Value = Value::Null;

/// URL query arguments this driver understands.
const QUERY_ARGS: &[&str] = &[
    "application_name",
    "connect_timeout",
    "host",
    "options",
    "prepared_statements",
    "sslmode",
    "target_session_attrs",
];

/// `connect_timeout`: whole seconds as libpq reads them, 0 for no limit, at most a year.
const CONNECT_TIMEOUT: SecondsRange = SecondsRange {
    min: 0.0,
    min_inclusive: true,
    max: 31_536_000.0,
    whole: true,
};

/// Opens PostgreSQL connections.
#[derive(Debug)]
pub(crate) struct PgDriver {
    config: Config,
    /// `host:port[,host:port…]` for error messages (never the password).
    target: String,
    /// `target_session_attrs=prefer-standby`: a read-only server first, else any.
    prefer_standby: bool,
    /// `prepared_statements=false`: no named prepared statement and no session state, for a
    /// transaction pooler (pgbouncer in transaction mode).
    pooled: bool,
}

/// `target_session_attrs` as libpq spells them; `prefer-standby` is tried as read-only first.
const SESSION_ATTRS: &[&str] = &["any", "read-write", "read-only", "prefer-standby"];

impl PgDriver {
    pub(crate) fn new(url: &Url) -> Result<Self> {
        match url.driver_name() {
            None | Some("postgres") => {}
            Some(other) => {
                return Err(url.error(format!(
                    "driver {other:?} is not available for postgresql; use postgresql:// or \
                     postgresql+postgres://"
                )));
            }
        }
        let mut config = Config::new();
        // libpq's defaults: localhost, 5432, for each host of a multi-host URL.
        let mut hosts: Vec<(String, u16)> = url
            .hosts()
            .map(|(h, p)| (h.unwrap_or("localhost").to_owned(), p.unwrap_or(5432)))
            .collect();
        if hosts.is_empty() {
            hosts.push(("localhost".to_owned(), 5432));
        }
        config.user(url.username().unwrap_or("postgres"));
        if let Some(pw) = url.password() {
            config.password(pw);
        }
        if let Some(db) = url.database() {
            config.dbname(db);
        }
        let mut prefer_standby = false;
        let mut pooled = false;
        for (key, value) in url.query() {
            match key.as_str() {
                "application_name" => {
                    config.application_name(value);
                }
                "options" => {
                    config.options(value);
                }
                // libpq's `host=`: replaces the URL's hosts (a comma-separated list too),
                // keeping the first port.
                "host" => {
                    let port = hosts.first().map_or(5432, |h| h.1);
                    hosts = value.split(',').map(|h| (h.to_owned(), port)).collect();
                }
                "connect_timeout" => {
                    // libpq: 0 waits without a limit.
                    let timeout = url.seconds_arg(key, value, CONNECT_TIMEOUT)?;
                    if !timeout.is_zero() {
                        config.connect_timeout(timeout);
                    }
                }
                "target_session_attrs" => {
                    let attrs = match value.as_str() {
                        "any" => TargetSessionAttrs::Any,
                        "read-write" => TargetSessionAttrs::ReadWrite,
                        "read-only" => TargetSessionAttrs::ReadOnly,
                        "prefer-standby" => {
                            prefer_standby = true;
                            TargetSessionAttrs::ReadOnly
                        }
                        other => {
                            return Err(url.arg_error(
                                key,
                                other,
                                &format!("is not one of {}", SESSION_ATTRS.join(", ")),
                            ));
                        }
                    };
                    config.target_session_attrs(attrs);
                }
                "prepared_statements" => {
                    pooled = match value.as_str() {
                        "true" => false,
                        "false" => true,
                        other => {
                            return Err(url.arg_error(key, other, "is not true or false"));
                        }
                    };
                }
                "sslmode" => match value.as_str() {
                    "disable" | "allow" | "prefer" => {}
                    other => {
                        return Err(url.arg_error(
                            key,
                            other,
                            "needs TLS, which quarry's PostgreSQL driver does not have; use \
                             sslmode=disable or prefer",
                        ));
                    }
                },
                other => {
                    return Err(url.error(format!(
                        "unknown query argument {other:?} for postgresql; expected one of {}",
                        QUERY_ARGS.join(", ")
                    )));
                }
            }
        }
        for (host, port) in &hosts {
            config.host(host);
            config.port(*port);
        }
        let target = describe_hosts(&hosts);
        Ok(PgDriver {
            config,
            target,
            prefer_standby,
            pooled,
        })
    }
}

/// `host:port[,host:port…]` for error messages (a socket directory as its socket's path).
fn describe_hosts(hosts: &[(String, u16)]) -> String {
    hosts
        .iter()
        .map(|(host, port)| {
            if host.starts_with('/') {
                format!("{host}/.s.PGSQL.{port}")
            } else if host.contains(':') {
                format!("[{host}]:{port}")
            } else {
                format!("{host}:{port}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Driver for PgDriver {
    fn dialect(&self) -> &'static dyn Dialect {
        &Postgres
    }

    fn connect(&self) -> Result<Box<dyn DriverConnection>> {
        let client = outside_runtime(|| self.connect_client())?;
        let mut conn = PgConnection::new(client);
        conn.pooled = self.pooled;
        Ok(Box::new(conn))
    }
}

impl PgDriver {
    fn connect_client(&self) -> Result<Client> {
        let mut connected = self.config.connect(NoTls);
        if self.prefer_standby && connected.is_err() {
            // libpq's prefer-standby: no standby among the hosts, so any server will do.
            let mut any = self.config.clone();
            any.target_session_attrs(TargetSessionAttrs::Any);
            connected = any.connect(NoTls);
        }
        connected.map_err(|e| {
            let mut err = convert(&e, None, &[]);
            err.kind = DatabaseErrorKind::Connection;
            err.disconnect = true;
            err.message = format!(
                "cannot connect to PostgreSQL at {}: {}",
                self.target, err.message
            );
            crate::error::DatabaseError::into_error(err)
        })
    }
}

/// Tell `sink` about a result without rows run without a named statement, which says
/// nothing of its columns: a query (`SELECT`, `WITH`, `VALUES`, `TABLE`, `SHOW`, `EXPLAIN`,
/// `FETCH`, or anything with `RETURNING`) had a result set, empty; anything else had none.
fn no_rows(sql: &str, sink: &mut dyn PgSink) {
    if returns_rows(sql) {
        sink.unnamed_result();
    } else {
        sink.columns(&[]);
    }
}

/// Whether `sql` reads as a statement with a result set (see [`no_rows`]), from its first
/// word and a `RETURNING` anywhere (a word match, case-insensitive).
fn returns_rows(sql: &str) -> bool {
    let mut words = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty());
    let first = words.next().unwrap_or("");
    const QUERIES: [&str; 7] = [
        "select", "with", "values", "table", "show", "explain", "fetch",
    ];
    QUERIES.iter().any(|q| first.eq_ignore_ascii_case(q))
        || words.any(|w| w.eq_ignore_ascii_case("returning"))
}

/// One PostgreSQL connection with its prepared statements.
pub(crate) struct PgConnection {
    client: OwnedClient,
    statements: HashMap<Box<str>, Statement, BuildHasherDefault<SqlHasher>>,
    in_tx: bool,
    /// The native client was handed out (`raw_connection`): only the server knows whether a
    /// transaction is open now, so `rollback` asks it.
    tx_unknown: bool,
    /// A call failed with a disconnect: the connection is gone, and `rollback` says so, so
    /// that the pool discards it instead of keeping it.
    lost: bool,
    /// Through a transaction pooler: unnamed statements only, session state refused.
    pooled: bool,
    /// Set for the length of a `run_streaming` call: rows are read from the socket as the
    /// sink takes them (`query_raw`) instead of the whole result first.
    streaming: bool,
}

impl PgConnection {
    pub(crate) fn new(client: Client) -> Self {
        PgConnection {
            client: OwnedClient {
                client: Some(client),
                detach: false,
            },
            statements: HashMap::default(),
            in_tx: false,
            tx_unknown: false,
            lost: false,
            pooled: false,
            streaming: false,
        }
    }

    /// Run `sql` as an unnamed statement in one round trip, each parameter declared with its
    /// value's type ([`pooler::declared_type`]): nothing outlives the statement on the server.
    fn run_unprepared(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn PgSink,
    ) -> std::result::Result<Outcome, Failure> {
        use postgres::fallible_iterator::FallibleIterator;

        let binds: Vec<Param<'_>> = (params.iter().enumerate())
            .map(|(i, v)| Param::new(v, i + 1))
            .collect();
        let typed = (binds.iter().zip(params))
            .map(|(p, v)| (p as &(dyn ToSql + Sync), pooler::declared_type(v)));
        let mut it = self
            .client
            .query_typed_raw(sql, typed)
            .map_err(Failure::Pg)?;
        if self.streaming {
            // Each row handed on as it arrives; the names come with the first.
            let mut fetched = 0u64;
            while let Some(row) = it.next().map_err(Failure::Pg)? {
                if fetched == 0 {
                    sink.columns(row.columns());
                }
                fetched += 1;
                let width = row.len();
                sink.row(row, width)?;
            }
            if fetched == 0 {
                no_rows(sql, sink);
                return Ok(Outcome {
                    rows_affected: it.rows_affected().unwrap_or(0),
                    last_insert_id: None,
                });
            }
            return Ok(Outcome {
                rows_affected: fetched,
                last_insert_id: None,
            });
        }
        let mut rows = Vec::new();
        while let Some(row) = it.next().map_err(Failure::Pg)? {
            rows.push(row);
        }
        let affected = it.rows_affected();
        drop(it);
        let Some(first) = rows.first() else {
            // No row: the names of a query's columns are not known without a statement.
            no_rows(sql, sink);
            return Ok(Outcome {
                rows_affected: affected.unwrap_or(0),
                last_insert_id: None,
            });
        };
        sink.columns(first.columns());
        let count = rows.len();
        sink.expect_rows(count);
        for row in rows {
            let width = row.len();
            sink.row(row, width)?;
        }
        Ok(Outcome {
            rows_affected: count as u64,
            last_insert_id: None,
        })
    }

    /// Keeps the transaction flag true to the server after transaction control sent as text
    /// (`sql`, empty for none), and notes a failure that lost the connection.
    fn note<T>(&mut self, r: Result<T>, sql: &str) -> Result<T> {
        match &r {
            Ok(_) => {
                if let Some(open) = super::transaction_effect(sql) {
                    self.in_tx = open;
                }
            }
            Err(e) if e.is_disconnect() => {
                self.lost = true;
                self.in_tx = false;
            }
            Err(_) => {}
        }
        r
    }

    fn prepare(&mut self, sql: &str, params: &[Value]) -> Result<Statement> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self
            .client
            .prepare(sql)
            .map_err(|e| crate::error::DatabaseError::into_error(convert(&e, Some(sql), params)))?;
        if self.statements.len() >= STATEMENT_CACHE {
            // Evict an arbitrary statement; its server-side copy is closed when dropped.
            if let Some(key) = self.statements.keys().next().cloned() {
                self.statements.remove(&key);
            }
        }
        self.statements.insert(sql.into(), stmt.clone());
        Ok(stmt)
    }

    fn run_once<'a>(
        &mut self,
        sql: &str,
        params: &'a [Value],
        sink: &mut dyn PgSink,
    ) -> std::result::Result<Outcome, Failure> {
        let stmt = self.prepare(sql, params).map_err(Failure::Quarry)?;
        if stmt.params().len() != params.len() {
            return Err(Failure::Quarry(Error::config(format!(
                "statement expects {} parameters but {} were given: {sql}",
                stmt.params().len(),
                params.len()
            ))));
        }
        // Gathered on the stack for the usual handful (a Vec each for more): building three
        // small Vecs per call showed in the profile of single-row lookups.
        let param = |(i, value): (usize, &'a Value)| Param::new(value, i + 1);
        let mut inline = [Param::new(&NO_VALUE, 0); INLINE];
        let heap: Vec<Param<'_>>;
        let binds: &[Param<'_>] = if params.len() <= INLINE {
            for (slot, p) in inline.iter_mut().zip(params.iter().enumerate().map(param)) {
                *slot = p;
            }
            &inline[..params.len()]
        } else {
            heap = params.iter().enumerate().map(param).collect();
            &heap
        };
        let mut inline_refs: [&(dyn ToSql + Sync); INLINE] = [&inline[0]; INLINE];
        let heap_refs: Vec<&(dyn ToSql + Sync)>;
        let binds: &[&(dyn ToSql + Sync)] = if binds.len() <= INLINE {
            for (slot, p) in inline_refs.iter_mut().zip(binds) {
                *slot = p;
            }
            &inline_refs[..binds.len()]
        } else {
            heap_refs = binds.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            &heap_refs
        };
        if stmt.columns().is_empty() {
            // No result rows: the command tag's count is all there is to read.
            sink.columns(&[]);
            let rows_affected = self.client.execute(&stmt, binds).map_err(Failure::Pg)?;
            return Ok(Outcome {
                rows_affected,
                last_insert_id: None,
            });
        }
        sink.columns(stmt.columns());
        let width = stmt.columns().len();
        if self.streaming {
            // A streamed result: one row at a time off the socket, so memory stays that of
            // the rows the sink holds.
            use postgres::fallible_iterator::FallibleIterator;
            let mut it = self
                .client
                .query_raw(&stmt, binds.iter().copied())
                .map_err(Failure::Pg)?;
            let mut fetched = 0u64;
            while let Some(row) = it.next().map_err(Failure::Pg)? {
                fetched += 1;
                sink.row(row, width)?;
            }
            return Ok(Outcome {
                rows_affected: fetched,
                last_insert_id: None,
            });
        }
        // The whole result in one call, as libpq reads it: `query_raw`'s iterator enters the
        // client's runtime and polls the connection once per row, which cost more client CPU
        // than reading and decoding the row itself (twice the raw crate's time on 10 000 rows).
        let rows = self.client.query(&stmt, binds).map_err(Failure::Pg)?;
        let count = rows.len();
        sink.expect_rows(count);
        for row in rows {
            sink.row(row, width)?;
        }
        // With result columns the command tag counts the rows returned (SELECT, FETCH,
        // INSERT/UPDATE/DELETE … RETURNING), or has no count at all (SHOW).
        Ok(Outcome {
            rows_affected: count as u64,
            last_insert_id: None,
        })
    }
}

/// Hand one result row of `width` columns to `sink`. Each cell is located once per row: a
/// decoder asks for some twice (`Option<T>` checks for NULL first, `Option<Post>` of a LEFT
/// JOIN checks every column of the post), and each `try_get` checks the index and the type
/// again.
fn feed_row(
    row: &postgres::Row,
    width: usize,
    sink: &mut dyn RowSink,
) -> std::result::Result<(), Failure> {
    let mut cells: [Option<&[u8]>; INLINE] = [None; INLINE];
    let cells = if width <= INLINE {
        for (idx, cell) in cells.iter_mut().enumerate().take(width) {
            *cell = PgRow::locate(row, idx).map_err(Failure::Quarry)?;
        }
        &cells[..width]
    } else {
        &[]
    };
    sink.row(&PgRow::new(row, cells)).map_err(Failure::Quarry)
}

/// Why a statement failed: the server or client library, or Quarry itself (decoding, binding).
enum Failure {
    Pg(postgres::Error),
    Quarry(Error),
}

impl PgConnection {
    /// `COPY … FROM STDIN (FORMAT binary)`, each value encoded for its column's type (read
    /// from a `SELECT` of the columns, prepared unnamed).
    fn copy_binary(&mut self, table: &str, columns: &[&str], values: &[Value]) -> Result<u64> {
        use postgres::binary_copy::BinaryCopyInWriter;

        let quote = |name: &str| {
            let mut out = String::new();
            Postgres.quote_ident(name, &mut out);
            out
        };
        let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let list = list.join(", ");
        let table = quote(table);
        let probe = format!("SELECT {list} FROM {table}");
        let fail = |e: postgres::Error, sql: &str| {
            crate::error::DatabaseError::into_error(convert(&e, Some(sql), &[]))
        };
        let types: Vec<Type> = self
            .client
            .prepare(&probe)
            .map_err(|e| fail(e, &probe))?
            .columns()
            .iter()
            .map(|c| c.type_().clone())
            .collect();
        let sql = format!("COPY {table} ({list}) FROM STDIN (FORMAT binary)");
        let width = columns.len().max(1);
        let writer = self.client.copy_in(&sql).map_err(|e| fail(e, &sql))?;
        let mut writer = BinaryCopyInWriter::new(writer, &types);
        let params: Vec<Param<'_>> = values
            .iter()
            .enumerate()
            .map(|(i, v)| Param::new(v, i % width + 1))
            .collect();
        let mut refs: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(width);
        for row in params.chunks(width) {
            refs.clear();
            refs.extend(row.iter().map(|p| p as &(dyn ToSql + Sync)));
            // Dropping the writer unfinished sends CopyFail: nothing is written.
            writer.write(&refs).map_err(|e| fail(e, &sql))?;
        }
        writer.finish().map_err(|e| fail(e, &sql))
    }

    /// Run once; a cached statement whose result type changed under it (DDL since it was
    /// prepared) is forgotten and prepared again, where no transaction was aborted.
    fn run_retrying(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn PgSink,
    ) -> Result<Outcome> {
        match self.run_once(sql, params, sink) {
            Ok(outcome) => Ok(outcome),
            Err(Failure::Quarry(e)) => Err(e),
            Err(Failure::Pg(e)) => {
                let stale = e.code().is_some_and(|c| c.code() == "0A000")
                    && e.to_string().contains("cached plan");
                if stale && !self.in_tx && !self.tx_unknown {
                    self.statements.remove(sql);
                    return self.run_once(sql, params, sink).map_err(|f| match f {
                        Failure::Quarry(e) => e,
                        Failure::Pg(e) => {
                            crate::error::DatabaseError::into_error(convert(&e, Some(sql), params))
                        }
                    });
                }
                Err(crate::error::DatabaseError::into_error(convert(
                    &e,
                    Some(sql),
                    params,
                )))
            }
        }
    }
}

/// The connection's `postgres::Client`. Dropping a client waits for the answers to its
/// requests in flight, which a dead network never sends: once a request may be left unanswered
/// (a pre-ping that timed out), the client is closed on a thread of its own instead, so that
/// whoever discards the connection does not hang.
struct OwnedClient {
    /// `None` only while being dropped.
    client: Option<Client>,
    detach: bool,
}

impl std::ops::Deref for OwnedClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        match &self.client {
            Some(c) => c,
            None => unreachable!("the client is taken only by drop"),
        }
    }
}

impl std::ops::DerefMut for OwnedClient {
    fn deref_mut(&mut self) -> &mut Client {
        match &mut self.client {
            Some(c) => c,
            None => unreachable!("the client is taken only by drop"),
        }
    }
}

impl Drop for OwnedClient {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if !self.detach {
            // Closing sends a Terminate through the crate's runtime.
            let closed = outside_runtime(move || {
                drop(client);
                Ok(())
            });
            if let Err(e) = closed {
                tracing::warn!(target: "quarry::pool", error = %e, "cannot close a connection");
            }
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("quarry-pg-close".into())
            .spawn(move || drop(client));
        if let Err(e) = spawned {
            // The client went down with the closure: closed inline after all.
            tracing::warn!(target: "quarry::pool", error = %e, "cannot start a thread to close a connection; closed inline");
        }
    }
}

impl PgConnection {
    fn run_here(&mut self, sql: &str, params: &[Value], sink: &mut dyn PgSink) -> Result<Outcome> {
        // More would overflow the Bind message's Int16 count: the server could not read the
        // stream any more, and the connection would be lost.
        Error::check_parameters(params.len(), PG_MAX_PARAMETERS, "postgresql")?;
        check_message_size(sql, params)?;
        if self.pooled {
            if let Some(what) = pooler::session_state(sql) {
                return Err(pooler::refuse(what));
            }
            let r = self.run_unprepared(sql, params, sink).map_err(|f| match f {
                Failure::Quarry(e) => e,
                Failure::Pg(e) => {
                    crate::error::DatabaseError::into_error(convert(&e, Some(sql), params))
                }
            });
            return self.note(r, if params.is_empty() { sql } else { "" });
        }
        let r = self.run_retrying(sql, params, sink).map_err(pooler::hint);
        // Transaction control takes no parameters: a statement with some need not be parsed
        // for BEGIN or COMMIT on every call.
        self.note(r, if params.is_empty() { sql } else { "" })
    }

    fn batch_here(&mut self, sql: &str) -> Result<()> {
        if let Some(what) = self.pooled.then(|| pooler::session_state(sql)).flatten() {
            return Err(pooler::refuse(what));
        }
        let r = self
            .client
            .batch_execute(sql)
            .map_err(|e| crate::error::DatabaseError::into_error(convert(&e, Some(sql), &[])));
        self.note(r, sql)
    }

    fn ping_here(&mut self, timeout: std::time::Duration) -> Result<()> {
        let r = self.client.is_valid(timeout).map_err(|e| {
            let mut err = convert(&e, None, &[]);
            if e.as_db_error().is_none() {
                // No answer in time (or none at all): the connection cannot be trusted.
                err.kind = DatabaseErrorKind::Connection;
                err.disconnect = true;
            }
            crate::error::DatabaseError::into_error(err)
        });
        if r.as_ref().is_err_and(Error::is_disconnect) {
            self.client.detach = true;
        }
        self.note(r, "")
    }
}

impl DriverConnection for PgConnection {
    fn run(&mut self, sql: &str, params: &[Value], sink: &mut dyn RowSink) -> Result<Outcome> {
        outside_runtime_into(sink, |sink| self.run_here(sql, params, sink))
    }

    fn copy_in(&mut self, table: &str, columns: &[&str], values: &[Value]) -> Result<u64> {
        outside_runtime(|| {
            let r = self.copy_binary(table, columns, values);
            self.note(r, "")
        })
    }

    fn run_streaming(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
    ) -> Result<Outcome> {
        self.streaming = true;
        let r = self.run(sql, params, sink);
        self.streaming = false;
        r
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        outside_runtime(|| self.batch_here(sql))
    }

    fn ping(&mut self) -> Result<()> {
        self.batch("")
    }

    fn ping_within(&mut self, timeout: std::time::Duration) -> Result<()> {
        outside_runtime(|| self.ping_here(timeout))
    }
    fn begin(&mut self) -> Result<()> {
        self.batch("BEGIN")?;
        self.in_tx = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        // Whatever COMMIT answers, the transaction is over (an aborted one is rolled back).
        self.in_tx = false;
        self.tx_unknown = false;
        self.batch("COMMIT")
    }

    fn rollback(&mut self) -> Result<()> {
        if self.lost {
            return Err(super::lost_connection("PostgreSQL"));
        }
        if !self.in_tx && !self.tx_unknown {
            return Ok(());
        }
        self.in_tx = false;
        self.tx_unknown = false;
        self.batch("ROLLBACK")
    }

    fn in_transaction(&self) -> bool {
        self.in_tx
    }

    fn forget_transaction(&mut self) {
        self.in_tx = false;
    }

    fn set_statement_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        if self.pooled {
            return Err(pooler::refuse(
                "a statement timeout (SET statement_timeout)",
            ));
        }
        let ms = timeout.map_or(0, |t| t.as_millis().max(1));
        self.batch(&format!("SET statement_timeout = {ms}"))
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        // Native use may open a transaction this driver does not know of.
        self.tx_unknown = true;
        &mut *self.client
    }

    fn as_any(&self) -> &dyn Any {
        &*self.client
    }
}

/// A column's bytes as the server sent them (binary format), `None` for `NULL`.
struct RawBytes<'a>(&'a [u8]);

impl<'a> FromSql<'a> for RawBytes<'a> {
    fn from_sql(
        _: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawBytes(raw))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

impl BinaryRow for postgres::Row {
    fn len(&self) -> usize {
        postgres::Row::len(self)
    }

    fn column(&self, idx: usize) -> Option<(&str, &Type)> {
        self.columns().get(idx).map(|c| (c.name(), c.type_()))
    }

    fn cell(&self, idx: usize) -> Result<Option<&[u8]>> {
        let raw: Option<RawBytes<'_>> = self
            .try_get(idx)
            .map_err(|e| Error::NoSuchColumn(format!("cannot read column {idx}: {e}")))?;
        Ok(raw.map(|r| r.0))
    }
}

#[cfg(test)]
mod size_tests {
    use super::*;

    #[test]
    fn messages_over_the_server_limit_are_refused_before_sending() {
        let small = [Value::Text("x".repeat(100)), Value::I64(1)];
        assert!(check_message_within("SELECT $1, $2", &small, 1_000).is_ok());
        let big = [Value::Blob(vec![0; 2_000])];
        let e = check_message_within("INSERT INTO t VALUES ($1)", &big, 1_000).unwrap_err();
        assert!(matches!(e, Error::TooLarge { .. }), "{e}");
        assert!(!e.is_disconnect());
        let msg = e.to_string();
        assert!(
            msg.contains("Bind message") && msg.contains("1000"),
            "{msg}"
        );
        let e = check_message_within(&"x".repeat(2_000), &[], 1_000).unwrap_err();
        assert!(e.to_string().contains("2000 bytes of SQL text"), "{e}");
        assert!(check_message_size("SELECT 1", &[]).is_ok());
    }
}

#[cfg(test)]
mod result_set_tests {
    use super::returns_rows;

    #[test]
    fn queries_and_returning_have_result_sets_and_the_rest_do_not() {
        for sql in [
            "SELECT 1",
            "  select * from t",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "VALUES (1)",
            "TABLE t",
            "SHOW search_path",
            "EXPLAIN SELECT 1",
            "(SELECT 1) UNION (SELECT 2)",
            "INSERT INTO t (a) VALUES ($1) RETURNING t.id",
            "DELETE FROM t RETURNING *",
        ] {
            assert!(returns_rows(sql), "{sql}");
        }
        for sql in [
            "UPDATE t SET a = 1",
            "INSERT INTO t (returning_x) VALUES (1)",
            "DELETE FROM t",
            "CREATE TABLE t (a int)",
            "BEGIN",
            "",
        ] {
            assert!(!returns_rows(sql), "{sql}");
        }
    }
}
