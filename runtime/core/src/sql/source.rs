//! What can stand in `FROM` and `JOIN`: one [`FromSource`] model for a declared table, a table
//! defined at run time, and a subquery with a name (a derived table) — each possibly under an
//! alias, as a [`TableRef`]. Columns of any of them are `SqlExpr::Column { table, index }`;
//! the renderer writes `name.column` for all three and the source itself where `FROM` names
//! it (`users`, `users AS u2`, `(SELECT …) AS recent`).

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::select::{Select, SelectItem, SelectStmt, SetOp};
use super::{Column, Expr, SqlExpr, Table};
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, MetaData, TableDef};
use crate::value::{ColumnType, SqlType};

/// Where the rows of a `FROM` item come from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum FromSource {
    /// A table declared with `#[derive(Table)]`.
    Declared(&'static TableDef),
    /// A table defined at run time ([`MetaData::define`]).
    Defined(Arc<TableDef>),
    /// A subquery with a name: `(SELECT …) AS name` ([`Select::subquery`](super::Select::subquery)).
    Derived(Arc<DerivedTable>),
}

/// A `SELECT` used as a table: its select list gives the columns (named as the subquery labels
/// them), its statement is rendered where `FROM` names it.
pub struct DerivedTable {
    def: TableDef,
    select: SelectStmt,
    /// The members after the first of a recursive CTE's body (`UNION ALL SELECT …`).
    rest: Vec<(SetOp, SelectStmt)>,
    kind: DerivedKind,
    /// Where each column came from: the address of the table and the column's position, when
    /// the item is a plain column (addresses are compared, never followed).
    origins: Vec<Option<(usize, usize)>>,
}

/// What a derived table is rendered as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DerivedKind {
    /// `(SELECT …) AS name` where `FROM` names it.
    Subquery,
    /// A common table expression: `WITH name AS (SELECT …)` at the head of the statement,
    /// `name` where `FROM` names it. `recursive` for `WITH RECURSIVE name(columns) AS (…)`.
    Cte { recursive: bool },
    /// A recursive CTE named inside its own body: only its name is written.
    SelfReference,
    /// `LATERAL (SELECT …) AS name`: a subquery that may use the tables before it in `FROM`.
    Lateral,
}

/// The `MetaData` of derived tables: they belong to none, and are never registered.
static DERIVED: MetaData = MetaData::new();

fn address(table: &TableDef) -> usize {
    std::ptr::from_ref(table) as usize
}

