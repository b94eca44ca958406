//! The statement model: what a statement *is*, independent of any dialect or driver.
//!
//! Typed statements ([`Select<R>`], [`Insert<R>`]) wrap untyped ones ([`SelectStmt`],
//! [`InsertStmt`]); `R` is what each result row decodes into. The renderer (`crate::render`)
//! turns the untyped form plus a [`Dialect`](crate::dialect::Dialect) into [`Compiled`] SQL.

mod expr;

use std::fmt;
use std::marker::PhantomData;

pub use expr::{AsExpr, BinOp, Column, Expr, Expression, Nullable, SqlExpr, Text, null_of};

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::schema::{FromRow, Insertable, TableDef};
use crate::value::Value;

/// A typed statement: the untyped `$stmt` plus the row type `R`, which takes no part in
/// `Clone` or `Debug` (so neither requires anything of `R`).
macro_rules! typed_statement {
    ($(#[$attr:meta])* $name:ident<R>($stmt:ident)) => {
        $(#[$attr])*
        pub struct $name<R> {
            stmt: $stmt,
            _row: PhantomData<fn() -> R>,
        }

        impl<R> Clone for $name<R> {
            fn clone(&self) -> Self {
                $name {
                    stmt: self.stmt.clone(),
                    _row: PhantomData,
                }
            }
        }

        impl<R> fmt::Debug for $name<R> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.stmt.fmt(f)
            }
        }

        impl<R> $name<R> {
            /// The untyped statement.
            pub fn as_stmt(&self) -> &$stmt {
                &self.stmt
            }
        }
    };
}

/// A statement rendered for one dialect: SQL text and its bound parameters, in order.
#[derive(Clone, PartialEq)]
pub struct Compiled {
    sql: String,
    params: Vec<Value>,
}

impl Compiled {
    pub(crate) fn new(sql: String, params: Vec<Value>) -> Self {
        Compiled { sql, params }
    }
    /// The SQL text, with the dialect's placeholders.
    pub fn sql(&self) -> &str {
        &self.sql
    }
    /// The bound parameters, in placeholder order.
    pub fn params(&self) -> &[Value] {
        &self.params
    }
}

/// The SQL, then `-- params: [...]`: the form snapshots take.
impl fmt::Display for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}\n-- params: {:?}", self.sql, self.params)
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
}

impl<S: Compile + ?Sized> Compile for &S {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        (**self).compile(dialect)
    }
}

impl<S: Statement + ?Sized> Statement for &S {
    type Row = S::Row;
}

/// One `ORDER BY` term.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub(crate) expr: SqlExpr,
    pub(crate) descending: bool,
}

impl OrderBy {
    pub(crate) fn new(expr: SqlExpr, descending: bool) -> Self {
        OrderBy { expr, descending }
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

/// One item of a select list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SelectItem {
    /// Every column of a table, in declaration order.
    Table(&'static TableDef),
    /// One expression.
    Expr(SqlExpr),
}

/// An untyped `SELECT`.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectStmt {
    pub(crate) items: Vec<SelectItem>,
    pub(crate) from: Vec<&'static TableDef>,
    pub(crate) where_: Option<SqlExpr>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<SqlExpr>,
    pub(crate) offset: Option<SqlExpr>,
}

typed_statement! {
    /// A typed `SELECT` whose rows decode into `R`.
    ///
    /// Built by `select!(…)` or `User::select()`; every builder method consumes and returns it.
    Select<R>(SelectStmt)
}

impl<R> Select<R> {
    /// `SELECT <every column of table> FROM table`.
    pub fn from_table(table: &'static TableDef) -> Self {
        Select {
            stmt: SelectStmt {
                items: vec![SelectItem::Table(table)],
                from: vec![table],
                where_: None,
                order_by: Vec::new(),
                limit: None,
                offset: None,
            },
            _row: PhantomData,
        }
    }

    /// Add a `WHERE` condition; several are joined with `AND`.
    pub fn filter<C: AsExpr<bool>>(mut self, condition: C) -> Self {
        self.stmt.where_ = Some(and_where(self.stmt.where_.take(), condition.into_expr()));
        self
    }

    /// Same as [`Select::filter`], named as SQLAlchemy names it.
    pub fn where_<C: AsExpr<bool>>(self, condition: C) -> Self {
        self.filter(condition)
    }

