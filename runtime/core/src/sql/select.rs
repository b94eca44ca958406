//! `SELECT`: the untyped [`SelectStmt`], the typed [`Select<R>`] and its select lists, joins,
//! aliases, subqueries and compound selects (`UNION`, …).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use super::{
    AsExpr, Column, Expr, Expression, InOperand, IntoOrderBy, OrderBy, SqlExpr, TableRef, and_where,
};
use super::{Subquery, Table};
use crate::schema::{FromRow, TableDef};
use crate::value::{ColumnType, Value};

/// One item of a select list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SelectItem {
    /// Every column of a table, in declaration order.
    Table(TableRef),
    /// One expression.
    Expr(SqlExpr),
    /// An expression under a name of its own: `count(posts.id) AS n`.
    Labeled {
        /// The expression.
        expr: SqlExpr,
        /// Its name in the result.
        label: Cow<'static, str>,
    },
}

/// A typed expression with a name: `count(Post::id).label("n")` selects `count(posts.id) AS n`,
/// decoded as `V`.
pub struct Labeled<V> {
    expr: SqlExpr,
    label: Cow<'static, str>,
    _marker: PhantomData<fn() -> V>,
}

impl<V> Labeled<V> {
    pub(crate) fn new(expr: SqlExpr, label: Cow<'static, str>) -> Self {
        Labeled {
            expr,
            label,
            _marker: PhantomData,
        }
    }
}

impl<V> Clone for Labeled<V> {
    fn clone(&self) -> Self {
        Labeled::new(self.expr.clone(), self.label.clone())
    }
}

impl<V> fmt::Debug for Labeled<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} AS {}", self.expr, self.label)
    }
}

impl<V: ColumnType + FromRow> SelectItems for Labeled<V> {
    type Row = V;
    fn push_items(self, out: &mut Vec<SelectItem>) {
        out.push(SelectItem::Labeled {
            expr: self.expr,
            label: self.label,
        });
    }
}

/// A table in `FROM` with the tables joined to it.
#[derive(Debug, Clone, PartialEq)]
pub struct FromItem {
    pub(crate) table: TableRef,
    pub(crate) joins: Vec<Join>,
}

impl FromItem {
    /// Whether `t` is this item's table or one joined to it.
    pub(crate) fn covers(&self, t: &TableRef) -> bool {
        self.table == *t || self.joins.iter().any(|j| j.covers(t))
    }
}

/// `[LEFT OUTER] JOIN table ON condition`, or with a join nested on the right,
/// `LEFT OUTER JOIN (table JOIN other ON …) ON condition`.
#[derive(Debug, Clone, PartialEq)]
pub struct Join {
    pub(crate) table: TableRef,
    pub(crate) on: SqlExpr,
    pub(crate) outer: bool,
    /// `FULL OUTER JOIN` (with `outer`).
    pub(crate) full: bool,
    /// The joins inside the parentheses, after `table` (none: no parentheses).
    pub(crate) nested: Vec<Join>,
}

impl Join {
    /// Whether `t` is the joined table or one of the joins nested in it.
    fn covers(&self, t: &TableRef) -> bool {
        self.table == *t || self.nested.iter().any(|j| j.covers(t))
    }

    /// Call `f` with the joined table and the tables of the joins nested in it, in order.
    pub(crate) fn for_each_table<'a>(&'a self, f: &mut dyn FnMut(&'a TableRef)) {
        f(&self.table);
        self.nested.iter().for_each(|j| j.for_each_table(f));
    }
}

/// Tables joined among themselves, to be joined as one on the right of another join:
/// `joined(Post::table()).join(Comment::table(), …)` given to
/// [`Select::left_join`] is `LEFT OUTER JOIN (posts JOIN comments ON …) ON …`, as
/// SQLAlchemy writes `users.outerjoin(posts.join(comments, …), …)`.
#[derive(Debug, Clone)]
pub struct Joined {
    table: TableRef,
    joins: Vec<Join>,
}

/// The start of a [`Joined`]: `table`, to which `.join(…)` / `.left_join(…)` add.
pub fn joined<F: IntoFrom>(table: F) -> Joined {
    Joined {
        table: table.into_from(),
        joins: Vec::new(),
    }
}

impl Joined {
    fn add(mut self, target: impl JoinTarget, on: SqlExpr, outer: bool, full: bool) -> Self {
        let (table, nested) = target.into_join_target();
        self.joins.push(Join {
            table,
            on,
            outer,
            full,
            nested,
        });
        self
    }

