//! Items used by the code `quarry-macros` generates. Not a public API: no stability promise.

pub use inventory;

pub use crate::schema::{
    ColumnDef, ColumnRef, DefaultValue, TableDef, TableRegistration, autoincrement_key,
};
pub use crate::sql::fast::{
    Bindable, Decision, FastSite, NotBindable, NotTakeable, Probe, StaticBind, Take, Takeable,
    fast_select, tables_name,
};
pub use crate::sql::func::Nullability;
pub use crate::sql::{AsExpr, NullableRow, SelectStmt};
pub use crate::sql::{
    BinOp, Column, Delete, Expression, Insert, SqlCache, SqlExpr, Update, null_of, value_first,
};
pub use crate::value::{
    ColumnType, EnumType, FromSql, NonNullColumnType, RawRow, SqlEnum, SqlType, ToSql, Value,
    decode_enum,
};
pub use crate::{FirstColumn, FromRow};

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

/// The enum a field type stores, if it is a `#[derive(SqlEnum)]` type (or an `Option` of one).
pub const fn enum_type<T: ColumnType>() -> Option<&'static EnumType> {
    T::ENUM
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

/// `insert!(T { … })`'s compile-time check: every field of `T` that is `NOT NULL` without a
/// server default and not a key the database assigns (`columns`, from the derive) must be among
/// `given`. Evaluated in a `const`, so a missing one is a compile error at the struct name
/// listing them all.
pub const fn check_insert(table: &str, columns: &[(&str, bool)], given: &[&str]) {
    // A field that is no column is already an error of its own (with did-you-mean); the
    // column it misspells would only be reported missing a second time.
    let mut g = 0;
    while g < given.len() {
        if !is_column(columns, given[g]) {
            return;
        }
        g += 1;
    }
    const CAP: usize = 480;
    let mut buf = [0u8; CAP];
    let mut len = 0;
    let mut missing = 0;
    let mut i = 0;
    while i < columns.len() {
        let (name, required) = columns[i];
        if required && !contains(given, name) {
            if missing == 0 {
                len = push(&mut buf, len, "insert!(");
                len = push(&mut buf, len, table);
                len = push(&mut buf, len, " { … }) leaves out ");
            } else {
                len = push(&mut buf, len, ", ");
            }
            len = push(&mut buf, len, "`");
            len = push(&mut buf, len, name);
            len = push(&mut buf, len, "`");
            missing += 1;
        }
        i += 1;
    }
    if missing == 0 {
        return;
    }
    len = push(
        &mut buf,
        len,
        if missing == 1 {
            ", a NOT NULL column without a default: give it a value"
        } else {
            ", NOT NULL columns without a default: give each a value"
        },
    );
    // `push` only ever copies whole `&str`s, so the buffer is UTF-8 up to `len` unless a name
    // was cut at CAP; then the message ends at the last whole character.
    let mut end = len;
    loop {
        let (head, _) = buf.split_at(end);
        if let Ok(message) = core::str::from_utf8(head) {
            panic!("{}", message);
        }
        end -= 1;
    }
}

const fn is_column(columns: &[(&str, bool)], name: &str) -> bool {
    let mut i = 0;
    while i < columns.len() {
        if eq(columns[i].0.as_bytes(), name.as_bytes()) {
            return true;
        }
        i += 1;
    }
    false
}

const fn contains(names: &[&str], name: &str) -> bool {
    let mut i = 0;
    while i < names.len() {
        if eq(names[i].as_bytes(), name.as_bytes()) {
            return true;
        }
        i += 1;
    }
    false
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Append `s` to `buf[..len]` as far as it fits; the new length.
const fn push(buf: &mut [u8], mut len: usize, s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() && len < buf.len() {
        buf[len] = bytes[i];
        len += 1;
        i += 1;
    }
    len
}
