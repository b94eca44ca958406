//! `text()`: a raw SQL statement with SQLAlchemy's `:name` binds.
//!
//! The SQL is scanned once per lexical syntax (the first time it compiles for a database of
//! that syntax: [`Dialect::text_syntax`]) into literal pieces and bind names, kept for the
//! clones of the [`Text`]; compiling then only joins the pieces with the dialect's placeholders
//! and collects the values.

mod scan;

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use super::{Compile, Compiled, Statement};
use crate::dialect::{Dialect, Placeholder, TextSyntax};
use crate::error::{Error, Result, did_you_mean};
use crate::row::Row;
use crate::schema::FromRow;
use crate::value::{ToSql, Value};
use scan::{Piece, Scan};

/// A raw SQL statement, with `:name` binds, that rows come back from as dynamic [`Row`]s.
///
/// SQLAlchemy's `text()`. Each `:name` (a name is SQLAlchemy's `\w+`: letters and digits of
/// any script and `_`, starting with a letter or `_`) becomes the dialect's placeholder (`?`
/// or `$1`, `$2`, …) and binds the value given to [`Text::bind`] under that name; a name used
/// twice binds its value twice. Compiling fails when a bind has no value or a bound name is not
/// in the SQL.
///
/// Not binds, and written to the database as they are:
/// - `::`, PostgreSQL's cast (`'1'::int`, `:id::int` is the bind `:id` then a cast);
/// - a `:` directly after a word character, `:` or `\` (`arr[lo:hi]`), or before anything
///   that cannot start a name (`:=`, `:1`);
/// - anything inside the strings, quoted identifiers and comments of the database the
///   statement is compiled for, read by that database's rules ([`TextSyntax`]): everywhere
///   `'…'` (`''` inside), `"…"`, `` `…` ``, `-- line` and `/* block */`; on PostgreSQL also
///   `E'…'` with backslash escapes, nested `/* /* */ */` and `$$…$$` / `$tag$…$tag$` (a tag
///   of any letters, `$é$` too); on MySQL and MariaDB backslash escapes in `'…'` and `"…"`
///   (`'it\'s'`), `# line` comments, `-- ` only before a space, and `/*! … */`, which MySQL
///   runs, scanned as SQL; on SQLite also `[identifiers]`.
///
/// Outside quotes and comments, `\:` is a literal `:` that starts no bind (SQLAlchemy's escape):
/// `text(r"SELECT \:x")` sends `SELECT :x`. Inside quotes and comments nothing needs escaping,
/// and a `\:` there is sent as it is.
///
/// Positional placeholders written in the SQL (`?`, `$1`) are not rewritten and take no value;
/// do not mix them with `:name` binds.
#[derive(Clone)]
pub struct Text {
    parsed: Arc<Parsed>,
    binds: Binds,
}

/// The values bound by name, in order; past [`INDEXED`] names also a map from name to
/// position, so that binding thousands of names stays linear.
#[derive(Clone, Default)]
struct Binds {
    list: Vec<(Cow<'static, str>, Value)>,
    index: HashMap<Cow<'static, str>, usize>,
}

/// From this many bound names on, [`Binds`] keeps its index.
const INDEXED: usize = 16;

impl Binds {
    fn position(&self, name: &str) -> Option<usize> {
        if self.list.len() < INDEXED {
            self.list.iter().position(|(n, _)| n == name)
        } else {
            self.index.get(name).copied()
        }
    }

    fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).map(|i| &self.list[i].1)
    }

    fn set(&mut self, name: Cow<'static, str>, value: Value) {
        if let Some(i) = self.position(&name) {
            self.list[i].1 = value;
            return;
        }
        self.list.push((name, value));
        if self.list.len() == INDEXED {
            self.index = (self.list.iter().enumerate())
                .map(|(i, (n, _))| (n.clone(), i))
                .collect();
        } else if self.list.len() > INDEXED {
            let i = self.list.len() - 1;
            self.index.insert(self.list[i].0.clone(), i);
        }
    }
}

/// A raw SQL statement whose rows decode into `R`: [`Text::columns`].
pub struct TypedText<R> {
    text: Text,
    row: PhantomData<fn() -> R>,
}

