//! The blocking engine of [Quarry](https://docs.rs/quarry): drivers, the connection pool,
//! engines, connections, transactions, results, bound metadata and the `Session`.
//!
//! It runs what `quarry-core` describes: statements compile there (pure, no I/O) and run here
//! on a driver connection checked out of the pool. Use it through the `quarry` crate, which
//! adds the derive and the statement macros and re-exports both crates.
#![warn(missing_docs, missing_debug_implementations)]

// The core's modules under the names this crate's code has always used (`crate::sql::…`).
use quarry_core::{
    dialect, error, isolation, key, render, rules, scalar, schema, sink, sql, url, value,
};
// Names the engine's code and docs say as `crate::Error` & co.
#[allow(unused_imports)]
use quarry_core::{ColumnDef, DEFAULT_METADATA, Error, IsolationLevel, MetaData, Row, Statement};

pub mod driver;

mod bind;
mod connection;
mod copy;
mod ddl;
mod engine;
pub mod migrate;
pub mod pool;
mod reflect;
mod retry;
mod rows;
mod session;
pub mod shard;
mod transaction;

pub use bind::{BoundMetaData, Execute};
pub use connection::{Connection, ExecutionOptions};
pub use ddl::{MetaDataDdl, TableDdl};
pub use engine::{Engine, EngineBuilder, MemberStatus, RawConnection, Strategy, create_engine};
pub use pool::{PoolClass, PoolStatus, ResetOnReturn};
pub use reflect::{LiveSchema, reflect, reflect_schema, reflect_table};
pub use rows::Rows;
pub use session::{Added, Session, SessionBuilder, SessionMaker, sessionmaker};
pub use shard::{
    ShardQuery, ShardRow, ShardedEngine, ShardedEngineBuilder, ShardedRows, ShardedSession,
};
pub use transaction::{EngineTransaction, Transaction};

/// The driver registry: third-party dialects and drivers joining in-process. Users reach it
/// as `quarry::dialect::{register, unregister, registered}`.
pub mod registry {
    pub use crate::driver::registry::{DriverFactory, register, registered, unregister};
}
