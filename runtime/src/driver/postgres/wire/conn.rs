//! One connection of the lean driver: its prepared statements, the extended protocol for
//! `run`, the simple protocol for `batch`, and the transaction status the server reports.

use std::any::Any;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::time::Duration;

use postgres::types::{Kind, ToSql, Type};
use postgres_protocol::IsNull;
use postgres_protocol::message::frontend::{self, BindError};

use super::super::binary::{BinaryRow, Param, PgRow};
use super::super::{INLINE, PG_MAX_PARAMETERS, STATEMENT_CACHE, SqlHasher, check_message_size};
use super::auth::{Login, startup};
use super::copy;
use super::io::{Body, Stream, Wire};
use super::{Failure, server_error};
use crate::dialect::{Dialect, Postgres};
use crate::driver::{DriverConnection, Outcome, RowSink, lost_connection, send_column_names};
use crate::error::{DatabaseError, DatabaseErrorKind, Error, Result};
use crate::value::Value;

/// Bytes of COPY data sent in one CopyData message (and one write).
const COPY_CHUNK: usize = 64 * 1024;

/// ReadyForQuery's status outside a transaction.
const IDLE: u8 = b'I';

/// A result column: its name and type.
struct Column {
    name: String,
    ty: Type,
}

/// A statement prepared on the server under `name`.
struct Prepared {
    name: String,
    params: Vec<Type>,
    columns: Vec<Column>,
}

/// The socket and what the server last said of the transaction.
struct Session {
    wire: Wire,
    /// ReadyForQuery's transaction status: `I` idle, `T` in a transaction, `E` in a failed
    /// one.
    status: u8,
}

/// One connection of the lean driver.
pub(crate) struct WireConnection {
    session: Session,
    statements: HashMap<Box<str>, Prepared, BuildHasherDefault<SqlHasher>>,
    /// Numbers the server-side statements (`q1`, `q2`, …).
    next_id: u64,
    /// Types that are not built in (enums, domains, their arrays), by OID, as looked up.
    types: HashMap<u32, Type>,
    /// A call lost the connection: every later call says so.
    lost: bool,
}

impl WireConnection {
    pub(super) fn open(
        host: &str,
        port: u16,
        timeout: Option<Duration>,
        login: &Login<'_>,
    ) -> std::result::Result<Self, Failure> {
        let stream = Stream::connect(host, port, timeout)?;
        // The connect timeout bounds the whole login, as libpq's does.
        stream.set_read_timeout(timeout)?;
        let mut wire = Wire::new(stream);
        let status = startup(&mut wire, login)?;
        wire.stream().set_read_timeout(None)?;
        Ok(WireConnection {
            session: Session { wire, status },
            statements: HashMap::default(),
            next_id: 0,
            types: HashMap::new(),
            lost: false,
        })
    }

    /// Parse and describe `sql` as a new named statement, and cache it.
    fn prepare(&mut self, sql: &str) -> std::result::Result<(), Failure> {
        self.next_id += 1;
        let name = format!("q{}", self.next_id);
        if self.statements.len() >= STATEMENT_CACHE
            && let Some(key) = self.statements.keys().next().cloned()
            && let Some(old) = self.statements.remove(&key)
        {
            // Closed on the server with this request (its CloseComplete is skipped).
            frontend::close(b'S', &old.name, &mut self.session.wire.out)?;
        }
        let prepared = self.describe(name, sql)?;
        self.statements.insert(sql.into(), prepared);
        Ok(())
    }

    /// Parse and describe `sql` as the statement `name` (`""`: the unnamed one).
    fn describe(&mut self, name: String, sql: &str) -> std::result::Result<Prepared, Failure> {
        let out = &mut self.session.wire.out;
        frontend::parse(&name, sql, std::iter::empty(), out)?;
        frontend::describe(b'S', &name, out)?;
        frontend::sync(out);
        self.session.wire.send()?;
        let mut failure = None;
        let mut param_oids = Vec::new();
        let mut column_oids: Vec<(String, u32)> = Vec::new();
        loop {
            let (tag, body) = next(&mut self.session.wire, &mut failure)?;
            match tag {
                b't' => {
                    let mut body = Body::new(body);
                    let n = body.u16()?;
                    for _ in 0..n {
                        param_oids.push(body.u32()?);
                    }
                }
                b'T' => {
                    let mut body = Body::new(body);
                    let n = body.u16()?;
                    for _ in 0..n {
                        let name = body.cstr()?.to_owned();
                        let _table = body.u32()?;
                        let _attnum = body.i16()?;
                        let oid = body.u32()?;
                        let _typlen = body.i16()?;
                        let _typmod = body.i32()?;
                        let _format = body.i16()?;
                        column_oids.push((name, oid));
                    }
                }
                b'E' => {
                    if failure.is_none() {
                        failure = Some(server_error(body)?);
                    }
                }
                b'Z' => {
                    self.session.status = Body::new(body).u8()?;
                    break;
                }
                // ParseComplete, CloseComplete, NoData, notices, parameter changes,
                // notifications.
                b'1' | b'3' | b'n' | b'N' | b'S' | b'A' => {}
                other => return Err(unexpected(other)),
            }
        }
        if let Some(failure) = failure {
            return Err(failure);
        }
        let mut params = Vec::with_capacity(param_oids.len());
        for oid in param_oids {
            params.push(self.type_of(oid, 0)?);
        }
        let mut columns = Vec::with_capacity(column_oids.len());
        for (name, oid) in column_oids {
            columns.push(Column {
                name,
                ty: self.type_of(oid, 0)?,
            });
        }
        Ok(Prepared {
            name,
            params,
            columns,
        })
    }

