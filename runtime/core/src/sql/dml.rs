//! `INSERT` (with upserts), `UPDATE` and `DELETE`, each with an optional `RETURNING`.

use std::fmt;
use std::marker::PhantomData;

use super::Table;
use super::select::{SelectItem, SelectItems, typed_statement};
use super::{AsExpr, Column, Expr, SqlExpr, TableRef, and_where};
use crate::schema::{Insertable, TableDef};
use crate::value::{ColumnType, ToSql, Value};

/// What an upsert does on a conflict.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ConflictAction {
    /// `DO NOTHING`
    Nothing,
    /// `DO UPDATE SET …` (`ON DUPLICATE KEY UPDATE …` on MySQL).
    Update(Vec<(usize, SqlExpr)>),
}

/// `ON CONFLICT (target) …`.
#[derive(Debug, Clone, PartialEq)]
pub struct OnConflictClause {
    pub(crate) target: Vec<usize>,
    pub(crate) action: ConflictAction,
    /// `DO UPDATE … WHERE condition`: update only the conflicting rows that pass.
    pub(crate) where_: Option<SqlExpr>,
    /// `ON CONFLICT ON CONSTRAINT name` (PostgreSQL) instead of target columns.
    pub(crate) constraint: Option<String>,
}

/// An untyped `INSERT`.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertStmt {
    /// The table inserted into: declared or defined at run time, never aliased or derived.
    pub(crate) table: TableRef,
    pub(crate) columns: Vec<usize>,
    pub(crate) rows: Vec<Vec<SqlExpr>>,
    pub(crate) on_conflict: Option<OnConflictClause>,
    pub(crate) returning: Vec<SelectItem>,
    /// A problem found while building, reported when the statement is compiled.
    pub(crate) error: Option<String>,
    /// `INSERT INTO t (columns) SELECT …` instead of `VALUES`.
    pub(crate) select: Option<Box<super::SelectStmt>>,
}

impl InsertStmt {
    fn note_error(&mut self, message: impl FnOnce() -> String) {
        if self.error.is_none() {
            self.error = Some(message());
        }
    }

    /// Record an error unless `table` is the one inserted into.
    fn check_table(&mut self, table: &TableDef, column: usize, what: &str) {
        if !std::ptr::eq(table, self.table.def()) {
            let target = self.table.name().to_owned();
            self.note_error(|| {
                format!(
                    "{what} {}.{}: a column of another table than \"{target}\"",
                    table.name(),
                    table.columns()[column].name()
                )
            });
        }
    }
}

typed_statement! {
    /// A typed `INSERT`; `R` is `()` until [`Insert::returning`] says what to return.
    ///
    /// ```
    /// use quarry::prelude::*;
    /// use quarry::dialect::{Postgres, Sqlite};
    ///
    /// #[derive(Table)]
    /// #[table(name = "users")]
    /// struct User {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let stmt = insert!(User { name: "ed" }).returning(User::id);
    /// assert_eq!(stmt.compile(&Sqlite)?.sql(), "INSERT INTO users (name) VALUES (?) RETURNING id");
    /// assert_eq!(
    ///     stmt.compile(&Postgres)?.sql(),
    ///     "INSERT INTO users (name) VALUES ($1) RETURNING users.id"
    /// );
    /// # Ok::<(), quarry::Error>(())
    /// ```
    Insert<R>(InsertStmt)
}

impl Insert<()> {
    /// `INSERT INTO table` with no values yet; add them with [`Insert::value`].
    pub fn into_table(table: &'static TableDef) -> Self {
        Insert::into_source(TableRef::new(table))
    }

    /// `INSERT INTO` a declared or defined table with no values yet.
    pub(crate) fn into_source(table: TableRef) -> Self {
        Insert::wrap(
            InsertStmt {
                table,
                columns: Vec::new(),
                rows: vec![Vec::new()],
                on_conflict: None,
                returning: Vec::new(),
                error: None,
                select: None,
            },
            None,
        )
    }