impl DerivedTable {
    /// The derived table `name` over `select`, its select list labelled as SQLAlchemy labels
    /// a subquery's: every item `AS` its column's name (`users.id AS id`); a name already
    /// taken, or an expression without a label, gets a numbered one (`id_1`, `count_1`,
    /// `anon_1`); a [`label`](super::Expression::label) is kept.
    pub(crate) fn new(name: String, mut select: SelectStmt) -> Self {
        let mut columns: Vec<ColumnDef> = Vec::new();
        let mut origins = Vec::new();
        let mut counters: Vec<(String, u32)> = Vec::new();
        let mut unique = |columns: &[ColumnDef], base: &str, always_number: bool| -> String {
            if !always_number && !columns.iter().any(|c| c.name() == base) {
                return base.to_owned();
            }
            loop {
                let k = match counters.iter_mut().find(|(n, _)| n == base) {
                    Some((_, k)) => {
                        *k += 1;
                        *k
                    }
                    None => {
                        counters.push((base.to_owned(), 1));
                        1
                    }
                };
                let name = format!("{base}_{k}");
                if !columns.iter().any(|c| c.name() == name) {
                    return name;
                }
            }
        };
        let mut items = Vec::with_capacity(select.items.len());
        for item in std::mem::take(&mut select.items) {
            let mut column = |columns: &mut Vec<ColumnDef>, table: TableRef, index: usize| {
                let c = &table.def().columns()[index];
                let label = unique(columns, c.name(), false);
                columns.push(ColumnDef::named(
                    label.clone(),
                    c.sql_type(),
                    c.is_nullable(),
                ));
                // A column of a derived table or CTE stands for what that one selects, so
                // that `busy.col(Post::user_id)` finds `recent.user_id` selected by `busy`.
                let origin = match table.source() {
                    FromSource::Derived(d) => d.origins.get(index).copied().flatten(),
                    _ => None,
                };
                origins.push(Some(origin.unwrap_or((address(table.def()), index))));
                SelectItem::Labeled {
                    expr: SqlExpr::Column { table, index },
                    label: label.into(),
                }
            };
            match item {
                SelectItem::Table(t) => {
                    for index in 0..t.def().columns().len() {
                        items.push(column(&mut columns, t.clone(), index));
                    }
                }
                SelectItem::Expr(SqlExpr::Column { table, index }) => {
                    items.push(column(&mut columns, table, index));
                }
                SelectItem::Labeled { expr, label } => {
                    let label = unique(&columns, &label, false);
                    columns.push(ColumnDef::named(label.clone(), SqlType::Text, true));
                    origins.push(None);
                    items.push(SelectItem::Labeled {
                        expr,
                        label: label.into(),
                    });
                }
                SelectItem::Expr(expr) => {
                    let base = match &expr {
                        SqlExpr::Function { name, .. } => name,
                        _ => "anon",
                    };
                    let label = unique(&columns, base, true);
                    columns.push(ColumnDef::named(label.clone(), SqlType::Text, true));
                    origins.push(None);
                    items.push(SelectItem::Labeled {
                        expr,
                        label: label.into(),
                    });
                }
            }
        }
        select.items = items;
        DerivedTable {
            def: TableDef::build(name, columns, &DERIVED),
            select,
            rest: Vec::new(),
            kind: DerivedKind::Subquery,
            origins,
        }
    }

    /// The same table rendered as `kind`.
    pub(crate) fn with_kind(mut self, kind: DerivedKind) -> Self {
        self.kind = kind;
        self
    }

    /// A copy of this derived table's name, columns and first member, as `kind`, with
    /// `rest` as the members that follow.
    fn respun(&self, kind: DerivedKind, rest: Vec<(SetOp, SelectStmt)>) -> Self {
        let columns = self
            .def
            .columns()
            .iter()
            .map(|c| ColumnDef::named(c.name(), c.sql_type(), c.is_nullable()))
            .collect();
        DerivedTable {
            def: TableDef::build(self.def.name(), columns, &DERIVED),
            select: self.select.clone(),
            rest,
            kind,
            origins: self.origins.clone(),
        }
    }

    pub(crate) fn kind(&self) -> DerivedKind {
        self.kind
    }

    /// The members after the first (a recursive CTE's `UNION ALL SELECT …`).
    pub(crate) fn rest(&self) -> &[(SetOp, SelectStmt)] {
        &self.rest
    }

    /// Whether this is a common table expression (written in `WITH`).
    pub fn is_cte(&self) -> bool {
        matches!(self.kind, DerivedKind::Cte { .. })
    }

    /// The derived table's name and columns.
    pub fn def(&self) -> &TableDef {
        &self.def
    }

    /// The `SELECT` it stands for, its items labelled.
    pub fn select(&self) -> &SelectStmt {
        &self.select
    }

    /// The position of the column that selects column `index` of `table`.
    fn position_of(&self, table: &TableDef, index: usize) -> Option<usize> {
        let wanted = Some((address(table), index));
        self.origins.iter().position(|o| *o == wanted)
    }

    /// Whether column `index` selects a table's column (so its SQL type is known).
    fn is_plain_column(&self, index: usize) -> bool {
        self.origins.get(index).is_some_and(Option::is_some)
    }
}

impl fmt::Debug for DerivedTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:?}) AS {}", self.select, self.def.name())
    }
}

/// A table in a statement — declared, defined at run time or derived — under its own name or
/// an alias (`users AS u2`).
#[derive(Clone)]
pub struct TableRef {
    source: FromSource,
    alias: Option<&'static str>,
}