    /// `… JOIN table ON condition`.
    pub fn join<F: JoinTarget, C: AsExpr<bool>>(self, table: F, on: C) -> Self {
        self.add(table, on.into_expr(), false, false)
    }

    /// `… LEFT OUTER JOIN table ON condition`.
    pub fn left_join<F: JoinTarget, C: AsExpr<bool>>(self, table: F, on: C) -> Self {
        self.add(table, on.into_expr(), true, false)
    }

    /// `… FULL OUTER JOIN table ON condition` (not on MySQL).
    pub fn full_join<F: JoinTarget, C: AsExpr<bool>>(self, table: F, on: C) -> Self {
        self.add(table, on.into_expr(), true, true)
    }
}

/// What a join joins: a table, alias or subquery ([`IntoFrom`]), or tables [`Joined`] among
/// themselves (written in parentheses).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be joined",
    label = "expected a table (all::<User>(), User::table()), an alias, a subquery, a CTE or joined(…)"
)]
pub trait JoinTarget {
    /// The table and the joins nested in it.
    fn into_join_target(self) -> (TableRef, Vec<Join>);
}

impl<F: IntoFrom> JoinTarget for F {
    fn into_join_target(self) -> (TableRef, Vec<Join>) {
        (self.into_from(), Vec::new())
    }
}

impl JoinTarget for Joined {
    fn into_join_target(self) -> (TableRef, Vec<Join>) {
        (self.table, self.joins)
    }
}

/// An untyped `SELECT`.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectStmt {
    pub(crate) distinct: bool,
    /// `DISTINCT ON (…)` (PostgreSQL).
    pub(crate) distinct_on: Vec<SqlExpr>,
    pub(crate) items: Vec<SelectItem>,
    /// Tables named explicitly (`FROM`, joins); the renderer adds the ones the select list and
    /// `WHERE` use, as SQLAlchemy does.
    pub(crate) from: Vec<FromItem>,
    pub(crate) where_: Option<SqlExpr>,
    pub(crate) group_by: Vec<SqlExpr>,
    pub(crate) having: Option<SqlExpr>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<SqlExpr>,
    pub(crate) offset: Option<SqlExpr>,
    /// `FOR UPDATE` and its kin.
    pub(crate) lock: Option<Lock>,
    /// Which tables of the enclosing query this select, as a subquery, correlates to.
    pub(crate) correlation: Correlation,
}

/// Which tables of the enclosing query a subquery leaves out of its `FROM` (correlates to).
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) enum Correlation {
    /// SQLAlchemy's auto-correlation: every table of the enclosing query, when the subquery
    /// has others.
    #[default]
    Auto,
    /// Only these (`correlate`), even when no other table is left.
    Only(Vec<TableRef>),
    /// Every table of the enclosing query but these (`correlate_except`).
    Except(Vec<TableRef>),
}

/// A row-locking clause: `FOR UPDATE [OF t] [NOWAIT | SKIP LOCKED]`, `FOR SHARE`
/// (MySQL's `LOCK IN SHARE MODE`); SQLite has none and writes nothing, as SQLAlchemy does.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lock {
    /// A shared lock (`FOR SHARE`) rather than an exclusive one (`FOR UPDATE`); `None` while
    /// only `NOWAIT` / `SKIP LOCKED` / `OF` were asked for, a mistake reported on compiling.
    pub(crate) share: Option<bool>,
    pub(crate) of: Vec<TableRef>,
    pub(crate) nowait: bool,
    pub(crate) skip_locked: bool,
}

impl SelectStmt {
    pub(crate) fn new(items: Vec<SelectItem>) -> Self {
        SelectStmt {
            distinct: false,
            distinct_on: Vec::new(),
            items,
            from: Vec::new(),
            where_: None,
            group_by: Vec::new(),
            having: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
            lock: None,
            correlation: Correlation::Auto,
        }
    }

    /// The `FROM` list SQLAlchemy would render before correlation: the explicit items, then
    /// each table the select list and then `WHERE` use that no explicit item covers.
    pub(crate) fn froms(&self) -> Vec<FromItem> {
        let mut froms = self.from.clone();
        let mut add = |t: &TableRef| {
            if !froms.iter().any(|f| f.covers(t)) {
                froms.push(FromItem {
                    table: t.clone(),
                    joins: Vec::new(),
                });
            }
        };
        for item in &self.items {
            match item {
                SelectItem::Table(t) => add(t),
                SelectItem::Expr(e) | SelectItem::Labeled { expr: e, .. } => {
                    e.for_each_table(&mut add)
                }
            }
        }
        if let Some(w) = &self.where_ {
            w.for_each_table(&mut add);
        }
        froms
    }

