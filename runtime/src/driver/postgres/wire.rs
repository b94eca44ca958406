//! The lean PostgreSQL driver, `postgresql+wire://`: a blocking client of its own over
//! `postgres-protocol` (message encoding, SCRAM) and the `binary` module's encoders and
//! decoders, instead of the `postgres` crate.
//!
//! Why: the `postgres` crate runs a tokio client behind a blocking facade, so each call hops
//! to its runtime and back, and each result row is parsed into a `Row` of its own (an
//! allocation, a channel message). Here a call is one `write` of Bind/Execute/Sync on a
//! std socket, and each `DataRow` is decoded by index where it lies in the read buffer, into
//! the caller's type — no per-row allocation up to [`INLINE`](super::INLINE) columns.
//!
//! What it does: trust, cleartext, MD5 and SCRAM-SHA-256 authentication; named prepared
//! statements cached per connection (Parse/Describe once, then Bind/Execute/Sync in one
//! write); the simple query protocol for `batch`; ReadyForQuery's transaction status as the
//! truth for `in_transaction`; server errors as the `postgres` driver reports them (same
//! SQLSTATE classification, `error::from_server`). What it refuses, with an error naming
//! it: TLS (`sslmode=require` and above), `target_session_attrs` other than `any`,
//! `prepared_statements=false`, and `raw_connection` (there is no native client to hand out).
//! `copy_in` is binary `COPY … FROM STDIN`, every row encoded before anything is sent.

use std::time::Duration;

use super::error::from_server;
use super::{CONNECT_TIMEOUT, QUERY_ARGS, describe_hosts};
use crate::dialect::{Dialect, Postgres};
use crate::driver::{Driver, DriverConnection};
use crate::error::{DatabaseError, DatabaseErrorKind, Error, Result};
use crate::url::Url;
use crate::value::Value;

mod auth;
mod conn;
mod copy;
mod io;
mod session;

pub(crate) use conn::WireConnection;

/// Opens connections of the lean driver.
#[derive(Debug)]
pub(crate) struct WireDriver {
    hosts: Vec<(String, u16)>,
    user: String,
    password: Option<String>,
    database: Option<String>,
    application_name: Option<String>,
    options: Option<String>,
    connect_timeout: Option<Duration>,
    /// `host:port[,host:port…]` for error messages (never the password).
    target: String,
}

impl WireDriver {
    pub(crate) fn new(url: &Url) -> Result<Self> {
        let mut hosts: Vec<(String, u16)> = url
            .hosts()
            .map(|(h, p)| (h.unwrap_or("localhost").to_owned(), p.unwrap_or(5432)))
            .collect();
        if hosts.is_empty() {
            hosts.push(("localhost".to_owned(), 5432));
        }
        let mut driver = WireDriver {
            hosts: Vec::new(),
            user: url.username().unwrap_or("postgres").to_owned(),
            password: url.password().map(str::to_owned),
            database: url.database().map(str::to_owned),
            application_name: None,
            options: None,
            connect_timeout: None,
            target: String::new(),
        };
        for (key, value) in url.query() {
            match key.as_str() {
                "application_name" => driver.application_name = Some(value.clone()),
                "options" => driver.options = Some(value.clone()),
                "host" => {
                    let port = hosts.first().map_or(5432, |h| h.1);
                    hosts = value.split(',').map(|h| (h.to_owned(), port)).collect();
                }
                "connect_timeout" => {
                    let timeout = url.seconds_arg(key, value, CONNECT_TIMEOUT)?;
                    driver.connect_timeout = (!timeout.is_zero()).then_some(timeout);
                }
                "target_session_attrs" if value == "any" => {}
                "target_session_attrs" => {
                    return Err(url.arg_error(
                        key,
                        value,
                        "is not supported by the wire driver, which connects to the first \
                         server that answers (any); use postgresql:// for read-write, \
                         read-only or prefer-standby",
                    ));
                }
                "prepared_statements" if value == "true" => {}
                "prepared_statements" => {
                    return Err(url.arg_error(
                        key,
                        value,
                        "is not supported by the wire driver, which always prepares named \
                         statements; use postgresql:// behind a transaction pooler",
                    ));
                }
                "sslmode" => match value.as_str() {
                    "disable" | "allow" | "prefer" => {}
                    other => {
                        return Err(url.arg_error(
                            key,
                            other,
                            "needs TLS, which quarry's PostgreSQL drivers do not have; use \
                             sslmode=disable or prefer",
                        ));
                    }
                },
                other => {
                    return Err(url.error(format!(
                        "unknown query argument {other:?} for postgresql+wire; expected one of {}",
                        QUERY_ARGS.join(", ")
                    )));
                }
            }
        }
        driver.target = describe_hosts(&hosts);
        driver.hosts = hosts;
        Ok(driver)
    }
}

