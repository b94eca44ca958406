//! SQL dialects: what differs between SQLite, PostgreSQL and MySQL, as a small set of hooks.
//!
//! A dialect is a unit struct in its own file that overrides the hooks of [`Dialect`] where its
//! database differs from the ANSI defaults, plus one line in [`ALL`]. Dialects are pure: no I/O,
//! no driver types. Where a dialect lacks a feature, the hook returns [`Error::Unsupported`]
//! rather than different SQL.
//!
//! Third-party dialects and drivers join in-process through the engine's registry:
//! `quarry::dialect::register` a factory under `"name"` or `"name+driver"`, and
//! `create_engine("name+driver://…")` uses it (see `examples/custom_dialect.rs`).

mod mysql;
mod postgres;
mod sqlite;
mod syntax;

use std::borrow::Cow;
use std::fmt::Debug;

pub use mysql::Mysql;
pub use postgres::Postgres;
pub use sqlite::Sqlite;
pub use syntax::TextSyntax;

use crate::error::{Error, Result};
use crate::schema::{ColumnDef, TableDef};
use crate::value::SqlType;

/// Where a dialect hook writes its part of a statement: SQL text it spells, and the operands
/// the statement holds, written by the renderer behind this small interface — so a dialect
/// knows neither the renderer nor the statement model.
pub trait LimitOffsetWriter {
    /// Append SQL text.
    fn push(&mut self, sql: &str);
    /// Whether the statement has a `LIMIT`.
    fn has_limit(&self) -> bool;
    /// Whether the statement has an `OFFSET`.
    fn has_offset(&self) -> bool;
    /// Write the `LIMIT` operand (a bound parameter).
    ///
    /// # Errors
    /// When the operand cannot be rendered.
    fn limit(&mut self) -> Result<()>;
    /// Write the `OFFSET` operand.
    ///
    /// # Errors
    /// When the operand cannot be rendered.
    fn offset(&mut self) -> Result<()>;
    /// Write a bound parameter of `value` (a dialect's own operand: SQLite's `OFFSET ?` of 0
    /// after a lone `LIMIT`, as SQLAlchemy writes it).
    ///
    /// # Errors
    /// When the parameter cannot be rendered.
    fn bind(&mut self, value: i64) -> Result<()>;
}

/// How a dialect writes bound parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Placeholder {
    /// `?` for every parameter.
    Question,
    /// The prefix, then the parameter's 1-based number: `$1`, `$2`, ….
    Numbered(&'static str),
}

/// How a dialect writes an upsert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpsertStyle {
    /// `ON CONFLICT (target) DO NOTHING | DO UPDATE SET col = excluded.col` (SQLite, PostgreSQL).
    OnConflict,
    /// `ON DUPLICATE KEY UPDATE col = VALUES(col)` (MySQL, MariaDB).
    OnDuplicateKey,
}

/// How a dialect names the other tables of a multi-table `UPDATE` or `DELETE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MultiTable {
    /// A clause after the target: `UPDATE t SET … FROM others`, `DELETE FROM t USING others`
    /// (PostgreSQL; SQLite ≥ 3.33 for UPDATE).
    Clause,
    /// A table list: `UPDATE t, others SET t.col = …`, `DELETE FROM t USING t, others`
    /// (MySQL).
    TableList,
}

/// How a database does two-phase commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TwoPhase {
    /// `BEGIN` … `PREPARE TRANSACTION 'xid'` … `COMMIT PREPARED 'xid'` (PostgreSQL).
    PrepareTransaction,
    /// `XA START 'xid'` … `XA END` / `XA PREPARE` … `XA COMMIT 'xid'` (MySQL, MariaDB).
    Xa,
}

/// The SQL of each step of a two-phase transaction, for transaction id `xid` (already
/// checked: no quote inside). An empty list means "the driver's own `BEGIN` / `COMMIT` /
/// `ROLLBACK`". Engines run these; the steps themselves are pure.
impl TwoPhase {
    /// Starting the transaction.
    pub fn begin_sql(self, xid: &str) -> Vec<String> {
        match self {
            TwoPhase::PrepareTransaction => Vec::new(),
            TwoPhase::Xa => vec![format!("XA START '{xid}'")],
        }
    }

