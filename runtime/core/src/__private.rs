//! Items used by the code `quarry-macros` generates. Not a public API: no stability promise.

pub use inventory;

pub use crate::schema::{
    ColumnDef, ColumnRef, DefaultValue, TableDef, TableRegistration, autoincrement_key,
};
pub use crate::sql::{
    BinOp, Column, Delete, Expression, Insert, SqlCache, SqlExpr, Update, null_of, value_first,
};
pub use crate::value::{ColumnType, FromSql, RawRow, SqlType, ToSql, Value};

use crate::error::Result;
use crate::sql::Table;

/// Decode one field. Bound by `ColumnType` (not just `FromSql`) so that an unsupported field
/// type gets the one message `ColumnType` explains.
#[inline]
pub fn decode<T: ColumnType>(row: &dyn RawRow, idx: usize) -> Result<T> {
    T::from_sql(row, idx)
}

/// Encode one field; bound by `ColumnType` for the same reason as [`decode`].
#[inline]
pub fn encode<T: ColumnType>(value: &T) -> Value {
    value.to_value()
}

/// The SQL type of a field type; a separate function so that an unsupported type is reported
/// at the user's field type.
pub const fn sql_type<T: ColumnType>() -> SqlType {
    T::SQL_TYPE
}

/// Whether a field type is nullable.
pub const fn nullable<T: ColumnType>() -> bool {
    T::NULLABLE
}

/// `#[column(references = Parent::col)]`: checks that the field and the referenced column have
/// the same base type, and gives a reference usable in a `static`.
pub const fn foreign_key<F, T, V>(target: Column<T, V>) -> ColumnRef
where
    F: ColumnType,
    T: Table,
    V: ColumnType<Base = F::Base>,
{
    target.as_ref()
}

/// `INSERT INTO <T's table>` with no values yet.
pub fn insert_into<T: Table>() -> Insert<()> {
    Insert::into_table(T::table())
}
