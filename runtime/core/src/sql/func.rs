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

/// `count(expr)`: the number of rows where `expr` is not `NULL`.
pub fn count<E: Expression>(expr: E) -> Expr<i64> {
    call_with("count", vec![expr.into_sql()])
}

/// `count(*)`: the number of rows. `select!` writes it for `count(*)` and `count()`.
pub fn count_star() -> Expr<i64> {
    call_with("count", vec![SqlExpr::Star])
}

/// `sum(expr)`; `NULL` (`None`) over no rows.
pub fn sum<E>(expr: E) -> Expr<Option<<E::SqlType as ColumnType>::Base>>
where
    E: Expression,
    E::SqlType: Numeric,
    <E::SqlType as ColumnType>::Base: NonNullColumnType,
{
    call_with("sum", vec![expr.into_sql()])
}

/// `avg(expr)`, as a float; `NULL` (`None`) over no rows.
pub fn avg<E>(expr: E) -> Expr<Option<f64>>
where
    E: Expression,
    E::SqlType: Numeric,
{
    call_with("avg", vec![expr.into_sql()])
}

/// `max(expr)`; `NULL` (`None`) over no rows.
pub fn max<E>(expr: E) -> Expr<Option<<E::SqlType as ColumnType>::Base>>
where
    E: Expression,
    <E::SqlType as ColumnType>::Base: NonNullColumnType,
{
    call_with("max", vec![expr.into_sql()])
}

/// `min(expr)`; `NULL` (`None`) over no rows.
pub fn min<E>(expr: E) -> Expr<Option<<E::SqlType as ColumnType>::Base>>
where
    E: Expression,
    <E::SqlType as ColumnType>::Base: NonNullColumnType,
{
    call_with("min", vec![expr.into_sql()])
}

/// `lower(expr)`: text in lower case.
pub fn lower<E>(expr: E) -> Expr<E::SqlType>
where
    E: Expression,
    E::SqlType: Textual,
{
    call_with("lower", vec![expr.into_sql()])
}

/// `upper(expr)`: text in upper case.
pub fn upper<E>(expr: E) -> Expr<E::SqlType>
where
    E: Expression,
    E::SqlType: Textual,
{
    call_with("upper", vec![expr.into_sql()])
}

/// `length(expr)`: the length of a text; `NULL` for `NULL`.
pub fn length<E>(expr: E) -> Expr<<E::SqlType as Nullability>::Of<i64>>
where
    E: Expression,
    E::SqlType: Textual + Nullability,
{
    call_with("length", vec![expr.into_sql()])
}

/// `coalesce(expr, fallback)`: `expr` unless it is `NULL`, then `fallback`. Typed as the base
/// (non-`Option`) type, so the fallback should not be `NULL`; nest for more fallbacks.
pub fn coalesce<E, F>(expr: E, fallback: F) -> Expr<<E::SqlType as ColumnType>::Base>
where
    E: Expression,
    F: AsExpr<E::SqlType>,
{
    call_with("coalesce", vec![expr.into_sql(), fallback.into_expr()])
}

/// `coalesce(expr)` of one argument (SQLAlchemy's `func.coalesce(x)`): the value itself, typed
/// as it is. `select!` writes `coalesce(x)` with one argument as this.
pub fn coalesce_one<E: Expression>(expr: E) -> Expr<E::SqlType> {
    call_with("coalesce", vec![expr.into_sql()])
}

/// One candidate of an `IN` list that mixes values and expressions, all of the tested
/// expression's type: `User::id.in_([in_item(1), in_item(Post::user_id), in_item(3)])` is
/// `users.id IN (?, posts.user_id, ?)`, as SQLAlchemy writes `in_([1, posts.c.user_id, 3])`.
/// `select!` writes `User::id.in_([1, Post::user_id, 3])` as this.
pub fn in_item<V, A: AsExpr<V>>(item: A) -> InItem<V> {
    InItem {
        expr: item.into_expr(),
        _marker: std::marker::PhantomData,
    }
}

/// A candidate of an `IN` list of values of type `V` (see [`in_item`]).
pub struct InItem<V> {
    expr: SqlExpr,
    _marker: std::marker::PhantomData<fn() -> V>,
}

