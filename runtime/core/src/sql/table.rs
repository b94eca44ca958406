//! The [`Table`] trait: a declared table as a type, with its statement builders.
//!
//! It lives with the statement model (not with the schema model it points into) because its
//! builders return statements: the schema knows nothing of statements.

use super::{Alias, Delete, Insert, Select, Update};
use crate::error::Result;
use crate::schema::{FromRow, Insertable, TableDef};
use crate::value::Value;

/// A table declared with `#[derive(Table)]`.
pub trait Table: FromRow + Sized + 'static {
    /// The table's definition.
    fn table() -> &'static TableDef;

    /// `SELECT` every column of the table.
    fn select() -> Select<Self> {
        Select::from_table(Self::table())
    }

    /// The table under another name, for self-joins: `User::alias("manager")`.
    fn alias(name: &'static str) -> Alias<Self> {
        Alias::new(name)
    }

    /// `UPDATE` the table; add `.set(column, value)` and `.filter(condition)`.
    fn update() -> Update<()> {
        Update::table(Self::table())
    }

    /// `DELETE FROM` the table; add `.filter(condition)`, or every row goes.
    fn delete() -> Delete<()> {
        Delete::from_table(Self::table())
    }

    /// `INSERT INTO table (columns) SELECT …`; see [`Insert::from_select`].
    fn insert_from<C: super::dml::InsertColumns<Self>>(
        columns: C,
        select: Select<C::Row>,
    ) -> Insert<()> {
        Insert::from_select::<Self, C>(columns, select)
    }

    /// `INSERT` one row.
    fn insert(row: &Self) -> Insert<()>
    where
        Self: Insertable,
    {
        Insert::from_rows(Self::table(), std::slice::from_ref(row))
    }

    /// `INSERT` many rows in one multi-row `VALUES`.
    fn insert_many(rows: &[Self]) -> Insert<()>
    where
        Self: Insertable,
    {
        Insert::from_rows(Self::table(), rows)
    }
}

/// A row's identity: its primary key, and where a key the database assigned goes.
///
/// `#[derive(Table)]` implements it for every table; a [`Session`](crate::Session) uses it to
/// keep its identity map, to delete by key and to fill autoincrement keys in after a flush.
///
/// ```
/// use quarry::prelude::*;
/// use quarry::{Identity, Value};
///
/// #[derive(Table)]
/// struct User {
///     #[column(primary_key)]
///     id: i64,
///     name: String,
/// }
///
/// let mut ed = User { id: 0, name: "ed".into() };
/// ed.set_autoincrement_key(7)?;
/// assert_eq!(ed.primary_key(), [Value::I64(7)]);
/// # Ok::<(), quarry::Error>(())
/// ```
pub trait Identity: Table {
    /// The primary key's values, in the order of [`TableDef::primary_key`](crate::schema::TableDef::primary_key) (declaration
    /// order); empty for a table without a primary key.
    fn primary_key(&self) -> Vec<Value>;

    /// Store `key`, assigned by the database, in the autoincrement primary key column. Does
    /// nothing for a table without one.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] when `key` does not fit the field's type (an `i16` key above
    /// 32767).
    fn set_autoincrement_key(&mut self, key: i64) -> Result<()>;
}