    /// Whether this select needs parentheses as a member of a compound select.
    pub(crate) fn has_own_ordering(&self) -> bool {
        !self.order_by.is_empty() || self.limit.is_some() || self.offset.is_some()
    }
}

/// A typed statement: the untyped statement plus the row type `R` and, for statements written
/// with a macro, the call site's SQL cache.
macro_rules! typed_statement {
    ($(#[$attr:meta])* $name:ident<R>($stmt:ident)) => {
        $(#[$attr])*
        pub struct $name<R> {
            pub(crate) stmt: $crate::sql::fast::Model<$stmt>,
            pub(crate) cache: Option<&'static $crate::sql::cache::SqlCache>,
            _row: PhantomData<fn() -> R>,
        }

        impl<R> Clone for $name<R> {
            fn clone(&self) -> Self {
                $name {
                    stmt: self.stmt.clone(),
                    cache: self.cache,
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
            pub(crate) fn wrap(
                stmt: $stmt,
                cache: Option<&'static $crate::sql::cache::SqlCache>,
            ) -> Self {
                $name::from_model($crate::sql::fast::Model::built(stmt), cache)
            }

            pub(crate) fn from_model(
                stmt: $crate::sql::fast::Model<$stmt>,
                cache: Option<&'static $crate::sql::cache::SqlCache>,
            ) -> Self {
                $name { stmt, cache, _row: PhantomData }
            }

            /// The untyped statement.
            pub fn as_stmt(&self) -> &$stmt {
                &self.stmt
            }

            /// The untyped statement, for changing it: the cached SQL no longer applies.
            pub(crate) fn edit(&mut self) -> &mut $stmt {
                self.cache = None;
                &mut self.stmt
            }

            /// Keep this statement's SQL in `cache`, one text per dialect: `select!` and the
            /// other statement macros attach a `static` cache per call site, so a statement
            /// whose values alone change is rendered once per dialect. Later builder calls
            /// detach the cache. See [`SqlCache`](crate::sql::SqlCache).
            pub fn cached(mut self, cache: &'static $crate::sql::cache::SqlCache) -> Self {
                self.cache = Some(cache);
                self
            }

            /// The SQL cache attached by [`cached`](Self::cached), if any.
            pub fn sql_cache(&self) -> Option<&'static $crate::sql::cache::SqlCache> {
                self.cache
            }
        }
    };
}
pub(crate) use typed_statement;

typed_statement! {
    /// A typed `SELECT` whose rows decode into `R`.
    ///
    /// Built by `select!(…)`, `User::select()` or [`select`]; every builder method consumes and
    /// returns it.
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
    /// }
    /// #[derive(Table)]
    /// #[table(name = "posts")]
    /// struct Post {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     #[column(references = User::id)]
    ///     user_id: i64,
    ///     title: String,
    /// }
    ///
    /// let built = quarry::select((User::name, Post::title))
    ///     .join(Post::table(), Post::user_id.eq(User::id))
    ///     .filter(User::id.eq(5));
    /// let written = select!(User::name, Post::title FROM User JOIN Post ON Post::user_id == User::id
    ///     WHERE User::id == 5);
    /// assert_eq!(built.compile(&Sqlite)?, written.compile(&Sqlite)?);
    /// assert_eq!(
    ///     written.compile(&Sqlite)?.sql(),
    ///     "SELECT users.name, posts.title FROM users JOIN posts ON posts.user_id = users.id \
    ///      WHERE users.id = ?"
    /// );
    /// # Ok::<(), quarry::Error>(())
    /// ```
    Select<R>(SelectStmt)
}

/// `SELECT items`: a typed select of a select list (a column, an expression, a table through
/// [`all`], an [`Alias`], or a tuple of these). `FROM` follows from the columns used.
pub fn select<I: SelectItems>(items: I) -> Select<I::Row> {
    let mut list = Vec::new();
    items.push_items(&mut list);
    Select::wrap(SelectStmt::new(list), None)
}

impl<R> Select<R> {
    /// `SELECT <every column of table> FROM table`.
    pub fn from_table(table: &'static TableDef) -> Self {
        Select::wrap(
            SelectStmt::new(vec![SelectItem::Table(TableRef::new(table))]),
            None,
        )
    }

    /// Name a table in `FROM` explicitly (SQLAlchemy's `select_from`); tables the select list
    /// uses are added without it.
    pub fn from<F: IntoFrom>(mut self, table: F) -> Self {
        let table = table.into_from();
        let stmt = self.edit();
        if !stmt.from.iter().any(|f| f.covers(&table)) {
            stmt.from.push(FromItem {
                table,
                joins: Vec::new(),
            });
        }
        self
    }

    /// `JOIN table ON condition`, joined to the last table named in `FROM` (or, with none, to
    /// the first table the select list uses).
    pub fn join<F: JoinTarget, C: AsExpr<bool>>(self, table: F, on: C) -> Self {
        self.add_join(table, on.into_expr(), false, false)
    }

    /// `FULL OUTER JOIN table ON condition`: the rows of both sides, matched or not, so the
    /// columns of either may be `NULL` (select them through [`nullable`]). PostgreSQL and
    /// SQLite (≥ 3.39); [`Error::Unsupported`](crate::Error::Unsupported) on MySQL.
    pub fn full_join<F: JoinTarget, C: AsExpr<bool>>(self, table: F, on: C) -> Self {
        self.add_join(table, on.into_expr(), true, true)
    }

    /// `LEFT OUTER JOIN table ON condition`. The joined table's columns may be `NULL`: select
    /// them through [`nullable`] (which `select!` does by itself).
    pub fn left_join<F: JoinTarget, C: AsExpr<bool>>(self, table: F, on: C) -> Self {
        self.add_join(table, on.into_expr(), true, false)
    }

    fn add_join(mut self, target: impl JoinTarget, on: SqlExpr, outer: bool, full: bool) -> Self {
        let (table, nested) = target.into_join_target();
        let stmt = self.edit();
        if stmt.from.is_empty() {
            let froms = stmt.froms();
            if let Some(first) = froms.into_iter().find(|f| f.table != table) {
                stmt.from.push(first);
            }
        }
        match stmt.from.last_mut() {
            Some(last) => last.joins.push(Join {
                table,
                on,
                outer,
                full,
                nested,
            }),
            // Nothing to join to: the table becomes the FROM and the condition a filter.
            None => {
                stmt.from.push(FromItem {
                    table,
                    joins: nested,
                });
                stmt.where_ = Some(and_where(stmt.where_.take(), on));
            }
        }
        self
    }

    /// This select as a table named `name` (a derived table), usable in `FROM` and `JOIN` of
    /// macros and builders: SQLAlchemy's `select(…).subquery("name")`. See [`Subquery`].
    pub fn subquery(self, name: impl Into<String>) -> Subquery<R> {
        Subquery::new(name.into(), self.stmt.into_inner())
    }

    /// This select as a common table expression named `name`: written once in the
    /// statement's `WITH` clause, named by `FROM` and `JOIN` like a table (SQLAlchemy's
    /// `select(…).cte("name")`). See [`Cte`](super::Cte).
    pub fn cte(self, name: impl Into<String>) -> super::Cte<R> {
        Subquery::of(
            super::source::DerivedTable::new(name.into(), self.stmt.into_inner())
                .with_kind(super::source::DerivedKind::Cte { recursive: false }),
        )
    }

    /// This select as the first member of a recursive common table expression (`WITH
    /// RECURSIVE`); give the recursive member with
    /// [`union_all`](super::RecursiveCte::union_all). See [`RecursiveCte`](super::RecursiveCte).
    pub fn cte_recursive(self, name: impl Into<String>) -> super::RecursiveCte<R> {
        super::RecursiveCte::new(name.into(), self.stmt.into_inner())
    }

    fn lock(&mut self) -> &mut Lock {
        self.edit().lock.get_or_insert_with(Lock::default)
    }

    /// `FOR UPDATE`: lock the rows read until the transaction ends. PostgreSQL and MySQL;
    /// SQLite writes nothing, as SQLAlchemy does (it locks the whole database on the first
    /// write instead: begin the transaction with a write, or `BEGIN IMMEDIATE`).
    pub fn for_update(mut self) -> Self {
        self.lock().share = Some(false);
        self
    }

    /// `FOR SHARE` (MySQL: `LOCK IN SHARE MODE`): lock the rows read against writers only.
    pub fn for_share(mut self) -> Self {
        self.lock().share = Some(true);
        self
    }

    /// `NOWAIT` after [`for_update`](Self::for_update) / [`for_share`](Self::for_share):
    /// fail at once on a locked row instead of waiting. Without either it is an error when the
    /// statement compiles.
    pub fn nowait(mut self) -> Self {
        self.lock().nowait = true;
        self
    }

    /// `SKIP LOCKED` after [`for_update`](Self::for_update) / [`for_share`](Self::for_share):
    /// leave out rows another transaction holds (a work queue). Without either it is an error
    /// when the statement compiles.
    pub fn skip_locked(mut self) -> Self {
        self.lock().skip_locked = true;
        self
    }

    /// `OF table` after [`for_update`](Self::for_update): lock only that table's rows of a
    /// join (PostgreSQL; [`Error::Unsupported`](crate::Error::Unsupported) on MySQL, whose
    /// MariaDB has no `OF`).
    pub fn of<F: IntoFrom>(mut self, table: F) -> Self {
        let table = table.into_from();
        self.lock().of.push(table);
        self
    }

    /// As a subquery, correlate to `table` of the enclosing query only (SQLAlchemy's
    /// `correlate()`): it is left out of this select's `FROM` when the enclosing query has
    /// it, and no other table is. Call again for more tables.
    pub fn correlate<F: IntoFrom>(mut self, table: F) -> Self {
        let table = table.into_from();
        let stmt = self.edit();
        match &mut stmt.correlation {
            Correlation::Only(list) => list.push(table),
            other => *other = Correlation::Only(vec![table]),
        }
        self
    }

    /// As a subquery, correlate to every table of the enclosing query but `table` (SQLAlchemy's
    /// `correlate_except()`): `table` stays in this select's `FROM`. Call again for more.
    pub fn correlate_except<F: IntoFrom>(mut self, table: F) -> Self {
        let table = table.into_from();
        let stmt = self.edit();
        match &mut stmt.correlation {
            Correlation::Except(list) => list.push(table),
            other => *other = Correlation::Except(vec![table]),
        }
        self
    }

    /// `SELECT DISTINCT ON (term, …)`: the first row of each group of equal `term`s, in
    /// `ORDER BY` order (PostgreSQL; [`Error::Unsupported`](crate::Error::Unsupported)
    /// elsewhere, where SQLAlchemy silently drops it). Call again for more terms.
    pub fn distinct_on<E: Expression>(mut self, term: E) -> Self {
        self.edit().distinct_on.push(term.into_sql());
        self
    }

    /// `SELECT DISTINCT`.
    pub fn distinct(mut self) -> Self {
        self.edit().distinct = true;
        self
    }

    /// Add a `WHERE` condition; several are joined with `AND`.
    pub fn filter<C: AsExpr<bool>>(mut self, condition: C) -> Self {
        let stmt = self.edit();
        stmt.where_ = Some(and_where(stmt.where_.take(), condition.into_expr()));
        self
    }

    /// Same as [`Select::filter`], named as SQLAlchemy names it.
    pub fn where_<C: AsExpr<bool>>(self, condition: C) -> Self {
        self.filter(condition)
    }

    /// Append a `GROUP BY` term.
    pub fn group_by<E: Expression>(mut self, term: E) -> Self {
        self.edit().group_by.push(term.into_sql());
        self
    }

    /// Add a `HAVING` condition; several are joined with `AND`.
    pub fn having<C: AsExpr<bool>>(mut self, condition: C) -> Self {
        let stmt = self.edit();
        stmt.having = Some(and_where(stmt.having.take(), condition.into_expr()));
        self
    }

    /// Append an `ORDER BY` term.
    pub fn order_by<O: IntoOrderBy>(mut self, term: O) -> Self {
        self.edit().order_by.push(term.into_order_by());
        self
    }

    /// `LIMIT n`, bound as a parameter.
    pub fn limit(mut self, n: u64) -> Self {
        self.edit().limit = Some(count_param(n));
        self
    }

    /// `OFFSET n`, bound as a parameter.
    pub fn offset(mut self, n: u64) -> Self {
        self.edit().offset = Some(count_param(n));
        self
    }

    /// `self UNION other`: rows of both, duplicates removed.
    pub fn union<M: SetMember<R>>(self, other: M) -> Compound<R> {
        Compound::new(self.stmt.into_inner(), SetOp::Union, other.into_member())
    }

    /// `self UNION ALL other`: rows of both.
    pub fn union_all<M: SetMember<R>>(self, other: M) -> Compound<R> {
        Compound::new(self.stmt.into_inner(), SetOp::UnionAll, other.into_member())
    }

    /// `self INTERSECT other`: rows in both.
    pub fn intersect<M: SetMember<R>>(self, other: M) -> Compound<R> {
        Compound::new(
            self.stmt.into_inner(),
            SetOp::Intersect,
            other.into_member(),
        )
    }

    /// `self EXCEPT other`: rows of `self` not in `other`.
    pub fn except<M: SetMember<R>>(self, other: M) -> Compound<R> {
        Compound::new(self.stmt.into_inner(), SetOp::Except, other.into_member())
    }

    /// `EXISTS (SELECT …)`; see [`exists`].
    pub fn exists(self) -> Expr<bool> {
        Expr::new(SqlExpr::Exists(Box::new(self.stmt.into_inner())))
    }

    /// This select as a scalar subquery `(SELECT …)`, an expression of type `R`.
    pub fn scalar(self) -> Expr<R>
    where
        R: ColumnType,
    {
        Expr::new(SqlExpr::Subquery(Box::new(self.stmt.into_inner())))
    }
}

fn count_param(n: u64) -> SqlExpr {
    SqlExpr::Param(Value::I64(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// `EXISTS (SELECT …)`: true when the subquery has a row. A subquery that uses a table of the
/// enclosing query is correlated to it (that table is left out of its `FROM`), as in
/// SQLAlchemy.
pub fn exists<R>(subquery: Select<R>) -> Expr<bool> {
    subquery.exists()
}

/// A one-column select as a scalar subquery wherever a value of its type fits:
/// `User::id.eq(select!(max(Post::user_id) FROM Post))`.
impl<V, R> AsExpr<V> for Select<R>
where
    V: ColumnType,
    R: ColumnType<Base = V::Base>,
{
    fn into_expr(self) -> SqlExpr {
        SqlExpr::Subquery(Box::new(self.stmt.into_inner()))
    }
}

/// `expr IN (SELECT …)` for a one-column select of the same type.
impl<V, R> InOperand<V> for Select<R>
where
    V: ColumnType,
    R: ColumnType<Base = V::Base>,
{
    fn in_expr(self, expr: SqlExpr) -> SqlExpr {
        SqlExpr::InSelect {
            expr: Box::new(expr),
            select: Box::new(self.stmt.into_inner()),
            negated: false,
        }
    }
}

/// A select list: one item or a tuple of items; [`SelectItems::Row`] is what each row decodes
/// into (a tuple for a tuple).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be selected",
    label = "expected a column, an expression, all::<Table>(), an alias, or a tuple of these"
)]
pub trait SelectItems {
    /// What a row of these items decodes into.
    type Row: FromRow;
    /// Append the items.
    fn push_items(self, out: &mut Vec<SelectItem>);
}

impl<T: Table, V: ColumnType + FromRow> SelectItems for Column<T, V> {
    type Row = V;
    fn push_items(self, out: &mut Vec<SelectItem>) {
        out.push(SelectItem::Expr(self.into_sql()));
    }
}

impl<V: ColumnType + FromRow> SelectItems for Expr<V> {
    type Row = V;
    fn push_items(self, out: &mut Vec<SelectItem>) {
        out.push(SelectItem::Expr(self.into_sql()));
    }
}

/// A one-column select in a select list: a scalar subquery `(SELECT …) AS anon_1`, correlated
/// to the enclosing query when it uses its tables. Its value is `NULL` when the subquery finds
/// no row, so it decodes into an `Option` whatever its column's type (`nullable(…)` around it
/// changes nothing and keeps the correlation).
impl<R> SelectItems for Select<R>
where
    R: ColumnType,
    R::Base: FromRow,
{
    type Row = Option<R::Base>;
    fn push_items(self, out: &mut Vec<SelectItem>) {
        out.push(SelectItem::Expr(SqlExpr::Subquery(Box::new(
            self.stmt.into_inner(),
        ))));
    }
}

/// Every column of table `T`, decoded into a `T`: `quarry::all::<User>()`.
pub struct All<T>(PhantomData<fn() -> T>);

impl<T> Clone for All<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for All<T> {}

impl<T: Table> fmt::Debug for All<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.*", T::table().name())
    }
}

/// Every column of `T`, as a select item or a `FROM` table.
pub fn all<T: Table>() -> All<T> {
    All(PhantomData)
}

impl<T: Table> SelectItems for All<T> {
    type Row = T;
    fn push_items(self, out: &mut Vec<SelectItem>) {
        out.push(SelectItem::Table(TableRef::new(T::table())));
    }
}

/// A table under another name, for joining a table to itself: `User::alias("manager")`
/// renders as `users AS manager`, and `manager.col(User::id)` as `manager.id`.
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
///     manager_id: Option<i64>,
/// }
///
/// let manager = User::alias("manager");
/// let stmt = select!(User::name, manager.col(User::name)
///     FROM User JOIN manager ON manager.col(User::id) == User::manager_id);
/// assert_eq!(
///     stmt.compile(&Sqlite)?.sql(),
///     "SELECT users.name, manager.name AS name_1 FROM users \
///      JOIN users AS manager ON manager.id = users.manager_id"
/// );
/// # Ok::<(), quarry::Error>(())
/// ```
pub struct Alias<T> {
    name: &'static str,
    _table: PhantomData<fn() -> T>,
}

impl<T> Clone for Alias<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Alias<T> {}

impl<T: Table> fmt::Debug for Alias<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} AS {}", T::table().name(), self.name)
    }
}

