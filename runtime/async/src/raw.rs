//! [`AsyncRawConnection`]: a pooled connection handed out for the driver's own API, as the
//! blocking engine's `raw_connection()` (SQLAlchemy's `engine.raw_connection()`).

use quarry_core::dialect::Dialect;

use crate::driver::Inner;
use crate::pool::PooledConn;

/// The driver crates, for what a native connection is used with.
pub mod native {
    #[cfg(feature = "mysql")]
    pub use ::mysql as mysql_async;
    #[cfg(feature = "postgres")]
    pub use ::postgres as tokio_postgres;
    #[cfg(feature = "sqlite")]
    pub use ::rusqlite;
}

/// A connection of the pool for the driver's own API: `tokio_postgres::Client`
/// ([`AsyncRawConnection::postgres`]), `mysql_async::Conn` ([`AsyncRawConnection::mysql`]),
/// or SQLite's `rusqlite::Connection` on its own thread ([`AsyncRawConnection::sqlite`]).
/// Back to the pool when dropped, rolled back first: Quarry cannot know what native use left
/// open.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> quarry_core::Result<()> {
/// let engine = quarry_async::create_async_engine("sqlite://").await?;
/// let mut raw = engine.raw_connection().await?;
/// let version: String = raw
///     .sqlite(|conn| conn.query_row("SELECT sqlite_version()", [], |row| row.get(0)))
///     .await?
///     .map_err(|e| quarry_core::Error::config(e.to_string()))?;
/// assert!(version.starts_with('3'));
/// # Ok(())
/// # }
/// ```
pub struct AsyncRawConnection {
    conn: PooledConn,
    dialect: &'static dyn Dialect,
}

impl std::fmt::Debug for AsyncRawConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncRawConnection")
            .field("dialect", &self.dialect.name())
            .finish_non_exhaustive()
    }
}

impl AsyncRawConnection {
    pub(crate) fn new(mut conn: PooledConn, dialect: &'static dyn Dialect) -> Self {
        // Whatever native use does, the pool rolls back on return (SQLite asks its own flag).
        conn.conn().in_transaction = true;
        AsyncRawConnection { conn, dialect }
    }

    /// The dialect of the connection's database.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.dialect
    }

    /// The `tokio_postgres::Client` of a PostgreSQL connection, else `None`.
    #[cfg(feature = "postgres")]
    pub fn postgres(&mut self) -> Option<&mut native::tokio_postgres::Client> {
        match &mut self.conn.conn().inner {
            Inner::Postgres(c) => Some(c.client_mut()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The `mysql_async::Conn` of a MySQL or MariaDB connection, else `None`.
    #[cfg(feature = "mysql")]
    pub fn mysql(&mut self) -> Option<&mut native::mysql_async::Conn> {
        match &mut self.conn.conn().inner {
            Inner::Mysql(c) => Some(c.conn_mut()),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// Run `f` with the `rusqlite::Connection` on the connection's own thread, awaiting its
    /// answer without blocking the runtime.
    ///
    /// # Errors
    /// [`quarry_core::Error::Unsupported`] on another backend; a disconnect if the
    /// connection's thread is gone.
    #[cfg(feature = "sqlite")]
    pub async fn sqlite<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut native::rusqlite::Connection) -> T + Send + 'static,
    ) -> quarry_core::Result<T> {
        match &mut self.conn.conn().inner {
            Inner::Sqlite(c) => c.call(f).await,
            #[allow(unreachable_patterns)]
            _ => Err(quarry_core::Error::Unsupported {
                feature: "a rusqlite connection (AsyncRawConnection::sqlite)".into(),
                dialect: self.dialect.name(),
            }),
        }
    }
}
