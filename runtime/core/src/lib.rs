//! The pure core of [Quarry](https://docs.rs/quarry): values and type mapping, [`Error`], the
//! schema model, the statement and expression model, dialects, the one renderer and the
//! per-call-site SQL cache, row decoding, URL parsing.
//!
//! Nothing here does I/O: no driver crate, no thread, no socket, no async runtime. Engines
//! (`quarry-runtime`, the blocking one) depend on this crate and feed it rows; users reach it
//! through the `quarry` facade, which re-exports it.
#![warn(missing_docs, missing_debug_implementations)]

#[doc(hidden)]
pub mod constraint;
pub mod dialect;
#[doc(hidden)]
pub mod error;
#[doc(hidden)]
pub mod isolation;
#[doc(hidden)]
pub mod key;
pub mod migrate;
#[doc(hidden)]
pub mod render;
#[doc(hidden)]
pub mod row;
pub mod rules;
#[doc(hidden)]
pub mod scalar;
#[doc(hidden)]
pub mod schema;
#[doc(hidden)]
pub mod sink;
pub mod sql;
#[doc(hidden)]
pub mod url;
#[doc(hidden)]
pub mod value;

#[doc(hidden)]
pub mod __private;

pub use constraint::{CheckDef, FkAction, IndexDef};
pub use error::{DatabaseError, DatabaseErrorKind, DecodeError, Error, Result};
pub use isolation::IsolationLevel;
pub use key::PrimaryKey;
pub use render::{MAX_EXPR_DEPTH, Renderer};
pub use row::{ColumnIndex, Row};
pub use rules::retry::RetryPolicy;
pub use rules::routing::Route;
pub use scalar::FirstColumn;
pub use schema::{
    ColumnDef, ColumnRef, DEFAULT_METADATA, DefaultValue, FromRow, Insertable, MetaData, TableDef,
};
pub use sink::{Outcome, RowSink};
pub use sql::{
    Alias, AsExpr, Column, Compile, Compiled, Compound, Cte, DefinedTable, Delete, DerivedTable,
    Expr, Expression, FromSource, Identity, Insert, IntoOrderBy, JoinTarget, Joined, Labeled, Lock,
    OrderBy, RecursiveCte, Select, SetMember, SqlCache, Statement, Subquery, Table, TableRef, Text,
    TextExpression, TypedText, Update, Upsert, all, excluded, exists, func, joined, nullable,
    select, text,
};
pub use url::Url;
pub use value::{
    ArrayElement, ArrayExpression, ColumnType, EnumType, FromSql, RawRow, SqlEnum, SqlType, ToSql,
    Value,
};

/// DDL text for a table, for inspection and snapshots.
pub mod schema_sql {
    pub use crate::render::{
        create_enum_type, create_indexes, create_table, drop_enum_type, drop_table, enum_types,
        index_name,
    };
}
