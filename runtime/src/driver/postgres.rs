//! The PostgreSQL driver, on the `postgres` crate.
//!
//! Parameters are encoded and columns decoded in PostgreSQL's binary format by this module
//! itself (see [`Param`] and [`PgRow`]), so that a [`Value`] binds to whatever type the server
//! inferred for its placeholder (an `i64` into an `INTEGER` column, a decimal into `NUMERIC`) and
//! a column decodes by index straight from the row buffer into the caller's type.

use std::any::Any;
use std::collections::HashMap;
use std::error::Error as StdError;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};
use postgres::{Client, Config, NoTls, Statement};

use super::{Driver, DriverConnection, Outcome, RowSink};
use crate::dialect::{Dialect, Postgres};
use crate::error::{DatabaseError, DatabaseErrorKind, DecodeError, Error, Result};
use crate::url::Url;
use crate::value::{RawRow, Value, temporal};

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// Parameters and result columns up to this many are gathered on the stack for each call.
const INLINE: usize = 16;

/// Fills the unused slots of the inline parameter buffer.
static NO_VALUE: Value = Value::Null;

/// Days and microseconds between 1970-01-01 (ours) and 2000-01-01 (PostgreSQL's epoch).
const PG_EPOCH_DAYS: i64 = 10_957;
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * 86_400_000_000;

/// URL query arguments this driver understands.
const QUERY_ARGS: &[&str] = &[
    "application_name",
    "connect_timeout",
    "host",
    "options",
    "sslmode",
];