    /// Append an `ORDER BY` term.
    pub fn order_by<O: IntoOrderBy>(mut self, term: O) -> Self {
        self.stmt.order_by.push(term.into_order_by());
        self
    }

    /// `LIMIT n`, bound as a parameter.
    pub fn limit(mut self, n: u64) -> Self {
        self.stmt.limit = Some(SqlExpr::Param(Value::I64(saturating_i64(n))));
        self
    }

    /// `OFFSET n`, bound as a parameter.
    pub fn offset(mut self, n: u64) -> Self {
        self.stmt.offset = Some(SqlExpr::Param(Value::I64(saturating_i64(n))));
        self
    }
}

fn saturating_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl<R> Compile for Select<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        crate::render::select(&self.stmt, dialect)
    }
}

impl<R: FromRow> Statement for Select<R> {
    type Row = R;
}

/// An untyped `INSERT`.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertStmt {
    pub(crate) table: &'static TableDef,
    pub(crate) columns: Vec<usize>,
    pub(crate) rows: Vec<Vec<SqlExpr>>,
    /// A problem found while building, reported when the statement is compiled.
    pub(crate) error: Option<String>,
}

typed_statement! {
    /// A typed `INSERT`; `R` is `()` until a `RETURNING` clause is added.
    Insert<R>(InsertStmt)
}

impl Insert<()> {
    /// `INSERT INTO table` with no values yet; add them with [`Insert::value`].
    pub fn into_table(table: &'static TableDef) -> Self {
        Insert {
            stmt: InsertStmt {
                table,
                columns: Vec::new(),
                rows: vec![Vec::new()],
                error: None,
            },
            _row: PhantomData,
        }
    }

    /// One row per element of `rows`, in a single multi-row `VALUES`.
    pub fn from_rows<T: Insertable>(table: &'static TableDef, rows: &[T]) -> Self {
        let mut insert = Insert::into_table(table);
        insert.stmt.rows.clear();
        let mut pairs = Vec::new();
        for (n, row) in rows.iter().enumerate() {
            pairs.clear();
            row.values(&mut pairs);
            // An autoincrement key left at 0 is for the database to assign.
            pairs.retain(|(i, v)| !(table.columns()[*i].is_autoincrement() && is_zero(v)));
            let columns: Vec<usize> = pairs.iter().map(|(i, _)| *i).collect();
            if n == 0 {
                insert.stmt.columns = columns;
            } else if columns != insert.stmt.columns && insert.stmt.error.is_none() {
                insert.stmt.error = Some(format!(
                    "insert_many into \"{}\": row {} sets columns {} but row 0 sets {}; \
                     give every row's autoincrement key the same treatment (all 0 or all set)",
                    table.name(),
                    n,
                    column_list(table, &columns),
                    column_list(table, &insert.stmt.columns),
                ));
            }
            insert
                .stmt
                .rows
                .push(pairs.drain(..).map(|(_, v)| SqlExpr::Param(v)).collect());
        }
        if rows.is_empty() {
            insert.stmt.error = Some(format!("insert_many into \"{}\" got no rows", table.name()));
        }
        insert
    }
}

fn is_zero(v: &Value) -> bool {
    matches!(v, Value::I16(0) | Value::I32(0) | Value::I64(0))
}

fn column_list(table: &TableDef, columns: &[usize]) -> String {
    let names: Vec<&str> = columns.iter().map(|i| table.columns()[*i].name()).collect();
    format!("({})", names.join(", "))
}

impl<R> Insert<R> {
    /// Set `column` to `value` in the (single) row being inserted.
    pub fn value<T, V, X: AsExpr<V>>(self, column: Column<T, V>, value: X) -> Self {
        self.value_expr(column.index(), value.into_expr())
    }

    /// Set the column at `index` to an untyped expression; used by `insert!` for `None`.
    pub fn value_expr(mut self, index: usize, value: SqlExpr) -> Self {
        if let Some(pos) = self.stmt.columns.iter().position(|c| *c == index) {
            self.stmt.rows[0][pos] = value;
        } else {
            self.stmt.columns.push(index);
            self.stmt.rows[0].push(value);
        }
        self
    }
}

impl<R> Compile for Insert<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        if let Some(message) = &self.stmt.error {
            return Err(Error::config(message.clone()));
        }
        crate::render::insert(&self.stmt, dialect)
    }
}

