//! PostgreSQL arrays as column types: `Vec<i16>`, `Vec<i32>`, `Vec<i64>`, `Vec<f32>`,
//! `Vec<f64>`, `Vec<bool>`, `Vec<String>` (`Vec<u8>` stays `BYTEA`/`BLOB`). Other databases
//! have no array type: their DDL is [`crate::Error::Unsupported`], and their drivers refuse the
//! value when it is bound.

use super::{
    ColumnType, FromSql, NonNullColumnType, RawRow, SqlType, ToSql, Value, unexpected_null,
};
use crate::error::{DecodeError, Result};

/// An element type of a PostgreSQL array column.
pub trait ArrayElement: Sized {
    /// The element's SQL type.
    const ELEMENT: SqlType;
    /// The element as a value.
    fn to_element(&self) -> Value;
    /// The element from a value; `None` when the value is of another kind.
    fn from_element(v: Value) -> Option<Self>;
}

macro_rules! elements {
    ($($t:ty => $sql:ident, $variant:ident, |$v:ident| $from:expr;)*) => {$(
        impl ArrayElement for $t {
            const ELEMENT: SqlType = SqlType::$sql;
            fn to_element(&self) -> Value {
                Value::$variant(self.clone())
            }
            fn from_element($v: Value) -> Option<Self> {
                $from
            }
        }
        impl ToSql for Vec<$t> {
            fn to_value(&self) -> Value {
                Value::Array(self.iter().map(ArrayElement::to_element).collect())
            }
        }
        impl FromSql for Vec<$t> {
            fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
                let expected = concat!("Vec<", stringify!($t), ">");
                let items = row
                    .get_array(idx)?
                    .ok_or_else(|| unexpected_null(row, idx, expected))?;
                items
                    .into_iter()
                    .map(|v| {
                        let kind = v.kind_name();
                        <$t>::from_element(v).ok_or_else(|| {
                            DecodeError::new(
                                row.name(idx),
                                expected,
                                format!("an array holding {kind}"),
                            )
                            .into_error()
                        })
                    })
                    .collect()
            }
        }
        impl ColumnType for Vec<$t> {
            const SQL_TYPE: SqlType = SqlType::Array(&<$t as ArrayElement>::ELEMENT);
            const NULLABLE: bool = false;
            type Base = Vec<$t>;
        }
        impl NonNullColumnType for Vec<$t> {}
    )*};
}

fn int(v: Value) -> Option<i64> {
    match v {
        Value::I16(i) => Some(i64::from(i)),
        Value::I32(i) => Some(i64::from(i)),
        Value::I64(i) => Some(i),
        _ => None,
    }
}

fn float(v: Value) -> Option<f64> {
    match v {
        Value::F32(f) => Some(f64::from(f)),
        Value::F64(f) => Some(f),
        _ => None,
    }
}

elements! {
    i16 => SmallInt, I16, |v| int(v).and_then(|i| i16::try_from(i).ok());
    i32 => Integer, I32, |v| int(v).and_then(|i| i32::try_from(i).ok());
    i64 => BigInt, I64, |v| int(v);
    // Narrowing is what a REAL[] element means.
    f32 => Real, F32, |v| float(v).map(|f| f as f32);
    f64 => Double, F64, |v| float(v);
    bool => Boolean, Bool, |v| match v { Value::Bool(b) => Some(b), _ => None };
    String => Text, Text, |v| match v { Value::Text(s) => Some(s), _ => None };
}

/// `$m!(type, …)` for the array column types, for the per-type impls elsewhere.
macro_rules! array_types {
    ($m:ident) => {
        $m!(
            Vec<i16>,
            Vec<i32>,
            Vec<i64>,
            Vec<f32>,
            Vec<f64>,
            Vec<bool>,
            Vec<String>
        );
    };
}
pub(crate) use array_types;

pub use typed::ArrayExpression;

mod typed {
    use super::ArrayElement;
    use crate::sql::{AsExpr, BinOp, Expr, Expression, SqlExpr};
    use crate::value::ColumnType;

    /// Operators of PostgreSQL array columns (`Vec<T>`; in the prelude). Other databases
    /// have no arrays: these compile to [`crate::Error::Unsupported`] there.
    ///
    /// ```
    /// use quarry::dialect::{Postgres, Sqlite};
    /// use quarry::prelude::*;
    ///
    /// static META: MetaData = MetaData::new();
    ///
    /// #[derive(Table)]
    /// #[table(metadata = META)]
    /// struct Post {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     tags: Vec<String>,
    /// }
    ///
    /// let stmt = select!(Post::id FROM Post
    ///     WHERE Post::tags.contains(vec!["rust".to_owned()]) && Post::tags.any("db"));
    /// assert_eq!(
    ///     stmt.compile(&Postgres)?.sql(),
    ///     "SELECT post.id FROM post WHERE post.tags @> $1 AND $2 = ANY (post.tags)"
    /// );
    /// assert!(stmt.compile(&Sqlite).is_err());
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub trait ArrayExpression<T: ArrayElement>: Expression {
        /// `self @> other`: every element of `other` is in the array.
        fn contains<R: AsExpr<Vec<T>>>(self, other: R) -> Expr<bool>
        where
            Vec<T>: ColumnType,
        {
            Expr::new(SqlExpr::binary(
                self.into_sql(),
                BinOp::Contains,
                other.into_expr(),
            ))
        }

        /// `value = ANY (self)`: the array holds `value`.
        fn any<R: AsExpr<T>>(self, value: R) -> Expr<bool>
        where
            T: ColumnType,
        {
            Expr::new(SqlExpr::binary(
                value.into_expr(),
                BinOp::Eq,
                SqlExpr::Function {
                    name: "ANY",
                    args: vec![self.into_sql()],
                },
            ))
        }
    }

    impl<E, T> ArrayExpression<T> for E
    where
        E: Expression,
        T: ArrayElement,
        Vec<T>: ColumnType,
        E::SqlType: ColumnType<Base = Vec<T>>,
    {
    }
}
