//! The pool's event hooks, as the blocking engine's `on_connect` / `on_checkout` /
//! `on_checkin` / `on_invalidate` (SQLAlchemy's pool events): the async ones return a boxed
//! future borrowing the connection, as sqlx's `after_connect` does.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use quarry_core::dialect::Dialect;
use quarry_core::{Error, Result};

use crate::driver::Conn;

/// What an async hook returns: `Box::pin(async move { … })`.
pub type HookFuture<'c> = Pin<Box<dyn Future<Output = Result<()>> + Send + 'c>>;

/// An async hook (`on_connect`, `on_checkout`).
pub(crate) type ConnectHook =
    Arc<dyn for<'c, 'x> Fn(&'c mut HookConnection<'x>) -> HookFuture<'c> + Send + Sync>;
/// A notification (`on_checkin`).
pub(crate) type NotifyHook = Arc<dyn Fn(&ConnectionInfo) + Send + Sync>;
/// A notification with the cause (`on_invalidate`).
pub(crate) type InvalidateHook = Arc<dyn Fn(&ConnectionInfo, Option<&Error>) + Send + Sync>;

/// The hooks of one pool, run in the order they were added.
#[derive(Clone, Default)]
pub(crate) struct Events {
    pub(crate) connect: Vec<ConnectHook>,
    pub(crate) checkout: Vec<ConnectHook>,
    pub(crate) checkin: Vec<NotifyHook>,
    pub(crate) invalidate: Vec<InvalidateHook>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("connect", &self.connect.len())
            .field("checkout", &self.checkout.len())
            .field("checkin", &self.checkin.len())
            .field("invalidate", &self.invalidate.len())
            .finish()
    }
}

/// What the pool knows of one connection; passed to the hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// The pool's number for the connection (they count up from 1: older is smaller).
    pub id: u64,
    /// When it was opened.
    pub created: Instant,
}

impl ConnectionInfo {
    /// How long it has been open.
    pub fn age(&self) -> Duration {
        self.created.elapsed()
    }
}

/// A connection as an async hook sees it: SQL without parameters or rows (`SET …`,
/// `PRAGMA …`), its dialect and what the pool knows of it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> quarry_core::Result<()> {
/// use quarry_async::AsyncEngine;
/// let engine = AsyncEngine::builder("sqlite://")
///     .on_connect(|conn| Box::pin(async move { conn.batch("PRAGMA foreign_keys=ON").await }))
///     .build()
///     .await?;
/// let on: i64 = engine.execute(quarry_core::text("PRAGMA foreign_keys")).await?.scalar()?;
/// assert_eq!(on, 1);
/// # Ok(())
/// # }
/// ```
pub struct HookConnection<'x> {
    pub(crate) conn: &'x mut Conn,
    pub(crate) info: ConnectionInfo,
    pub(crate) dialect: &'static dyn Dialect,
}

impl std::fmt::Debug for HookConnection<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookConnection")
            .field("info", &self.info)
            .field("dialect", &self.dialect.name())
            .finish_non_exhaustive()
    }
}

impl HookConnection<'_> {
    /// Run SQL without parameters or rows.
    ///
    /// # Errors
    /// A database error.
    pub async fn batch(&mut self, sql: &str) -> Result<()> {
        self.conn.batch(sql).await
    }

    /// What the pool knows of the connection.
    pub fn info(&self) -> ConnectionInfo {
        self.info
    }

    /// The dialect of the connection's database.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }
}

/// Run `hooks` in order on `conn`; the first error stops them.
pub(crate) async fn run(
    hooks: &[ConnectHook],
    conn: &mut Conn,
    info: ConnectionInfo,
    dialect: &'static dyn Dialect,
) -> Result<()> {
    let mut hooked = HookConnection {
        conn,
        info,
        dialect,
    };
    for hook in hooks {
        hook(&mut hooked).await?;
    }
    Ok(())
}