/// Opens PostgreSQL connections.
#[derive(Debug)]
pub(crate) struct PgDriver {
    config: Config,
    /// `host:port` for error messages (never the password).
    target: String,
}

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
        let mut host = url.host().unwrap_or("localhost").to_owned();
        let port = url.port().unwrap_or(5432);
        config.port(port);
        config.user(url.username().unwrap_or("postgres"));
        if let Some(pw) = url.password() {
            config.password(pw);
        }
        if let Some(db) = url.database() {
            config.dbname(db);
        }
        for (key, value) in url.query() {
            match key.as_str() {
                "application_name" => {
                    config.application_name(value);
                }
                "options" => {
                    config.options(value);
                }
                "host" => host.clone_from(value),
                "connect_timeout" => {
                    let secs: u64 = value.parse().map_err(|_| {
                        url.error(format!(
                            "connect_timeout must be a whole number of seconds, got {value:?}"
                        ))
                    })?;
                    config.connect_timeout(Duration::from_secs(secs));
                }
                "sslmode" => match value.as_str() {
                    "disable" | "allow" | "prefer" => {}
                    other => {
                        return Err(url.error(format!(
                            "sslmode={other} needs TLS, which quarry's PostgreSQL driver does not \
                             have; use sslmode=disable or prefer"
                        )));
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
        config.host(&host);
        let target = if host.starts_with('/') {
            format!("{host}/.s.PGSQL.{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(PgDriver { config, target })
    }
}

impl Driver for PgDriver {
    fn dialect(&self) -> &'static dyn Dialect {
        &Postgres
    }

    fn connect(&self) -> Result<Box<dyn DriverConnection>> {
        let client = self.config.connect(NoTls).map_err(|e| {
            let mut err = convert(&e, None, &[]);
            err.kind = DatabaseErrorKind::Connection;
            err.disconnect = true;
            err.message = format!(
                "cannot connect to PostgreSQL at {}: {}",
                self.target, err.message
            );
            Error::from(err)
        })?;
        Ok(Box::new(PgConnection::new(client)))
    }
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
        }
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
            .map_err(|e| Error::from(convert(&e, Some(sql), params)))?;
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
        sink: &mut dyn RowSink,
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
        let param = |(i, value): (usize, &'a Value)| Param {
            value,
            position: i + 1,
        };
        let mut inline = [Param {
            value: &NO_VALUE,
            position: 0,
        }; INLINE];
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
        let columns = stmt.columns();
        super::send_column_names(
            columns.len(),
            |i| Ok::<_, std::convert::Infallible>(columns[i].name()),
            sink,
        )
        .unwrap_or_else(|never| match never {});
        // The whole result in one call, as libpq reads it: `query_raw`'s iterator enters the
        // client's runtime and polls the connection once per row, which cost more client CPU
        // than reading and decoding the row itself (twice the raw crate's time on 10 000 rows).
        let rows = self.client.query(&stmt, binds).map_err(Failure::Pg)?;
        sink.expect_rows(rows.len());
        // Each cell is located once per row: a decoder asks for some twice (`Option<T>` checks
        // for NULL first, `Option<Post>` of a LEFT JOIN checks every column of the post), and
        // each `try_get` checks the index and the type again.
        let width = stmt.columns().len();
        let mut cells: [Option<&[u8]>; INLINE] = [None; INLINE];
        for row in &rows {
            let cells = if width <= INLINE {
                for (idx, cell) in cells.iter_mut().enumerate().take(width) {
                    *cell = PgRow::locate(row, idx).map_err(Failure::Quarry)?;
                }
                &cells[..width]
            } else {
                &[]
            };
            sink.row(&PgRow { row, cells }).map_err(Failure::Quarry)?;
        }
        // With result columns the command tag counts the rows returned (SELECT, FETCH,
        // INSERT/UPDATE/DELETE … RETURNING), or has no count at all (SHOW).
        Ok(Outcome {
            rows_affected: rows.len() as u64,
            last_insert_id: None,
        })
    }
}

/// Hashes statement-cache keys (SQL text) eight bytes at a time, the Fx way: the default
/// SipHash cost as much as the rest of a cached lookup on every call, and the keys are the
/// application's own SQL in a cache of bounded size, so flooding resistance buys nothing.
#[derive(Default)]
struct SqlHasher(u64);

impl Hasher for SqlHasher {
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

/// Why a statement failed: the server or client library, or Quarry itself (decoding, binding).
enum Failure {
    Pg(postgres::Error),
    Quarry(Error),
}

impl PgConnection {
    /// Run once; a cached statement whose result type changed under it (DDL since it was
    /// prepared) is forgotten and prepared again, where no transaction was aborted.
    fn run_retrying(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
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
                        Failure::Pg(e) => Error::from(convert(&e, Some(sql), params)),
                    });
                }
                Err(Error::from(convert(&e, Some(sql), params)))
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
            return drop(client);
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

impl DriverConnection for PgConnection {
    fn run(&mut self, sql: &str, params: &[Value], sink: &mut dyn RowSink) -> Result<Outcome> {
        let r = self.run_retrying(sql, params, sink);
        // Transaction control takes no parameters: a statement with some need not be parsed
        // for BEGIN or COMMIT on every call.
        self.note(r, if params.is_empty() { sql } else { "" })
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        let r = self
            .client
            .batch_execute(sql)
            .map_err(|e| Error::from(convert(&e, Some(sql), &[])));
        self.note(r, sql)
    }

    fn ping(&mut self) -> Result<()> {
        self.batch("")
    }

    fn ping_within(&mut self, timeout: std::time::Duration) -> Result<()> {
        let r = self.client.is_valid(timeout).map_err(|e| {
            let mut err = convert(&e, None, &[]);
            if e.as_db_error().is_none() {
                // No answer in time (or none at all): the connection cannot be trusted.
                err.kind = DatabaseErrorKind::Connection;
                err.disconnect = true;
            }
            Error::from(err)
        });
        if r.as_ref().is_err_and(Error::is_disconnect) {
            self.client.detach = true;
        }
        self.note(r, "")
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

/// A [`Value`] bound to placeholder `$position`, encoded for the type the server inferred.
#[derive(Debug, Clone, Copy)]
struct Param<'a> {
    value: &'a Value,
    position: usize,
}

type BoxError = Box<dyn StdError + Sync + Send>;

fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    ) || ty.name() == "citext"
}