/// A raw SQL statement with `:name` binds (SQLAlchemy's `text()`); rows come back as [`Row`]s.
///
/// ```
/// use quarry::prelude::*;
///
/// let engine = create_engine("sqlite://")?;
/// let mut conn = engine.connect()?;
/// conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"))?;
/// conn.execute(text("INSERT INTO t (name) VALUES (:name)").bind("name", "ed"))?;
/// let row = conn.execute(text("SELECT id, name FROM t WHERE name = :name").bind("name", "ed"))?.one()?;
/// assert_eq!(row.get::<String>("name")?, "ed");
/// assert_eq!(row.get::<i64>(0)?, 1);
/// # Ok::<(), quarry::Error>(())
/// ```
///
/// The SQL is scanned for its binds once per database syntax, when it first compiles for it
/// (what is and is not a bind: [`Text`]); later compiles only join the pieces with the
/// dialect's placeholders.
pub fn text(sql: impl Into<Cow<'static, str>>) -> Text {
    Text {
        parsed: Arc::new(Parsed::new(sql.into())),
        binds: Binds::default(),
    }
}

impl Text {
    /// Bind `value` to `:name`. Binding a name again replaces its value.
    ///
    /// `name` is written without the colon. Every bind in the SQL needs a value, and every bound
    /// name must appear in the SQL: compiling fails otherwise (SQLAlchemy ignores an unused
    /// name; here a misspelt name would silently bind nothing, so it is an error).
    pub fn bind(mut self, name: impl Into<Cow<'static, str>>, value: impl ToSql) -> Self {
        self.set(name.into(), value.to_value());
        self
    }

    /// Bind every `(name, value)` pair, as [`Text::bind`] does one.
    ///
    /// ```
    /// use quarry::prelude::*;
    /// use quarry::dialect::Postgres;
    ///
    /// let stmt = text("SELECT * FROM t WHERE a = :a AND b = :b").bind_all([("a", 1), ("b", 2)]);
    /// let pg = stmt.compile(&Postgres)?;
    /// assert_eq!(pg.sql(), "SELECT * FROM t WHERE a = $1 AND b = $2");
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn bind_all<N, V, I>(mut self, binds: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<Cow<'static, str>>,
        V: ToSql,
    {
        for (name, value) in binds {
            self.set(name.into(), value.to_value());
        }
        self
    }

    /// Decode each row into `R` instead of a dynamic [`Row`]: SQLAlchemy's
    /// `TextClause.columns`. The columns are read by position, `R` taking them from the first.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut conn = engine.connect()?;
    /// let pairs = conn
    ///     .execute(text("SELECT 1, 'ed' UNION ALL SELECT 2, 'wendy'").columns::<(i64, String)>())?
    ///     .all()?;
    /// assert_eq!(pairs, [(1, "ed".to_owned()), (2, "wendy".to_owned())]);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn columns<R: FromRow>(self) -> TypedText<R> {
        TypedText {
            text: self,
            row: PhantomData,
        }
    }

    /// The SQL as written, with its `:name` binds.
    pub fn sql(&self) -> &str {
        &self.parsed.sql
    }

    fn set(&mut self, name: Cow<'static, str>, value: Value) {
        self.binds.set(name, value);
    }
}

impl<R> TypedText<R> {
    /// Bind `value` to `:name`, as [`Text::bind`].
    pub fn bind(self, name: impl Into<Cow<'static, str>>, value: impl ToSql) -> Self {
        TypedText {
            text: self.text.bind(name, value),
            row: PhantomData,
        }
    }

    /// Bind every `(name, value)` pair, as [`Text::bind_all`].
    pub fn bind_all<N, V, I>(self, binds: I) -> Self
    where
        I: IntoIterator<Item = (N, V)>,
        N: Into<Cow<'static, str>>,
        V: ToSql,
    {
        TypedText {
            text: self.text.bind_all(binds),
            row: PhantomData,
        }
    }

    /// The SQL as written, with its `:name` binds.
    pub fn sql(&self) -> &str {
        self.text.sql()
    }
}

