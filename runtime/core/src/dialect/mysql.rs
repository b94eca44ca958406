//! MySQL and MariaDB.

use std::borrow::Cow;

use super::{Dialect, LimitOffsetWriter, ReservedWords, UpsertStyle};
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, TableDef};
use crate::value::SqlType;

/// The MySQL / MariaDB dialect.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mysql;

impl Dialect for Mysql {
    fn two_phase(&self) -> Option<super::TwoPhase> {
        Some(super::TwoPhase::Xa)
    }

    fn reset_isolation_sql(&self) -> &'static [&'static str] {
        // MySQL 8 and MariaDB 11.1+ call it transaction_isolation, older MariaDB tx_isolation.
        &[
            "SET SESSION transaction_isolation = DEFAULT",
            "SET SESSION tx_isolation = DEFAULT",
        ]
    }

    fn string_literal(&self, value: &str, out: &mut String) -> Result<()> {
        // Backslashes escape in MySQL strings (unless `NO_BACKSLASH_ESCAPES`), as SQLAlchemy's
        // MySQL compiler assumes: `\` doubled, NUL as `\0`.
        out.reserve(value.len() + 2);
        out.push('\'');
        for ch in value.chars() {
            match ch {
                '\'' => out.push_str("''"),
                '\\' => out.push_str("\\\\"),
                '\0' => out.push_str("\\0"),
                c => out.push(c),
            }
        }
        out.push('\'');
        Ok(())
    }

    fn max_parameters(&self) -> Option<usize> {
        // The prepared statement protocol counts parameters in two bytes.
        Some(65_535)
    }

    fn text_syntax(&self) -> super::TextSyntax {
        super::TextSyntax::MYSQL
    }

    fn lock_clause(&self, share: bool) -> Option<&'static str> {
        Some(if share {
            " LOCK IN SHARE MODE"
        } else {
            " FOR UPDATE"
        })
    }

    fn distinct_from(&self, distinct: bool) -> Option<&'static str> {
        if distinct { None } else { Some("<=>") }
    }

    fn update_from(&self) -> Option<super::MultiTable> {
        Some(super::MultiTable::TableList)
    }

    fn delete_using(&self) -> Option<super::MultiTable> {
        Some(super::MultiTable::TableList)
    }

    fn supports_lateral(&self) -> bool {
        true
    }

    fn truth(&self, v: bool) -> &'static str {
        if v { "true = 1" } else { "false = 1" }
    }

    fn supports_full_join(&self) -> bool {
        false
    }

    fn supports_nulls_order(&self) -> bool {
        false
    }

    fn supports_aggregate_filter(&self) -> bool {
        false
    }

    fn frame_offsets_literal(&self) -> bool {
        true
    }

    fn cast_type(&self, sql_type: crate::value::SqlType) -> Result<&'static str> {
        use crate::value::SqlType;
        Ok(match sql_type {
            SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => "SIGNED INTEGER",
            SqlType::Text => "CHAR",
            SqlType::Blob => "BINARY",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME",
            SqlType::Timestamp => "DATETIME",
            SqlType::Decimal => "DECIMAL",
            other => {
                return Err(crate::Error::Unsupported {
                    feature: format!("CAST to {other:?} (SQLAlchemy leaves it uncast)"),
                    dialect: self.name(),
                });
            }
        })
    }

    fn name(&self) -> &'static str {
        "mysql"
    }

    fn quote_char(&self) -> char {
        '`'
    }

    fn reserved_words(&self) -> &'static [&'static str] {
        RESERVED_WORDS.words()
    }

    fn is_reserved(&self, ident: &str) -> bool {
        RESERVED_WORDS.contains(ident)
    }

    fn column_type(&self, table: &TableDef, col: &ColumnDef) -> Result<Cow<'static, str>> {
        super::no_arrays(self, table, col)?;
        if col.custom_type_name().is_none() {
            match col.sql_type() {
                // MySQL's REAL is a double unless REAL_AS_FLOAT is set; FLOAT is single precision.
                SqlType::Real => return Ok("FLOAT".into()),
                SqlType::Boolean => return Ok("BOOL".into()),
                // Microsecond precision, as the other databases keep; MySQL has no zones in
                // DATETIME, so TimestampTz values are stored in UTC.
                SqlType::Time => return Ok("TIME(6)".into()),
                SqlType::Timestamp | SqlType::TimestampTz => return Ok("DATETIME(6)".into()),
                // Without precision MySQL's DECIMAL is DECIMAL(10, 0): no fraction at all.
                SqlType::Decimal => return Ok("DECIMAL(65, 30)".into()),
                SqlType::Text | SqlType::Blob if col.max_length_value().is_none() => {
                    let keyed = col.is_primary_key() || col.is_unique() || col.has_index();
                    if keyed {
                        return Err(Error::config(format!(
                            "column \"{}\" of table \"{}\" is a key or indexed, but MySQL cannot \
                            index TEXT or BLOB without a length; add #[column(max_length = N)]",
                            col.name(),
                            table.name()
                        )));
                    }
                }
                _ => {}
            }
        }
        Ok(super::ansi_type(col))
    }

    fn json_access(&self) -> super::JsonAccess {
        super::JsonAccess::ExtractUnquote
    }

    fn autoincrement_suffix(&self) -> &'static str {
        " AUTO_INCREMENT"
    }

    fn default_before_not_null(&self) -> bool {
        false
    }

    fn bool_literal(&self, v: bool) -> &'static str {
        if v { "1" } else { "0" }
    }

    fn insert_default_values(&self) -> &'static str {
        " () VALUES ()"
    }

    fn limit_offset(&self, w: &mut dyn LimitOffsetWriter) -> Result<()> {
        w.push(" LIMIT ");
        match (w.has_limit(), w.has_offset()) {
            (true, false) => w.limit()?,
            (true, true) => {
                w.offset()?;
                w.push(", ");
                w.limit()?;
            }
            (false, true) => {
                w.offset()?;
                w.push(", 18446744073709551615");
            }
            (false, false) => {}
        }
        Ok(())
    }

    fn inner_join(&self) -> &'static str {
        " INNER JOIN "
    }

    fn concat_function(&self) -> bool {
        true
    }

    fn floor_division(&self) -> bool {
        true
    }

    fn upsert_style(&self) -> UpsertStyle {
        UpsertStyle::OnDuplicateKey
    }

    fn supports_returning(&self) -> bool {
        false
    }

    fn has_table_sql(&self) -> &'static str {
        "SELECT table_name FROM information_schema.tables \
        WHERE table_schema = DATABASE() AND table_name = ?"
    }
}