impl TableRef {
    /// The declared table under its own name.
    pub const fn new(def: &'static TableDef) -> Self {
        TableRef {
            source: FromSource::Declared(def),
            alias: None,
        }
    }
    /// The declared table under `alias`.
    pub const fn aliased(def: &'static TableDef, alias: &'static str) -> Self {
        TableRef {
            source: FromSource::Declared(def),
            alias: Some(alias),
        }
    }
    /// A table defined at run time, under its own name.
    pub fn defined(def: Arc<TableDef>) -> Self {
        TableRef {
            source: FromSource::Defined(def),
            alias: None,
        }
    }
    /// A derived table, under its own name.
    pub fn derived(table: Arc<DerivedTable>) -> Self {
        TableRef {
            source: FromSource::Derived(table),
            alias: None,
        }
    }
    /// The same source under `alias`.
    pub fn with_alias(mut self, alias: &'static str) -> Self {
        self.alias = Some(alias);
        self
    }
    /// Where the rows come from.
    pub fn source(&self) -> &FromSource {
        &self.source
    }
    /// The table's definition (a derived table's: its name and the columns it selects).
    pub fn def(&self) -> &TableDef {
        match &self.source {
            FromSource::Declared(def) => def,
            FromSource::Defined(def) => def,
            FromSource::Derived(derived) => &derived.def,
        }
    }
    /// The declared table, when it is one.
    pub fn declared(&self) -> Option<&'static TableDef> {
        match self.source {
            FromSource::Declared(def) => Some(def),
            _ => None,
        }
    }
    /// The alias, if any.
    pub fn alias(&self) -> Option<&'static str> {
        self.alias
    }
    /// The name columns are qualified with: the alias if any, else the table's name.
    pub fn name(&self) -> &str {
        match self.alias {
            Some(alias) => alias,
            None => self.def().name(),
        }
    }
}

/// Two references are the same when they name the same table (by identity) under the same
/// alias.
impl PartialEq for TableRef {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.def(), other.def()) && self.alias == other.alias
    }
}

impl fmt::Debug for TableRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.alias {
            Some(a) => write!(f, "{} AS {a}", self.def().name()),
            None => f.write_str(self.def().name()),
        }
    }
}

/// A column of `table` by SQL name, typed `V` by the caller, checked against the column's
/// declared type.
fn column_by_name<V: ColumnType>(table: &TableRef, name: &str) -> Result<Expr<V>> {
    let def = table.def();
    let Some(index) = def.columns().iter().position(|c| c.name() == name) else {
        let names: Vec<&str> = def.columns().iter().map(ColumnDef::name).collect();
        return Err(Error::config(format!(
            "no column named \"{name}\" in {} \"{}\"{}; it has {}",
            if matches!(table.source, FromSource::Derived(_)) {
                "subquery"
            } else {
                "table"
            },
            def.name(),
            crate::error::did_you_mean(name, names.iter().copied())
                .map(|m| format!("; did you mean \"{m}\"?"))
                .unwrap_or_default(),
            names.join(", ")
        )));
    };
    let column = &def.columns()[index];
    // A derived table's computed column has no declared type: the caller's stands.
    let typed = match &table.source {
        FromSource::Derived(derived) => derived.is_plain_column(index),
        _ => true,
    };
    let (asked, declared) = (V::SQL_TYPE, column.sql_type());
    let compatible = asked == declared || (asked.is_integer() && declared.is_integer());
    if typed && !compatible {
        return Err(Error::config(format!(
            "column \"{}\".\"{name}\" is {:?}, not the {:?} asked for",
            def.name(),
            column.sql_type(),
            V::SQL_TYPE
        )));
    }
    Ok(Expr::new(SqlExpr::Column {
        table: table.clone(),
        index,
    }))
}

