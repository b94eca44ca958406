//! The runtime of [Quarry](https://docs.rs/quarry): statement model, dialects, drivers, pool,
//! engine and connections.
//!
//! Use it through the `quarry` crate, which adds the derive and the statement macros and
//! re-exports everything here.
#![warn(missing_docs, missing_debug_implementations)]

pub mod dialect;
pub mod driver;
mod error;
mod render;
mod row;
mod rows;
mod schema;
pub mod sql;
mod url;
mod value;

mod bind;
mod connection;
mod ddl;
mod engine;
pub mod pool;
mod session;
mod transaction;

#[doc(hidden)]
pub mod __private;

pub use bind::Execute;
pub use connection::{Connection, ExecutionOptions, IsolationLevel};
pub use engine::{Engine, EngineBuilder, RawConnection, Strategy, create_engine};
pub use error::{DatabaseError, DatabaseErrorKind, DecodeError, Error, Result};
pub use pool::{PoolClass, PoolStatus, ResetOnReturn};
pub use render::Renderer;
pub use row::{ColumnIndex, Row};
pub use rows::Rows;
pub use schema::{
    ColumnDef, ColumnRef, DEFAULT_METADATA, DefaultValue, FromRow, Identity, Insertable, MetaData,
    Table, TableDef,
};
pub use session::{Added, PrimaryKey, Session, SessionBuilder, SessionMaker, sessionmaker};
pub use sql::{
    Alias, AsExpr, Column, Compile, Compiled, Compound, Delete, Expr, Expression, Insert, Select,
    SqlCache, Statement, Text, TypedText, Update, Upsert, all, excluded, exists, func, nullable,
    select, text,
};
pub use transaction::{EngineTransaction, Transaction};
pub use url::Url;
pub use value::{ColumnType, FromSql, RawRow, SqlType, ToSql, Value};

/// DDL text for a table, for inspection and snapshots.
pub mod schema_sql {
    pub use crate::render::{create_indexes, create_table, drop_table, index_name};
}