    /// The type of `oid`: a built-in one, or one looked up in `pg_type` (once per connection)
    /// — an enum decodes as text, an array of it element by element.
    fn type_of(&mut self, oid: u32, depth: u32) -> std::result::Result<Type, Failure> {
        if let Some(ty) = Type::from_oid(oid) {
            return Ok(ty);
        }
        if let Some(ty) = self.types.get(&oid) {
            return Ok(ty.clone());
        }
        if depth > 8 {
            return Err(Failure::Protocol(format!("type {oid} nests too deep")));
        }
        let sql = format!(
            "SELECT t.typname, t.typtype, t.typcategory, t.typelem, t.typbasetype, n.nspname \
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
             WHERE t.oid = {oid}"
        );
        let rows = self.session.simple(&sql, true)?;
        let Some(row) = rows.first() else {
            return Err(Failure::Protocol(format!("the server has no type {oid}")));
        };
        let field = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        let (name, typtype, category) = (field(0), field(1), field(2));
        let elem: u32 = field(3).parse().unwrap_or(0);
        let base: u32 = field(4).parse().unwrap_or(0);
        let kind = if typtype == "e" {
            Kind::Enum(Vec::new())
        } else if typtype == "d" && base != 0 {
            Kind::Domain(self.type_of(base, depth + 1)?)
        } else if category == "A" && elem != 0 {
            Kind::Array(self.type_of(elem, depth + 1)?)
        } else {
            Kind::Simple
        };
        let ty = Type::new(name, oid, kind, field(5));
        self.types.insert(oid, ty.clone());
        Ok(ty)
    }

    fn run_here(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
    ) -> std::result::Result<Outcome, Failure> {
        if let Some(stmt) = self.statements.get(sql) {
            return self.session.execute(stmt, sql, params, sink);
        }
        self.prepare(sql)?;
        match self.statements.get(sql) {
            Some(stmt) => self.session.execute(stmt, sql, params, sink),
            None => Err(Failure::Protocol(
                "a prepared statement went missing".into(),
            )),
        }
    }

    /// Run once; a cached statement whose result type changed under it (DDL since it was
    /// prepared), or that the server no longer has, is prepared again, where no transaction
    /// was aborted by it.
    fn run_retrying(
        &mut self,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
    ) -> std::result::Result<Outcome, Failure> {
        match self.run_here(sql, params, sink) {
            Err(Failure::Server(e))
                if (e.code.as_deref() == Some("0A000") && e.message.contains("cached plan")
                    // `DEALLOCATE ALL` / `DISCARD ALL` sent as text dropped the statement.
                    || e.code.as_deref() == Some("26000"))
                    && self.session.status == IDLE =>
            {
                if let Some(old) = self.statements.remove(sql) {
                    frontend::close(b'S', &old.name, &mut self.session.wire.out)?;
                }
                self.run_here(sql, params, sink)
            }
            other => other,
        }
    }

    /// Note a failure that lost the connection, and turn it into Quarry's error.
    fn fail(&mut self, failure: Failure, sql: Option<&str>, params: &[Value]) -> Error {
        if failure.is_lost() {
            self.lost = true;
            self.session.status = IDLE;
        }
        failure.into_error(sql, params)
    }

    fn check_alive(&self) -> Result<()> {
        if self.lost {
            return Err(lost_connection("PostgreSQL"));
        }
        Ok(())
    }
}

