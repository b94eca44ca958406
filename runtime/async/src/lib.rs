//! The async engine of [Quarry](https://docs.rs/quarry), on tokio: `quarry::asyncio` in the
//! facade (cargo feature `tokio`).
//!
//! The same core as the blocking engine — the same statements, renderer, per-call-site SQL
//! cache, row decoding (`FromRow` over the core's `RowSink`), transaction rules
//! (`rules::transaction`) and pool decisions (`rules::pool`) — with non-blocking drivers:
//! `tokio-postgres`, `mysql_async`, and SQLite on a dedicated thread per connection. It
//! depends on `quarry-core` only, never on the blocking engine.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> quarry_core::Result<()> {
//! use quarry_async::create_async_engine;
//! use quarry_core::text;
//!
//! let engine = create_async_engine("sqlite://").await?;
//! let mut conn = engine.connect().await?;
//! conn.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")).await?;
//! let tx = conn.begin().await?;
//! tx.commit().await?;
//! conn.execute(text("INSERT INTO users (name) VALUES (:name)").bind("name", "ed")).await?;
//! let n: i64 = conn.execute(text("SELECT count(*) FROM users")).await?.scalar()?;
//! assert_eq!(n, 1);
//! # Ok(())
//! # }
//! ```
//!
//! **Cancellation safety.** Any future of this crate may be dropped at any await point (a
//! `tokio::time::timeout`, a `select!`, a client gone away): the pool never hands out a
//! connection with an open transaction or an unread result, and never loses capacity. See
//! `connection.rs` and `pool.rs` for how.
#![warn(missing_docs, missing_debug_implementations)]

#[cfg(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")))]
compile_error!(
    "the async engine needs a driver: enable the `sqlite`, `postgres` or `mysql` feature \
     (with the `quarry` facade: `--features tokio,sqlite` and so on)"
);

// The shared PostgreSQL codec of the blocking driver names the core's modules as the
// blocking engine aliases them (and so do the drivers here).
use quarry_core::error;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use quarry_core::value;

mod bind;
mod connection;
mod ddl;
mod driver;
mod engine;
mod events;
mod pool;
mod raw;
mod rows;
mod session;
mod stream;

pub use bind::{AsyncBoundMetaData, ExecuteAsync};
pub use connection::{AsyncConnection, AsyncTransaction};
pub use ddl::AsyncMetaDataDdl;
pub use engine::{AsyncEngine, AsyncEngineBuilder, create_async_engine};
pub use events::{ConnectionInfo, HookConnection, HookFuture};
pub use pool::PoolStatus;
pub use quarry_core::rules::pool::ResetOnReturn;
pub use raw::{AsyncRawConnection, native};
pub use rows::Rows;
pub use session::{Added, AsyncSession, AsyncSessionBuilder};
pub use stream::RowStream;