/// MySQL's reserved words, as SQLAlchemy's MySQL dialect lists them.
static RESERVED_WORDS: ReservedWords = ReservedWords::new(RESERVED);

const RESERVED: &[&str] = &[
    "accessible",
    "add",
    "admin",
    "all",
    "alter",
    "analyze",
    "and",
    "array",
    "as",
    "asc",
    "asensitive",
    "before",
    "between",
    "bigint",
    "binary",
    "blob",
    "both",
    "by",
    "call",
    "cascade",
    "case",
    "change",
    "char",
    "character",
    "check",
    "collate",
    "column",
    "condition",
    "constraint",
    "continue",
    "convert",
    "create",
    "cross",
    "cube",
    "cume_dist",
    "current_date",
    "current_time",
    "current_timestamp",
    "current_user",
    "cursor",
    "database",
    "databases",
    "day_hour",
    "day_microsecond",
    "day_minute",
    "day_second",
    "dec",
    "decimal",
    "declare",
    "default",
    "delayed",
    "delete",
    "dense_rank",
    "desc",
    "describe",
    "deterministic",
    "distinct",
    "distinctrow",
    "div",
    "double",
    "drop",
    "dual",
    "each",
    "else",
    "elseif",
    "empty",
    "enclosed",
    "escaped",
    "except",
    "exists",
    "exit",
    "explain",
    "false",
    "fetch",
    "first_value",
    "float",
    "float4",
    "float8",
    "for",
    "force",
    "foreign",
    "from",
    "fulltext",
    "function",
    "general",
    "generated",
    "get",
    "get_master_public_key",
    "grant",
    "group",
    "grouping",
    "groups",
    "having",
    "high_priority",
    "hour_microsecond",
    "hour_minute",
    "hour_second",
    "if",
    "ignore",
    "ignore_server_ids",
    "in",
    "index",
    "infile",
    "inner",
    "inout",
    "insensitive",
    "insert",
    "int",
    "int1",
    "int2",
    "int3",
    "int4",
    "int8",
    "integer",
    "intersect",
    "interval",
    "into",
    "io_after_gtids",
    "io_before_gtids",
    "is",
    "iterate",
    "join",
    "json_table",
    "key",
    "keys",
    "kill",
    "lag",
    "last_value",
    "lateral",
    "lead",
    "leading",
    "leave",
    "left",
    "like",
    "limit",
    "linear",
    "lines",
    "load",
    "localtime",
    "localtimestamp",
    "lock",
    "long",
    "longblob",
    "longtext",
    "loop",
    "low_priority",
    "master_bind",
    "master_heartbeat_period",
    "master_ssl_verify_server_cert",
    "match",
    "maxvalue",
    "mediumblob",
    "mediumint",
    "mediumtext",
    "member",
    "middleint",
    "minute_microsecond",
    "minute_second",
    "mod",
    "modifies",
    "natural",
    "no_write_to_binlog",
    "not",
    "nth_value",
    "ntile",
    "null",
    "numeric",
    "of",
    "on",
    "optimize",
    "optimizer_costs",
    "option",
    "optionally",
    "or",
    "order",
    "out",
    "outer",
    "outfile",
    "over",
    "parallel",
    "parse_gcol_expr",
    "partition",
    "percent_rank",
    "persist",
    "persist_only",
    "precision",
    "primary",
    "procedure",
    "purge",
    "qualify",
    "range",
    "rank",
    "read",
    "read_write",
    "reads",
    "real",
    "recursive",
    "references",
    "regexp",
    "release",
    "rename",
    "repeat",
    "replace",
    "require",
    "resignal",
    "restrict",
    "return",
    "revoke",
    "right",
    "rlike",
    "role",
    "row",
    "row_number",
    "rows",
    "schema",
    "schemas",
    "second_microsecond",
    "select",
    "sensitive",
    "separator",
    "set",
    "show",
    "signal",
    "slow",
    "smallint",
    "spatial",
    "specific",
    "sql",
    "sql_after_gtids",
    "sql_before_gtids",
    "sql_big_result",
    "sql_calc_found_rows",
    "sql_small_result",
    "sqlexception",
    "sqlstate",
    "sqlwarning",
    "ssl",
    "starting",
    "stored",
    "straight_join",
    "system",
    "table",
    "terminated",
    "then",
    "tinyblob",
    "tinyint",
    "tinytext",
    "to",
    "trailing",
    "trigger",
    "true",
    "undo",
    "union",
    "unique",
    "unlock",
    "unsigned",
    "update",
    "usage",
    "use",
    "using",
    "utc_date",
    "utc_time",
    "utc_timestamp",
    "values",
    "varbinary",
    "varchar",
    "varcharacter",
    "varying",
    "virtual",
    "when",
    "where",
    "while",
    "window",
    "with",
    "write",
    "xor",
    "year_month",
    "zerofill",
];