impl<R> Clone for TypedText<R> {
    fn clone(&self) -> Self {
        TypedText {
            text: self.text.clone(),
            row: PhantomData,
        }
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Binds<'a>(&'a [(Cow<'static, str>, Value)]);
        impl fmt::Debug for Binds<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_map()
                    .entries(self.0.iter().map(|(n, v)| (n, v)))
                    .finish()
            }
        }
        f.debug_struct("Text")
            .field("sql", &self.parsed.sql)
            .field("binds", &Binds(&self.binds.list))
            .finish()
    }
}

impl<R> fmt::Debug for TypedText<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TypedText")
            .field(&self.text)
            .field(&std::any::type_name::<R>())
            .finish()
    }
}

impl Compile for Text {
    /// # Errors
    /// [`Error::Config`] when a bind in the SQL has no value or a bound name is not in the SQL.
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        let scan = self.parsed.scan(dialect.text_syntax());
        Scanned {
            sql: &self.parsed.sql,
            scan: &scan,
        }
        .compile(&self.binds, dialect)
    }
}

impl Statement for Text {
    type Row = Row;
}

impl<R: FromRow> Compile for TypedText<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        self.text.compile(dialect)
    }
}

impl<R: FromRow> Statement for TypedText<R> {
    type Row = R;
}

/// The SQL and its scans, shared by the clones of a [`Text`].
#[derive(Debug)]
struct Parsed {
    sql: Cow<'static, str>,
    /// The scans by the built-in syntaxes, in the order of [`SYNTAXES`], each made once.
    scans: [OnceLock<Scan>; 4],
}

/// The syntaxes whose scans a [`Parsed`] keeps; another dialect's is scanned at each compile.
const SYNTAXES: [TextSyntax; 4] = [
    TextSyntax::SQLITE,
    TextSyntax::POSTGRES,
    TextSyntax::MYSQL,
    TextSyntax::ANSI,
];

impl Parsed {
    fn new(sql: Cow<'static, str>) -> Parsed {
        Parsed {
            sql,
            scans: Default::default(),
        }
    }

    /// The scan by `syntax`: kept, or made now.
    fn scan(&self, syntax: TextSyntax) -> Cow<'_, Scan> {
        match SYNTAXES.iter().position(|s| *s == syntax) {
            Some(i) => Cow::Borrowed(self.scans[i].get_or_init(|| scan::scan(&self.sql, syntax))),
            None => Cow::Owned(scan::scan(&self.sql, syntax)),
        }
    }
}

/// A scan with its SQL, for compiling and for messages.
struct Scanned<'a> {
    sql: &'a Cow<'static, str>,
    scan: &'a Scan,
}