impl Param<'_> {
    fn refuse(&self, ty: &Type) -> BoxError {
        format!(
            "cannot bind {} to parameter ${}, which has type {}",
            self.value.kind_name(),
            self.position,
            ty.name()
        )
        .into()
    }

    fn int(&self, v: i64, ty: &Type, out: &mut BytesMut) -> std::result::Result<(), BoxError> {
        let range = |bits: &str| -> BoxError {
            format!(
                "the integer {v} is out of range for parameter ${} of type {bits}",
                self.position
            )
            .into()
        };
        match *ty {
            Type::INT2 => out.put_i16(i16::try_from(v).map_err(|_| range("int2"))?),
            Type::INT4 => out.put_i32(i32::try_from(v).map_err(|_| range("int4"))?),
            Type::INT8 => out.put_i64(v),
            Type::OID => out.put_u32(u32::try_from(v).map_err(|_| range("oid"))?),
            Type::FLOAT4 => out.put_f32(v as f32),
            Type::FLOAT8 => out.put_f64(v as f64),
            Type::NUMERIC => numeric::encode(&v.to_string(), out)?,
            _ if is_text(ty) => out.put_slice(v.to_string().as_bytes()),
            _ => return Err(self.refuse(ty)),
        }
        Ok(())
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match self.value {
            Value::Null => return Ok(IsNull::Yes),
            Value::Bool(b) => match *ty {
                Type::BOOL => out.put_u8(u8::from(*b)),
                _ if is_text(ty) => out.put_slice(if *b { b"true" } else { b"false" }),
                _ => return Err(self.refuse(ty)),
            },
            Value::I16(v) => self.int(i64::from(*v), ty, out)?,
            Value::I32(v) => self.int(i64::from(*v), ty, out)?,
            Value::I64(v) => self.int(*v, ty, out)?,
            Value::F32(v) => match *ty {
                Type::FLOAT4 => out.put_f32(*v),
                Type::FLOAT8 => out.put_f64(f64::from(*v)),
                Type::NUMERIC => numeric::encode(&v.to_string(), out)?,
                _ if is_text(ty) => out.put_slice(v.to_string().as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::F64(v) => match *ty {
                // Narrowing to the column's single precision is what REAL means.
                Type::FLOAT4 => out.put_f32(*v as f32),
                Type::FLOAT8 => out.put_f64(*v),
                Type::NUMERIC => numeric::encode(&v.to_string(), out)?,
                _ if is_text(ty) => out.put_slice(v.to_string().as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::Text(s) => match *ty {
                Type::JSON | Type::XML => out.put_slice(s.as_bytes()),
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(s.as_bytes());
                }
                Type::BYTEA => out.put_slice(s.as_bytes()),
                _ if is_text(ty) || matches!(ty.kind(), Kind::Enum(_)) => {
                    out.put_slice(s.as_bytes());
                }
                _ => return Err(self.refuse(ty)),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => out.put_slice(b),
                _ => return Err(self.refuse(ty)),
            },
            Value::Json(s) => match *ty {
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(s.as_bytes());
                }
                Type::JSON => out.put_slice(s.as_bytes()),
                _ if is_text(ty) => out.put_slice(s.as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::Decimal(s) => match *ty {
                Type::NUMERIC => numeric::encode(s, out)?,
                Type::FLOAT8 => out.put_f64(s.parse().map_err(|_| self.refuse(ty))?),
                _ if is_text(ty) => out.put_slice(s.as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::Date(d) => match *ty {
                Type::DATE => out.put_i32(d - PG_EPOCH_DAYS as i32),
                Type::TIMESTAMP | Type::TIMESTAMPTZ => {
                    out.put_i64(temporal::join_timestamp(i64::from(*d), 0) - PG_EPOCH_MICROS);
                }
                _ if is_text(ty) => out.put_slice(temporal::Date(*d).to_string().as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::Time(t) => match *ty {
                Type::TIME => out.put_i64(*t),
                _ if is_text(ty) => out.put_slice(temporal::Time(*t).to_string().as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::Timestamp(t) | Value::TimestampTz(t) => match *ty {
                Type::TIMESTAMP | Type::TIMESTAMPTZ => out.put_i64(t - PG_EPOCH_MICROS),
                _ if is_text(ty) => {
                    out.put_slice(format!("{:?}", self.value).as_bytes());
                }
                _ => return Err(self.refuse(ty)),
            },
            Value::Uuid(u) => match *ty {
                Type::UUID => out.put_slice(u),
                _ if is_text(ty) => {
                    out.put_slice(temporal::Hyphenated(u).to_string().as_bytes());
                }
                _ => return Err(self.refuse(ty)),
            },
            _ => return Err(self.refuse(ty)),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        // Every type is attempted; `to_sql` refuses with a message naming the parameter.
        true
    }

    to_sql_checked!();
}

/// A column's bytes as the server sent them (binary format), `None` for `NULL`.
struct RawBytes<'a>(&'a [u8]);

impl<'a> FromSql<'a> for RawBytes<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        Ok(RawBytes(raw))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

struct PgRow<'a> {
    row: &'a postgres::Row,
    /// Every column's bytes, located in advance (`None` for `NULL`); empty for a result wider
    /// than [`INLINE`], whose cells are located on each use.
    cells: &'a [Option<&'a [u8]>],
}

impl<'a> PgRow<'a> {
    /// Column `idx`'s bytes in `row` (`None` for `NULL`).
    fn locate(row: &'a postgres::Row, idx: usize) -> Result<Option<&'a [u8]>> {
        if idx >= row.len() {
            return Err(Error::NoSuchColumn(format!(
                "result has no column {idx} (it has {})",
                row.len()
            )));
        }
        let raw: Option<RawBytes<'a>> = row
            .try_get(idx)
            .map_err(|e| Error::NoSuchColumn(format!("cannot read column {idx}: {e}")))?;
        Ok(raw.map(|r| r.0))
    }

    /// The column's type and bytes (`None` for `NULL`).
    fn raw(&self, idx: usize) -> Result<(&Type, Option<&'a [u8]>)> {
        let cell = match self.cells.get(idx) {
            Some(cell) => *cell,
            None => Self::locate(self.row, idx)?,
        };
        match self.row.columns().get(idx) {
            Some(column) => Ok((column.type_(), cell)),
            // Unreachable: `locate` checked the index, and `cells` is no longer than the row.
            None => Err(Error::NoSuchColumn(format!(
                "result has no column {idx} (it has {})",
                self.row.len()
            ))),
        }
    }

    fn mismatch(&self, idx: usize, expected: &'static str, ty: &Type) -> Error {
        DecodeError::new(
            self.name(idx),
            expected,
            format!("a {} value", ty.name().to_uppercase()),
        )
        .into()
    }

    fn corrupt(&self, idx: usize, ty: &Type) -> Error {
        DecodeError::new(
            self.name(idx),
            "a value",
            format!("malformed {} bytes from the server", ty.name()),
        )
        .into()
    }

    fn fixed<const N: usize>(&self, idx: usize, ty: &Type, raw: &[u8]) -> Result<[u8; N]> {
        raw.try_into().map_err(|_| self.corrupt(idx, ty))
    }

    fn utf8<'b>(&self, idx: usize, raw: &'b [u8]) -> Result<&'b str> {
        std::str::from_utf8(raw).map_err(|_| {
            DecodeError::new(self.name(idx), "String", "text that is not valid UTF-8").into()
        })
    }
}

impl RawRow for PgRow<'_> {
    fn len(&self) -> usize {
        self.row.len()
    }

    fn name(&self, idx: usize) -> &str {
        self.row.columns().get(idx).map_or("?", |c| c.name())
    }

    fn get_i64(&self, idx: usize) -> Result<Option<i64>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        Ok(Some(match *ty {
            Type::INT2 => i64::from(i16::from_be_bytes(self.fixed(idx, ty, raw)?)),
            Type::INT4 => i64::from(i32::from_be_bytes(self.fixed(idx, ty, raw)?)),
            Type::INT8 => i64::from_be_bytes(self.fixed(idx, ty, raw)?),
            Type::OID => i64::from(u32::from_be_bytes(self.fixed(idx, ty, raw)?)),
            // sum() of integers is NUMERIC on PostgreSQL.
            Type::NUMERIC => {
                let text = numeric::decode(raw).ok_or_else(|| self.corrupt(idx, ty))?;
                numeric::to_i64(&text).ok_or_else(|| {
                    Error::from(DecodeError::new(
                        self.name(idx),
                        "an integer",
                        format!("the NUMERIC {text}, which is not an integer in range"),
                    ))
                })?
            }
            _ => return Err(self.mismatch(idx, "an integer", ty)),
        }))
    }

    fn get_f64(&self, idx: usize) -> Result<Option<f64>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        Ok(Some(match *ty {
            Type::FLOAT4 => f64::from(f32::from_be_bytes(self.fixed(idx, ty, raw)?)),
            Type::FLOAT8 => f64::from_be_bytes(self.fixed(idx, ty, raw)?),
            Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => {
                self.get_i64(idx)?.map_or(0.0, |v| v as f64)
            }
            // avg() is NUMERIC on PostgreSQL.
            Type::NUMERIC => {
                let text = numeric::decode(raw).ok_or_else(|| self.corrupt(idx, ty))?;
                text.parse().map_err(|_| self.corrupt(idx, ty))?
            }
            _ => return Err(self.mismatch(idx, "a float", ty)),
        }))
    }

    fn get_bool(&self, idx: usize) -> Result<Option<bool>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::BOOL => Ok(Some(raw.first().is_some_and(|b| *b != 0))),
            _ => Err(self.mismatch(idx, "bool", ty)),
        }
    }

    fn get_text(&self, idx: usize) -> Result<Option<String>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        let bytes = match *ty {
            Type::JSONB => raw.get(1..).unwrap_or_default(),
            Type::JSON | Type::XML => raw,
            _ if is_text(ty) || matches!(ty.kind(), Kind::Enum(_)) => raw,
            _ => return Err(self.mismatch(idx, "String", ty)),
        };
        self.utf8(idx, bytes).map(|s| Some(s.to_owned()))
    }

    fn get_blob(&self, idx: usize) -> Result<Option<Vec<u8>>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::BYTEA => Ok(Some(raw.to_vec())),
            _ => Err(self.mismatch(idx, "Vec<u8>", ty)),
        }
    }

    fn get_value(&self, idx: usize) -> Result<Value> {
        let (ty, raw) = self.raw(idx)?;
        if raw.is_none() {
            return Ok(Value::Null);
        }
        let or_null = |v: Option<Value>| v.unwrap_or(Value::Null);
        Ok(match *ty {
            Type::BOOL => or_null(self.get_bool(idx)?.map(Value::Bool)),
            Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => {
                or_null(self.get_i64(idx)?.map(Value::I64))
            }
            Type::FLOAT4 | Type::FLOAT8 => or_null(self.get_f64(idx)?.map(Value::F64)),
            Type::NUMERIC => or_null(self.get_decimal(idx)?.map(Value::Decimal)),
            Type::BYTEA => or_null(self.get_blob(idx)?.map(Value::Blob)),
            Type::JSON | Type::JSONB => or_null(self.get_json(idx)?.map(Value::Json)),
            Type::DATE => or_null(self.get_date(idx)?.map(Value::Date)),
            Type::TIME => or_null(self.get_time(idx)?.map(Value::Time)),
            Type::TIMESTAMP => or_null(self.get_timestamp(idx)?.map(Value::Timestamp)),
            Type::TIMESTAMPTZ => or_null(self.get_timestamp(idx)?.map(Value::TimestampTz)),
            Type::UUID => or_null(self.get_uuid(idx)?.map(Value::Uuid)),
            Type::VOID => Value::Null,
            _ => match self.get_text(idx) {
                Ok(v) => or_null(v.map(Value::Text)),
                Err(_) => {
                    return Err(DecodeError::new(
                        self.name(idx),
                        "a value",
                        format!(
                            "a value of SQL type {}, which quarry does not decode; cast it in                              the query (::text)",
                            ty.name().to_uppercase()
                        ),
                    )
                    .into());
                }
            },
        })
    }

    fn is_null(&self, idx: usize) -> Result<bool> {
        Ok(self.raw(idx)?.1.is_none())
    }

    fn get_date(&self, idx: usize) -> Result<Option<i32>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::DATE => {
                let d = i32::from_be_bytes(self.fixed(idx, ty, raw)?);
                if d == i32::MAX || d == i32::MIN {
                    return Err(DecodeError::new(self.name(idx), "a date", "infinity").into());
                }
                Ok(Some(d.saturating_add(PG_EPOCH_DAYS as i32)))
            }
            _ => Err(self.mismatch(idx, "a date", ty)),
        }
    }

    fn get_time(&self, idx: usize) -> Result<Option<i64>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::TIME => Ok(Some(i64::from_be_bytes(self.fixed(idx, ty, raw)?))),
            _ => Err(self.mismatch(idx, "a time", ty)),
        }
    }

    fn get_timestamp(&self, idx: usize) -> Result<Option<i64>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::TIMESTAMP | Type::TIMESTAMPTZ => {
                let t = i64::from_be_bytes(self.fixed(idx, ty, raw)?);
                if t == i64::MAX || t == i64::MIN {
                    return Err(DecodeError::new(self.name(idx), "a timestamp", "infinity").into());
                }
                t.checked_add(PG_EPOCH_MICROS).map(Some).ok_or_else(|| {
                    DecodeError::new(self.name(idx), "a timestamp", "a timestamp out of range")
                        .into()
                })
            }
            Type::DATE => Ok(self
                .get_date(idx)?
                .map(|d| temporal::join_timestamp(i64::from(d), 0))),
            _ => Err(self.mismatch(idx, "a timestamp", ty)),
        }
    }

    fn get_uuid(&self, idx: usize) -> Result<Option<[u8; 16]>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::UUID => Ok(Some(self.fixed(idx, ty, raw)?)),
            _ if is_text(ty) => temporal::parse_uuid(self.utf8(idx, raw)?.trim())
                .map(Some)
                .ok_or_else(|| self.mismatch(idx, "a UUID", ty)),
            _ => Err(self.mismatch(idx, "a UUID", ty)),
        }
    }

    fn get_decimal(&self, idx: usize) -> Result<Option<String>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::NUMERIC => numeric::decode(raw)
                .map(Some)
                .ok_or_else(|| self.corrupt(idx, ty)),
            Type::INT2 | Type::INT4 | Type::INT8 => Ok(self.get_i64(idx)?.map(|v| v.to_string())),
            _ => Err(self.mismatch(idx, "a decimal", ty)),
        }
    }

    fn get_json(&self, idx: usize) -> Result<Option<String>> {
        let (ty, Some(_)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::JSON | Type::JSONB => self.get_text(idx),
            _ if is_text(ty) => self.get_text(idx),
            _ => Err(self.mismatch(idx, "JSON", ty)),
        }
    }
}

