//! JSON element access: `data -> 'key'` / `data ->> 'key'` on PostgreSQL, `JSON_EXTRACT`
//! elsewhere, as SQLAlchemy's `JSON` type compiles `col["key"]` and `col["key"].astext`.

use std::fmt;

/// A key or an array index of a JSON document, as [`SqlExpr::JsonGet`](super::SqlExpr) holds
/// it; the renderer binds it as the dialect wants (the key itself on PostgreSQL, a JSON path
/// `$."key"` / `$[0]` on MySQL and SQLite).
#[derive(Clone, PartialEq)]
pub enum JsonKey {
    /// An object's member.
    Field(String),
    /// An array's element.
    Index(i64),
}

impl fmt::Debug for JsonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonKey::Field(k) => write!(f, "{k:?}"),
            JsonKey::Index(i) => write!(f, "{i}"),
        }
    }
}

impl JsonKey {
    /// The JSON path of this one step: `$."key"` (quotes and backslashes escaped), `$[0]`.
    pub fn path(&self) -> String {
        match self {
            JsonKey::Field(k) => {
                let escaped = k.replace('\\', "\\\\").replace('"', "\\\"");
                format!("$.\"{escaped}\"")
            }
            JsonKey::Index(i) => format!("$[{i}]"),
        }
    }
}

/// What [`JsonExpression::get`] accepts: a member name or an array index.
pub trait IntoJsonKey {
    /// The key.
    fn into_json_key(self) -> JsonKey;
}

impl IntoJsonKey for &str {
    fn into_json_key(self) -> JsonKey {
        JsonKey::Field(self.to_owned())
    }
}
impl IntoJsonKey for String {
    fn into_json_key(self) -> JsonKey {
        JsonKey::Field(self)
    }
}
impl IntoJsonKey for i64 {
    fn into_json_key(self) -> JsonKey {
        JsonKey::Index(self)
    }
}
impl IntoJsonKey for i32 {
    fn into_json_key(self) -> JsonKey {
        JsonKey::Index(i64::from(self))
    }
}

#[cfg(feature = "serde_json")]
pub use typed::JsonExpression;

#[cfg(feature = "serde_json")]
mod typed {
    use super::IntoJsonKey;
    use crate::sql::{Expr, Expression, SqlExpr};
    use crate::value::ColumnType;

    /// Element access on a `serde_json::Value` column or expression (cargo feature
    /// `serde_json`; in the prelude).
    ///
    /// ```
    /// # #[cfg(feature = "serde_json")] {
    /// use quarry::dialect::{Postgres, Sqlite};
    /// use quarry::prelude::*;
    ///
    /// #[derive(Table)]
    /// struct Doc {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     body: serde_json::Value,
    /// }
    ///
    /// let stmt = select!(Doc::id FROM Doc WHERE Doc::body.get_text("kind") == "memo");
    /// assert_eq!(
    ///     stmt.compile(&Postgres)?.sql(),
    ///     "SELECT doc.id FROM doc WHERE (doc.body ->> $1) = $2"
    /// );
    /// assert_eq!(
    ///     stmt.compile(&Sqlite)?.sql(),
    ///     "SELECT doc.id FROM doc WHERE JSON_EXTRACT(doc.body, ?) = ?"
    /// );
    /// # }
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub trait JsonExpression: Expression {
        /// The element at `key` (a member name or an array index) as JSON: PostgreSQL
        /// `body -> 'key'`, MySQL `JSON_EXTRACT(body, '$."key"')`, SQLite
        /// `JSON_QUOTE(JSON_EXTRACT(body, '$."key"'))`. `None` when it is missing.
        fn get(self, key: impl IntoJsonKey) -> Expr<Option<serde_json::Value>> {
            Expr::new(SqlExpr::JsonGet {
                expr: Box::new(self.into_sql()),
                key: key.into_json_key(),
                as_text: false,
            })
        }

        /// The element at `key` as text (a string without its quotes): PostgreSQL
        /// `body ->> 'key'`, MySQL `JSON_UNQUOTE(JSON_EXTRACT(…))`, SQLite `JSON_EXTRACT(…)`.
        fn get_text(self, key: impl IntoJsonKey) -> Expr<Option<String>> {
            Expr::new(SqlExpr::JsonGet {
                expr: Box::new(self.into_sql()),
                key: key.into_json_key(),
                as_text: true,
            })
        }
    }

    impl<E> JsonExpression for E
    where
        E: Expression,
        E::SqlType: ColumnType<Base = serde_json::Value>,
    {
    }
}
