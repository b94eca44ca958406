//! MySQL and MariaDB on `mysql_async` (`minimal-rust` features). Result rows decode through
//! the blocking driver's `row.rs` (`MysqlRow`: each value read with its column's type), shared
//! as source: `mysql_async` and `mysql` hand over the same `mysql_common` rows. See
//! `driver/mod.rs` for how it is included.
//!
//! A future dropped mid-reply leaves the protocol stream half read: such a connection is
//! closed by the pool, never reused (`Conn::recoverable_after_interrupt`). A stream dropped
//! between rows keeps its connection marked busy for the same reason.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use mysql::prelude::Queryable;
use mysql::{BinaryProtocol, QueryResult};
use quarry_core::value::temporal;
use quarry_core::{
    Compiled, DatabaseError, DatabaseErrorKind, Error, FromRow, Outcome, Result, RowSink, Url,
    Value,
};

use super::row::{MysqlRow, column_name};
use crate::driver::{Collect, Collected};

use crate::stream::Source;

/// Opens MySQL connections.
#[derive(Debug)]
pub(crate) struct MysqlDriver {
    opts: mysql::Opts,
    target: String,
}

impl MysqlDriver {
    pub(crate) fn new(url: &Url) -> Result<Self> {
        let host = url.host().unwrap_or("localhost").to_owned();
        let port = url.port().unwrap_or(3306);
        let mut builder = mysql::OptsBuilder::default()
            .ip_or_hostname(host.clone())
            .tcp_port(port)
            .user(url.username().map(str::to_owned))
            .pass(url.password().map(str::to_owned))
            .db_name(url.database().map(str::to_owned))
            // The URL's host and port, as the blocking driver: never a switch to the server's
            // Unix socket found after connecting (mysql_async's default for a local server).
            .prefer_socket(false)
            // Rows matched rather than rows changed, as the other backends and the blocking
            // driver count (and as SQLAlchemy's MySQL dialects ask for).
            .client_found_rows(true)
            .stmt_cache_size(128);
        for (key, value) in url.query() {
            match key.as_str() {
                "charset" => {
                    let charset = value.clone();
                    builder = builder.setup(vec![format!("SET NAMES {charset}")]);
                }
                other => {
                    return Err(url.error(format!(
                        "unknown query argument {other:?} for the async mysql driver; expected \
                         charset"
                    )));
                }
            }
        }
        Ok(MysqlDriver {
            opts: builder.into(),
            target: format!("{host}:{port}"),
        })
    }

    pub(crate) async fn connect(&self) -> Result<MysqlConn> {
        let conn = mysql::Conn::new(self.opts.clone()).await.map_err(|e| {
            let mut err = convert(e, None, &[]);
            err.kind = DatabaseErrorKind::Connection;
            err.disconnect = true;
            err.message = format!(
                "cannot connect to MySQL at {}: {}",
                self.target, err.message
            );
            crate::error::DatabaseError::into_error(err)
        })?;
        Ok(MysqlConn {
            conn,
            max_packet: None,
        })
    }
}

/// One MySQL connection (prepared statements cached by `mysql_async`).
pub(crate) struct MysqlConn {
    conn: mysql::Conn,
    /// The session's `max_allowed_packet`, asked the first time a statement could exceed the
    /// smallest value the server allows.
    max_packet: Option<usize>,
}

fn values_of(compiled: &Compiled) -> Result<Vec<mysql::Value>> {
    compiled
        .params()
        .iter()
        .map(to_mysql)
        .collect::<std::result::Result<Vec<_>, String>>()
        .map_err(|m| {
            crate::error::DatabaseError::into_error(value_error(
                m,
                compiled.sql(),
                compiled.params(),
            ))
        })
}

impl MysqlConn {
    /// The session's `max_allowed_packet`, asked once per connection.
    async fn max_allowed_packet(&mut self) -> Result<usize> {
        if let Some(limit) = self.max_packet {
            return Ok(limit);
        }
        let sql = "SELECT @@max_allowed_packet";
        let asked: Option<u64> = self
            .conn
            .query_first(sql)
            .await
            .map_err(|e| crate::error::DatabaseError::into_error(convert(e, Some(sql), &[])))?;
        let limit = asked
            .and_then(|v| usize::try_from(v).ok())
            .unwrap_or(usize::MAX);
        self.max_packet = Some(limit);
        Ok(limit)
    }

