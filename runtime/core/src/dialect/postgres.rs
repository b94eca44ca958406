//! PostgreSQL.

use std::borrow::Cow;

use super::{Dialect, Placeholder, ReservedWords};
use crate::error::Result;
use crate::schema::{ColumnDef, TableDef};
use crate::value::SqlType;

/// The PostgreSQL dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

impl Dialect for Postgres {
    fn returning_for_inserted_key(&self) -> bool {
        true
    }

    fn two_phase(&self) -> Option<super::TwoPhase> {
        Some(super::TwoPhase::PrepareTransaction)
    }

    fn isolation_level_sql(&self, level: crate::isolation::IsolationLevel) -> Result<String> {
        Ok(format!(
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL {}",
            level.as_sql()
        ))
    }

    fn reset_isolation_sql(&self) -> &'static [&'static str] {
        &["RESET default_transaction_isolation"]
    }

    fn max_parameters(&self) -> Option<usize> {
        // The Bind message counts parameters in an Int16.
        Some(65_535)
    }

    fn text_syntax(&self) -> super::TextSyntax {
        super::TextSyntax::POSTGRES
    }

    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn reserved_words(&self) -> &'static [&'static str] {
        RESERVED_WORDS.words()
    }

    fn is_reserved(&self, ident: &str) -> bool {
        RESERVED_WORDS.contains(ident)
    }

    fn placeholder(&self) -> Placeholder {
        Placeholder::Numbered("$")
    }

    fn column_type(&self, table: &TableDef, col: &ColumnDef) -> Result<Cow<'static, str>> {
        let _ = table;
        if let (None, Some(native)) = (
            col.custom_type_name(),
            col.enum_def().and_then(|e| e.native_name()),
        ) {
            let mut name = String::new();
            self.quote_ident(native, &mut name);
            return Ok(name.into());
        }
        if col.custom_type_name().is_none() {
            match (col.sql_type(), col.is_autoincrement()) {
                (SqlType::SmallInt, true) => return Ok("SMALLSERIAL".into()),
                (SqlType::Integer, true) => return Ok("SERIAL".into()),
                (SqlType::BigInt, true) => return Ok("BIGSERIAL".into()),
                (SqlType::Double, _) => return Ok("DOUBLE PRECISION".into()),
                (SqlType::Array(SqlType::Double), _) => return Ok("DOUBLE PRECISION[]".into()),
                (SqlType::Blob, _) => return Ok("BYTEA".into()),
                (SqlType::Uuid, _) => return Ok("UUID".into()),
                // JSONB has equality, indexes and containment; plain JSON has no `=` at all.
                (SqlType::Json, _) => return Ok("JSONB".into()),
                (SqlType::Time, _) => return Ok("TIME WITHOUT TIME ZONE".into()),
                (SqlType::Timestamp, _) => return Ok("TIMESTAMP WITHOUT TIME ZONE".into()),
                _ => {}
            }
        }
        Ok(super::ansi_type(col))
    }

    fn has_arrays(&self) -> bool {
        true
    }

    fn lock_clause(&self, share: bool) -> Option<&'static str> {
        Some(if share { " FOR SHARE" } else { " FOR UPDATE" })
    }

    fn typed_param(&self, value: &crate::value::Value) -> Option<&'static str> {
        use crate::value::Value;
        Some(match value {
            Value::I16(_) => "SMALLINT",
            Value::I32(_) => "INTEGER",
            Value::I64(_) => "BIGINT",
            Value::F32(_) => "REAL",
            Value::F64(_) => "DOUBLE PRECISION",
            Value::Bool(_) => "BOOLEAN",
            Value::Text(_) => "VARCHAR",
            _ => return None,
        })
    }

    fn delete_using(&self) -> Option<super::MultiTable> {
        Some(super::MultiTable::Clause)
    }

    fn supports_on_constraint(&self) -> bool {
        true
    }

    fn extract_second_has_fraction(&self) -> bool {
        true
    }

    fn supports_lateral(&self) -> bool {
        true
    }

    fn has_ilike(&self) -> bool {
        true
    }

    fn supports_distinct_on(&self) -> bool {
        true
    }

    fn supports_lock_of(&self) -> bool {
        true
    }

    fn cast_type(&self, sql_type: crate::value::SqlType) -> crate::error::Result<&'static str> {
        use crate::value::SqlType;
        match sql_type {
            SqlType::Blob => Ok("BYTEA"),
            SqlType::Timestamp => Ok("TIMESTAMP WITHOUT TIME ZONE"),
            SqlType::TimestampTz => Ok("TIMESTAMP WITH TIME ZONE"),
            SqlType::Uuid => Ok("UUID"),
            SqlType::Json => Ok("JSON"),
            other => super::Dialect::cast_type(&super::Sqlite, other),
        }
    }

    fn json_access(&self) -> super::JsonAccess {
        super::JsonAccess::Operators
    }

    fn has_enum_type_sql(&self) -> Option<&'static str> {
        Some(
            "SELECT t.typname FROM pg_catalog.pg_type t \
             JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
             WHERE n.nspname = current_schema() AND t.typname = $1 AND t.typtype = 'e'",
        )
    }

    fn has_table_sql(&self) -> &'static str {
        "SELECT c.relname FROM pg_catalog.pg_class c \
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relname = $1 AND c.relkind IN ('r', 'p')"
    }
}

/// PostgreSQL's reserved words, as SQLAlchemy's PostgreSQL dialect lists them.
static RESERVED_WORDS: ReservedWords = ReservedWords::new(RESERVED);

const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "binary",
    "both",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "false",
    "fetch",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "group",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "leading",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "natural",
    "new",
    "not",
    "notnull",
    "null",
    "of",
    "off",
    "offset",
    "old",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "over",
    "overlaps",
    "placing",
    "primary",
    "references",
    "returning",
    "right",
    "select",
    "session_user",
    "similar",
    "some",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
];