/// A table defined at run time, registered in its `MetaData`: statements over it have
/// [`Row`](crate::Row) rows; its columns are reached by name with a Rust type of the
/// caller's choosing, checked against the column's SQL type.
///
/// ```
/// use quarry::prelude::*;
/// use quarry::{ColumnDef, DefinedTable, SqlType, TableDef};
///
/// static META: MetaData = MetaData::new();
///
/// let events = DefinedTable::define(&META, TableDef::build(
///     "events",
///     vec![
///         ColumnDef::named("id", SqlType::BigInt, false).primary_key().autoincrement(),
///         ColumnDef::named("kind", SqlType::Text, false),
///     ],
///     &META,
/// ))?;
/// let stmt = events.select().filter(events.column::<String>("kind")?.eq("login"));
/// assert_eq!(
///     stmt.compile(&quarry::dialect::Sqlite)?.sql(),
///     "SELECT events.id, events.kind FROM events WHERE events.kind = ?"
/// );
/// # Ok::<(), quarry::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DefinedTable {
    table: TableRef,
}

impl DefinedTable {
    /// Register `table` in `metadata` ([`MetaData::define`]) and return its handle.
    ///
    /// # Errors
    /// As [`MetaData::define`].
    pub fn define(metadata: &'static MetaData, table: TableDef) -> Result<Self> {
        Ok(DefinedTable::from(metadata.define(table)?))
    }

    /// The table's definition.
    pub fn def(&self) -> &TableDef {
        self.table.def()
    }

    /// The table as a `FROM` item.
    pub fn table_ref(&self) -> TableRef {
        self.table.clone()
    }

    /// The column named `name`, as an expression of type `V`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the column when the table has none of that name (with a
    /// did-you-mean) or when its SQL type is not `V`'s.
    pub fn column<V: ColumnType>(&self, name: &str) -> Result<Expr<V>> {
        column_by_name(&self.table, name)
    }

    /// `SELECT` every column of the table; rows are [`Row`](crate::Row)s.
    pub fn select(&self) -> super::Select<crate::Row> {
        super::Select::wrap(
            SelectStmt::new(vec![SelectItem::Table(self.table.clone())]),
            None,
        )
    }

    /// `INSERT INTO` the table; add values with [`Insert::value_named`](super::Insert::value_named).
    pub fn insert(&self) -> super::Insert<()> {
        super::Insert::into_source(self.table.clone())
    }

    /// `UPDATE` the table; add `.set_named(…)` and `.filter(…)`.
    pub fn update(&self) -> super::Update<()> {
        super::Update::of_source(self.table.clone())
    }

    /// `DELETE FROM` the table; add `.filter(…)`, or every row goes.
    pub fn delete(&self) -> super::Delete<()> {
        super::Delete::from_source(self.table.clone())
    }
}

impl From<Arc<TableDef>> for DefinedTable {
    fn from(def: Arc<TableDef>) -> Self {
        DefinedTable {
            table: TableRef::defined(def),
        }
    }
}

/// A `SELECT` with a name, usable as a table in `FROM` and `JOIN` (SQLAlchemy's
/// `select(…).subquery("name")`): `R` is the row type of the select it came from. Its columns
/// are reached with [`Subquery::col`] (typed by the column they select) or
/// [`Subquery::column`] (by name).
///
/// ```
/// use quarry::prelude::*;
///
/// #[derive(Table)]
/// #[table(name = "users")]
/// struct User {
///     #[column(primary_key)]
///     id: i64,
///     name: String,
/// }
///
/// let named = select!(User::id, User::name FROM User WHERE User::name.like("e%")).subquery("named");
/// let stmt = select!(named.col(User::name) FROM named WHERE named.col(User::id) > 5);
/// assert_eq!(
///     stmt.compile(&quarry::dialect::Postgres)?.sql(),
///     "SELECT named.name FROM (SELECT users.id AS id, users.name AS name FROM users \
///      WHERE users.name LIKE $1) AS named WHERE named.id > $2"
/// );
/// # Ok::<(), quarry::Error>(())
/// ```
pub struct Subquery<R> {
    derived: Arc<DerivedTable>,
    table: TableRef,
    _row: PhantomData<fn() -> R>,
}

