//! `CASE WHEN … THEN … ELSE … END` and `CAST(… AS …)`.
//!
//! ```
//! use quarry::prelude::*;
//! use quarry::func::{case_when, cast};
//!
//! #[derive(Table)]
//! #[table(name = "users")]
//! struct User {
//!     #[column(primary_key)]
//!     id: i64,
//!     name: String,
//! }
//!
//! let stmt = select!(case_when(User::id > 5, "big").else_("small"), cast::<String>(User::id) FROM User);
//! assert_eq!(
//!     stmt.compile(&quarry::dialect::Sqlite)?.sql(),
//!     "SELECT CASE WHEN (users.id > ?) THEN ? ELSE ? END AS anon_1, \
//!      CAST(users.id AS VARCHAR) AS id FROM users"
//! );
//! # Ok::<(), quarry::Error>(())
//! ```

use std::fmt;
use std::marker::PhantomData;

use super::{AsExpr, Expr, Expression, SqlExpr};
use crate::value::{ColumnType, NonNullColumnType, ToSql};

/// A value whose SQL type follows from its Rust type: an expression, or a Rust value bound
/// as a parameter (`"big"` is text, `5_i64` a `BIGINT`). The first `THEN` of a
/// [`case_when`] gives the `CASE`'s type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no SQL type of its own",
    label = "expected a column, an expression, or a value such as 1_i64, 2.5, \"text\", true"
)]
pub trait Typed {
    /// The SQL type, as a Rust type.
    type SqlType: ColumnType;
    /// The expression.
    fn into_typed(self) -> SqlExpr;
}

impl<E: Expression> Typed for E {
    type SqlType = E::SqlType;
    fn into_typed(self) -> SqlExpr {
        self.into_sql()
    }
}

macro_rules! typed_values {
    ($($t:ty),*) => {$(
        impl Typed for $t {
            type SqlType = $t;
            fn into_typed(self) -> SqlExpr {
                SqlExpr::Param(self.to_value())
            }
        }
    )*};
}
typed_values!(i16, i32, i64, f32, f64, bool, String);

impl Typed for &str {
    type SqlType = String;
    fn into_typed(self) -> SqlExpr {
        SqlExpr::Param(crate::value::Value::Text(self.to_owned()))
    }
}

/// `CASE WHEN condition THEN value …`, before its `ELSE`: `NULL` when no condition holds, so
/// as an expression it is an `Option`. Add conditions with [`when`](Case::when), finish with
/// [`else_`](Case::else_) (or use it as is).
pub struct Case<V> {
    whens: Vec<(SqlExpr, SqlExpr)>,
    _marker: PhantomData<fn() -> V>,
}

impl<V> Clone for Case<V> {
    fn clone(&self) -> Self {
        Case {
            whens: self.whens.clone(),
            _marker: PhantomData,
        }
    }
}

impl<V> fmt::Debug for Case<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SqlExpr::Case {
            whens: self.whens.clone(),
            else_: None,
        }
        .fmt(f)
    }
}

/// `CASE WHEN condition THEN value`: the value's type is the `CASE`'s.
pub fn case_when<C: AsExpr<bool>, T: Typed>(condition: C, then: T) -> Case<T::SqlType> {
    Case {
        whens: vec![(condition.into_expr(), then.into_typed())],
        _marker: PhantomData,
    }
}

impl<V: ColumnType> Case<V> {
    /// Another `WHEN condition THEN value`, tried after the ones before.
    pub fn when<C: AsExpr<bool>, T: AsExpr<V>>(mut self, condition: C, then: T) -> Self {
        self.whens.push((condition.into_expr(), then.into_expr()));
        self
    }

    /// `ELSE value END`: the value when no condition holds.
    pub fn else_<T: AsExpr<V>>(self, value: T) -> Expr<V> {
        Expr::new(SqlExpr::Case {
            whens: self.whens,
            else_: Some(Box::new(value.into_expr())),
        })
    }
}

/// Without `ELSE`, a `CASE` is `NULL` when no condition holds.
impl<V> Expression for Case<V>
where
    V: ColumnType,
    V::Base: NonNullColumnType,
    Option<V::Base>: ColumnType,
{
    type SqlType = Option<V::Base>;
    fn into_sql(self) -> SqlExpr {
        SqlExpr::Case {
            whens: self.whens,
            else_: None,
        }
    }
}

impl<V> super::SelectItems for Case<V>
where
    V: ColumnType,
    V::Base: NonNullColumnType,
    Option<V::Base>: ColumnType + crate::schema::FromRow,
{
    type Row = Option<V::Base>;
    fn push_items(self, out: &mut Vec<super::SelectItem>) {
        out.push(super::SelectItem::Expr(self.into_sql()));
    }
}

/// `CAST(expr AS type)`: `expr` as the SQL type of `T` (`cast::<i64>(User::name)` is
/// `CAST(users.name AS BIGINT)`; MySQL: `SIGNED INTEGER`). Types a dialect cannot cast to
/// (MySQL: floats and booleans, which SQLAlchemy leaves uncast) are
/// [`Error::Unsupported`](crate::Error::Unsupported).
pub fn cast<T: ColumnType>(expr: impl Expression) -> Expr<T> {
    Expr::new(SqlExpr::Cast {
        expr: Box::new(expr.into_sql()),
        to: T::SQL_TYPE,
    })
}