/// PostgreSQL's binary NUMERIC: `ndigits, weight, sign, dscale` (i16/i16/u16/u16), then
/// `ndigits` base-10000 digits; the value is Σ digit[i] · 10000^(weight − i).
mod numeric {
    use bytes::{BufMut, BytesMut};

    use super::BoxError;

    const NEG: u16 = 0x4000;
    const NAN: u16 = 0xC000;

    /// Decimal text of a binary NUMERIC, e.g. `-12.340`, keeping the display scale.
    pub(super) fn decode(raw: &[u8]) -> Option<String> {
        let word = |i: usize| -> Option<u16> {
            Some(u16::from_be_bytes(
                raw.get(i * 2..i * 2 + 2)?.try_into().ok()?,
            ))
        };
        let ndigits = usize::from(word(0)?);
        let weight = i32::from(word(1)? as i16);
        let sign = word(2)?;
        let dscale = usize::from(word(3)?);
        match sign {
            NAN => return Some("NaN".into()),
            0xD000 => return Some("Infinity".into()),
            0xF000 => return Some("-Infinity".into()),
            _ => {}
        }
        let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<Option<_>>()?;
        let mut out = String::new();
        if sign == NEG {
            out.push('-');
        }
        // Integer part: groups with index 0..=weight.
        if weight < 0 {
            out.push('0');
        } else {
            for i in 0..=weight {
                let d = digits.get(i as usize).copied().unwrap_or(0);
                if i == 0 {
                    out.push_str(&d.to_string());
                } else {
                    out.push_str(&format!("{d:04}"));
                }
            }
        }
        if dscale > 0 {
            out.push('.');
            let mut frac = String::new();
            let mut i = weight + 1;
            while frac.len() < dscale {
                let d = if i < 0 {
                    0
                } else {
                    digits.get(i as usize).copied().unwrap_or(0)
                };
                frac.push_str(&format!("{d:04}"));
                i += 1;
            }
            frac.truncate(dscale);
            out.push_str(&frac);
        }
        Some(out)
    }