impl<T: Table> Alias<T> {
    /// `T`'s table under `name`.
    pub fn new(name: &'static str) -> Self {
        Alias {
            name,
            _table: PhantomData,
        }
    }
    /// The alias.
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// A column of `T` read through this alias.
    pub fn col<V>(&self, column: Column<T, V>) -> Column<T, V> {
        column.aliased(self.name)
    }

    /// `DELETE FROM table AS alias`; add `.filter(…)` on the alias's columns (SQLAlchemy's
    /// `delete(users.alias("u"))`). MySQL ≥ 8.0.16 takes it; MariaDB does not.
    pub fn delete(&self) -> super::Delete<()> {
        super::Delete::from_source(TableRef::aliased(T::table(), self.name))
    }
}

impl<T: Table> SelectItems for Alias<T> {
    type Row = T;
    fn push_items(self, out: &mut Vec<SelectItem>) {
        out.push(SelectItem::Table(TableRef::aliased(T::table(), self.name)));
    }
}

/// A select item that may be `NULL` as a whole, such as the table on the right of a
/// `LEFT OUTER JOIN`: a table decodes into `Option<T>` (`None` when every column is `NULL`),
/// a column `V` into `Option<V>`.
#[derive(Debug, Clone, Copy)]
pub struct NullableItem<I>(I);