impl Session {
    /// Bind, Execute and Sync `stmt` in one write, and feed its rows to `sink` as they are
    /// read.
    fn execute(
        &mut self,
        stmt: &Prepared,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
    ) -> std::result::Result<Outcome, Failure> {
        if stmt.params.len() != params.len() {
            return Err(Failure::Quarry(Error::config(format!(
                "statement expects {} parameters but {} were given: {sql}",
                stmt.params.len(),
                params.len()
            ))));
        }
        let out = &mut self.wire.out;
        let mut position = 0;
        let bound = frontend::bind(
            "",
            &stmt.name,
            // One format code: all parameters binary (none for no parameters).
            (!params.is_empty()).then_some(1),
            params.iter().zip(&stmt.params),
            |(value, ty), buf| {
                position += 1;
                match Param::new(value, position).to_sql_checked(ty, buf)? {
                    postgres::types::IsNull::Yes => Ok(IsNull::Yes),
                    postgres::types::IsNull::No => Ok(IsNull::No),
                }
            },
            Some(1),
            out,
        );
        if let Err(e) = bound {
            out.clear();
            return Err(match e {
                BindError::Conversion(e) => {
                    // As the `postgres` crate words it (counted from 0).
                    let err = DatabaseError::new(
                        DatabaseErrorKind::Other,
                        format!(
                            "error serializing parameter {}: {e}",
                            position.saturating_sub(1)
                        ),
                    );
                    Failure::Quarry(err.into_error())
                }
                BindError::Serialization(e) => Failure::Io(e),
            });
        }
        frontend::execute("", 0, out)?;
        frontend::sync(out);
        self.wire.send()?;
        send_column_names(
            stmt.columns.len(),
            |i| Ok::<_, std::convert::Infallible>(stmt.columns[i].name.as_str()),
            sink,
        )
        .unwrap_or_else(|never| match never {});
        let mut failure = None;
        let mut fetched = 0u64;
        let mut tagged = 0u64;
        loop {
            let (tag, body) = next(&mut self.wire, &mut failure)?;
            match tag {
                b'D' => {
                    fetched += 1;
                    if failure.is_none() {
                        // A row the sink refuses: the rest are read and dropped, so that the
                        // connection is ready for the next statement.
                        if let Err(e) = feed(stmt, body, sink)? {
                            failure = Some(Failure::Quarry(e));
                        }
                    }
                }
                b'C' => tagged = command_count(body),
                b'E' => {
                    if failure.is_none() {
                        failure = Some(server_error(body)?);
                    }
                }
                b'Z' => {
                    self.status = Body::new(body).u8()?;
                    break;
                }
                // BindComplete, CloseComplete, EmptyQueryResponse, notices, parameter
                // changes, notifications.
                b'2' | b'3' | b'I' | b'N' | b'S' | b'A' => {}
                other => return Err(unexpected(other)),
            }
        }
        if let Some(failure) = failure {
            return Err(failure);
        }
        // With result columns the count is that of the rows returned (as the `postgres`
        // driver reports it); without, the command tag's.
        Ok(Outcome {
            rows_affected: if stmt.columns.is_empty() {
                tagged
            } else {
                fetched
            },
            last_insert_id: None,
        })
    }

    /// Run `sql` with the simple protocol; its rows as text when `keep_rows` (for the type
    /// lookup), else dropped.
    fn simple(
        &mut self,
        sql: &str,
        keep_rows: bool,
    ) -> std::result::Result<Vec<Vec<Option<String>>>, Failure> {
        frontend::query(sql, &mut self.wire.out)?;
        self.wire.send()?;
        let mut failure = None;
        let mut rows = Vec::new();
        loop {
            let (tag, body) = next(&mut self.wire, &mut failure)?;
            match tag {
                b'D' if keep_rows => {
                    let mut body = Body::new(body);
                    let n = body.u16()?;
                    let mut row = Vec::with_capacity(usize::from(n));
                    for _ in 0..n {
                        row.push(
                            body.value()?
                                .map(|v| String::from_utf8_lossy(v).into_owned()),
                        );
                    }
                    rows.push(row);
                }
                b'E' => {
                    if failure.is_none() {
                        failure = Some(server_error(body)?);
                    }
                }
                b'Z' => {
                    self.status = Body::new(body).u8()?;
                    break;
                }
                b'G' => {
                    // COPY … FROM STDIN has no data to read here: refuse it, and the server
                    // answers with an error.
                    frontend::copy_fail(
                        "COPY FROM STDIN is not available through batch(); use copy_in",
                        &mut self.wire.out,
                    )?;
                    self.wire.send()?;
                }
                // RowDescription, DataRow, CommandComplete, EmptyQueryResponse, COPY TO
                // STDOUT's CopyOutResponse/CopyData/CopyDone, notices, parameter changes,
                // notifications.
                b'T' | b'D' | b'C' | b'I' | b'H' | b'd' | b'c' | b'N' | b'S' | b'A' => {}
                other => return Err(unexpected(other)),
            }
        }
        match failure {
            Some(failure) => Err(failure),
            None => Ok(rows),
        }
    }