    /// `INSERT INTO T (columns) SELECT …` (SQLAlchemy's `insert(t).from_select(names, select)`):
    /// the select's row type must be the columns' (`(i64, String)` for `(Archive::id,
    /// Archive::name)`). `insert!(Archive (id, name) FROM select!(…))` writes the same.
    pub fn from_select<T: super::Table, C: InsertColumns<T>>(
        columns: C,
        select: super::Select<C::Row>,
    ) -> Self {
        let mut insert = Insert::into_table(T::table());
        insert.stmt.rows.clear();
        columns.indexes(&mut insert.stmt.columns);
        insert.stmt.select = Some(Box::new(select.stmt.into_inner()));
        insert
    }

    /// `INSERT INTO T (columns) VALUES (…), (…)` for some columns only, one row per tuple of
    /// `rows`, each value typed against its column (SQLAlchemy's `insert(t).values([{…},
    /// …])`): `Insert::rows::<User, _, _>((User::name, User::hair_color), [("ed", None), …])`.
    /// The other columns take their defaults.
    pub fn rows<T, C, I>(columns: C, rows: I) -> Self
    where
        T: super::Table,
        C: InsertColumns<T>,
        I: IntoIterator,
        I::Item: super::func::TupleValues<C::Row>,
    {
        let mut insert = Insert::into_table(T::table());
        insert.stmt.rows.clear();
        columns.indexes(&mut insert.stmt.columns);
        for row in rows {
            match super::func::TupleValues::into_values(row) {
                SqlExpr::Tuple(values) => insert.stmt.rows.push(values),
                other => insert.stmt.rows.push(vec![other]),
            }
        }
        if insert.stmt.rows.is_empty() {
            insert
                .stmt
                .note_error(|| format!("insert into \"{}\" of no rows", T::table().name()));
        }
        insert
    }

    /// One row per element of `rows`, in a single multi-row `VALUES`.
    pub fn from_rows<T: Insertable>(table: &'static TableDef, rows: &[T]) -> Self {
        // Built here and wrapped once: this runs per row, and it is the hot part of a bulk
        // insert (issue 21).
        let mut stmt = InsertStmt {
            table: TableRef::new(table),
            columns: Vec::new(),
            rows: Vec::with_capacity(rows.len()),
            on_conflict: None,
            returning: Vec::new(),
            error: None,
            select: None,
        };
        let key = table.columns().iter().position(|c| c.is_autoincrement());
        let mut pairs = Vec::new();
        for (n, row) in rows.iter().enumerate() {
            pairs.clear();
            row.values(&mut pairs);
            // An autoincrement key left at 0 is for the database to assign.
            if let Some(key) = key {
                pairs.retain(|(i, v)| !(*i == key && is_zero(v)));
            }
            if n == 0 {
                stmt.columns = pairs.iter().map(|(i, _)| *i).collect();
            } else if !pairs
                .iter()
                .map(|(i, _)| *i)
                .eq(stmt.columns.iter().copied())
            {
                let columns: Vec<usize> = pairs.iter().map(|(i, _)| *i).collect();
                let first = column_list(table, &stmt.columns);
                stmt.note_error(|| {
                    format!(
                        "insert_many into \"{}\": row {} sets columns {} but row 0 sets {}; \
                         give every row's autoincrement key the same treatment (all 0 or all set)",
                        table.name(),
                        n,
                        column_list(table, &columns),
                        first,
                    )
                });
            }
            let mut values = Vec::with_capacity(pairs.len());
            values.extend(pairs.drain(..).map(|(_, v)| SqlExpr::Param(v)));
            stmt.rows.push(values);
        }
        if rows.is_empty() {
            stmt.note_error(|| format!("insert_many into \"{}\" got no rows", table.name()));
        }
        Insert::wrap(stmt, None)
    }
}