/// Mark a select item as possibly `NULL`; see [`NullableItem`].
pub fn nullable<I: SelectItems>(item: I) -> NullableItem<I>
where
    I::Row: NullableRow,
{
    NullableItem(item)
}

impl<I: SelectItems> SelectItems for NullableItem<I>
where
    I::Row: NullableRow,
{
    type Row = <I::Row as NullableRow>::Out;
    fn push_items(self, out: &mut Vec<SelectItem>) {
        self.0.push_items(out);
    }
}

/// The `Option` form of a row type: `T` → `Option<T>`, `Option<T>` stays.
pub trait NullableRow {
    /// The nullable type.
    type Out: FromRow;
}

impl<T: Table> NullableRow for T {
    type Out = Option<T>;
}

impl<T: FromRow> NullableRow for Option<T> {
    type Out = Option<T>;
}

macro_rules! nullable_base {
    ($($t:ty),*) => {$(
        impl NullableRow for $t {
            type Out = Option<$t>;
        }
    )*};
}
nullable_base!(i16, i32, i64, f32, f64, bool, String, Vec<u8>);
crate::value::feature_types!(nullable_base);
crate::value::array_types!(nullable_base);

macro_rules! tuple_items {
    ($($name:ident)+) => {
        impl<$($name: SelectItems),+> SelectItems for ($($name,)+) {
            type Row = ($($name::Row,)+);
            #[allow(non_snake_case)]
            fn push_items(self, out: &mut Vec<SelectItem>) {
                let ($($name,)+) = self;
                $($name.push_items(out);)+
            }
        }
    };
}
tuple_items!(A);
tuple_items!(A B);
tuple_items!(A B C);
tuple_items!(A B C D);
tuple_items!(A B C D E);
tuple_items!(A B C D E F);
tuple_items!(A B C D E F G);
tuple_items!(A B C D E F G H);
tuple_items!(A B C D E F G H I);
tuple_items!(A B C D E F G H I J);
tuple_items!(A B C D E F G H I J K);
tuple_items!(A B C D E F G H I J K L);

