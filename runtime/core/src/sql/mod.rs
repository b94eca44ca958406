//! The statement model: what a statement *is*, independent of any dialect or driver.
//!
//! Typed statements ([`Select<R>`], [`Insert<R>`], …) wrap untyped ones ([`SelectStmt`],
//! [`InsertStmt`], …); `R` is what each result row decodes into. The renderer
//! (`crate::render`) turns the untyped form plus a [`Dialect`](crate::dialect::Dialect) into
//! [`Compiled`] SQL, through the call site's [`SqlCache`] when the statement has one.
//! [`text`] is the exception: raw SQL with `:name` binds, which only gets its placeholders.

mod cache;
mod case;
mod dml;
mod expr;
pub(crate) mod fast;
pub mod func;
mod json;
mod ops;
pub(crate) mod params;
pub(crate) mod select;
pub(crate) mod source;
mod table;
pub(crate) mod tables;
mod text;
mod window;

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

pub use cache::{Form, SqlCache};
pub use case::{Case, Typed};
pub use dml::{
    ConflictAction, ConflictTarget, Delete, DeleteStmt, Insert, InsertColumns, InsertStmt,
    OnConflict, OnConflictClause, Update, UpdateStmt, Upsert, excluded,
};
pub use expr::{
    AsExpr, BinOp, Column, Expr, Expression, ExtractField, InOperand, MAX_EXPR_DEPTH, MatchKind,
    Nullable, SqlExpr, TextExpression, Textual, null_of,
};
#[cfg(feature = "serde_json")]
pub use json::JsonExpression;
pub use json::{IntoJsonKey, JsonKey};
pub use ops::{Addable, Numeric, value_first};
pub use select::{
    Alias, All, Compound, CompoundStmt, FromItem, IntoFrom, Join, JoinTarget, Joined, Labeled,
    Lock, Member, NullableItem, NullableRow, Select, SelectItem, SelectItems, SelectStmt,
    SetMember, SetOp, all, exists, joined, nullable, select,
};
pub use source::{Cte, DefinedTable, DerivedTable, FromSource, RecursiveCte, Subquery, TableRef};
pub use table::{Identity, Table};
pub use text::{Text, TypedText, text};
pub use window::{AggregateFilter, FrameBound, Window, WindowFn, WindowSpec};

use crate::dialect::Dialect;
use crate::error::Result;
use crate::schema::{FromRow, TableDef};
use crate::value::Value;

/// A statement rendered for one dialect: SQL text and its bound parameters, in order.
#[derive(Clone)]
pub struct Compiled {
    sql: Cow<'static, str>,
    params: params::Params,
    /// The SQL ends in `RETURNING <autoincrement key>` added for execution: the one result
    /// value is the inserted key, not a row of the statement.
    #[doc(hidden)]
    pub returns_key: bool,
    /// Where a static call site keeps its result's column names (`sql/fast.rs`).
    keys: Option<&'static OnceLock<Arc<[String]>>>,
}

/// The SQL, the parameters and the form; not where column names are kept.
impl PartialEq for Compiled {
    fn eq(&self, other: &Self) -> bool {
        self.sql == other.sql
            && self.params == other.params
            && self.returns_key == other.returns_key
    }
}