impl Scanned<'_> {
    fn name(&self, id: usize) -> &str {
        self.scan.names.get(id).map_or("", |r| &self.sql[r.clone()])
    }

    fn compile(&self, binds: &Binds, dialect: &dyn Dialect) -> Result<Compiled> {
        let count = self.scan.names.len();
        // The value of each distinct name, by name id.
        let values: Vec<Option<&Value>> = (0..count).map(|id| binds.get(self.name(id))).collect();
        let in_sql: HashSet<&str> = if binds.list.len() < INDEXED {
            HashSet::new()
        } else {
            (0..count).map(|id| self.name(id)).collect()
        };
        let unused: Vec<&str> = (binds.list.iter())
            .map(|(n, _)| n.as_ref())
            .filter(|n| {
                if binds.list.len() < INDEXED {
                    !(0..count).any(|id| self.name(id) == *n)
                } else {
                    !in_sql.contains(n)
                }
            })
            .collect();
        let missing: Vec<&str> = (0..count)
            .filter(|&id| values[id].is_none())
            .map(|id| self.name(id))
            .collect();
        if !missing.is_empty() {
            return Err(self.missing_error(&missing, &unused));
        }
        if !unused.is_empty() {
            return Err(self.unused_error(&unused));
        }

        if let Cow::Borrowed(sql) = self.sql {
            let whole = match &self.scan.pieces[..] {
                [] => true,
                [Piece::Sql(range)] => *range == (0..sql.len()),
                _ => false,
            };
            if whole {
                // Nothing to replace: the SQL is used as written, without copying.
                return Ok(Compiled::cached(sql, Vec::new()));
            }
        }
        let placeholder = dialect.placeholder();
        let mut out = String::with_capacity(self.sql.len() + 4 * self.scan.pieces.len());
        let mut params = Vec::new();
        for piece in &self.scan.pieces {
            match piece {
                Piece::Sql(range) => out.push_str(&self.sql[range.clone()]),
                Piece::Bind(id) => {
                    if let Some(value) = values.get(*id).copied().flatten() {
                        params.push(value.clone());
                    }
                    match placeholder {
                        Placeholder::Question => out.push('?'),
                        Placeholder::Numbered(prefix) => {
                            out.push_str(prefix);
                            out.push_str(&params.len().to_string());
                        }
                    }
                }
            }
        }
        Ok(Compiled::new(out, params))
    }

    /// `text(): no value bound for :a, :b in "…"`, with the unused names that may be misspelt.
    fn missing_error(&self, missing: &[&str], unused: &[&str]) -> Error {
        let list = missing
            .iter()
            .map(|n| format!(":{n}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut msg = format!("text(): no value bound for {list} in {:?}", self.sql);
        if !unused.is_empty() {
            let unused = unused
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            msg.push_str(&format!("; bound but not in the SQL: {unused}"));
        }
        Error::config(msg)
    }

    /// `text(): "nmae" is bound but "…" has no :nmae; …`, naming the SQL's binds.
    fn unused_error(&self, unused: &[&str]) -> Error {
        let name = unused[0];
        let mut msg = format!(
            "text(): {name:?} is bound but {:?} has no :{name}",
            self.sql
        );
        if let Some(bare) = name.strip_prefix(':') {
            msg.push_str(&format!(
                "; bind names are given without the colon: {bare:?}"
            ));
        } else if self.scan.names.is_empty() {
            msg.push_str("; it has no binds");
        } else {
            let binds = (0..self.scan.names.len())
                .map(|id| format!(":{}", self.name(id)))
                .collect::<Vec<_>>()
                .join(", ");
            msg.push_str(&format!("; its binds are {binds}"));
            let names = (0..self.scan.names.len()).map(|id| self.name(id));
            if let Some(close) = did_you_mean(name, names) {
                msg.push_str(&format!("; did you mean {close:?}?"));
            }
        }
        if unused.len() > 1 {
            let rest = unused[1..]
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            msg.push_str(&format!("; also bound but not in the SQL: {rest}"));
        }
        Error::config(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::{Mysql, Postgres, Sqlite};

    fn sqlite(t: &Text) -> Compiled {
        match t.compile(&Sqlite) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn pg(t: &Text) -> Compiled {
        match t.compile(&Postgres) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn error(t: &Text) -> String {
        match t.compile(&Sqlite) {
            Ok(c) => panic!("expected an error, got {c}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn named_binds_become_question_marks_in_order() {
        let t = text("SELECT * FROM t WHERE a = :a AND b = :b_2")
            .bind("b_2", "x")
            .bind("a", 1);
        let c = sqlite(&t);
        assert_eq!(c.sql(), "SELECT * FROM t WHERE a = ? AND b = ?");
        assert_eq!(c.params(), [Value::I32(1), Value::Text("x".into())]);
    }

    #[test]
    fn postgres_numbers_each_occurrence() {
        let t = text("SELECT :a, :b, :a").bind("a", 1).bind("b", 2);
        let c = pg(&t);
        assert_eq!(c.sql(), "SELECT $1, $2, $3");
        assert_eq!(c.params(), [Value::I32(1), Value::I32(2), Value::I32(1)]);
    }

    #[test]
    fn mysql_uses_question_marks() {
        let t = text("SELECT :a").bind("a", 1);
        let c = t.compile(&Mysql).map_err(|e| e.to_string());
        assert_eq!(c.map(|c| c.sql().to_owned()), Ok("SELECT ?".to_owned()));
    }

    #[test]
    fn repeated_name_binds_its_value_each_time() {
        let t = text("SELECT :x + :x").bind("x", 2);
        let c = sqlite(&t);
        assert_eq!(c.sql(), "SELECT ? + ?");
        assert_eq!(c.params(), [Value::I32(2), Value::I32(2)]);
    }

    #[test]
    fn postgres_casts_are_not_binds() {
        let t = text("SELECT '1'::int, :id::bigint, x::text").bind("id", 7);
        assert_eq!(pg(&t).sql(), "SELECT '1'::int, $1::bigint, x::text");
    }

    #[test]
    fn quoted_text_and_identifiers_are_not_scanned() {
        let t = text(r#"SELECT ':a', 'it''s :b', ":c", `:d`, :e FROM "t:x""#).bind("e", 1);
        assert_eq!(
            sqlite(&t).sql(),
            r#"SELECT ':a', 'it''s :b', ":c", `:d`, ? FROM "t:x""#
        );
    }

    #[test]
    fn comments_are_not_scanned() {
        let t = text("SELECT :a -- not :b\n, /* nor :c */ :d").bind_all([("a", 1), ("d", 2)]);
        assert_eq!(sqlite(&t).sql(), "SELECT ? -- not :b\n, /* nor :c */ ?");
    }

    #[test]
    fn dollar_quoted_bodies_are_not_scanned() {
        let t = text("CREATE FUNCTION f() RETURNS int AS $fn$ SELECT :x; $$ $fn$ LANGUAGE sql; :y")
            .bind("y", 1);
        assert_eq!(
            pg(&t).sql(),
            "CREATE FUNCTION f() RETURNS int AS $fn$ SELECT :x; $$ $fn$ LANGUAGE sql; $1"
        );
        let t = text("SELECT $$:a$$, $1, :b").bind("b", 1);
        assert_eq!(pg(&t).sql(), "SELECT $$:a$$, $1, $1");
    }

    #[test]
    fn backslash_colon_is_a_literal_colon() {
        let t = text(r"SELECT 10\:30, :a, '\:'").bind("a", 1);
        assert_eq!(sqlite(&t).sql(), r"SELECT 10:30, ?, '\:'");
        let t = text(r"SELECT \:a");
        assert_eq!(sqlite(&t).sql(), "SELECT :a");
    }

    #[test]
    fn colon_before_a_non_name_or_after_a_word_is_not_a_bind() {
        let t = text("SELECT arr[lo:hi], :1, a := 1, x: , :");
        assert_eq!(sqlite(&t).sql(), "SELECT arr[lo:hi], :1, a := 1, x: , :");
    }

    #[test]
    fn positional_placeholders_are_left_alone() {
        let t = text("SELECT ?, $1");
        let c = sqlite(&t);
        assert_eq!(c.sql(), "SELECT ?, $1");
        assert!(c.params().is_empty());
    }

    #[test]
    fn unterminated_quotes_and_comments_run_to_the_end() {
        for sql in ["SELECT ':a", "SELECT \":a", "SELECT /* :a"] {
            assert_eq!(sqlite(&text(sql)).sql(), sql);
        }
        assert_eq!(pg(&text("SELECT $$ :a")).sql(), "SELECT $$ :a");
    }

    #[test]
    fn bind_names_are_word_characters_of_any_script() {
        // SQLAlchemy's `\w`: `:naïve` is one name, and `é:a` is no bind (after a letter).
        let msg = error(&text("SELECT é:a, :naïve, :b").bind("naïve", 0));
        assert!(msg.contains("no value bound for :b"), "{msg}");
        let t = text("SELECT 'é:a', :naïve, :idé").bind_all([("naïve", 0), ("idé", 1)]);
        assert_eq!(sqlite(&t).sql(), "SELECT 'é:a', ?, ?");
    }

    #[test]
    fn a_lone_escaped_colon_loses_its_backslash() {
        assert_eq!(sqlite(&text(r"\:x")).sql(), ":x");
        assert_eq!(sqlite(&text(r"SET @v \:= 5")).sql(), "SET @v := 5");
    }

    #[test]
    fn twenty_thousand_binds_build_and_compile_in_linear_time() {
        let n = 20_000;
        let sql: String = (0..n).map(|i| format!(":p{i},")).collect();
        let started = std::time::Instant::now();
        let t = text(sql).bind_all((0..n).map(|i| (format!("p{i}"), i)));
        let c = sqlite(&t);
        assert_eq!(c.params().len(), n as usize);
        assert!(
            c.params()
                .iter()
                .zip(0..n)
                .all(|(p, i)| *p == Value::I32(i))
        );
        // A name used again past the first sixteen binds its value again.
        let t = text(format!(
            "{}, :p3, :p19",
            (0..20)
                .map(|i| format!(":p{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind_all((0..20).map(|i| (format!("p{i}"), i)));
        let params = sqlite(&t).params().to_vec();
        assert_eq!(params[20..], [Value::I32(3), Value::I32(19)]);
        // Quadratic lookups took seconds here; linear work is milliseconds, even unoptimized.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn sql_without_binds_is_not_copied() {
        let c = sqlite(&text("SELECT 1"));
        assert_eq!(c.sql(), "SELECT 1");
        assert!(matches!(c.sql, Cow::Borrowed(_)));
        let owned = sqlite(&text(String::from("SELECT 1")));
        assert_eq!(owned.sql(), "SELECT 1");
        assert_eq!(sqlite(&text("")).sql(), "");
    }

    #[test]
    fn missing_bind_is_an_error_naming_it() {
        let msg = error(&text("SELECT * FROM t WHERE name = :name"));
        assert_eq!(
            msg,
            r#"text(): no value bound for :name in "SELECT * FROM t WHERE name = :name""#
        );
    }

    #[test]
    fn misspelt_bind_names_both_sides() {
        let msg = error(&text("SELECT :name").bind("nmae", 1));
        assert_eq!(
            msg,
            r#"text(): no value bound for :name in "SELECT :name"; bound but not in the SQL: "nmae""#
        );
    }

    #[test]
    fn unused_bind_is_an_error_with_did_you_mean() {
        let msg = error(&text("SELECT :name, :id").bind_all([("name", 1), ("id", 2), ("nmae", 3)]));
        assert_eq!(
            msg,
            r#"text(): "nmae" is bound but "SELECT :name, :id" has no :nmae; its binds are :name, :id; did you mean "name"?"#
        );
        let msg = error(&text("SELECT 1").bind("a", 1).bind("b", 2));
        assert_eq!(
            msg,
            r#"text(): "a" is bound but "SELECT 1" has no :a; it has no binds; also bound but not in the SQL: "b""#
        );
    }

    #[test]
    fn bind_name_with_colon_gets_a_hint() {
        let msg = error(&text("SELECT 1").bind(":a", 1));
        assert!(
            msg.ends_with(r#"; bind names are given without the colon: "a""#),
            "{msg}"
        );
    }

    #[test]
    fn binding_a_name_again_replaces_the_value() {
        let t = text("SELECT :a")
            .bind("a", 1)
            .bind("a", String::from("two"));
        assert_eq!(sqlite(&t).params(), [Value::Text("two".into())]);
    }

    #[test]
    fn clones_share_the_scan_and_bind_separately() {
        let base = text("SELECT :a");
        let one = base.clone().bind("a", 1);
        let two = base.bind("a", 2);
        assert!(Arc::ptr_eq(&one.parsed, &two.parsed));
        assert_eq!(sqlite(&one).params(), [Value::I32(1)]);
        assert_eq!(sqlite(&two).params(), [Value::I32(2)]);
    }

    #[test]
    fn debug_shows_sql_and_binds() {
        let t = text("SELECT :a").bind("a", 1);
        assert_eq!(
            format!("{t:?}"),
            r#"Text { sql: "SELECT :a", binds: {"a": 1} }"#
        );
    }

    #[test]
    fn typed_text_compiles_like_its_text() {
        let t = text("SELECT :a").columns::<(i64,)>().bind("a", 1);
        let c = t.compile(&Postgres).map_err(|e| e.to_string());
        assert_eq!(c.map(|c| c.sql().to_owned()), Ok("SELECT $1".to_owned()));
    }
}