    /// Preparing it (phase one).
    pub fn prepare_sql(self, xid: &str) -> Vec<String> {
        match self {
            TwoPhase::PrepareTransaction => vec![format!("PREPARE TRANSACTION '{xid}'")],
            TwoPhase::Xa => vec![format!("XA END '{xid}'"), format!("XA PREPARE '{xid}'")],
        }
    }

    /// Whether, once prepared, the session is no longer in a transaction (the prepared one
    /// lives on the server, as with PostgreSQL's `PREPARE TRANSACTION`).
    pub fn prepare_ends_session_transaction(self) -> bool {
        matches!(self, TwoPhase::PrepareTransaction)
    }

    /// Committing it, `prepared` or not (then in one phase).
    pub fn commit_sql(self, xid: &str, prepared: bool) -> Vec<String> {
        match (self, prepared) {
            (TwoPhase::PrepareTransaction, true) => vec![format!("COMMIT PREPARED '{xid}'")],
            (TwoPhase::PrepareTransaction, false) => Vec::new(),
            (TwoPhase::Xa, true) => vec![format!("XA COMMIT '{xid}'")],
            (TwoPhase::Xa, false) => vec![
                format!("XA END '{xid}'"),
                format!("XA COMMIT '{xid}' ONE PHASE"),
            ],
        }
    }

    /// Rolling it back, `prepared` or not.
    pub fn rollback_sql(self, xid: &str, prepared: bool) -> Vec<String> {
        match (self, prepared) {
            (TwoPhase::PrepareTransaction, true) => vec![format!("ROLLBACK PREPARED '{xid}'")],
            (TwoPhase::PrepareTransaction, false) => Vec::new(),
            (TwoPhase::Xa, true) => vec![format!("XA ROLLBACK '{xid}'")],
            (TwoPhase::Xa, false) => {
                vec![format!("XA END '{xid}'"), format!("XA ROLLBACK '{xid}'")]
            }
        }
    }
}

/// Every built-in dialect; tests iterate over this.
pub const ALL: &[&dyn Dialect] = &[&Sqlite, &Postgres, &Mysql];

/// The built-in dialect with this name (`sqlite`, `postgresql`, `mysql`; `mariadb` is MySQL).
pub fn by_name(name: &str) -> Option<&'static dyn Dialect> {
    match name {
        "mariadb" => Some(&Mysql),
        _ => ALL.iter().copied().find(|d| d.name() == name),
    }
}