/// The position of the column named `name`, or the message naming it (with a did-you-mean).
fn column_index(table: &TableDef, name: &str) -> Result<usize, String> {
    let columns = table.columns();
    columns
        .iter()
        .position(|c| c.name() == name)
        .ok_or_else(|| {
            let names = columns.iter().map(|c| c.name());
            let hint = crate::error::did_you_mean(name, names)
                .map(|m| format!("; did you mean \"{m}\"?"))
                .unwrap_or_default();
            format!(
                "no column named \"{name}\" in table \"{}\"{hint}",
                table.name()
            )
        })
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
    pub fn value<T: Table, V, X: AsExpr<V>>(mut self, column: Column<T, V>, value: X) -> Self {
        self.edit()
            .check_table(T::table(), column.index(), "insert value for");
        self.value_expr(column.index(), value.into_expr())
    }

    /// Set the column named `name` to `value`: for tables defined at run time, whose columns
    /// have no typed handles. An unknown name is an error when the statement compiles, with
    /// a did-you-mean.
    pub fn value_named(mut self, name: &str, value: impl ToSql) -> Self {
        match column_index(self.stmt.table.def(), name) {
            Ok(index) => self.value_expr(index, SqlExpr::Param(value.to_value())),
            Err(message) => {
                self.edit().note_error(|| message);
                self
            }
        }
    }

    /// Set the column at `index` to an untyped expression; used by `insert!` for `None`.
    pub fn value_expr(mut self, index: usize, value: SqlExpr) -> Self {
        let stmt = self.edit();
        if let Some(pos) = stmt.columns.iter().position(|c| *c == index) {
            stmt.rows[0][pos] = value;
        } else {
            stmt.columns.push(index);
            stmt.rows[0].push(value);
        }
        self
    }

    /// `RETURNING items` (SQLite and PostgreSQL; MySQL has no `RETURNING` and the statement
    /// fails to compile there with [`Error::Unsupported`]). The rows decode into the items'
    /// row type: `.returning(User::id)` gives `Insert<i64>`.
    pub fn returning<I: SelectItems>(self, items: I) -> Insert<I::Row> {
        let mut stmt = self.stmt.into_inner();
        stmt.returning.clear();
        items.push_items(&mut stmt.returning);
        Insert::wrap(stmt, None)
    }

    /// `ON CONFLICT (target) …`: an upsert. Follow with [`OnConflict::do_nothing`] or
    /// [`OnConflict::do_update`]. `target` is a column or a tuple of columns with a unique
    /// constraint; MySQL's `ON DUPLICATE KEY UPDATE` reacts to any unique key instead.
    pub fn on_conflict<C: ConflictTarget>(mut self, target: C) -> OnConflict<R> {
        let mut columns = Vec::new();
        target.push_columns(&mut columns);
        let stmt = self.edit();
        let mut indexes = Vec::with_capacity(columns.len());
        for (table, index) in columns {
            stmt.check_table(table, index, "ON CONFLICT target");
            indexes.push(index);
        }
        OnConflict {
            insert: self,
            target: indexes,
            constraint: None,
        }
    }

    /// `ON CONFLICT ON CONSTRAINT name` (PostgreSQL; SQLAlchemy's `constraint=`): the conflict
    /// on that unique or exclusion constraint, then `.do_update()` or `.do_nothing()`.
    /// [`Error::Unsupported`](crate::Error::Unsupported) elsewhere.
    pub fn on_conflict_constraint(self, name: impl Into<String>) -> OnConflict<R> {
        OnConflict {
            insert: self,
            target: Vec::new(),
            constraint: Some(name.into()),
        }
    }

    /// `ON CONFLICT DO UPDATE` whatever the conflict (no target): SQLite ≥ 3.35, as
    /// SQLAlchemy writes it; PostgreSQL needs a target (an error naming it).
    pub fn on_conflict_any(self) -> OnConflict<R> {
        OnConflict {
            insert: self,
            target: Vec::new(),
            constraint: None,
        }
    }

    /// `ON CONFLICT DO NOTHING` whatever the conflict (no target).
    pub fn on_conflict_do_nothing(self) -> Insert<R> {
        OnConflict {
            insert: self,
            target: Vec::new(),
            constraint: None,
        }
        .do_nothing()
    }
}