impl<V> std::fmt::Debug for InItem<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.expr.fmt(f)
    }
}

impl<V> AsExpr<V> for InItem<V> {
    fn into_expr(self) -> SqlExpr {
        self.expr
    }
}

/// SQL's `NULL` of type `T` written out (SQLAlchemy's `null()`): `SELECT NULL AS anon_1`.
pub fn null<T: NonNullColumnType>() -> Expr<Option<T>> {
    Expr::new(SqlExpr::Null)
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

/// Arguments of [`call`]: a tuple of columns, expressions and Rust values (each bound).
pub trait FnArgs {
    /// The argument expressions.
    fn into_args(self) -> Vec<SqlExpr>;
}

impl FnArgs for () {
    fn into_args(self) -> Vec<SqlExpr> {
        Vec::new()
    }
}

macro_rules! fn_args {
    ($($name:ident)+) => {
        impl<$($name: Typed),+> FnArgs for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_args(self) -> Vec<SqlExpr> {
                let ($($name,)+) = self;
                vec![$($name.into_typed()),+]
            }
        }
    };
}
fn_args!(A);
fn_args!(A B);
fn_args!(A B C);
fn_args!(A B C D);
fn_args!(A B C D E);
fn_args!(A B C D E F);

/// Any SQL function, typed `T` by the caller: `call::<String>("md5", (User::name,))` is
/// `md5(users.name)` (SQLAlchemy's `func.md5(…)`); arguments are a tuple of columns,
/// expressions and Rust values.
pub fn call<T: ColumnType>(name: &'static str, args: impl FnArgs) -> Expr<T> {
    Expr::new(SqlExpr::Function {
        name,
        args: args.into_args(),
    })
}

/// `now()`: the transaction's start time (`CURRENT_TIMESTAMP` on SQLite, as SQLAlchemy
/// writes it), typed `T` — a timestamp type of the `chrono` / `time` features, or `String`.
pub fn now<T: ColumnType>() -> Expr<T> {
    call("now", ())
}

/// `CURRENT_TIMESTAMP`, typed `T` as [`now`].
pub fn current_timestamp<T: ColumnType>() -> Expr<T> {
    call("current_timestamp", ())
}

/// `substr(expr, start, length)`: `length` characters from position `start` (from 1).
pub fn substr<E>(expr: E, start: i64, length: i64) -> Expr<E::SqlType>
where
    E: Expression,
    E::SqlType: Textual,
{
    call_with(
        "substr",
        vec![
            expr.into_sql(),
            SqlExpr::Param(crate::value::Value::I64(start)),
            SqlExpr::Param(crate::value::Value::I64(length)),
        ],
    )
}

/// `replace(expr, from, to)`: every `from` in the text replaced by `to`.
pub fn replace<E, F, T>(expr: E, from: F, to: T) -> Expr<E::SqlType>
where
    E: Expression,
    E::SqlType: Textual,
    F: AsExpr<String>,
    T: AsExpr<String>,
{
    call_with(
        "replace",
        vec![expr.into_sql(), from.into_expr(), to.into_expr()],
    )
}

/// `trim(expr)`: the text without leading and trailing spaces.
pub fn trim<E>(expr: E) -> Expr<E::SqlType>
where
    E: Expression,
    E::SqlType: Textual,
{
    call_with("trim", vec![expr.into_sql()])
}

/// `abs(expr)`: the absolute value.
pub fn abs<E>(expr: E) -> Expr<E::SqlType>
where
    E: Expression,
    E::SqlType: Numeric,
{
    call_with("abs", vec![expr.into_sql()])
}

/// `round(expr)`: to the nearest integer, in the expression's type.
pub fn round<E>(expr: E) -> Expr<E::SqlType>
where
    E: Expression,
    E::SqlType: Numeric,
{
    call_with("round", vec![expr.into_sql()])
}

fn call_with<V>(name: &'static str, args: Vec<SqlExpr>) -> Expr<V> {
    Expr::new(SqlExpr::Function { name, args })
}

/// `true` as a condition (SQLAlchemy's `true()`): `ON true` of a lateral join. Written
/// `true` on PostgreSQL, `1 = 1` on SQLite, `true = 1` on MySQL, as SQLAlchemy writes it.
pub fn true_() -> Expr<bool> {
    Expr::new(SqlExpr::Truth(true))
}