    /// `COPY … FROM STDIN` of `data` (already in the binary COPY format); the rows written.
    fn copy(&mut self, sql: &str, data: &[u8]) -> std::result::Result<u64, Failure> {
        frontend::query(sql, &mut self.wire.out)?;
        self.wire.send()?;
        let mut failure = None;
        let mut copied = 0;
        loop {
            let (tag, body) = next(&mut self.wire, &mut failure)?;
            match tag {
                b'G' => {
                    for chunk in data.chunks(COPY_CHUNK) {
                        frontend::CopyData::new(chunk)?.write(&mut self.wire.out);
                        if self.wire.out.len() >= COPY_CHUNK {
                            self.wire.send()?;
                        }
                    }
                    frontend::copy_done(&mut self.wire.out);
                    self.wire.send()?;
                }
                b'C' => copied = command_count(body),
                b'E' => {
                    if failure.is_none() {
                        failure = Some(server_error(body)?);
                    }
                }
                b'Z' => {
                    self.status = Body::new(body).u8()?;
                    break;
                }
                b'N' | b'S' | b'A' => {}
                other => return Err(unexpected(other)),
            }
        }
        match failure {
            Some(failure) => Err(failure),
            None => Ok(copied),
        }
    }

    /// A Sync and its ReadyForQuery: one round trip.
    fn sync(&mut self) -> std::result::Result<(), Failure> {
        frontend::sync(&mut self.wire.out);
        self.wire.send()?;
        loop {
            let (tag, body) = self.wire.next()?;
            match tag {
                b'Z' => {
                    self.status = Body::new(body).u8()?;
                    return Ok(());
                }
                // A FATAL error before the server closes (a terminated backend).
                b'E' => return Err(server_error(body)?),
                b'N' | b'S' | b'A' => {}
                other => return Err(unexpected(other)),
            }
        }
    }
}

/// The next message; when the socket fails after the server said why (a FATAL error before
/// it closed: the backend was terminated, the server shuts down), that error.
fn next<'w>(
    wire: &'w mut Wire,
    failure: &mut Option<Failure>,
) -> std::result::Result<(u8, &'w [u8]), Failure> {
    wire.next().map_err(|e| match failure.take() {
        Some(said) if said.is_lost() => said,
        _ => Failure::Io(e),
    })
}

/// Hand one DataRow to `sink`: the outer `Err` for a malformed message (the connection is
/// lost), the inner one for the sink's refusal.
fn feed(
    stmt: &Prepared,
    body: &[u8],
    sink: &mut dyn RowSink,
) -> std::result::Result<Result<()>, Failure> {
    let mut body = Body::new(body);
    let width = usize::from(body.u16()?);
    if width != stmt.columns.len() {
        return Err(Failure::Protocol(format!(
            "a row of {width} columns for a statement of {}",
            stmt.columns.len()
        )));
    }
    let columns = &stmt.columns;
    if width <= INLINE {
        let mut cells: [Option<&[u8]>; INLINE] = [None; INLINE];
        for cell in cells.iter_mut().take(width) {
            *cell = body.value()?;
        }
        let row = WireRow {
            columns,
            cells: &cells[..width],
        };
        return Ok(sink.row(&PgRow::new(&row, &cells[..width])));
    }
    let mut cells = Vec::with_capacity(width);
    for _ in 0..width {
        cells.push(body.value()?);
    }
    let row = WireRow {
        columns,
        cells: &cells,
    };
    Ok(sink.row(&PgRow::new(&row, &cells)))
}

/// A DataRow's cells, borrowed from the read buffer, with its statement's columns.
struct WireRow<'a> {
    columns: &'a [Column],
    cells: &'a [Option<&'a [u8]>],
}

impl BinaryRow for WireRow<'_> {
    fn len(&self) -> usize {
        self.columns.len()
    }

    fn column(&self, idx: usize) -> Option<(&str, &Type)> {
        self.columns.get(idx).map(|c| (c.name.as_str(), &c.ty))
    }

    fn cell(&self, idx: usize) -> Result<Option<&[u8]>> {
        Ok(self.cells.get(idx).copied().flatten())
    }
}