/// The columns of an `ON CONFLICT` target: a column or a tuple of columns.
pub trait ConflictTarget {
    /// Append `(table, column index)` pairs.
    fn push_columns(self, out: &mut Vec<(&'static TableDef, usize)>);
}

impl<T: Table, V> ConflictTarget for Column<T, V> {
    fn push_columns(self, out: &mut Vec<(&'static TableDef, usize)>) {
        out.push((T::table(), self.index()));
    }
}

macro_rules! tuple_target {
    ($($name:ident)+) => {
        impl<$($name: ConflictTarget),+> ConflictTarget for ($($name,)+) {
            #[allow(non_snake_case)]
            fn push_columns(self, out: &mut Vec<(&'static TableDef, usize)>) {
                let ($($name,)+) = self;
                $($name.push_columns(out);)+
            }
        }
    };
}
tuple_target!(A);
tuple_target!(A B);
tuple_target!(A B C);
tuple_target!(A B C D);

/// An `INSERT … ON CONFLICT (target)` waiting for its action.
#[derive(Debug)]
pub struct OnConflict<R> {
    insert: Insert<R>,
    target: Vec<usize>,
    constraint: Option<String>,
}

impl<R> OnConflict<R> {
    /// `DO NOTHING`: keep the existing row. MySQL has no such clause; there it is
    /// `ON DUPLICATE KEY UPDATE col = col` on the first target (or primary key) column.
    ///
    /// `rowcount()` differs: SQLite and PostgreSQL report `0` for a row that conflicted and
    /// `1` for one inserted; MySQL and MariaDB report `1` for both (the connection counts
    /// rows *matched*, `CLIENT_FOUND_ROWS`, as SQLAlchemy's does, so that an `UPDATE`'s
    /// rowcount means the same everywhere). To learn whether a row was inserted there, ask
    /// for it afterwards.
    pub fn do_nothing(mut self) -> Insert<R> {
        self.insert.edit().on_conflict = Some(OnConflictClause {
            target: self.target,
            action: ConflictAction::Nothing,
            where_: None,
            constraint: self.constraint,
        });
        self.insert
    }

    /// `DO UPDATE SET …`: update the existing row; say how with [`Upsert::set`] and
    /// [`Upsert::set_excluded`].
    pub fn do_update(mut self) -> Upsert<R> {
        self.insert.edit().on_conflict = Some(OnConflictClause {
            target: self.target,
            action: ConflictAction::Update(Vec::new()),
            where_: None,
            constraint: self.constraint,
        });
        Upsert::wrap(self.insert.stmt.into_inner(), None)
    }
}

typed_statement! {
    /// `INSERT … ON CONFLICT (target) DO UPDATE SET …` (`ON DUPLICATE KEY UPDATE` on MySQL).
    ///
    /// ```
    /// use quarry::prelude::*;
    /// use quarry::dialect::{Mysql, Sqlite};
    ///
    /// #[derive(Table)]
    /// #[table(name = "users")]
    /// struct User {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    ///     visits: i64,
    /// }
    ///
    /// let stmt = insert!(User { id: 1, name: "ed", visits: 1 })
    ///     .on_conflict(User::id)
    ///     .do_update()
    ///     .set_excluded(User::name)
    ///     .set(User::visits, User::visits + 1);
    /// assert_eq!(
    ///     stmt.compile(&Sqlite)?.sql(),
    ///     "INSERT INTO users (id, name, visits) VALUES (?, ?, ?) \
    ///      ON CONFLICT (id) DO UPDATE SET name = excluded.name, visits = (users.visits + ?)"
    /// );
    /// assert_eq!(
    ///     stmt.compile(&Mysql)?.sql(),
    ///     "INSERT INTO users (id, name, visits) VALUES (?, ?, ?) \
    ///      ON DUPLICATE KEY UPDATE name = VALUES(name), visits = (users.visits + ?)"
    /// );
    /// # Ok::<(), quarry::Error>(())
    /// ```
    Upsert<R>(InsertStmt)
}

impl<R> Upsert<R> {
    /// On a conflict, `SET column = value`; `value` may use the existing row's columns and
    /// [`excluded`] (the row that was to be inserted).
    pub fn set<T: Table, V, X: AsExpr<V>>(mut self, column: Column<T, V>, value: X) -> Self {
        let value = value.into_expr();
        let stmt = self.edit();
        stmt.check_table(T::table(), column.index(), "DO UPDATE SET");
        if let Some(OnConflictClause {
            action: ConflictAction::Update(assignments),
            ..
        }) = &mut stmt.on_conflict
        {
            assign_in_table_order(assignments, column.index(), value);
        }
        self
    }

    /// `DO UPDATE SET … WHERE condition`: update the existing row only when `condition` holds
    /// (it may use the existing row's columns and [`excluded`]); several are joined with
    /// `AND`. SQLite and PostgreSQL; [`Error::Unsupported`](crate::Error::Unsupported) on
    /// MySQL, whose `ON DUPLICATE KEY UPDATE` has no condition.
    pub fn filter<C: AsExpr<bool>>(mut self, condition: C) -> Self {
        let condition = condition.into_expr();
        if let Some(clause) = &mut self.edit().on_conflict {
            clause.where_ = Some(super::and_where(clause.where_.take(), condition));
        }
        self
    }

    /// On a conflict, `SET column = excluded.column`: take the value that was to be inserted.
    pub fn set_excluded<T: Table, V: ColumnType>(self, column: Column<T, V>) -> Self {
        self.set(column, excluded(column))
    }

    /// `RETURNING items`, as [`Insert::returning`].
    pub fn returning<I: SelectItems>(self, items: I) -> Upsert<I::Row> {
        let mut stmt = self.stmt.into_inner();
        stmt.returning.clear();
        items.push_items(&mut stmt.returning);
        Upsert::wrap(stmt, None)
    }
}

/// In an upsert's `DO UPDATE`, the value the conflicting row was to get: `excluded.name`
/// (`VALUES(name)` on MySQL).
pub fn excluded<T: Table, V: ColumnType>(column: Column<T, V>) -> Expr<V> {
    Expr::new(SqlExpr::Excluded {
        table: T::table(),
        index: column.index(),
    })
}

/// Set `column` to `value`, keeping the assignments in the table's column order, the order
/// SQLAlchemy renders `SET` in whatever order the values were given; a second assignment to a
/// column replaces the first.
fn assign_in_table_order(assignments: &mut Vec<(usize, SqlExpr)>, column: usize, value: SqlExpr) {
    match assignments.binary_search_by_key(&column, |(c, _)| *c) {
        Ok(pos) => assignments[pos].1 = value,
        Err(pos) => assignments.insert(pos, (column, value)),
    }
}

/// An untyped `UPDATE`.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateStmt {
    /// The table updated: declared or defined at run time.
    pub(crate) table: TableRef,
    pub(crate) assignments: Vec<(usize, SqlExpr)>,
    pub(crate) where_: Option<SqlExpr>,
    pub(crate) returning: Vec<SelectItem>,
    pub(crate) error: Option<String>,
}

typed_statement! {
    /// A typed `UPDATE`; `R` is `()` until [`Update::returning`] says what to return.
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
        Update::of_source(TableRef::new(table))
    }

    /// `UPDATE` a declared or defined table with nothing set yet.
    pub(crate) fn of_source(table: TableRef) -> Self {
        Update::wrap(
            UpdateStmt {
                table,
                assignments: Vec::new(),
                where_: None,
                returning: Vec::new(),
                error: None,
            },
            None,
        )
    }
}

impl<R> Update<R> {
    /// `SET column = value`; `value` may be a Rust value (bound) or an expression of the same
    /// type, such as `User::visits + 1`. Setting a column twice keeps the last value.
    pub fn set<T: Table, V, X: AsExpr<V>>(mut self, column: Column<T, V>, value: X) -> Self {
        let stmt = self.edit();
        if !std::ptr::eq(T::table(), stmt.table.def()) && stmt.error.is_none() {
            stmt.error = Some(format!(
                "UPDATE \"{}\" SET {}.{}: a column of another table",
                stmt.table.name(),
                T::table().name(),
                column.def().name()
            ));
        }
        self.set_expr(column.index(), value.into_expr())
    }

    /// `SET` the column named `name` to `value`, as [`Insert::value_named`].
    pub fn set_named(mut self, name: &str, value: impl ToSql) -> Self {
        match column_index(self.stmt.table.def(), name) {
            Ok(index) => self.set_expr(index, SqlExpr::Param(value.to_value())),
            Err(message) => {
                let stmt = self.edit();
                stmt.error.get_or_insert(message);
                self
            }
        }
    }

    /// `SET` the column at `index` to an untyped expression; used by `update!` for `None`.
    pub fn set_expr(mut self, index: usize, value: SqlExpr) -> Self {
        assign_in_table_order(&mut self.edit().assignments, index, value);
        self
    }

    /// Add a `WHERE` condition; several are joined with `AND`.
    pub fn filter<C: AsExpr<bool>>(mut self, condition: C) -> Self {
        let stmt = self.edit();
        stmt.where_ = Some(and_where(stmt.where_.take(), condition.into_expr()));
        self
    }

    /// `RETURNING items` (SQLite and PostgreSQL), as [`Insert::returning`].
    pub fn returning<I: SelectItems>(self, items: I) -> Update<I::Row> {
        let mut stmt = self.stmt.into_inner();
        stmt.returning.clear();
        items.push_items(&mut stmt.returning);
        Update::wrap(stmt, None)
    }
}

/// An untyped `DELETE`.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleteStmt {
    /// The table deleted from: declared or defined at run time.
    pub(crate) table: TableRef,
    pub(crate) where_: Option<SqlExpr>,
    pub(crate) returning: Vec<SelectItem>,
}

typed_statement! {
    /// A typed `DELETE`; `R` is `()` until [`Delete::returning`] says what to return.
    Delete<R>(DeleteStmt)
}

impl Delete<()> {
    /// `DELETE FROM table`: every row, until a filter is added.
    pub fn from_table(table: &'static TableDef) -> Self {
        Delete::from_source(TableRef::new(table))
    }

