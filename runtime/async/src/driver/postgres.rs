//! PostgreSQL on `tokio-postgres`. Parameters are encoded and columns decoded in the binary
//! format by the blocking driver's codec (`runtime/src/driver/postgres/binary/`), shared as
//! source — it was written free of the client crate for this: `tokio-postgres` and `postgres`
//! use the same `postgres-types` — and so is its SQLSTATE classification (`error.rs`).
//!
//! Dropping a future mid-query is safe with this client (its connection task discards the
//! replies nobody waits for), but the pool does not reuse such a connection: it sends a
//! cancel request, whose delivery is asynchronous and could hit a later statement, and closes
//! it.

use std::collections::HashMap;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use postgres::config::TargetSessionAttrs;
use postgres::types::{FromSql, Type};
use postgres::{Client, Config, NoTls, Statement};
use quarry_core::url::SecondsRange;
use quarry_core::{
    Compiled, DatabaseErrorKind, Error, FromRow, Outcome, Result, RowSink, Url, Value,
};

use super::{Collect, Collected};
use crate::stream::Source;

#[path = "../../../src/driver/postgres/error.rs"]
mod error;

use super::pg_binary::{BinaryRow, Param, PgRow};
use error::convert;

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

const CONNECT_TIMEOUT: SecondsRange = SecondsRange {
    min: 0.0,
    min_inclusive: true,
    max: 31_536_000.0,
    whole: true,
};

const QUERY_ARGS: &[&str] = &[
    "application_name",
    "connect_timeout",
    "options",
    "sslmode",
    "target_session_attrs",
];

/// Opens PostgreSQL connections.
#[derive(Debug)]
pub(crate) struct PgDriver {
    config: Config,
    /// `host:port[,…]` for error messages (never the password).
    target: String,
}

impl PgDriver {
    pub(crate) fn new(url: &Url) -> Result<Self> {
        let mut config = Config::new();
        let hosts: Vec<(String, u16)> = url
            .hosts()
            .map(|(h, p)| (h.unwrap_or("localhost").to_owned(), p.unwrap_or(5432)))
            .collect();
        let hosts = if hosts.is_empty() {
            vec![("localhost".to_owned(), 5432)]
        } else {
            hosts
        };
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
                "connect_timeout" => {
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
                        other => {
                            return Err(url.arg_error(
                                key,
                                other,
                                "is not one of any, read-write, read-only",
                            ));
                        }
                    };
                    config.target_session_attrs(attrs);
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
        let target = hosts
            .iter()
            .map(|(h, p)| format!("{h}:{p}"))
            .collect::<Vec<_>>()
            .join(",");
        Ok(PgDriver { config, target })
    }

    pub(crate) async fn connect(&self) -> Result<PgConn> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(|e| {
            let mut err = convert(&e, None, &[]);
            err.kind = DatabaseErrorKind::Connection;
            err.disconnect = true;
            err.message = format!(
                "cannot connect to PostgreSQL at {}: {}",
                self.target, err.message
            );
            crate::error::DatabaseError::into_error(err)
        })?;
        // The socket's reader and writer: ends when the client is dropped or the socket closes.
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(target: "quarry::pool", error = %e, "PostgreSQL connection ended");
            }
        });
        Ok(PgConn {
            client,
            statements: HashMap::new(),
        })
    }
}

/// One PostgreSQL connection with its prepared statements.
pub(crate) struct PgConn {
    client: Client,
    statements: HashMap<String, Statement>,
}

fn fail(e: &postgres::Error, sql: &str, params: &[Value]) -> Error {
    crate::error::DatabaseError::into_error(convert(e, Some(sql), params))
}

impl PgConn {
    /// The client, for native use (`AsyncRawConnection::postgres`).
    pub(crate) fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    async fn prepare(&mut self, sql: &str, params: &[Value]) -> Result<Statement> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self
            .client
            .prepare(sql)
            .await
            .map_err(|e| fail(&e, sql, params))?;
        if self.statements.len() >= STATEMENT_CACHE {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    async fn query(&mut self, compiled: &Compiled) -> Result<postgres::RowStream> {
        let (sql, params) = (compiled.sql(), compiled.params());
        Error::check_parameters(params.len(), usize::from(u16::MAX), "postgresql")?;
        let stmt = self.prepare(sql, params).await?;
        let binds = params.iter().enumerate().map(|(i, v)| Param::new(v, i + 1));
        self.client
            .query_raw(&stmt, binds)
            .await
            .map_err(|e| fail(&e, sql, params))
    }

    pub(crate) async fn run<R: FromRow>(
        &mut self,
        compiled: &Compiled,
        mut sink: Collect<R>,
    ) -> Result<Collected<R>> {
        let mut rows = Box::pin(self.query(compiled).await?);
        let mut sent_columns = false;
        let mut count = 0u64;
        while let Some(row) = std::future::poll_fn(|cx| rows.as_mut().poll_next(cx)).await {
            let row = row.map_err(|e| fail(&e, compiled.sql(), compiled.params()))?;
            if !sent_columns {
                send_columns(&row, &mut sink);
                sent_columns = true;
            }
            sink.row(&PgRow::new(&row, &[]))?;
            count += 1;
        }
        if !sent_columns {
            sink.columns(&[]);
        }
        let affected = rows.rows_affected().unwrap_or(count);
        Ok(sink.finish(Outcome {
            rows_affected: affected,
            last_insert_id: None,
        }))
    }

    pub(crate) async fn stream<R: FromRow + Send + 'static>(
        &mut self,
        compiled: &Compiled,
    ) -> Result<Source<'_, R>> {
        let rows = self.query(compiled).await?;
        Ok(Source::Boxed(Box::pin(Decode::<R> {
            rows: Box::pin(rows),
            sql: compiled.sql().to_owned(),
            done: false,
            _row: std::marker::PhantomData,
        })))
    }

    pub(crate) async fn batch(&mut self, sql: &str) -> Result<()> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| fail(&e, sql, &[]))
    }

    /// Ask the server to cancel what this connection runs (a cancel request on a socket of
    /// its own, bounded in time).
    pub(crate) async fn cancel(&mut self) {
        let token = self.client.cancel_token();
        let cancelled =
            tokio::time::timeout(Duration::from_secs(2), token.cancel_query(NoTls)).await;
        if !matches!(cancelled, Ok(Ok(()))) {
            tracing::debug!(target: "quarry::pool", "the cancel request did not go through");
        }
    }
}

fn send_columns(row: &postgres::Row, sink: &mut dyn RowSink) {
    let names: Vec<&str> = row.columns().iter().map(|c| c.name()).collect();
    sink.columns(&names);
}

/// Decodes a `tokio-postgres` row stream into `R`.
struct Decode<R> {
    rows: Pin<Box<postgres::RowStream>>,
    sql: String,
    done: bool,
    _row: std::marker::PhantomData<fn() -> R>,
}

impl<R: FromRow> Stream for Decode<R> {
    type Item = Result<R>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<R>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        match this.rows.as_mut().poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(None) => {
                this.done = true;
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.done = true;
                Poll::Ready(Some(Err(fail(&e, &this.sql, &[]))))
            }
            Poll::Ready(Some(Ok(row))) => {
                let decoded = R::from_row(&PgRow::new(&row, &[]), 0);
                if decoded.is_err() {
                    this.done = true;
                }
                Poll::Ready(Some(decoded))
            }
        }
    }
}

/// A column's raw bytes in the binary format, as `tokio-postgres` hands them over.
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