/// The hooks through which a database's SQL differs from the ANSI defaults.
pub trait Dialect: Debug + Send + Sync + 'static {
    /// The dialect's name as used in URLs and snapshot names: `sqlite`, `postgresql`, `mysql`.
    fn name(&self) -> &'static str;

    /// The character that quotes identifiers.
    fn quote_char(&self) -> char {
        '"'
    }

    /// Reserved words, lower case and sorted; identifiers equal to one are quoted.
    fn reserved_words(&self) -> &'static [&'static str];

    /// Whether `ident` (lower case) is one of [`Dialect::reserved_words`]. The default
    /// searches the list; the built-in dialects answer most identifiers from a filter first
    /// ([`ReservedWords`]), since every identifier of every statement asks, on every
    /// execution (the SQL cache's verify pass renders it too).
    fn is_reserved(&self, ident: &str) -> bool {
        self.reserved_words().binary_search(&ident).is_ok()
    }

    /// Whether `ident` must be quoted: a reserved word, a leading digit or `$`, any character
    /// outside `[a-z0-9_$]`, or any upper-case letter (SQLAlchemy's rule).
    fn needs_quotes(&self, ident: &str) -> bool {
        needs_quotes(ident) || self.is_reserved(ident)
    }

    /// Append `ident`, quoted when [`Dialect::needs_quotes`] says so, with a quote character
    /// inside doubled. The renderer does the same through its own buffer.
    fn quote_ident(&self, ident: &str, out: &mut String) {
        if self.needs_quotes(ident) {
            let q = self.quote_char();
            out.push(q);
            for ch in ident.chars() {
                if ch == q {
                    out.push(q);
                }
                out.push(ch);
            }
            out.push(q);
        } else {
            out.push_str(ident);
        }
    }

    /// How parameters are written: `?`, or a prefix and the 1-based number (`$1`).
    fn placeholder(&self) -> Placeholder {
        Placeholder::Question
    }

    /// The keyword of an inner join: `JOIN` (`INNER JOIN` on MySQL, as SQLAlchemy writes it).
    fn inner_join(&self) -> &'static str {
        " JOIN "
    }

    /// True where `||` is not string concatenation and `concat(a, b)` is written instead.
    fn concat_function(&self) -> bool {
        false
    }

    /// True where integer division is written `FLOOR(a / b)` (MySQL, whose `/` gives a
    /// decimal), as SQLAlchemy writes `//`.
    fn floor_division(&self) -> bool {
        false
    }

    /// How an upsert is written.
    fn upsert_style(&self) -> UpsertStyle {
        UpsertStyle::OnConflict
    }

    /// Whether `INSERT`/`UPDATE`/`DELETE … RETURNING` exists.
    fn supports_returning(&self) -> bool {
        true
    }

    /// Whether columns in `RETURNING` are written with their table (`users.id`, PostgreSQL)
    /// or bare (`id`, SQLite).
    fn returning_qualified(&self) -> bool {
        true
    }

    /// Whether a member of a `UNION` may be a parenthesized select with its own `ORDER BY` /
    /// `LIMIT` (SQLite allows neither).
    fn parenthesized_compound_members(&self) -> bool {
        true
    }

    /// The DDL type of a column, autoincrement included where the dialect spells it as a type.
    ///
    /// # Errors
    /// [`Error::Config`] when the column cannot be created on this database as declared.
    fn column_type(&self, table: &TableDef, col: &ColumnDef) -> Result<Cow<'static, str>> {
        no_arrays(self, table, col)?;
        Ok(ansi_type(col))
    }

    /// Appended after `NOT NULL` for an autoincrement column (MySQL's ` AUTO_INCREMENT`).
    fn autoincrement_suffix(&self) -> &'static str {
        ""
    }

    /// True when a column's `DEFAULT` comes before `NOT NULL` (ANSI); MySQL puts it after.
    fn default_before_not_null(&self) -> bool {
        true
    }

    /// A boolean literal in DDL defaults.
    fn bool_literal(&self, v: bool) -> &'static str {
        if v { "true" } else { "false" }
    }

    /// What follows `IN` / `NOT IN` for an empty list, so that `x IN ()` is false and
    /// `x NOT IN ()` is true (SQLAlchemy's forms).
    fn empty_in(&self, negated: bool) -> &'static str {
        if negated {
            "(NULL) OR (1 = 1)"
        } else {
            "(NULL) AND (1 != 1)"
        }
    }

    /// Appended to `INSERT INTO t` when no column is given.
    fn insert_default_values(&self) -> &'static str {
        " DEFAULT VALUES"
    }

    /// Append `LIMIT`/`OFFSET` through `w`; at least one of them is present.
    ///
    /// # Errors
    /// As the writer's operands, or [`crate::Error::Unsupported`].
    fn limit_offset(&self, w: &mut dyn LimitOffsetWriter) -> Result<()> {
        if w.has_limit() {
            w.push(" LIMIT ");
            w.limit()?;
        }
        if w.has_offset() {
            w.push(" OFFSET ");
            w.offset()?;
        }
        Ok(())
    }

    /// A query with one parameter, the table name, that returns a row when the table exists.
    fn has_table_sql(&self) -> &'static str;

    /// The row-locking clause of a `SELECT`: ` FOR UPDATE`, or for a shared lock
    /// ` FOR SHARE`; `None` where the database has no row locks and SQLAlchemy writes nothing
    /// (SQLite, the default).
    fn lock_clause(&self, share: bool) -> Option<&'static str> {
        let _ = share;
        None
    }

    /// Whether a lock may name its tables: `FOR UPDATE OF users` (PostgreSQL).
    fn supports_lock_of(&self) -> bool {
        false
    }

    /// The type a parameter is cast to where nothing around it gives its type (a `CASE`'s
    /// values): PostgreSQL would take it for text. `None`: left as is (the default).
    fn typed_param(&self, value: &crate::value::Value) -> Option<&'static str> {
        let _ = value;
        None
    }

    /// The spelling of `IS DISTINCT FROM` (`distinct`) or `IS NOT DISTINCT FROM`; `None`
    /// where only a null-safe equality exists (MySQL's `<=>`), written `NOT (a <=> b)` for
    /// distinct and `a <=> b` for not distinct. Default: the standard spelling.
    fn distinct_from(&self, distinct: bool) -> Option<&'static str> {
        Some(if distinct {
            "IS DISTINCT FROM"
        } else {
            "IS NOT DISTINCT FROM"
        })
    }

    /// `true` / `false` as a condition: `true` (PostgreSQL, the default), `1 = 1` (SQLite),
    /// `true = 1` (MySQL), as SQLAlchemy writes its `true()`.
    fn truth(&self, v: bool) -> &'static str {
        if v { "true" } else { "false" }
    }

    /// Whether `coalesce` takes a single argument (SQLite wants two or more: there
    /// `coalesce(x)` is written `coalesce(x, NULL)`, the same value).
    fn coalesce_of_one(&self) -> bool {
        true
    }

    /// `true` / `false` as a value (a select item): `true` (the default), `1` / `0` where the
    /// database has no boolean literal (SQLite), as SQLAlchemy writes its `true()` there.
    fn truth_value(&self, v: bool) -> &'static str {
        if v { "true" } else { "false" }
    }

    /// Whether an upsert may name a constraint, `ON CONFLICT ON CONSTRAINT name`
    /// (PostgreSQL).
    fn supports_on_constraint(&self) -> bool {
        false
    }

    /// Whether `ON CONFLICT DO UPDATE` may go without a conflict target (SQLite ≥ 3.35).
    fn upsert_without_target(&self) -> bool {
        false
    }

    /// Whether a tuple `IN` lists its rows as `VALUES (…), (…)` (SQLite).
    fn tuple_in_values(&self) -> bool {
        false
    }

    /// Whether `EXTRACT(second FROM …)` has a fraction (PostgreSQL's is a `numeric`, `45.87`):
    /// then it is written `FLOOR(EXTRACT(second FROM …))`, the whole seconds the other
    /// databases give, so that it reads as the `i64` it is typed as.
    fn extract_second_has_fraction(&self) -> bool {
        false
    }

    /// Whether `EXTRACT` is written with `STRFTIME` (SQLite, which has no `EXTRACT`).
    fn extract_by_strftime(&self) -> bool {
        false
    }

    /// Whether a join may be `LATERAL` (PostgreSQL, MySQL 8 — not MariaDB).
    fn supports_lateral(&self) -> bool {
        false
    }

    /// Whether `FULL OUTER JOIN` exists (SQLite ≥ 3.39, PostgreSQL: the default).
    fn supports_full_join(&self) -> bool {
        true
    }

    /// Whether the database has `ILIKE` (PostgreSQL); elsewhere `lower(x) LIKE lower(y)`.
    fn has_ilike(&self) -> bool {
        false
    }

    /// Whether the database has a `now()` function (SQLite writes `CURRENT_TIMESTAMP`).
    fn has_now(&self) -> bool {
        true
    }

    /// How `UPDATE` names other tables its `SET` or `WHERE` uses; `None`: it cannot.
    fn update_from(&self) -> Option<MultiTable> {
        Some(MultiTable::Clause)
    }

    /// How `DELETE` names other tables its `WHERE` uses; `None`: it cannot (SQLite, the
    /// default).
    fn delete_using(&self) -> Option<MultiTable> {
        None
    }

    /// Whether `SELECT DISTINCT ON (…)` exists (PostgreSQL).
    fn supports_distinct_on(&self) -> bool {
        false
    }

    /// Whether `ORDER BY` takes `NULLS FIRST` / `NULLS LAST` (SQLite, PostgreSQL: the default).
    fn supports_nulls_order(&self) -> bool {
        true
    }

    /// Whether an aggregate takes `FILTER (WHERE …)` (SQLite, PostgreSQL: the default).
    fn supports_aggregate_filter(&self) -> bool {
        true
    }

    /// Whether a window frame's row counts are written out (`2 PRECEDING`) rather than bound
    /// as SQLAlchemy binds them: MySQL and MariaDB take no parameter there.
    fn frame_offsets_literal(&self) -> bool {
        false
    }

    /// The type `CAST(x AS …)` names for `sql_type`, as SQLAlchemy spells the generic type
    /// (`BIGINT`, `VARCHAR`, `FLOAT` …).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a type the database cannot cast to.
    fn cast_type(&self, sql_type: SqlType) -> Result<&'static str> {
        Ok(match sql_type {
            SqlType::SmallInt => "SMALLINT",
            SqlType::Integer => "INTEGER",
            SqlType::BigInt => "BIGINT",
            SqlType::Real | SqlType::Double => "FLOAT",
            SqlType::Boolean => "BOOLEAN",
            SqlType::Text => "VARCHAR",
            SqlType::Blob => "BLOB",
            SqlType::Date => "DATE",
            SqlType::Time => "TIME",
            SqlType::Timestamp => "DATETIME",
            SqlType::Decimal => "NUMERIC",
            other => {
                return Err(Error::Unsupported {
                    feature: format!("CAST to {other:?}"),
                    dialect: self.name(),
                });
            }
        })
    }

    /// Whether the database has array columns (`Vec<T>`: PostgreSQL); without them their DDL
    /// and operators are [`Error::Unsupported`].
    fn has_arrays(&self) -> bool {
        false
    }

    /// How a JSON document's element is read (SQLAlchemy's `col["key"]`): the default is
    /// SQLite's `JSON_QUOTE(JSON_EXTRACT(doc, path))`.
    fn json_access(&self) -> JsonAccess {
        JsonAccess::ExtractQuote
    }

    /// A query finding a type named `$1`/`?` in the current schema, for the databases with
    /// enum types of their own (`#[sql_enum(postgres_type = …)]`); `None` where enums are
    /// text columns.
    fn has_enum_type_sql(&self) -> Option<&'static str> {
        None
    }

    /// Whether executing a single-row insert adds `RETURNING <key>` to learn the inserted
    /// autoincrement key, for a database without `last_insert_id` (PostgreSQL).
    fn returning_for_inserted_key(&self) -> bool {
        false
    }

    /// How the database does two-phase commit; `None` when it cannot.
    fn two_phase(&self) -> Option<TwoPhase> {
        None
    }

    /// The statement that sets the isolation level of the session's next transactions.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a level the database lacks.
    fn isolation_level_sql(&self, level: crate::isolation::IsolationLevel) -> Result<String> {
        Ok(format!(
            "SET SESSION TRANSACTION ISOLATION LEVEL {}",
            level.as_sql()
        ))
    }

    /// Statements that put the session's isolation level back to the server's default; the
    /// first that succeeds wins (server versions spell the variable differently).
    fn reset_isolation_sql(&self) -> &'static [&'static str] {
        &[]
    }

    /// Append `value` as a string literal, for the few places SQL holds one (DDL defaults):
    /// `'…'` with `'` doubled. Where backslashes escape (MySQL), they are doubled too.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a NUL character where no literal can hold one (the default:
    /// SQLite's statement text ends at a NUL, PostgreSQL's `text` cannot store it).
    fn string_literal(&self, value: &str, out: &mut String) -> Result<()> {
        if value.contains('\0') {
            return Err(Error::Unsupported {
                feature: "a NUL character in a string literal".into(),
                dialect: self.name(),
            });
        }
        out.reserve(value.len() + 2);
        out.push('\'');
        for ch in value.chars() {
            if ch == '\'' {
                out.push('\'');
            }
            out.push(ch);
        }
        out.push('\'');
        Ok(())
    }

    /// The most bound parameters one statement may carry, if the database has a limit; a
    /// statement with more is refused before it is sent ([`Error::TooLarge`]). A driver
    /// that knows its connection's own limit (SQLite's `SQLITE_LIMIT_VARIABLE_NUMBER`) checks
    /// that one.
    fn max_parameters(&self) -> Option<usize> {
        None
    }

    /// The longest AND/OR chain written flat (`a OR b OR c …`), where the database's parser
    /// nests a chain as deep as it is long and has a depth limit; a longer one is written in
    /// parenthesized groups. `None` (the default): any length, as SQLAlchemy writes it.
    fn max_flat_chain(&self) -> Option<usize> {
        None
    }

    /// The lexical rules `text()` scans a statement by for this database: which quotes,
    /// comments and escapes hide a `:name` from being a bind.
    fn text_syntax(&self) -> TextSyntax {
        TextSyntax::ANSI
    }
}

