//! One connection of the lean driver: its prepared statements and the types they use, retries
//! of stale statements, and the `DriverConnection` calls over the session's exchanges
//! (`session.rs`); the transaction status is the server's.

use std::any::Any;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::time::Duration;

use postgres::types::{Kind, Type};
use postgres_protocol::message::frontend;

use super::super::{PG_MAX_PARAMETERS, STATEMENT_CACHE, SqlHasher, check_message_size};
use super::auth::{Login, startup};
use super::copy;
use super::io::{Body, Stream, Wire};
use super::session::{Column, IDLE, Prepared, Session, next, unexpected};
use super::{Failure, server_error};
use crate::dialect::{Dialect, Postgres};
use crate::driver::{DriverConnection, Outcome, RowSink, lost_connection};
use crate::error::{DatabaseError, DatabaseErrorKind, Error, Result};
use crate::value::Value;

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