impl Driver for WireDriver {
    fn dialect(&self) -> &'static dyn Dialect {
        &Postgres
    }

    fn connect(&self) -> Result<Box<dyn DriverConnection>> {
        let login = auth::Login {
            user: &self.user,
            password: self.password.as_deref(),
            database: self.database.as_deref(),
            application_name: self.application_name.as_deref(),
            options: self.options.as_deref(),
        };
        // libpq's order: each host in turn, the first that lets us in wins.
        let mut last = None;
        for (host, port) in &self.hosts {
            match WireConnection::open(host, *port, self.connect_timeout, &login) {
                Ok(conn) => return Ok(Box::new(conn)),
                Err(e) => last = Some(e),
            }
        }
        let failure = match last {
            // Nothing was lost yet: the socket's own words (connection refused, timed out).
            Some(Failure::Io(e)) => Failure::Refused(e.to_string()),
            Some(other) => other,
            None => Failure::Refused("no host to connect to".into()),
        };
        let mut err = failure.into_database_error(None, &[]);
        err.kind = DatabaseErrorKind::Connection;
        err.disconnect = true;
        err.message = format!(
            "cannot connect to PostgreSQL at {}: {}",
            self.target, err.message
        );
        Err(err.into_error())
    }
}

/// Why a call failed.
enum Failure {
    /// The socket failed or closed: the connection is lost.
    Io(std::io::Error),
    /// The server sent what the protocol does not allow here: the connection is lost.
    Protocol(String),
    /// The server's ErrorResponse; the connection stays usable unless its class says it
    /// is gone.
    Server(Box<DatabaseError>),
    /// Refused on our side before a statement was sent (authentication we cannot answer).
    Refused(String),
    /// Quarry's own error (a parameter that does not fit, a row the sink refused): the
    /// connection was brought back to ReadyForQuery first.
    Quarry(Error),
}

impl Failure {
    fn is_lost(&self) -> bool {
        match self {
            Failure::Io(_) | Failure::Protocol(_) => true,
            Failure::Server(e) => e.disconnect,
            Failure::Refused(_) => false,
            Failure::Quarry(e) => e.is_disconnect(),
        }
    }

    /// The failure as a database error carrying the statement (`sql`, `params`).
    fn into_database_error(self, sql: Option<&str>, params: &[Value]) -> DatabaseError {
        let mut err = match self {
            Failure::Server(e) => *e,
            Failure::Io(e) => {
                let mut err = DatabaseError::new(
                    DatabaseErrorKind::Connection,
                    format!("connection to the server lost: {e}"),
                );
                err.disconnect = true;
                err
            }
            Failure::Protocol(message) => {
                let mut err = DatabaseError::new(
                    DatabaseErrorKind::Connection,
                    format!("protocol error: {message}"),
                );
                err.disconnect = true;
                err
            }
            Failure::Refused(message) => DatabaseError::new(DatabaseErrorKind::Other, message),
            Failure::Quarry(e) => {
                return match e {
                    Error::Database(mut db) => {
                        if db.sql.is_none() {
                            db.sql = sql.map(str::to_owned);
                        }
                        *db
                    }
                    other => DatabaseError::new(DatabaseErrorKind::Other, other.to_string()),
                };
            }
        };
        err.sql = sql.map(str::to_owned);
        err.params = params.to_vec();
        err
    }

    /// The failure as Quarry's error: Quarry's own as it was, the others as database errors.
    fn into_error(self, sql: Option<&str>, params: &[Value]) -> Error {
        match self {
            Failure::Quarry(e) => e,
            other => other.into_database_error(sql, params).into_error(),
        }
    }
}

/// An ErrorResponse's body as a [`Failure::Server`] (`Err` when the body is malformed).
fn server_error(body: &[u8]) -> std::result::Result<Failure, Failure> {
    let mut body = io::Body::new(body);
    let (mut code, mut message, mut constraint) = ("", "", None);
    loop {
        let field = body.u8()?;
        if field == 0 {
            break;
        }
        let value = body.cstr()?;
        match field {
            b'C' => code = value,
            b'M' => message = value,
            b'n' => constraint = Some(value),
            _ => {}
        }
    }
    Ok(Failure::Server(Box::new(from_server(
        code, message, constraint,
    ))))
}
