//! SQL functions, as SQLAlchemy's `func` writes them: `count(users.id)`, `lower(users.name)`, …
//!
//! In a select list each gets SQLAlchemy's anonymous label (`count(users.id) AS count_1`).
//! Aggregates that are `NULL` over no rows (`sum`, `avg`, `min`, `max`) have `Option` types.
//!
//! ```
//! use quarry::prelude::*;
//! use quarry::dialect::Sqlite;
//! use quarry::func::{count, lower};
//!
//! #[derive(Table)]
//! #[table(name = "users")]
//! struct User {
//!     #[column(primary_key)]
//!     id: i64,
//!     name: String,
//! }
//!
//! let built = quarry::select((lower(User::name), count(User::id))).group_by(lower(User::name));
//! let written = select!(lower(User::name), count(User::id) FROM User GROUP BY lower(User::name));
//! assert_eq!(built.compile(&Sqlite)?, written.compile(&Sqlite)?);
//! assert_eq!(
//!     written.compile(&Sqlite)?.sql(),
//!     "SELECT lower(users.name) AS lower_1, count(users.id) AS count_1 FROM users \
//!      GROUP BY lower(users.name)"
//! );
//! # Ok::<(), quarry::Error>(())
//! ```

use super::{AsExpr, Expr, Expression, Numeric, SqlExpr, Textual};
use crate::value::{ColumnType, NonNullColumnType};

fn call<V>(name: &'static str, args: Vec<SqlExpr>) -> Expr<V> {
    Expr::new(SqlExpr::Function { name, args })
}

/// `count(expr)`: the number of rows where `expr` is not `NULL`.
pub fn count<E: Expression>(expr: E) -> Expr<i64> {
    call("count", vec![expr.into_sql()])
}

/// `count(*)`: the number of rows. `select!` writes it for `count(*)` and `count()`.
pub fn count_star() -> Expr<i64> {
    call("count", vec![SqlExpr::Star])
}

/// `sum(expr)`; `NULL` (`None`) over no rows.
pub fn sum<E>(expr: E) -> Expr<Option<<E::SqlType as ColumnType>::Base>>
where
    E: Expression,
    E::SqlType: Numeric,
    <E::SqlType as ColumnType>::Base: NonNullColumnType,
{
    call("sum", vec![expr.into_sql()])
}

/// `avg(expr)`, as a float; `NULL` (`None`) over no rows.
pub fn avg<E>(expr: E) -> Expr<Option<f64>>
where
    E: Expression,
    E::SqlType: Numeric,
{
    call("avg", vec![expr.into_sql()])
}

/// `max(expr)`; `NULL` (`None`) over no rows.
pub fn max<E>(expr: E) -> Expr<Option<<E::SqlType as ColumnType>::Base>>
where
    E: Expression,
    <E::SqlType as ColumnType>::Base: NonNullColumnType,
{
    call("max", vec![expr.into_sql()])
}

/// `min(expr)`; `NULL` (`None`) over no rows.
pub fn min<E>(expr: E) -> Expr<Option<<E::SqlType as ColumnType>::Base>>
where
    E: Expression,
    <E::SqlType as ColumnType>::Base: NonNullColumnType,
{
    call("min", vec![expr.into_sql()])
}

/// `lower(expr)`: text in lower case.
pub fn lower<E>(expr: E) -> Expr<E::SqlType>
where
    E: Expression,
    E::SqlType: Textual,
{
    call("lower", vec![expr.into_sql()])
}

/// `upper(expr)`: text in upper case.
pub fn upper<E>(expr: E) -> Expr<E::SqlType>
where
    E: Expression,
    E::SqlType: Textual,
{
    call("upper", vec![expr.into_sql()])
}

/// `length(expr)`: the length of a text; `NULL` for `NULL`.
pub fn length<E>(expr: E) -> Expr<<E::SqlType as Nullability>::Of<i64>>
where
    E: Expression,
    E::SqlType: Textual + Nullability,
{
    call("length", vec![expr.into_sql()])
}

/// `coalesce(expr, fallback)`: `expr` unless it is `NULL`, then `fallback`. Typed as the base
/// (non-`Option`) type, so the fallback should not be `NULL`; nest for more fallbacks.
pub fn coalesce<E, F>(expr: E, fallback: F) -> Expr<<E::SqlType as ColumnType>::Base>
where
    E: Expression,
    F: AsExpr<E::SqlType>,
{
    call("coalesce", vec![expr.into_sql(), fallback.into_expr()])
}

/// Whether a type is an `Option`, carried over to a function's result type: `length` of an
/// `Option<String>` is an `Option<i64>`, of a `String` an `i64`.
pub trait Nullability: ColumnType {
    /// `U`, or `Option<U>` when `Self` is an `Option`.
    type Of<U: NonNullColumnType>: ColumnType;
}

impl<T: NonNullColumnType> Nullability for Option<T> {
    type Of<U: NonNullColumnType> = Option<U>;
}

macro_rules! not_null {
    ($($t:ty),*) => {$(
        impl Nullability for $t {
            type Of<U: NonNullColumnType> = U;
        }
    )*};
}
not_null!(i16, i32, i64, f32, f64, bool, String, Vec<u8>);
crate::value::feature_types!(not_null);
crate::value::array_types!(not_null);