/// How a dialect reads an element of a JSON document; see [`Dialect::json_access`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JsonAccess {
    /// PostgreSQL: `doc -> key`, `doc ->> key`.
    Operators,
    /// MySQL: `JSON_EXTRACT(doc, path)`, as text `JSON_UNQUOTE(JSON_EXTRACT(doc, path))`.
    ExtractUnquote,
    /// SQLite: `JSON_QUOTE(JSON_EXTRACT(doc, path))`, as text `JSON_EXTRACT(doc, path)`.
    ExtractQuote,
}

/// [`Error::Unsupported`] for an array column on a dialect without arrays, naming the column.
pub(crate) fn no_arrays<D: Dialect + ?Sized>(
    dialect: &D,
    table: &TableDef,
    col: &ColumnDef,
) -> Result<()> {
    if matches!(col.sql_type(), SqlType::Array(_))
        && col.custom_type_name().is_none()
        && !dialect.has_arrays()
    {
        return Err(Error::Unsupported {
            feature: format!(
                "the array column \"{}\" of table \"{}\" (Vec<T> columns are PostgreSQL's)",
                col.name(),
                table.name()
            ),
            dialect: dialect.name(),
        });
    }
    Ok(())
}

/// The ANSI spelling of a column's type.
pub(crate) fn ansi_type(col: &ColumnDef) -> Cow<'static, str> {
    if let Some(custom) = col.custom_type_name() {
        return Cow::Owned(custom.to_owned());
    }
    match col.sql_type() {
        SqlType::SmallInt => "SMALLINT".into(),
        SqlType::Integer => "INTEGER".into(),
        SqlType::BigInt => "BIGINT".into(),
        SqlType::Real => "REAL".into(),
        SqlType::Double => "DOUBLE".into(),
        SqlType::Boolean => "BOOLEAN".into(),
        SqlType::Text => match (col.max_length_value(), col.enum_def()) {
            (Some(n), _) => format!("VARCHAR({n})").into(),
            // SQLAlchemy's non-native Enum: as long as the longest label.
            (None, Some(e)) => format!("VARCHAR({})", e.max_label_len()).into(),
            (None, None) => "TEXT".into(),
        },
        SqlType::Blob => "BLOB".into(),
        SqlType::Date => "DATE".into(),
        SqlType::Time => "TIME".into(),
        SqlType::Timestamp => "TIMESTAMP".into(),
        SqlType::TimestampTz => "TIMESTAMP WITH TIME ZONE".into(),
        // SQLAlchemy's `Uuid` without a native type: 32 hex digits.
        SqlType::Uuid => "CHAR(32)".into(),
        SqlType::Json => "JSON".into(),
        SqlType::Decimal => "NUMERIC".into(),
        // PostgreSQL's spelling; the other dialects refuse arrays before (`no_arrays`).
        SqlType::Array(element) => {
            let element = ColumnDef::new("", "", *element, false);
            format!("{}[]", ansi_type(&element)).into()
        }
    }
}

