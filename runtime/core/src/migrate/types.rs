//! Reading a live database's words back into Quarry's model: a reported column type into a
//! [`SqlType`] (and `max_length`, or the type spelled out when Quarry has none for it), a
//! reported server default into a value that compares with a declared one.

use crate::schema::{ColumnDef, DefaultValue};
use crate::value::SqlType;

/// A column type as read from a database: Quarry's type, its length, and the type spelled out
/// when Quarry's types cannot say it (an enum, `inet`, `CHAR(3)`, `NUMERIC(10, 2)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadType {
    /// The closest Quarry type (what a Rust field of the column would be).
    pub sql_type: SqlType,
    /// `VARCHAR(n)`'s `n`.
    pub max_length: Option<u32>,
    /// The type as DDL must spell it, when `sql_type` and `max_length` do not say it.
    pub spelled: Option<String>,
}

impl ReadType {
    fn of(sql_type: SqlType) -> Self {
        ReadType {
            sql_type,
            max_length: None,
            spelled: None,
        }
    }
    fn spelled(sql_type: SqlType, spelled: &str) -> Self {
        ReadType {
            sql_type,
            max_length: None,
            spelled: Some(spelled.to_owned()),
        }
    }

    /// A column named `name` of this type.
    pub fn column(&self, name: &str, nullable: bool) -> ColumnDef {
        let mut col = ColumnDef::named(name, self.sql_type, nullable);
        if let Some(n) = self.max_length {
            col = col.max_length(n);
        }
        if let Some(spelled) = &self.spelled {
            col = col.type_sql(spelled.clone());
        }
        col
    }
}

/// `VARCHAR(50)` → `("VARCHAR", ["50"])`, upper case, inner spaces kept single.
fn split(raw: &str) -> (String, Vec<String>) {
    let raw = raw.trim();
    let (head, args) = match raw.find('(') {
        Some(open) => {
            let close = raw.rfind(')').unwrap_or(raw.len());
            let inner = raw.get(open + 1..close).unwrap_or("");
            let rest = raw.get(close + 1..).unwrap_or("");
            let head = format!("{} {}", &raw[..open], rest);
            let args = inner.split(',').map(|a| a.trim().to_owned()).collect();
            (head, args)
        }
        None => (raw.to_owned(), Vec::new()),
    };
    let head = head
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    (head, args)
}

fn length(args: &[String]) -> Option<u32> {
    args.first()?.parse().ok()
}

/// A type as SQLite's `PRAGMA table_info` reports it: the text of the `CREATE TABLE`.
pub fn sqlite_type(raw: &str) -> ReadType {
    let (head, args) = split(raw);
    match head.as_str() {
        "SMALLINT" => ReadType::of(SqlType::SmallInt),
        "INTEGER" | "INT" => ReadType::of(SqlType::Integer),
        "BIGINT" => ReadType::of(SqlType::BigInt),
        "REAL" | "FLOAT" => ReadType::of(SqlType::Real),
        "DOUBLE" | "DOUBLE PRECISION" => ReadType::of(SqlType::Double),
        "BOOLEAN" | "BOOL" => ReadType::of(SqlType::Boolean),
        "TEXT" | "CLOB" if args.is_empty() => ReadType::of(SqlType::Text),
        "VARCHAR" if args.len() == 1 => ReadType {
            max_length: length(&args),
            ..ReadType::of(SqlType::Text)
        },
        "BLOB" if args.is_empty() => ReadType::of(SqlType::Blob),
        "DATE" => ReadType::of(SqlType::Date),
        "TIME" => ReadType::of(SqlType::Time),
        "DATETIME" | "TIMESTAMP" => ReadType::of(SqlType::Timestamp),
        "CHAR" if args == ["32"] => ReadType::of(SqlType::Uuid),
        "JSON" => ReadType::of(SqlType::Json),
        "NUMERIC" | "DECIMAL" if args.is_empty() => ReadType::of(SqlType::Decimal),
        _ => ReadType::spelled(affinity(&head), raw.trim()),
    }
}

/// SQLite's type affinity rules, for a type Quarry does not know.
fn affinity(head: &str) -> SqlType {
    if head.contains("INT") {
        SqlType::BigInt
    } else if head.contains("CHAR") || head.contains("CLOB") || head.contains("TEXT") {
        SqlType::Text
    } else if head.contains("BLOB") || head.is_empty() {
        SqlType::Blob
    } else if head.contains("REAL") || head.contains("FLOA") || head.contains("DOUB") {
        SqlType::Double
    } else {
        SqlType::Decimal
    }
}