/// Something that can stand in `FROM` or be joined: a table (`User::table()`,
/// [`all::<User>()`](all)) or an [`Alias`].
pub trait IntoFrom {
    /// The table reference.
    fn into_from(self) -> TableRef;
}

impl IntoFrom for &'static TableDef {
    fn into_from(self) -> TableRef {
        TableRef::new(self)
    }
}

impl<T: Table> IntoFrom for All<T> {
    fn into_from(self) -> TableRef {
        TableRef::new(T::table())
    }
}

impl<T: Table> IntoFrom for Alias<T> {
    fn into_from(self) -> TableRef {
        TableRef::aliased(T::table(), self.name)
    }
}

impl<T: Table> IntoFrom for &Alias<T> {
    fn into_from(self) -> TableRef {
        TableRef::aliased(T::table(), self.name)
    }
}

impl IntoFrom for TableRef {
    fn into_from(self) -> TableRef {
        self
    }
}

impl<R> IntoFrom for &super::Subquery<R> {
    fn into_from(self) -> TableRef {
        self.table_ref()
    }
}

impl IntoFrom for &super::DefinedTable {
    fn into_from(self) -> TableRef {
        self.table_ref()
    }
}

/// How a compound select combines its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SetOp {
    /// `UNION`
    Union,
    /// `UNION ALL`
    UnionAll,
    /// `INTERSECT`
    Intersect,
    /// `EXCEPT`
    Except,
}

