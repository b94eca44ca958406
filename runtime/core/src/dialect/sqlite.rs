//! SQLite.

use std::borrow::Cow;

use super::{Dialect, LimitOffsetWriter, ReservedWords};
use crate::error::Result;
use crate::schema::{ColumnDef, TableDef};
use crate::value::SqlType;

/// The SQLite dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sqlite;

impl Dialect for Sqlite {
    fn distinct_from(&self, distinct: bool) -> Option<&'static str> {
        Some(if distinct { "IS NOT" } else { "IS" })
    }

    fn truth(&self, v: bool) -> &'static str {
        if v { "1 = 1" } else { "0 = 1" }
    }

    fn coalesce_of_one(&self) -> bool {
        false
    }

    fn truth_value(&self, v: bool) -> &'static str {
        if v { "1" } else { "0" }
    }

    fn upsert_without_target(&self) -> bool {
        true
    }

    fn tuple_in_values(&self) -> bool {
        true
    }

    fn extract_by_strftime(&self) -> bool {
        true
    }

    fn has_now(&self) -> bool {
        false
    }

    fn isolation_level_sql(&self, level: crate::isolation::IsolationLevel) -> Result<String> {
        // SQLite transactions are serializable; READ UNCOMMITTED exists for shared caches.
        match level {
            crate::isolation::IsolationLevel::Serializable => {
                Ok("PRAGMA read_uncommitted = 0".into())
            }
            crate::isolation::IsolationLevel::ReadUncommitted => {
                Ok("PRAGMA read_uncommitted = 1".into())
            }
            other => Err(crate::Error::Unsupported {
                feature: format!("isolation level {}", other.as_sql()),
                dialect: "sqlite",
            }),
        }
    }

    fn reset_isolation_sql(&self) -> &'static [&'static str] {
        &["PRAGMA read_uncommitted = 0"]
    }

    fn max_parameters(&self) -> Option<usize> {
        // SQLITE_MAX_VARIABLE_NUMBER's default since SQLite 3.32, the bundled library's; the
        // driver checks each connection's own `SQLITE_LIMIT_VARIABLE_NUMBER`.
        Some(32_766)
    }

    fn text_syntax(&self) -> super::TextSyntax {
        super::TextSyntax::SQLITE
    }

    fn max_flat_chain(&self) -> Option<usize> {
        // SQLITE_MAX_EXPR_DEPTH is 1000, and `a OR b OR c` is as deep as it is long: longer
        // chains are grouped (SQLAlchemy's flat text fails there with "Expression tree is too
        // large").
        Some(500)
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn reserved_words(&self) -> &'static [&'static str] {
        RESERVED_WORDS.words()
    }

    fn is_reserved(&self, ident: &str) -> bool {
        RESERVED_WORDS.contains(ident)
    }

    fn column_type(&self, table: &TableDef, col: &ColumnDef) -> Result<Cow<'static, str>> {
        super::no_arrays(self, table, col)?;
        // Only a column declared exactly INTEGER becomes an alias of the rowid, which is what
        // makes it autoincrement; BIGINT would not.
        if col.is_autoincrement() && col.custom_type_name().is_none() {
            return Ok("INTEGER".into());
        }
        let _ = table;
        if col.custom_type_name().is_none()
            && matches!(col.sql_type(), SqlType::Timestamp | SqlType::TimestampTz)
        {
            // SQLAlchemy's spelling on SQLite; the values are ISO 8601 text.
            return Ok("DATETIME".into());
        }
        Ok(super::ansi_type(col))
    }

    fn empty_in(&self, _negated: bool) -> &'static str {
        "(SELECT 1 FROM (SELECT 1) WHERE 1!=1)"
    }

    fn bool_literal(&self, v: bool) -> &'static str {
        if v { "1" } else { "0" }
    }

    fn limit_offset(&self, w: &mut dyn LimitOffsetWriter) -> Result<()> {
        match (w.has_limit(), w.has_offset()) {
            // SQLAlchemy's SQLite compiler follows a lone LIMIT with `OFFSET ?` bound to 0.
            (true, false) => {
                w.push(" LIMIT ");
                w.limit()?;
                w.push(" OFFSET ");
                w.bind(0)?;
            }
            (has_limit, true) => {
                w.push(" LIMIT ");
                if has_limit {
                    w.limit()?;
                } else {
                    w.push("-1");
                }
                w.push(" OFFSET ");
                w.offset()?;
            }
            (false, false) => {}
        }
        Ok(())
    }

    fn returning_qualified(&self) -> bool {
        false
    }

    fn parenthesized_compound_members(&self) -> bool {
        false
    }

    fn has_table_sql(&self) -> &'static str {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?"
    }
}

/// SQLite's reserved words, as SQLAlchemy's SQLite dialect lists them.
static RESERVED_WORDS: ReservedWords = ReservedWords::new(RESERVED);

const RESERVED: &[&str] = &[
    "add",
    "after",
    "all",
    "alter",
    "analyze",
    "and",
    "as",
    "asc",
    "attach",
    "autoincrement",
    "before",
    "begin",
    "between",
    "by",
    "cascade",
    "case",
    "cast",
    "check",
    "collate",
    "column",
    "commit",
    "conflict",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_time",
    "current_timestamp",
    "database",
    "default",
    "deferrable",
    "deferred",
    "delete",
    "desc",
    "detach",
    "distinct",
    "drop",
    "each",
    "else",
    "end",
    "escape",
    "except",
    "exclusive",
    "exists",
    "explain",
    "fail",
    "false",
    "for",
    "foreign",
    "from",
    "full",
    "glob",
    "group",
    "having",
    "if",
    "ignore",
    "immediate",
    "in",
    "index",
    "indexed",
    "initially",
    "inner",
    "insert",
    "instead",
    "intersect",
    "into",
    "is",
    "isnull",
    "join",
    "key",
    "left",
    "like",
    "limit",
    "match",
    "natural",
    "not",
    "notnull",
    "null",
    "of",
    "offset",
    "on",
    "or",
    "order",
    "outer",
    "plan",
    "pragma",
    "primary",
    "query",
    "raise",
    "references",
    "reindex",
    "rename",
    "replace",
    "restrict",
    "right",
    "rollback",
    "row",
    "select",
    "set",
    "table",
    "temp",
    "temporary",
    "then",
    "to",
    "transaction",
    "trigger",
    "true",
    "union",
    "unique",
    "update",
    "using",
    "vacuum",
    "values",
    "view",
    "virtual",
    "when",
    "where",
];