/// A PostgreSQL type: `information_schema.columns.data_type` with its `udt_name`, length,
/// precision and scale.
pub fn postgres_type(
    data_type: &str,
    udt_name: &str,
    max_length: Option<u32>,
    precision: Option<u32>,
    scale: Option<u32>,
) -> ReadType {
    match data_type {
        "smallint" => ReadType::of(SqlType::SmallInt),
        "integer" => ReadType::of(SqlType::Integer),
        "bigint" => ReadType::of(SqlType::BigInt),
        "real" => ReadType::of(SqlType::Real),
        "double precision" => ReadType::of(SqlType::Double),
        "boolean" => ReadType::of(SqlType::Boolean),
        "text" => ReadType::of(SqlType::Text),
        "character varying" => match max_length {
            Some(n) => ReadType {
                max_length: Some(n),
                ..ReadType::of(SqlType::Text)
            },
            None => ReadType::spelled(SqlType::Text, "VARCHAR"),
        },
        "character" => {
            ReadType::spelled(SqlType::Text, &format!("CHAR({})", max_length.unwrap_or(1)))
        }
        "bytea" => ReadType::of(SqlType::Blob),
        "date" => ReadType::of(SqlType::Date),
        "time without time zone" => ReadType::of(SqlType::Time),
        "timestamp without time zone" => ReadType::of(SqlType::Timestamp),
        "timestamp with time zone" => ReadType::of(SqlType::TimestampTz),
        "uuid" => ReadType::of(SqlType::Uuid),
        "json" => ReadType::of(SqlType::Json),
        "jsonb" => ReadType::spelled(SqlType::Json, "JSONB"),
        "numeric" => match (precision, scale) {
            (Some(p), Some(s)) => {
                ReadType::spelled(SqlType::Decimal, &format!("NUMERIC({p}, {s})"))
            }
            (Some(p), None) => ReadType::spelled(SqlType::Decimal, &format!("NUMERIC({p})")),
            _ => ReadType::of(SqlType::Decimal),
        },
        // An enum or a domain: its own name.
        "USER-DEFINED" => ReadType::spelled(SqlType::Text, udt_name),
        "ARRAY" => ReadType::spelled(
            SqlType::Text,
            &format!("{}[]", udt_name.trim_start_matches('_')),
        ),
        other => ReadType::spelled(SqlType::Text, &other.to_ascii_uppercase()),
    }
}

/// A MySQL/MariaDB type: `information_schema.columns.column_type` (`varchar(50)`,
/// `tinyint(1)`, `int(11) unsigned`).
pub fn mysql_type(column_type: &str) -> ReadType {
    let (head, args) = split(column_type);
    match head.as_str() {
        "SMALLINT" => ReadType::of(SqlType::SmallInt),
        "INT" | "INTEGER" => ReadType::of(SqlType::Integer),
        "BIGINT" => ReadType::of(SqlType::BigInt),
        "TINYINT" if args == ["1"] => ReadType::of(SqlType::Boolean),
        "FLOAT" if args.is_empty() => ReadType::of(SqlType::Real),
        "DOUBLE" if args.is_empty() => ReadType::of(SqlType::Double),
        "TEXT" => ReadType::of(SqlType::Text),
        "VARCHAR" => ReadType {
            max_length: length(&args),
            ..ReadType::of(SqlType::Text)
        },
        "BLOB" => ReadType::of(SqlType::Blob),
        "DATE" => ReadType::of(SqlType::Date),
        "TIME" if args == ["6"] => ReadType::of(SqlType::Time),
        "DATETIME" if args == ["6"] => ReadType::of(SqlType::Timestamp),
        "CHAR" if args == ["32"] => ReadType::of(SqlType::Uuid),
        "JSON" => ReadType::of(SqlType::Json),
        "DECIMAL" if args == ["65", "30"] => ReadType::of(SqlType::Decimal),
        _ => {
            let affinity = if head.contains("INT") {
                SqlType::BigInt
            } else if head.contains("BLOB") || head.contains("BINARY") {
                SqlType::Blob
            } else if head.starts_with("DECIMAL") {
                SqlType::Decimal
            } else if head.contains("FLOAT") || head.contains("DOUBLE") {
                SqlType::Double
            } else {
                SqlType::Text
            };
            ReadType::spelled(affinity, &column_type.trim().to_ascii_uppercase())
        }
    }
}

/// A server default, reduced so that the spellings of different databases compare: `5`,
/// `'5'::integer`, `(5)` are one number; `'en'::character varying` and `'en'` one text.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultLit {
    /// `NULL`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string literal's text.
    Text(String),
    /// Anything else (`CURRENT_TIMESTAMP`, `now()`), lower case, spaces collapsed.
    Expr(String),
}

impl DefaultLit {
    /// A declared default.
    pub fn declared(value: DefaultValue) -> Self {
        match value {
            DefaultValue::Int(v) => DefaultLit::Number(v as f64),
            DefaultValue::Float(v) => DefaultLit::Number(v),
            DefaultValue::Text(s) => DefaultLit::Text(s.to_owned()),
            DefaultValue::Bool(b) => DefaultLit::Bool(b),
        }
    }