impl<R> Clone for Subquery<R> {
    fn clone(&self) -> Self {
        Subquery {
            derived: Arc::clone(&self.derived),
            table: self.table.clone(),
            _row: PhantomData,
        }
    }
}

impl<R> fmt::Debug for Subquery<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.table.fmt(f)
    }
}

impl<R> Subquery<R> {
    pub(crate) fn new(name: String, select: SelectStmt) -> Self {
        Subquery::of(DerivedTable::new(name, select))
    }

    pub(crate) fn of(derived: DerivedTable) -> Self {
        let derived = Arc::new(derived);
        Subquery {
            table: TableRef::derived(Arc::clone(&derived)),
            derived,
            _row: PhantomData,
        }
    }

    /// The derived table's name and columns.
    pub fn def(&self) -> &TableDef {
        self.table.def()
    }

    /// The same subquery joined `LATERAL`: its `SELECT` may use the tables before it in
    /// `FROM` (correlated to them, as SQLAlchemy's `.lateral()`). PostgreSQL and MySQL 8;
    /// [`Error::Unsupported`](crate::Error::Unsupported) on SQLite (MariaDB has none either).
    pub fn lateral(&self) -> Subquery<R> {
        let d = &self.derived;
        let rest = d.rest.clone();
        Subquery::of(d.respun(DerivedKind::Lateral, rest))
    }

    /// The subquery as a `FROM` item.
    pub fn table_ref(&self) -> TableRef {
        self.table.clone()
    }

    /// The subquery's column that selects `column`: `named.col(User::name)` is `named.name`.
    /// A column the subquery does not select is an error when the statement compiles, naming
    /// it.
    pub fn col<T: Table, V>(&self, column: Column<T, V>) -> Expr<V> {
        let derived = &self.derived;
        match derived.position_of(T::table(), column.index()) {
            Some(index) => Expr::new(SqlExpr::Column {
                table: self.table.clone(),
                index,
            }),
            None => Expr::new(SqlExpr::Invalid(
                format!(
                    "subquery \"{}\" does not select {}.{}; add it to the subquery's select list",
                    derived.def.name(),
                    T::table().name(),
                    column.def().name()
                )
                .into(),
            )),
        }
    }

    /// The column named `name` (as the subquery labels it: `id`, `count_1`, a `.label(…)`),
    /// as an expression of type `V`.
    ///
    /// # Errors
    /// [`Error::Config`] when the subquery has no column of that name, or when a column it
    /// selects from a table has another SQL type than `V`'s.
    pub fn column<V: ColumnType>(&self, name: &str) -> Result<Expr<V>> {
        column_by_name(&self.table, name)
    }
}

/// A common table expression: a [`Subquery`] written once in the statement's `WITH` clause
/// and named by `FROM` and `JOIN` (SQLAlchemy's `select(…).cte("name")`). Its columns are
/// reached as a subquery's, with [`Subquery::col`] and [`Subquery::column`].
///
/// ```
/// use quarry::prelude::*;
/// use quarry::func::count;
///
/// #[derive(Table)]
/// #[table(name = "posts")]
/// struct Post {
///     #[column(primary_key)]
///     id: i64,
///     user_id: i64,
/// }
///
/// let recent = select!(Post::user_id, count(Post::id) FROM Post GROUP BY Post::user_id).cte("recent");
/// let posts = recent.column::<i64>("count_1")?;
/// let stmt = select!(recent.col(Post::user_id) FROM recent WHERE posts.gt(1));
/// assert_eq!(
///     stmt.compile(&quarry::dialect::Sqlite)?.sql(),
///     "WITH recent AS (SELECT posts.user_id AS user_id, count(posts.id) AS count_1 FROM posts \
///      GROUP BY posts.user_id) SELECT recent.user_id FROM recent WHERE recent.count_1 > ?"
/// );
/// # Ok::<(), quarry::Error>(())
/// ```
pub type Cte<R> = Subquery<R>;