/// The row count at the end of a CommandComplete tag (`INSERT 0 3`, `UPDATE 2`), 0 for none.
fn command_count(body: &[u8]) -> u64 {
    let tag = body.strip_suffix(&[0]).unwrap_or(body);
    let last = tag.rsplit(|b| *b == b' ').next().unwrap_or_default();
    std::str::from_utf8(last)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn unexpected(tag: u8) -> Failure {
    Failure::Protocol(format!("unexpected message {:?}", char::from(tag)))
}

impl DriverConnection for WireConnection {
    fn run(&mut self, sql: &str, params: &[Value], sink: &mut dyn RowSink) -> Result<Outcome> {
        self.check_alive()?;
        // More would overflow the Bind message's Int16 count, or the server's message size.
        Error::check_parameters(params.len(), PG_MAX_PARAMETERS, "postgresql")?;
        check_message_size(sql, params)?;
        self.run_retrying(sql, params, sink)
            .map_err(|f| self.fail(f, Some(sql), params))
    }

    fn copy_in(&mut self, table: &str, columns: &[&str], values: &[Value]) -> Result<u64> {
        self.check_alive()?;
        let quote = |name: &str| {
            let mut out = String::new();
            Postgres.quote_ident(name, &mut out);
            out
        };
        let list: Vec<String> = columns.iter().map(|c| quote(c)).collect();
        let list = list.join(", ");
        let table = quote(table);
        let probe = format!("SELECT {list} FROM {table}");
        let types: Vec<Type> = match self.describe(String::new(), &probe) {
            Ok(p) => p.columns.into_iter().map(|c| c.ty).collect(),
            Err(f) => return Err(self.fail(f, Some(&probe), &[])),
        };
        let sql = format!("COPY {table} ({list}) FROM STDIN (FORMAT binary)");
        // Every row encoded before anything is sent: a value that does not fit writes nothing.
        let data = copy::encode(&types, values).map_err(|e| {
            let mut err = DatabaseError::new(DatabaseErrorKind::Other, e);
            err.sql = Some(sql.clone());
            err.into_error()
        })?;
        self.session
            .copy(&sql, &data)
            .map_err(|f| self.fail(f, Some(&sql), &[]))
    }

    fn batch(&mut self, sql: &str) -> Result<()> {
        self.check_alive()?;
        match self.session.simple(sql, false) {
            Ok(_) => Ok(()),
            Err(f) => Err(self.fail(f, Some(sql), &[])),
        }
    }

    fn ping(&mut self) -> Result<()> {
        self.check_alive()?;
        self.session.sync().map_err(|f| self.fail(f, None, &[]))
    }

    fn ping_within(&mut self, timeout: Duration) -> Result<()> {
        self.check_alive()?;
        let timed = (self.session.wire.stream())
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(Failure::Io)
            .and_then(|()| self.session.sync());
        let reset = self.session.wire.stream().set_read_timeout(None);
        match timed.and(reset.map_err(Failure::Io)) {
            Ok(()) => Ok(()),
            Err(f) => {
                // No answer in time: what is buffered belongs to an unknown state.
                self.session.wire.discard();
                Err(self.fail(f, None, &[]))
            }
        }
    }

    fn begin(&mut self) -> Result<()> {
        self.batch("BEGIN")
    }

    fn commit(&mut self) -> Result<()> {
        self.batch("COMMIT")
    }

    fn rollback(&mut self) -> Result<()> {
        self.check_alive()?;
        if self.session.status == IDLE {
            return Ok(());
        }
        self.batch("ROLLBACK")
    }

    fn in_transaction(&self) -> bool {
        self.session.status != IDLE
    }

    fn forget_transaction(&mut self) {
        // The server's ReadyForQuery already said whether the transaction is over.
    }

    fn set_statement_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        let ms = timeout.map_or(0, |t| t.as_millis().max(1));
        self.batch(&format!("SET statement_timeout = {ms}"))
    }

    /// There is no native client: `raw_connection().downcast_mut::<postgres::Client>()` is
    /// `None` on this driver, as for any other.
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for WireConnection {
    fn drop(&mut self) {
        if self.lost {
            return;
        }
        // Terminate, so that the server ends the session at once; a failure changes nothing.
        frontend::terminate(&mut self.session.wire.out);
        let _ = self.session.wire.send();
    }
}

#[cfg(test)]
mod tests {
    use super::command_count;

    #[test]
    fn command_tags_give_their_row_count() {
        assert_eq!(command_count(b"INSERT 0 3\0"), 3);
        assert_eq!(command_count(b"UPDATE 12\0"), 12);
        assert_eq!(command_count(b"SELECT 0\0"), 0);
        assert_eq!(command_count(b"CREATE TABLE\0"), 0);
        assert_eq!(command_count(b"\0"), 0);
    }
}
