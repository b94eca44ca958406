//! Arithmetic on expressions through Rust's operators: `User::id + 1`, `Post::score * 2.0`,
//! `User::name + "!"` (concatenation), `-User::id`.
//!
//! `/` follows Rust: between integers it is integer division (SQLAlchemy's `//`: `a / b` on
//! SQLite and PostgreSQL, `FLOOR(a / b)` on MySQL), between floats ordinary division.

use std::ops;

use super::Table;
use super::{AsExpr, BinOp, Column, Expr, Expression, SqlExpr};
use crate::value::ColumnType;

/// Number types: integers and floats, and their `Option`s.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number, so it has no arithmetic",
    label = "not a numeric column",
    note = "- * / % apply to i16, i32, i64, f32, f64 and their Option; + also joins text"
)]
pub trait Numeric: ColumnType {
    /// The division operator for the type: integer division for integers.
    const DIV: BinOp;
}

/// Types with `+`: numbers add, text concatenates (`||`, `concat()` on MySQL).
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `+`",
    label = "neither a number nor text",
    note = "+ adds numbers (i16 … f64) and joins text (String), and their Option"
)]
pub trait Addable: ColumnType {
    /// `Add` for numbers, `Concat` for text.
    const ADD: BinOp;
}

macro_rules! numeric {
    ($div:ident: $($t:ty),*) => {$(
        impl Numeric for $t { const DIV: BinOp = BinOp::$div; }
        impl Numeric for Option<$t> { const DIV: BinOp = BinOp::$div; }
        impl Addable for $t { const ADD: BinOp = BinOp::Add; }
        impl Addable for Option<$t> { const ADD: BinOp = BinOp::Add; }
    )*};
}
numeric!(IntDiv: i16, i32, i64);
numeric!(Div: f32, f64);
impl Addable for String {
    const ADD: BinOp = BinOp::Concat;
}
impl Addable for Option<String> {
    const ADD: BinOp = BinOp::Concat;
}

fn arith<V>(left: SqlExpr, op: BinOp, right: SqlExpr) -> Expr<V> {
    Expr::new(SqlExpr::binary(left, op, right))
}

macro_rules! operators {
    ($($recv:ty, [$($gen:tt)*];)*) => {$(
        impl<$($gen)*, R: AsExpr<V>> ops::Add<R> for $recv where V: Addable {
            type Output = Expr<V>;
            fn add(self, rhs: R) -> Expr<V> {
                arith(self.into_sql(), V::ADD, rhs.into_expr())
            }
        }
        impl<$($gen)*, R: AsExpr<V>> ops::Sub<R> for $recv where V: Numeric {
            type Output = Expr<V>;
            fn sub(self, rhs: R) -> Expr<V> {
                arith(self.into_sql(), BinOp::Sub, rhs.into_expr())
            }
        }
        impl<$($gen)*, R: AsExpr<V>> ops::Mul<R> for $recv where V: Numeric {
            type Output = Expr<V>;
            fn mul(self, rhs: R) -> Expr<V> {
                arith(self.into_sql(), BinOp::Mul, rhs.into_expr())
            }
        }
        impl<$($gen)*, R: AsExpr<V>> ops::Div<R> for $recv where V: Numeric {
            type Output = Expr<V>;
            fn div(self, rhs: R) -> Expr<V> {
                arith(self.into_sql(), V::DIV, rhs.into_expr())
            }
        }
        impl<$($gen)*, R: AsExpr<V>> ops::Rem<R> for $recv where V: Numeric {
            type Output = Expr<V>;
            fn rem(self, rhs: R) -> Expr<V> {
                arith(self.into_sql(), BinOp::Rem, rhs.into_expr())
            }
        }
        impl<$($gen)*> ops::Neg for $recv where V: Numeric {
            type Output = Expr<V>;
            fn neg(self) -> Expr<V> {
                Expr::new(SqlExpr::Neg(Box::new(self.into_sql())))
            }
        }
    )*};
}

operators! {
    Column<T, V>, [T: Table, V: ColumnType];
    Expr<V>, [V: ColumnType];
}

/// `left op right` where only `right` is an expression (`1 + User::id`): what `select!` writes
/// for a value on the left of an arithmetic operator.
pub fn value_first<E, L>(left: L, op: BinOp, right: E) -> Expr<E::SqlType>
where
    E: Expression,
    E::SqlType: Numeric,
    L: AsExpr<E::SqlType>,
{
    let op = match op {
        BinOp::Div | BinOp::IntDiv => <E::SqlType as Numeric>::DIV,
        other => other,
    };
    arith(left.into_expr(), op, right.into_sql())
}
