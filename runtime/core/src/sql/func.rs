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

pub use super::case::{Case, Typed, case_when, cast};
use super::window::WindowFn as Wf;
pub use super::window::{
    AggregateFilter, Frame, FrameBound, Window, WindowFn, WindowSpec, order_by, partition_by,
    window,
};

/// `row_number()`: the row's position in its partition, from 1. A window function: give it a
/// window with [`Window::over`].
pub fn row_number() -> Wf<i64> {
    Wf::new("row_number", Vec::new())
}

/// `rank()`: the row's rank in its partition, with gaps after ties.
pub fn rank() -> Wf<i64> {
    Wf::new("rank", Vec::new())
}

/// `dense_rank()`: the row's rank in its partition, without gaps.
pub fn dense_rank() -> Wf<i64> {
    Wf::new("dense_rank", Vec::new())
}

/// `percent_rank()`: `(rank - 1) / (rows - 1)`, from 0 to 1.
pub fn percent_rank() -> Wf<f64> {
    Wf::new("percent_rank", Vec::new())
}

/// `cume_dist()`: the fraction of the partition's rows up to this one's peers.
pub fn cume_dist() -> Wf<f64> {
    Wf::new("cume_dist", Vec::new())
}

/// `ntile(n)`: which of `n` near-equal buckets the row falls in, from 1 (`n` bound).
pub fn ntile(n: i64) -> Wf<i64> {
    Wf::new("ntile", vec![SqlExpr::Param(crate::value::Value::I64(n))])
}

/// `lag(expr, offset)`: `expr` of the row `offset` rows before; `NULL` before the first.
pub fn lag<E>(expr: E, offset: i64) -> Wf<Option<<E::SqlType as ColumnType>::Base>>
where
    E: Expression,
    <E::SqlType as ColumnType>::Base: NonNullColumnType,
{
    Wf::new(
        "lag",
        vec![
            expr.into_sql(),
            SqlExpr::Param(crate::value::Value::I64(offset)),
        ],
    )
}

/// `lead(expr, offset)`: `expr` of the row `offset` rows after; `NULL` past the last.
pub fn lead<E>(expr: E, offset: i64) -> Wf<Option<<E::SqlType as ColumnType>::Base>>
where
    E: Expression,
    <E::SqlType as ColumnType>::Base: NonNullColumnType,
{
    Wf::new(
        "lead",
        vec![
            expr.into_sql(),
            SqlExpr::Param(crate::value::Value::I64(offset)),
        ],
    )
}

/// `first_value(expr)`: `expr` of the frame's first row.
pub fn first_value<E: Expression>(expr: E) -> Wf<E::SqlType> {
    Wf::new("first_value", vec![expr.into_sql()])
}

/// `last_value(expr)`: `expr` of the frame's last row (with the default frame, the current
/// row's last peer: give a frame to reach the partition's end).
pub fn last_value<E: Expression>(expr: E) -> Wf<E::SqlType> {
    Wf::new("last_value", vec![expr.into_sql()])
}