    /// Binary NUMERIC of decimal text (`-?digits[.digits]`, or an exponent form from floats).
    pub(super) fn encode(text: &str, out: &mut BytesMut) -> Result<(), BoxError> {
        let text = text.trim();
        if text == "NaN" {
            out.put_slice(&[0, 0, 0, 0, 0xC0, 0, 0, 0]);
            return Ok(());
        }
        let plain;
        let text = if text.contains(['e', 'E']) {
            let v: f64 = text
                .parse()
                .map_err(|_| format!("{text:?} is not a decimal number"))?;
            plain = format!("{v:.}");
            plain.as_str()
        } else {
            text
        };
        if !crate::value::temporal::is_decimal_text(text) {
            return Err(format!("{text:?} is not a decimal number").into());
        }
        let (neg, body) = match text.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, text),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        let int = int.trim_start_matches('0');
        // Pad the integer part on the left and the fraction on the right to whole groups.
        let int_pad = (4 - int.len() % 4) % 4;
        let frac_pad = (4 - frac.len() % 4) % 4;
        let digits_text = format!("{}{int}{frac}{}", "0".repeat(int_pad), "0".repeat(frac_pad));
        let mut groups: Vec<i16> = digits_text
            .as_bytes()
            .chunks(4)
            .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0')))
            .collect();
        let int_groups = (int.len() + int_pad) / 4;
        let mut weight = int_groups as i32 - 1;
        // Strip leading zero groups (adjusting the weight) and trailing zero groups.
        while groups.first() == Some(&0) {
            groups.remove(0);
            weight -= 1;
        }
        while groups.last() == Some(&0) {
            groups.pop();
        }
        if groups.is_empty() {
            weight = 0;
        }
        let too_big = || -> BoxError { format!("{text} has too many digits for NUMERIC").into() };
        out.put_i16(i16::try_from(groups.len()).map_err(|_| too_big())?);
        out.put_i16(i16::try_from(weight).map_err(|_| too_big())?);
        out.put_u16(if neg && !groups.is_empty() { NEG } else { 0 });
        out.put_u16(u16::try_from(frac.len()).map_err(|_| too_big())?);
        for g in groups {
            out.put_i16(g);
        }
        Ok(())
    }

    /// An integral decimal (`42`, `42.000`) as `i64`.
    pub(super) fn to_i64(text: &str) -> Option<i64> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if !frac.bytes().all(|b| b == b'0') {
            return None;
        }
        int.parse().ok()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn round_trip(text: &str) -> String {
            let mut buf = BytesMut::new();
            encode(text, &mut buf).unwrap();
            decode(&buf).unwrap()
        }

        #[test]
        fn numeric_text_survives_the_binary_format() {
            for t in [
                "0",
                "1",
                "-1",
                "12.340",
                "10000",
                "123456789.000001",
                "0.0001",
                "-0.5",
                "99999999999999999999.99",
            ] {
                assert_eq!(round_trip(t), t);
            }
            assert_eq!(round_trip("007.50"), "7.50");
            assert_eq!(to_i64("42.000"), Some(42));
            assert_eq!(to_i64("42.5"), None);
        }
    }
}

