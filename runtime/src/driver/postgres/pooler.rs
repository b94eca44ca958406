//! Running through a transaction pooler (pgbouncer with `pool_mode = transaction`):
//! `prepared_statements=false` in the URL, `.prepared_statements(false)` on the engine.
//!
//! Such a pooler hands each transaction — each statement, outside one — to whichever server
//! connection is free. So nothing may outlive a statement on the server: no named prepared
//! statement (each statement is sent as an unnamed one, with its parameters' types given by
//! their values, in one round trip) and no session state (`SET`, `LISTEN`, `PREPARE` … are
//! refused with an error naming the pooler's transaction mode).

use postgres::types::Type;

use crate::error::Error;
use crate::value::Value;

/// The type a parameter is declared with when no server-side statement says it: the value's
/// own, except text and NULL, declared `unknown` (and text sent as text) so that the server
/// reads them as it reads an untyped literal (text into a `date`, an enum or a `json` column;
/// NULL anywhere).
pub(super) fn declared_type(v: &Value) -> Type {
    match v {
        Value::Null | Value::Text(_) => Type::UNKNOWN,
        Value::Bool(_) => Type::BOOL,
        // The smallest integer type that holds the value (as psycopg does): PostgreSQL widens
        // int2 to int4 to int8 on its own, never back, so `pg_terminate_backend($1)` (an int4)
        // takes an i64 that fits.
        Value::I16(v) => int_type(i64::from(*v)),
        Value::I32(v) => int_type(i64::from(*v)),
        Value::I64(v) => int_type(*v),
        Value::F32(_) => Type::FLOAT4,
        Value::F64(_) => Type::FLOAT8,
        Value::Blob(_) => Type::BYTEA,
        Value::Date(_) => Type::DATE,
        Value::Time(_) => Type::TIME,
        Value::Timestamp(_) => Type::TIMESTAMP,
        Value::TimestampTz(_) => Type::TIMESTAMPTZ,
        Value::Uuid(_) => Type::UUID,
        Value::Json(_) => Type::JSONB,
        Value::Decimal(_) => Type::NUMERIC,
        _ => Type::UNKNOWN,
    }
}

fn int_type(v: i64) -> Type {
    if i16::try_from(v).is_ok() {
        Type::INT2
    } else if i32::try_from(v).is_ok() {
        Type::INT4
    } else {
        Type::INT8
    }
}

/// The kind of session state `sql` would leave on the server connection, if any: `SET` (but
/// not `SET LOCAL`, `SET TRANSACTION`, `SET CONSTRAINTS`), `RESET`, `LISTEN`, `UNLISTEN`,
/// `PREPARE` (but not `PREPARE TRANSACTION`), `DEALLOCATE`, `LOAD`, `DECLARE … WITH HOLD`.
pub(super) fn session_state(sql: &str) -> Option<&'static str> {
    let words: Vec<String> = sql
        .split(|c: char| c.is_whitespace() || c == ';' || c == '(')
        .filter(|w| !w.is_empty())
        .take(3)
        .map(str::to_ascii_lowercase)
        .collect();
    let word = |i: usize| words.get(i).map_or("", String::as_str);
    match word(0) {
        "set" if !matches!(word(1), "local" | "transaction" | "constraints") => {
            if word(1) == "session" && word(2) == "characteristics" {
                Some("SET SESSION CHARACTERISTICS (an isolation level for the session)")
            } else {
                Some("SET (a session setting)")
            }
        }
        "reset" => Some("RESET (a session setting)"),
        "listen" => Some("LISTEN"),
        "unlisten" => Some("UNLISTEN"),
        "prepare" if word(1) != "transaction" => Some("PREPARE (a named prepared statement)"),
        "deallocate" => Some("DEALLOCATE"),
        "load" => Some("LOAD"),
        "declare" if sql.to_ascii_lowercase().contains("with hold") => {
            Some("DECLARE … WITH HOLD (a cursor that outlives its transaction)")
        }
        _ => None,
    }
}

/// A named prepared statement the server does not know (SQLSTATE 26000): the connection
/// likely goes through a transaction pooler, which ran the statement on another server
/// connection than the one that prepared it. Says so, and what to write instead.
pub(super) fn hint(e: Error) -> Error {
    match e {
        Error::Database(mut d)
            if d.sqlstate() == Some("26000") && d.message().contains("prepared statement") =>
        {
            d.message.push_str(
                "; behind pgbouncer in transaction mode (or another transaction pooler)? build \
                 the engine with .prepared_statements(false), or add prepared_statements=false \
                 to the URL",
            );
            Error::Database(d)
        }
        other => other,
    }
}

/// The refusal of `what` through a transaction pooler.
pub(super) fn refuse(what: &str) -> Error {
    Error::Unsupported {
        feature: format!(
            "{what} with prepared_statements(false): through pgbouncer's transaction mode \
             (pool_mode = transaction) the next statement may run on another server connection, \
             where it does not hold; set it per transaction (SET LOCAL, BEGIN ISOLATION LEVEL …), \
             on the role or database (ALTER ROLE … SET), or connect without the pooler"
        ),
        dialect: "postgresql",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_state_is_recognised_and_transaction_state_is_not() {
        for sql in [
            "SET statement_timeout = 5",
            "set search_path to x",
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "  RESET ALL",
            "LISTEN chan",
            "unlisten *",
            "PREPARE p AS SELECT 1",
            "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
        ] {
            assert!(session_state(sql).is_some(), "{sql}");
        }
        for sql in [
            "SET LOCAL statement_timeout = 5",
            "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
            "SET CONSTRAINTS ALL DEFERRED",
            "PREPARE TRANSACTION 'x'",
            "SELECT 'SET x'",
            "BEGIN",
            "DECLARE c CURSOR FOR SELECT 1",
            "settings_table",
        ] {
            assert!(session_state(sql).is_none(), "{sql}");
        }
        let e = refuse("LISTEN").to_string();
        assert!(e.contains("pgbouncer's transaction mode"), "{e}");
    }

    #[test]
    fn parameters_are_declared_with_the_smallest_type_of_their_value() {
        assert_eq!(declared_type(&Value::I64(7)), Type::INT2);
        assert_eq!(declared_type(&Value::I64(70_000)), Type::INT4);
        assert_eq!(declared_type(&Value::I64(1 << 40)), Type::INT8);
        assert_eq!(declared_type(&Value::I32(-40_000)), Type::INT4);
        assert_eq!(declared_type(&Value::Text("x".into())), Type::UNKNOWN);
        assert_eq!(declared_type(&Value::Null), Type::UNKNOWN);
        assert_eq!(declared_type(&Value::Decimal("1.5".into())), Type::NUMERIC);
    }

    #[test]
    fn a_missing_prepared_statement_points_to_prepared_statements_false() {
        let mut d = crate::error::DatabaseError::new(
            crate::error::DatabaseErrorKind::Other,
            "prepared statement \"s6\" does not exist",
        );
        d.sqlstate = Some("26000".into());
        let e = hint(crate::error::DatabaseError::into_error(d)).to_string();
        assert!(e.contains(".prepared_statements(false)"), "{e}");
        let other = hint(Error::config("x")).to_string();
        assert_eq!(other, "x");
    }
}
