//! SQLSTATE classification: a `postgres` error as Quarry's [`DatabaseError`].

use std::error::Error as StdError;

use crate::error::{DatabaseError, DatabaseErrorKind};
use crate::value::Value;

/// A `postgres` error as a [`DatabaseError`] carrying the statement.
pub(super) fn convert(e: &postgres::Error, sql: Option<&str>, params: &[Value]) -> DatabaseError {
    let mut err = if let Some(db) = e.as_db_error() {
        from_server(db.code().code(), db.message(), db.constraint())
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

/// A server's ErrorResponse (its SQLSTATE `code`, `message` and `constraint` fields) as a
/// [`DatabaseError`]; class 08 (connection exception) and 57P (operator intervention: the
/// server shutting down, the backend terminated) lose the connection.
pub(super) fn from_server(code: &str, message: &str, constraint: Option<&str>) -> DatabaseError {
    let kind = match code {
        "23505" => DatabaseErrorKind::UniqueViolation,
        "23503" => DatabaseErrorKind::ForeignKeyViolation,
        "23502" => DatabaseErrorKind::NotNullViolation,
        "23514" => DatabaseErrorKind::CheckViolation,
        "40001" => DatabaseErrorKind::SerializationFailure,
        "40P01" => DatabaseErrorKind::Deadlock,
        "55P03" => DatabaseErrorKind::LockTimeout,
        c if c.starts_with("42") => DatabaseErrorKind::Syntax,
        c if c.starts_with("08") || c.starts_with("57P") => DatabaseErrorKind::Connection,
        _ => DatabaseErrorKind::Other,
    };
    let mut err = DatabaseError::new(kind, message);
    err.code = Some(code.to_owned());
    err.sqlstate = Some(code.to_owned());
    err.constraint = constraint.map(str::to_owned);
    err.disconnect = code.starts_with("08") || code.starts_with("57P");
    err
}