/// The rule of [`Dialect::needs_quotes`] but for reserved words.
fn needs_quotes(ident: &str) -> bool {
    match ident.as_bytes().first() {
        None => return true,
        Some(c) if c.is_ascii_digit() || *c == b'$' => return true,
        Some(_) => {}
    }
    !ident
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'$')
}

/// A sorted list of reserved words with a 1024-bit filter built at compile time: a word's
/// bit (from its length and three of its bytes) clear means "not reserved" without a search.
/// Most identifiers are not reserved, so most lookups end at the filter.
#[derive(Debug)]
pub(crate) struct ReservedWords {
    words: &'static [&'static str],
    filter: [u64; 16],
}

impl ReservedWords {
    /// `words`: lower case, sorted (a unit test checks every built-in list).
    pub(crate) const fn new(words: &'static [&'static str]) -> Self {
        let mut filter = [0u64; 16];
        let mut i = 0;
        while i < words.len() {
            let bit = filter_bit(words[i].as_bytes());
            filter[bit / 64] |= 1 << (bit % 64);
            i += 1;
        }
        ReservedWords { words, filter }
    }

    pub(crate) fn words(&self) -> &'static [&'static str] {
        self.words
    }

    pub(crate) fn contains(&self, ident: &str) -> bool {
        let bit = filter_bit(ident.as_bytes());
        self.filter[bit / 64] & (1 << (bit % 64)) != 0 && self.words.binary_search(&ident).is_ok()
    }
}