impl SetOp {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            SetOp::Union => " UNION ",
            SetOp::UnionAll => " UNION ALL ",
            SetOp::Intersect => " INTERSECT ",
            SetOp::Except => " EXCEPT ",
        }
    }
}

/// A member of a compound select after the first: a `SELECT`, or a compound select of its
/// own (`a.union(b.intersect(c))`), written in parentheses as SQLAlchemy writes it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Member {
    /// `SELECT …`
    Select(Box<SelectStmt>),
    /// `(SELECT … INTERSECT SELECT …)`
    Compound(Box<CompoundStmt>),
}

/// What can follow `UNION`, `INTERSECT` … in a compound select of rows `R`: a [`Select`] or
/// a [`Compound`] of the same rows.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a member of a compound select of `{R}` rows",
    label = "expected a Select or a Compound with the same columns"
)]
pub trait SetMember<R> {
    /// The untyped member.
    fn into_member(self) -> Member;
}

impl<R> SetMember<R> for Select<R> {
    fn into_member(self) -> Member {
        Member::Select(Box::new(self.stmt.into_inner()))
    }
}

impl<R> SetMember<R> for Compound<R> {
    fn into_member(self) -> Member {
        Member::Compound(Box::new(self.stmt.into_inner()))
    }
}

/// `expr IN (SELECT … UNION SELECT …)` for a one-column compound select of the same type.
impl<V, R> InOperand<V> for Compound<R>
where
    V: ColumnType,
    R: ColumnType<Base = V::Base>,
{
    fn in_expr(self, expr: SqlExpr) -> SqlExpr {
        SqlExpr::InCompound {
            expr: Box::new(expr),
            compound: Box::new(self.stmt.into_inner()),
            negated: false,
        }
    }
}