    /// A default as SQL text, as a database reports it.
    ///
    /// ```
    /// use quarry::migrate::DefaultLit;
    /// assert_eq!(DefaultLit::parse("'en'::character varying"), DefaultLit::Text("en".into()));
    /// assert_eq!(DefaultLit::parse("('-5'::integer)"), DefaultLit::Number(-5.0));
    /// ```
    pub fn parse(sql: &str) -> Self {
        let mut s = sql.trim();
        loop {
            let before = s;
            if s.starts_with('(') && s.ends_with(')') && balanced(&s[1..s.len() - 1]) {
                s = s[1..s.len() - 1].trim();
            }
            s = strip_cast(s);
            if s == before {
                break;
            }
        }
        if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') {
            let text = s[1..s.len() - 1].replace("''", "'");
            if let Ok(n) = text.trim().parse::<f64>()
                && !text.trim().is_empty()
            {
                return DefaultLit::Number(n);
            }
            return DefaultLit::Text(text);
        }
        if let Ok(n) = s.parse::<f64>() {
            return DefaultLit::Number(n);
        }
        match s.to_ascii_lowercase().as_str() {
            "null" => DefaultLit::Null,
            "true" => DefaultLit::Bool(true),
            "false" => DefaultLit::Bool(false),
            other => DefaultLit::Expr(other.split_whitespace().collect::<Vec<_>>().join(" ")),
        }
    }

    /// The same default, allowing for the databases that store booleans as `0`/`1` and
    /// numbers as text.
    pub fn same(&self, other: &DefaultLit) -> bool {
        use DefaultLit::{Bool, Number, Text};
        match (self, other) {
            (Bool(b), Number(n)) | (Number(n), Bool(b)) => *n == f64::from(u8::from(*b)),
            (Bool(b), Text(t)) | (Text(t), Bool(b)) => {
                let t = t.to_ascii_lowercase();
                (t == "t" || t == "true" || t == "1") == *b
                    && ["t", "f", "true", "false", "1", "0"].contains(&t.as_str())
            }
            (Number(n), Text(t)) | (Text(t), Number(n)) => t.trim().parse::<f64>() == Ok(*n),
            (a, b) => a == b,
        }
    }
}

/// The default a column declares or was reflected with, if any.
pub fn column_default(col: &ColumnDef) -> Option<DefaultLit> {
    if let Some(v) = col.default() {
        return Some(DefaultLit::declared(v));
    }
    col.server_default_sql()
        .map(DefaultLit::parse)
        .filter(|d| *d != DefaultLit::Null)
}

/// `'en'::character varying` → `'en'`: strips one trailing PostgreSQL cast outside quotes.
fn strip_cast(s: &str) -> &str {
    let mut in_quote = false;
    let mut cut = None;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => in_quote = !in_quote,
            b':' if !in_quote && bytes.get(i + 1) == Some(&b':') => {
                cut = Some(i);
                break;
            }
            _ => {}
        }
        i += 1;
    }
    match cut {
        Some(at) => s[..at].trim(),
        None => s,
    }
}

/// True when the parentheses of `s` balance (so `(a) + (b)` is not stripped to `a) + (b`).
fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_spellings_of_one_default_compare_equal() {
        let en = DefaultLit::declared(DefaultValue::Text("en"));
        for sql in ["'en'", "'en'::character varying", "('en'::text)"] {
            assert!(en.same(&DefaultLit::parse(sql)), "{sql}");
        }
        let five = DefaultLit::declared(DefaultValue::Int(5));
        for sql in ["5", "(5)", "'5'", "'5'::integer"] {
            assert!(five.same(&DefaultLit::parse(sql)), "{sql}");
        }
        let yes = DefaultLit::declared(DefaultValue::Bool(true));
        for sql in ["true", "1", "'1'"] {
            assert!(yes.same(&DefaultLit::parse(sql)), "{sql}");
        }
        assert!(!en.same(&DefaultLit::parse("'fr'")));
        assert_eq!(
            DefaultLit::parse("CURRENT_TIMESTAMP"),
            DefaultLit::Expr("current_timestamp".into())
        );
    }

    #[test]
    fn reported_types_read_back_to_quarry_types() {
        assert_eq!(sqlite_type("VARCHAR(50)").max_length, Some(50));
        assert_eq!(sqlite_type("DATETIME").sql_type, SqlType::Timestamp);
        assert_eq!(mysql_type("tinyint(1)").sql_type, SqlType::Boolean);
        assert_eq!(mysql_type("int(11)").sql_type, SqlType::Integer);
        assert_eq!(
            mysql_type("decimal(10,2)").spelled.as_deref(),
            Some("DECIMAL(10,2)")
        );
        let mood = postgres_type("USER-DEFINED", "mood", None, None, None);
        assert_eq!(mood.spelled.as_deref(), Some("mood"));
    }
}