const fn filter_bit(b: &[u8]) -> usize {
    if b.is_empty() {
        return 0;
    }
    let (first, mid, last) = (
        b[0] as usize,
        b[b.len() / 2] as usize,
        b[b.len() - 1] as usize,
    );
    (b.len().wrapping_mul(97)
        ^ first.wrapping_mul(31)
        ^ mid.wrapping_mul(7)
        ^ last.wrapping_mul(131))
        % 1024
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(d: &dyn Dialect, s: &str) -> String {
        let mut out = String::new();
        d.quote_ident(s, &mut out);
        out
    }

    #[test]
    fn the_reserved_word_filter_lets_every_reserved_word_through() {
        for d in ALL {
            for word in d.reserved_words() {
                assert!(d.is_reserved(word), "{}: {word}", d.name());
                assert!(d.needs_quotes(word), "{}: {word}", d.name());
            }
            for plain in ["users", "id", "name", "hair_color", "post_id", "x"] {
                assert!(!d.is_reserved(plain), "{}: {plain}", d.name());
            }
        }
    }

    #[test]
    fn reserved_word_lists_are_sorted_for_binary_search() {
        for d in ALL {
            let words = d.reserved_words();
            assert!(
                words.windows(2).all(|w| w[0] < w[1]),
                "{} list not sorted",
                d.name()
            );
        }
    }

    #[test]
    fn identifiers_are_quoted_as_sqlalchemy_quotes_them() {
        let cases: &[(&str, [&str; 3])] = &[
            ("user", ["user", "\"user\"", "user"]),
            ("order", ["\"order\"", "\"order\"", "`order`"]),
            ("Name", ["\"Name\"", "\"Name\"", "`Name`"]),
            (
                "weird name",
                ["\"weird name\"", "\"weird name\"", "`weird name`"],
            ),
            ("q\"t", ["\"q\"\"t\"", "\"q\"\"t\"", "`q\"t`"]),
            ("b`t", ["\"b`t\"", "\"b`t\"", "`b``t`"]),
            ("1abc", ["\"1abc\"", "\"1abc\"", "`1abc`"]),
            ("ünï", ["\"ünï\"", "\"ünï\"", "`ünï`"]),
            ("key", ["\"key\"", "key", "`key`"]),
            ("offset", ["\"offset\"", "\"offset\"", "offset"]),
            ("hair_color", ["hair_color", "hair_color", "hair_color"]),
        ];
        for (ident, expected) in cases {
            for (d, want) in ALL.iter().zip(expected) {
                assert_eq!(q(*d, ident), *want, "{ident} on {}", d.name());
            }
        }
    }

    fn lit(d: &dyn Dialect, s: &str) -> std::result::Result<String, String> {
        let mut out = String::new();
        d.string_literal(s, &mut out).map_err(|e| e.to_string())?;
        Ok(out)
    }

    #[test]
    fn string_literals_are_escaped_per_dialect() {
        // [sqlite, postgresql, mysql]
        let cases: &[(&str, [&str; 3])] = &[
            ("plain", ["'plain'", "'plain'", "'plain'"]),
            ("it's", ["'it''s'", "'it''s'", "'it''s'"]),
            (r"x\", [r"'x\'", r"'x\'", r"'x\\'"]),
            (r"\'", [r"'\'''", r"'\'''", r"'\\'''"]),
            ("ünï ✓ 𝄞", ["'ünï ✓ 𝄞'", "'ünï ✓ 𝄞'", "'ünï ✓ 𝄞'"]),
            ("", ["''", "''", "''"]),
        ];
        for (value, expected) in cases {
            for (d, want) in ALL.iter().zip(expected) {
                assert_eq!(
                    lit(*d, value).as_deref(),
                    Ok(*want),
                    "{value:?} on {}",
                    d.name()
                );
            }
        }
        assert_eq!(lit(&Mysql, "a\0b").as_deref(), Ok(r"'a\0b'"));
        for d in [&Sqlite as &dyn Dialect, &Postgres] {
            let e = lit(d, "a\0b").unwrap_err();
            assert!(e.contains("NUL") && e.contains(d.name()), "{e}");
        }
    }
}