impl<R: FromRow> Statement for Insert<R> {
    type Row = R;
}

/// An untyped `UPDATE`.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateStmt {
    pub(crate) table: &'static TableDef,
    pub(crate) assignments: Vec<(usize, SqlExpr)>,
    pub(crate) where_: Option<SqlExpr>,
}

typed_statement! {
    /// A typed `UPDATE`; `R` is `()` until a `RETURNING` clause is added.
    ///
    /// ```
    /// use quarry::prelude::*;
    /// use quarry::dialect::Sqlite;
    ///
    /// #[derive(Table)]
    /// #[table(name = "users")]
    /// struct User {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    ///     hair_color: Option<String>,
    /// }
    ///
    /// let built = User::update().set(User::name, "ed").set(User::hair_color, None::<String>)
    ///     .filter(User::id.eq(5));
    /// let written = update!(User SET name = "ed", hair_color = None WHERE User::id == 5);
    /// assert_eq!(built.compile(&Sqlite)?, written.compile(&Sqlite)?);
    /// assert_eq!(
    ///     written.compile(&Sqlite)?.sql(),
    ///     "UPDATE users SET name=?, hair_color=? WHERE users.id = ?"
    /// );
    /// # Ok::<(), quarry::Error>(())
    /// ```
    Update<R>(UpdateStmt)
}

impl Update<()> {
    /// `UPDATE table` with nothing set yet.
    pub fn table(table: &'static TableDef) -> Self {
        Update {
            stmt: UpdateStmt {
                table,
                assignments: Vec::new(),
                where_: None,
            },
            _row: PhantomData,
        }
    }
}

impl<R> Update<R> {
    /// `SET column = value`; `value` may be a Rust value (bound) or an expression of the same
    /// type, such as another column. Setting a column twice keeps the last value.
    pub fn set<T, V, X: AsExpr<V>>(self, column: Column<T, V>, value: X) -> Self {
        self.set_expr(column.index(), value.into_expr())
    }

    /// `SET` the column at `index` to an untyped expression; used by `update!` for `None`.
    pub fn set_expr(mut self, index: usize, value: SqlExpr) -> Self {
        match self.stmt.assignments.iter_mut().find(|(i, _)| *i == index) {
            Some(slot) => slot.1 = value,
            None => self.stmt.assignments.push((index, value)),
        }
        self
    }

    /// Add a `WHERE` condition; several are joined with `AND`.
    pub fn filter<C: AsExpr<bool>>(mut self, condition: C) -> Self {
        self.stmt.where_ = Some(and_where(self.stmt.where_.take(), condition.into_expr()));
        self
    }
}

impl<R> Compile for Update<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        if self.stmt.assignments.is_empty() {
            return Err(Error::config(format!(
                "UPDATE of \"{}\" sets no column; add .set(column, value)",
                self.stmt.table.name()
            )));
        }
        crate::render::update(&self.stmt, dialect)
    }
}

impl<R: FromRow> Statement for Update<R> {
    type Row = R;
}

/// An untyped `DELETE`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteStmt {
    pub(crate) table: &'static TableDef,
    pub(crate) where_: Option<SqlExpr>,
}

typed_statement! {
    /// A typed `DELETE`; `R` is `()` until a `RETURNING` clause is added.
    Delete<R>(DeleteStmt)
}

impl Delete<()> {
    /// `DELETE FROM table`: every row, until a filter is added.
    pub fn from_table(table: &'static TableDef) -> Self {
        Delete {
            stmt: DeleteStmt {
                table,
                where_: None,
            },
            _row: PhantomData,
        }
    }
}

impl<R> Delete<R> {
    /// Add a `WHERE` condition; several are joined with `AND`.
    pub fn filter<C: AsExpr<bool>>(mut self, condition: C) -> Self {
        self.stmt.where_ = Some(and_where(self.stmt.where_.take(), condition.into_expr()));
        self
    }
}

impl<R> Compile for Delete<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        crate::render::delete(&self.stmt, dialect)
    }
}

impl<R: FromRow> Statement for Delete<R> {
    type Row = R;
}

/// `previous AND condition`, or `condition` alone.
fn and_where(previous: Option<SqlExpr>, condition: SqlExpr) -> SqlExpr {
    match previous {
        None => condition,
        Some(prev) => SqlExpr::binary(prev, BinOp::And, condition),
    }
}