impl Compiled {
    /// SQL text and its parameters, as given (DDL, SQL a dialect prescribes).
    pub fn new(sql: String, params: Vec<Value>) -> Self {
        Compiled {
            sql: Cow::Owned(sql),
            params: params.into(),
            returns_key: false,
            keys: None,
        }
    }
    /// SQL text taken from a call site's cache.
    pub(crate) fn cached(sql: &'static str, params: Vec<Value>) -> Self {
        Compiled {
            sql: Cow::Borrowed(sql),
            params: params.into(),
            returns_key: false,
            keys: None,
        }
    }
    /// SQL text of the zero-render path, its parameters inline, and where its result's
    /// column names are kept (`sql/fast.rs`).
    pub(crate) fn fast(
        sql: &'static str,
        params: params::Params,
        keys: &'static OnceLock<Arc<[String]>>,
    ) -> Self {
        Compiled {
            sql: Cow::Borrowed(sql),
            params,
            returns_key: false,
            keys: Some(keys),
        }
    }
    /// Where the column names of this statement's result are kept, for a static call site:
    /// the engine fills it from the first result and then needs no names from the driver.
    #[doc(hidden)]
    pub fn kept_columns(&self) -> Option<&'static OnceLock<Arc<[String]>>> {
        self.keys
    }
    /// The SQL text, with the dialect's placeholders.
    pub fn sql(&self) -> &str {
        &self.sql
    }
    /// The bound parameters, in placeholder order.
    pub fn params(&self) -> &[Value] {
        self.params.as_slice()
    }
    /// What an engine runs, borrowed.
    #[doc(hidden)]
    pub fn as_run(&self) -> Run<'_> {
        Run {
            sql: &self.sql,
            params: self.params.as_slice(),
            returns_key: self.returns_key,
            keys: self.keys,
        }
    }
}

/// A statement as an engine runs it, borrowed: a [`Compiled`]'s parts, or — on the
/// zero-render path ([`Statement::learned`]) — the call site's text and the statement's own
/// values, with no `Compiled` built.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Run<'a> {
    /// The SQL text, with the dialect's placeholders.
    pub sql: &'a str,
    /// The bound parameters, in placeholder order.
    pub params: &'a [Value],
    /// See [`Compiled::returns_key`].
    pub returns_key: bool,
    /// See [`Compiled::kept_columns`].
    pub keys: Option<&'static OnceLock<Arc<[String]>>>,
}

/// The SQL, then `-- params: [...]`: the form snapshots take.
impl fmt::Display for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n-- params: {:?}", self.sql, self.params())
    }
}

impl fmt::Debug for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Renders a statement for a dialect.
///
/// ```
/// use quarry::prelude::*;
/// use quarry::dialect::{Postgres, Sqlite};
///
/// #[derive(Table)]
/// struct User {
///     #[column(primary_key)]
///     id: i64,
///     name: String,
/// }
///
/// let stmt = select!(User WHERE User::name == "ed");
/// let sqlite = stmt.compile(&Sqlite)?;
/// assert_eq!(sqlite.sql(), "SELECT user.id, user.name FROM user WHERE user.name = ?");
/// let pg = stmt.compile(&Postgres)?;
/// assert_eq!(pg.sql(), r#"SELECT "user".id, "user".name FROM "user" WHERE "user".name = $1"#);
/// # Ok::<(), quarry::Error>(())
/// ```
pub trait Compile {
    /// The SQL and parameters for `dialect`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the statement uses something the dialect lacks.
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled>;
}

/// A statement that can be executed; its rows decode into [`Statement::Row`].
pub trait Statement: Compile {
    /// What each result row decodes into; `()` for statements without rows.
    type Row: FromRow;

    /// The SQL to execute, which may differ from [`Compile::compile`]'s by what the connection
    /// needs to learn (PostgreSQL: `RETURNING` the key of a single-row insert, since it has no
    /// `last_insert_id`).
    ///
    /// # Errors
    /// As [`Compile::compile`].
    fn compile_for_execution(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        self.compile(dialect)
    }

    /// [`Statement::compile_for_execution`] of a statement that is executed and then dropped:
    /// its parameters may move into the [`Compiled`] instead of being copied (an
    /// `insert_many`'s values). Default: `compile_for_execution`.
    ///
    /// # Errors
    /// As [`Compile::compile`].
    #[doc(hidden)]
    fn into_execution(self, dialect: &dyn Dialect) -> Result<Compiled>
    where
        Self: Sized,
    {
        self.compile_for_execution(dialect)
    }