    /// `DELETE FROM` a declared or defined table.
    pub(crate) fn from_source(table: TableRef) -> Self {
        Delete::wrap(
            DeleteStmt {
                table,
                where_: None,
                returning: Vec::new(),
            },
            None,
        )
    }
}

impl<R> Delete<R> {
    /// Add a `WHERE` condition; several are joined with `AND`.
    pub fn filter<C: AsExpr<bool>>(mut self, condition: C) -> Self {
        let stmt = self.edit();
        stmt.where_ = Some(and_where(stmt.where_.take(), condition.into_expr()));
        self
    }

    /// `RETURNING items` (SQLite and PostgreSQL), as [`Insert::returning`].
    pub fn returning<I: SelectItems>(self, items: I) -> Delete<I::Row> {
        let mut stmt = self.stmt.into_inner();
        stmt.returning.clear();
        items.push_items(&mut stmt.returning);
        Delete::wrap(stmt, None)
    }
}

/// The target columns of `INSERT … SELECT`: a column of `T` or a tuple of them; `Row` is the
/// row type the select must have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list of columns of `{T}`",
    label = "expected a column of the table inserted into, or a tuple of them"
)]
pub trait InsertColumns<T> {
    /// The row type of the select that fills these columns.
    type Row;
    /// Append the columns' positions.
    fn indexes(self, out: &mut Vec<usize>);
}

impl<T: super::Table, V> InsertColumns<T> for super::Column<T, V> {
    type Row = V;
    fn indexes(self, out: &mut Vec<usize>) {
        out.push(self.index());
    }
}

macro_rules! insert_columns {
    ($($name:ident $v:ident)+) => {
        impl<T: super::Table, $($v),+> InsertColumns<T> for ($(super::Column<T, $v>,)+) {
            type Row = ($($v,)+);
            #[allow(non_snake_case)]
            fn indexes(self, out: &mut Vec<usize>) {
                let ($($name,)+) = self;
                $(out.push($name.index());)+
            }
        }
    };
}
insert_columns!(A VA);
insert_columns!(A VA B VB);
insert_columns!(A VA B VB C VC);
insert_columns!(A VA B VB C VC D VD);
insert_columns!(A VA B VB C VC D VD E VE);
insert_columns!(A VA B VB C VC D VD E VE F VF);
insert_columns!(A VA B VB C VC D VD E VE F VF G VG);
insert_columns!(A VA B VB C VC D VD E VE F VF G VG H VH);