    /// The connection, for native use (`AsyncRawConnection::mysql`).
    pub(crate) fn conn_mut(&mut self) -> &mut mysql::Conn {
        &mut self.conn
    }

    async fn query(
        &mut self,
        compiled: &Compiled,
    ) -> Result<QueryResult<'_, 'static, BinaryProtocol>> {
        Error::check_parameters(compiled.params().len(), usize::from(u16::MAX), "mysql")?;
        let values = values_of(compiled)?;
        // A packet over max_allowed_packet would make the server drop the connection:
        // refused before anything is sent, as the blocking driver does.
        let (largest, what) = super::packet::largest(compiled.sql(), &values);
        if largest > super::packet::MIN_MAX_ALLOWED_PACKET {
            let limit = self.max_allowed_packet().await?;
            super::packet::refuse(largest, what, limit)?;
        }
        let params = if values.is_empty() {
            mysql::Params::Empty
        } else {
            mysql::Params::Positional(values)
        };
        self.conn
            .exec_iter(compiled.sql(), params)
            .await
            .map_err(|e| {
                crate::error::DatabaseError::into_error(convert(
                    e,
                    Some(compiled.sql()),
                    compiled.params(),
                ))
            })
    }

    pub(crate) async fn run<R: FromRow>(
        &mut self,
        compiled: &Compiled,
        mut sink: Collect<R>,
    ) -> Result<Collected<R>> {
        let fail = |e| {
            crate::error::DatabaseError::into_error(convert(
                e,
                Some(compiled.sql()),
                compiled.params(),
            ))
        };
        let mut result = self.query(compiled).await?;
        let columns = result.columns();
        let names: Vec<&str> = columns
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .map(column_name)
            .collect();
        sink.columns(&names);
        let mut count = 0u64;
        let mut failed = None;
        while let Some(row) = result.next().await.map_err(fail)? {
            if failed.is_none() {
                match sink.row(&MysqlRow { row: &row }) {
                    Ok(()) => count += 1,
                    // Read the rest, so that the connection stays usable.
                    Err(e) => failed = Some(e),
                }
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        let outcome = if names.is_empty() {
            Outcome {
                rows_affected: result.affected_rows(),
                last_insert_id: result
                    .last_insert_id()
                    .filter(|id| *id > 0)
                    .and_then(|id| i64::try_from(id).ok()),
            }
        } else {
            Outcome {
                rows_affected: count,
                last_insert_id: None,
            }
        };
        Ok(sink.finish(outcome))
    }

    pub(crate) async fn stream<'a, R: FromRow + Send + 'static>(
        &'a mut self,
        compiled: &Compiled,
        busy: &'a mut bool,
    ) -> Result<Source<'a, R>> {
        let result = self.query(compiled).await?;
        Ok(Source::Boxed(Box::pin(Rows::<R> {
            state: State::Idle(result),
            busy,
            sql: compiled.sql().to_owned(),
            _row: std::marker::PhantomData,
        })))
    }

    pub(crate) async fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn
            .query_drop(sql)
            .await
            .map_err(|e| crate::error::DatabaseError::into_error(convert(e, Some(sql), &[])))
    }

    pub(crate) async fn close(self) {
        if let Err(e) = self.conn.disconnect().await {
            tracing::debug!(target: "quarry::pool", error = %e, "closing a MySQL connection failed");
        }
    }
}

type Next<'a> = Pin<
    Box<
        dyn Future<
                Output = (
                    mysql::Result<Option<mysql::Row>>,
                    QueryResult<'a, 'static, BinaryProtocol>,
                ),
            > + Send
            + 'a,
    >,
>;

enum State<'a> {
    Idle(QueryResult<'a, 'static, BinaryProtocol>),
    Reading(Next<'a>),
    Done,
}

/// A result read row by row from the server; clears the connection's busy mark when read to
/// the end.
struct Rows<'a, R> {
    state: State<'a>,
    busy: &'a mut bool,
    sql: String,
    _row: std::marker::PhantomData<fn() -> R>,
}