    /// What [`Statement::compile_for_execution`] would return, borrowed, when the statement
    /// has it without compiling: a learned static call site whose values are its
    /// parameters as they stand (`sql/fast.rs`). `None` otherwise (then compile). Default
    /// `None`.
    #[doc(hidden)]
    fn learned(&self, dialect: &dyn Dialect) -> Option<Run<'_>> {
        let _ = dialect;
        None
    }

    /// Add every table the statement names — `FROM`, joins, the target of an `INSERT`,
    /// `UPDATE` or `DELETE`, and the tables of its expressions and subqueries — to `out`, in
    /// first-seen order without repeats. Implicit execution finds the statement's engine
    /// through their `MetaData`. Default: none (`text()`).
    fn tables(&self, out: &mut Vec<&'static TableDef>) {
        let _ = out;
    }

    /// The statement as several, each binding at most `max_params` parameters and — where
    /// `max_bytes` gives a size (MySQL's `max_allowed_packet`, asked only of a statement
    /// large enough for it to matter) — taking about at most that many bytes on the wire,
    /// when it is larger and can be split without changing what it does (a multi-row
    /// `INSERT`: `insert_many`); `None` when it fits or cannot be split. The connection runs
    /// the parts in one transaction. Default: `None`.
    ///
    /// # Errors
    /// As [`Compile::compile`], and `max_bytes`' error.
    #[doc(hidden)]
    fn compile_batches(
        &self,
        dialect: &dyn Dialect,
        max_params: usize,
        max_bytes: &mut dyn FnMut() -> Result<Option<usize>>,
    ) -> Result<Option<Vec<Compiled>>> {
        let _ = (dialect, max_params, max_bytes);
        Ok(None)
    }
}

impl<S: Compile + ?Sized> Compile for &S {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        (**self).compile(dialect)
    }
}

impl<S: Statement + ?Sized> Statement for &S {
    type Row = S::Row;
    fn compile_for_execution(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        (**self).compile_for_execution(dialect)
    }
    fn learned(&self, dialect: &dyn Dialect) -> Option<Run<'_>> {
        (**self).learned(dialect)
    }
    fn tables(&self, out: &mut Vec<&'static TableDef>) {
        (**self).tables(out);
    }
    fn compile_batches(
        &self,
        dialect: &dyn Dialect,
        max_params: usize,
        max_bytes: &mut dyn FnMut() -> Result<Option<usize>>,
    ) -> Result<Option<Vec<Compiled>>> {
        (**self).compile_batches(dialect, max_params, max_bytes)
    }
}

/// One `ORDER BY` term.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub(crate) expr: SqlExpr,
    pub(crate) descending: bool,
    /// `ASC` was written (`.asc()`): SQLAlchemy renders it then.
    pub(crate) ascending: bool,
    /// `NULLS FIRST` (`Some(true)`) or `NULLS LAST` (`Some(false)`).
    pub(crate) nulls_first: Option<bool>,
}

impl OrderBy {
    pub(crate) fn new(expr: SqlExpr, descending: bool) -> Self {
        OrderBy {
            expr,
            descending,
            ascending: false,
            nulls_first: None,
        }
    }

    /// `… NULLS FIRST`: `NULL`s before every value (PostgreSQL, SQLite;
    /// [`Error::Unsupported`](crate::Error::Unsupported) on MySQL, which has no such clause).
    pub fn nulls_first(mut self) -> Self {
        self.nulls_first = Some(true);
        self
    }

    /// `… NULLS LAST`: `NULL`s after every value (PostgreSQL, SQLite; unsupported on MySQL).
    pub fn nulls_last(mut self) -> Self {
        self.nulls_first = Some(false);
        self
    }
}

/// Anything that can be an `ORDER BY` term: `User::id`, `User::id.desc()`.
pub trait IntoOrderBy {
    /// The term.
    fn into_order_by(self) -> OrderBy;
}

impl IntoOrderBy for OrderBy {
    fn into_order_by(self) -> OrderBy {
        self
    }
}

impl<E: Expression> IntoOrderBy for E {
    fn into_order_by(self) -> OrderBy {
        OrderBy::new(self.into_sql(), false)
    }
}

/// `previous AND condition`, or `condition` alone.
fn and_where(previous: Option<SqlExpr>, condition: SqlExpr) -> SqlExpr {
    match previous {
        None => condition,
        Some(prev) => SqlExpr::binary(prev, BinOp::And, condition),
    }
}