/// A `postgres` error as a [`DatabaseError`] carrying the statement.
fn convert(e: &postgres::Error, sql: Option<&str>, params: &[Value]) -> DatabaseError {
    let mut err = if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        let kind = match code {
            "23505" => DatabaseErrorKind::UniqueViolation,
            "23503" => DatabaseErrorKind::ForeignKeyViolation,
            "23502" => DatabaseErrorKind::NotNullViolation,
            "23514" => DatabaseErrorKind::CheckViolation,
            c if c.starts_with("42") => DatabaseErrorKind::Syntax,
            c if c.starts_with("08") || c.starts_with("57P") => DatabaseErrorKind::Connection,
            _ => DatabaseErrorKind::Other,
        };
        let mut err = DatabaseError::new(kind, db.message());
        err.code = Some(code.to_owned());
        err.sqlstate = Some(code.to_owned());
        err.constraint = db.constraint().map(str::to_owned);
        err.disconnect = code.starts_with("08") || code.starts_with("57P");
        err
    } else {
        // Client-side: a lost connection, an I/O error, or a parameter we refused to encode.
        let mut message = e.to_string();
        let mut source = e.source();
        while let Some(s) = source {
            message = format!("{message}: {s}");
            source = s.source();
        }
        let closed = e.is_closed() || message.contains("connection closed");
        let mut io = false;
        let mut source = e.source();
        while let Some(s) = source {
            io |= s.downcast_ref::<std::io::Error>().is_some();
            source = s.source();
        }
        let mut err = DatabaseError::new(
            if closed || io {
                DatabaseErrorKind::Connection
            } else {
                DatabaseErrorKind::Other
            },
            message,
        );
        err.disconnect = closed || io;
        err
    };
    err.sql = sql.map(str::to_owned);
    err.params = params.to_vec();
    err
}