impl<R: FromRow> Stream for Rows<'_, R> {
    type Item = Result<R>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<R>>> {
        let this = self.get_mut();
        loop {
            match std::mem::replace(&mut this.state, State::Done) {
                State::Done => return Poll::Ready(None),
                State::Idle(mut result) => {
                    this.state = State::Reading(Box::pin(async move {
                        let next = result.next().await;
                        (next, result)
                    }));
                }
                State::Reading(mut next) => match next.as_mut().poll(cx) {
                    Poll::Pending => {
                        this.state = State::Reading(next);
                        return Poll::Pending;
                    }
                    Poll::Ready((Ok(Some(row)), result)) => {
                        let decoded = R::from_row(&MysqlRow { row: &row }, 0);
                        if decoded.is_ok() {
                            this.state = State::Idle(result);
                        }
                        return Poll::Ready(Some(decoded));
                    }
                    Poll::Ready((Ok(None), _)) => {
                        *this.busy = false;
                        return Poll::Ready(None);
                    }
                    Poll::Ready((Err(e), _)) => {
                        return Poll::Ready(Some(Err(crate::error::DatabaseError::into_error(
                            convert(e, Some(&this.sql), &[]),
                        ))));
                    }
                },
            }
        }
    }
}

/// A [`Value`] as the crate's value; the error names what MySQL cannot hold.
fn to_mysql(v: &Value) -> std::result::Result<mysql::Value, String> {
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
            let (h, m, s, us) = temporal::hms(i64::try_from(abs % day).unwrap_or(0));
            mysql::Value::Time(neg, days, h as u8, m as u8, s as u8, us)
        }
        // DATETIME has no zone: instants are stored in UTC.
        Value::Timestamp(t) | Value::TimestampTz(t) => {
            let (days, time) = temporal::split_timestamp(*t);
            let (y, mo, d) = civil(days, v)?;
            let (h, mi, s, us) = temporal::hms(time);
            mysql::Value::Date(y, mo, d, h as u8, mi as u8, s as u8, us)
        }
        Value::Uuid(u) => mysql::Value::Bytes(temporal::uuid_hex(u).into_bytes()),
        other => {
            return Err(format!(
                "the MySQL driver cannot bind {}",
                other.kind_name()
            ));
        }
    })
}

/// (year, month, day) of a day count, for the years MySQL stores (0000 to 9999).
fn civil(days: i64, v: &Value) -> std::result::Result<(u16, u8, u8), String> {
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

/// The kind of a server error code.
fn kind_of(code: u16, message: &str) -> DatabaseErrorKind {
    match code {
        1213 | 1180 | 1047 if message.contains("WSREP") => DatabaseErrorKind::ClusterConflict,
        1062 | 1586 => DatabaseErrorKind::UniqueViolation,
        1216 | 1217 | 1451 | 1452 => DatabaseErrorKind::ForeignKeyViolation,
        1048 | 1364 => DatabaseErrorKind::NotNullViolation,
        3819 | 4025 => DatabaseErrorKind::CheckViolation,
        1064 | 1146 | 1054 | 1049 => DatabaseErrorKind::Syntax,
        1213 => DatabaseErrorKind::Deadlock,
        1205 | 3572 => DatabaseErrorKind::LockTimeout,
        1020 => DatabaseErrorKind::SerializationFailure,
        c if is_disconnect_code(c) => DatabaseErrorKind::Connection,
        _ => DatabaseErrorKind::Other,
    }
}

/// Codes after which the connection is gone.
fn is_disconnect_code(code: u16) -> bool {
    matches!(code, 2006 | 2013 | 1053 | 1927 | 4031)
}

/// A `mysql_async` error as a [`DatabaseError`] carrying the statement.
fn convert(e: mysql::Error, sql: Option<&str>, params: &[Value]) -> DatabaseError {
    let mut err = match &e {
        mysql::Error::Server(server) => {
            let mut err = DatabaseError::new(
                kind_of(server.code, &server.message),
                server.message.clone(),
            );
            err.code = Some(server.code.to_string());
            err.sqlstate = Some(server.state.clone());
            err.disconnect = is_disconnect_code(server.code);
            err
        }
        mysql::Error::Io(_) | mysql::Error::Driver(_) => {
            let mut err = DatabaseError::new(DatabaseErrorKind::Connection, e.to_string());
            err.disconnect = !matches!(
                &e,
                mysql::Error::Driver(
                    mysql::DriverError::StmtParamsMismatch { .. }
                        | mysql::DriverError::StmtParamsNumberExceedsLimit { .. }
                        | mysql::DriverError::MixedParams
                        | mysql::DriverError::Params(_)
                )
            );
            if !err.disconnect {
                err.kind = DatabaseErrorKind::Other;
            }
            err
        }
        other => DatabaseError::new(DatabaseErrorKind::Other, other.to_string()),
    };
    err.sql = sql.map(str::to_owned);
    err.params = params.to_vec();
    err
}