/// `false` as a condition (SQLAlchemy's `false()`).
pub fn false_() -> Expr<bool> {
    Expr::new(SqlExpr::Truth(false))
}

pub use super::ExtractField;

/// `EXTRACT(field FROM expr)`: a part of a date or time, as an integer
/// (`CAST(STRFTIME('%Y', expr) AS INTEGER)` on SQLite, as SQLAlchemy writes it).
pub fn extract<E: Expression>(field: ExtractField, expr: E) -> Expr<i64> {
    Expr::new(SqlExpr::Extract {
        field,
        expr: Box::new(expr.into_sql()),
    })
}

/// A value as an expression of its own type (SQLAlchemy's `literal()`), bound as a
/// parameter: `select!(literal(1_i64), User::id FROM User)` is `SELECT ? AS anon_1, users.id
/// FROM users` (`$1::BIGINT` on PostgreSQL, which would read an untyped parameter as text).
pub fn literal<T: Typed>(value: T) -> Expr<T::SqlType> {
    Expr::new(value.into_typed())
}

/// A row value of expressions, for a tuple `IN`: `tuple_((User::id, User::name))
/// .in_([(1, "ed"), (2, "wendy")])` is `(users.id, users.name) IN ((?, ?), (?, ?))`
/// (`IN (VALUES (?, ?), …)` on SQLite, as SQLAlchemy writes it).
pub fn tuple_<T: TupleItems>(items: T) -> RowValue<T::Types> {
    RowValue {
        items: items.into_items(),
        _marker: std::marker::PhantomData,
    }
}

/// A row value (see [`tuple_`]); `V` is the tuple of its items' types.
pub struct RowValue<V> {
    items: Vec<SqlExpr>,
    _marker: std::marker::PhantomData<fn() -> V>,
}

impl<V> std::fmt::Debug for RowValue<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        SqlExpr::Tuple(self.items.clone()).fmt(f)
    }
}

/// The items of a [`tuple_`]: a tuple of expressions.
pub trait TupleItems {
    /// Their types, as a tuple.
    type Types;
    /// The expressions.
    fn into_items(self) -> Vec<SqlExpr>;
}

/// A Rust tuple of values matching a row value's types, item by item.
pub trait TupleValues<V> {
    /// The values, bound.
    fn into_values(self) -> SqlExpr;
}

macro_rules! row_values {
    ($($e:ident $v:ident $x:ident),+) => {
        impl<$($e: Expression),+> TupleItems for ($($e,)+) {
            type Types = ($($e::SqlType,)+);
            #[allow(non_snake_case)]
            fn into_items(self) -> Vec<SqlExpr> {
                let ($($e,)+) = self;
                vec![$($e.into_sql()),+]
            }
        }
        impl<$($v,)+ $($x: AsExpr<$v>),+> TupleValues<($($v,)+)> for ($($x,)+) {
            #[allow(non_snake_case)]
            fn into_values(self) -> SqlExpr {
                let ($($x,)+) = self;
                SqlExpr::Tuple(vec![$($x.into_expr()),+])
            }
        }
    };
}
row_values!(A VA XA, B VB XB);
row_values!(A VA XA, B VB XB, C VC XC);
row_values!(A VA XA, B VB XB, C VC XC, D VD XD);

impl<V> RowValue<V> {
    /// `(a, b) IN ((?, ?), …)`; an empty list is false, as for [`Expression::in_`].
    pub fn in_<I>(self, rows: I) -> Expr<bool>
    where
        I: IntoIterator,
        I::Item: TupleValues<V>,
    {
        Expr::new(SqlExpr::InList {
            expr: Box::new(SqlExpr::Tuple(self.items)),
            values: rows.into_iter().map(TupleValues::into_values).collect(),
            negated: false,
        })
    }

    /// `(a, b) NOT IN ((?, ?), …)`.
    pub fn not_in<I>(self, rows: I) -> Expr<bool>
    where
        I: IntoIterator,
        I::Item: TupleValues<V>,
    {
        Expr::new(self.in_(rows).into_node().negate())
    }
}