/// The first member of a recursive common table expression, whose columns the recursive
/// member names (SQLAlchemy's `select(…).cte("name", recursive=True)`):
/// [`union_all`](RecursiveCte::union_all) with the recursive member gives the [`Cte`].
///
/// ```
/// use quarry::prelude::*;
///
/// #[derive(Table)]
/// #[table(name = "users")]
/// struct User {
///     #[column(primary_key)]
///     id: i64,
///     name: String,
///     boss_id: Option<i64>,
/// }
///
/// let tree = select!(User::id, User::name FROM User WHERE User::boss_id == None).cte_recursive("tree");
/// let tree = tree.union_all(select!(User::id, User::name FROM User
///     JOIN tree ON User::boss_id == tree.col(User::id)));
/// let stmt = select!(tree.col(User::name) FROM tree);
/// assert_eq!(
///     stmt.compile(&quarry::dialect::Postgres)?.sql(),
///     "WITH RECURSIVE tree(id, name) AS (SELECT users.id AS id, users.name AS name FROM users \
///      WHERE users.boss_id IS NULL UNION ALL SELECT users.id AS id, users.name AS name \
///      FROM users JOIN tree ON users.boss_id = tree.id) SELECT tree.name FROM tree"
/// );
/// # Ok::<(), quarry::Error>(())
/// ```
pub struct RecursiveCte<R> {
    anchor: Subquery<R>,
}

impl<R> Clone for RecursiveCte<R> {
    fn clone(&self) -> Self {
        RecursiveCte {
            anchor: self.anchor.clone(),
        }
    }
}

impl<R> fmt::Debug for RecursiveCte<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.anchor.fmt(f)
    }
}

impl<R> RecursiveCte<R> {
    pub(crate) fn new(name: String, select: SelectStmt) -> Self {
        RecursiveCte {
            anchor: Subquery::of(
                DerivedTable::new(name, select).with_kind(DerivedKind::SelfReference),
            ),
        }
    }

    /// The CTE's name and columns (those of its first member).
    pub fn def(&self) -> &TableDef {
        self.anchor.def()
    }

    /// The CTE as a `FROM` item of its recursive member.
    pub fn table_ref(&self) -> TableRef {
        self.anchor.table_ref()
    }

    /// The CTE's column that selects `column`, for the recursive member; see [`Subquery::col`].
    pub fn col<T: Table, V>(&self, column: Column<T, V>) -> Expr<V> {
        self.anchor.col(column)
    }

    /// The column named `name`; see [`Subquery::column`].
    ///
    /// # Errors
    /// As [`Subquery::column`].
    pub fn column<V: ColumnType>(&self, name: &str) -> Result<Expr<V>> {
        self.anchor.column(name)
    }

    /// `first UNION ALL recursive`: the finished CTE. Takes `&self` so that the recursive
    /// member can name the CTE in the same expression.
    pub fn union_all<R2>(&self, recursive: Select<R2>) -> Cte<R> {
        self.finish(SetOp::UnionAll, recursive)
    }

    /// `first UNION recursive` (duplicates removed, which also ends cycles).
    pub fn union<R2>(&self, recursive: Select<R2>) -> Cte<R> {
        self.finish(SetOp::Union, recursive)
    }

    fn finish<R2>(&self, op: SetOp, recursive: Select<R2>) -> Cte<R> {
        let anchor = &self.anchor.derived;
        // Labelled as the first member is (`users.id AS id`), as SQLAlchemy writes it.
        let member =
            DerivedTable::new(anchor.def.name().to_owned(), recursive.stmt.into_inner()).select;
        Subquery::of(anchor.respun(DerivedKind::Cte { recursive: true }, vec![(op, member)]))
    }
}

impl<R> super::IntoFrom for &RecursiveCte<R> {
    fn into_from(self) -> TableRef {
        self.table_ref()
    }
}