/// An untyped compound select: `SELECT … UNION [ALL] SELECT …`.
#[derive(Debug, Clone, PartialEq)]
pub struct CompoundStmt {
    pub(crate) first: SelectStmt,
    pub(crate) rest: Vec<(SetOp, Member)>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) limit: Option<SqlExpr>,
    pub(crate) offset: Option<SqlExpr>,
}

typed_statement! {
    /// A typed compound select (`UNION`, `UNION ALL`, `INTERSECT`, `EXCEPT`) whose members all
    /// decode into `R`. `ORDER BY` names columns of the first member, as SQL requires.
    Compound<R>(CompoundStmt)
}

impl<R> Compound<R> {
    fn new(first: SelectStmt, op: SetOp, second: Member) -> Self {
        Compound::wrap(
            CompoundStmt {
                first,
                rest: vec![(op, second)],
                order_by: Vec::new(),
                limit: None,
                offset: None,
            },
            None,
        )
    }

    fn push<M: SetMember<R>>(mut self, op: SetOp, next: M) -> Self {
        self.edit().rest.push((op, next.into_member()));
        self
    }

    /// `… UNION next`.
    pub fn union<M: SetMember<R>>(self, next: M) -> Self {
        self.push(SetOp::Union, next)
    }

    /// `… UNION ALL next`.
    pub fn union_all<M: SetMember<R>>(self, next: M) -> Self {
        self.push(SetOp::UnionAll, next)
    }

    /// `… INTERSECT next`.
    pub fn intersect<M: SetMember<R>>(self, next: M) -> Self {
        self.push(SetOp::Intersect, next)
    }

    /// `… EXCEPT next`.
    pub fn except<M: SetMember<R>>(self, next: M) -> Self {
        self.push(SetOp::Except, next)
    }

    /// Append an `ORDER BY` term: a column of the first member's select list.
    pub fn order_by<O: IntoOrderBy>(mut self, term: O) -> Self {
        self.edit().order_by.push(term.into_order_by());
        self
    }

    /// `LIMIT n` on the whole compound.
    pub fn limit(mut self, n: u64) -> Self {
        self.edit().limit = Some(count_param(n));
        self
    }

    /// `OFFSET n` on the whole compound.
    pub fn offset(mut self, n: u64) -> Self {
        self.edit().offset = Some(count_param(n));
        self
    }
}
