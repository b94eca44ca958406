//! The engine: a dialect, a driver and a pool for one database URL.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::connection::Connection;
use crate::dialect::Dialect;
use crate::driver::{self, Driver};
use crate::error::{Error, Result};
use crate::pool::{Pool, PoolConfig};
use crate::rows::Rows;
use crate::sql::Statement;
use crate::url::Url;

/// Home base for one database: hands out [`Connection`]s from its pool.
///
/// Cheap to clone (all clones share the pool); create one per database URL and keep it for the
/// life of the program.
///
/// ```
/// use quarry::prelude::*;
///
/// let engine = create_engine("sqlite://")?;
/// let mut conn = engine.connect()?;
/// assert_eq!(engine.dialect().name(), "sqlite");
/// # Ok::<(), quarry::Error>(())
/// ```
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    url: Url,
    dialect: &'static dyn Dialect,
    pool: Arc<Pool>,
    echo: bool,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Engine({})", self.inner.url)
    }
}

/// Create an engine with default settings; same as `Engine::builder(url).build()`.
///
/// URLs: `sqlite://` (memory), `sqlite:///relative.db`, `sqlite:////absolute.db`.
///
/// # Errors
/// [`Error::Url`] for a malformed URL; [`Error::Config`] when no driver serves its dialect.
pub fn create_engine(url: &str) -> Result<Engine> {
    Engine::builder(url).build()
}

impl Engine {
    /// Configure an engine for `url`.
    pub fn builder(url: impl Into<String>) -> EngineBuilder {
        EngineBuilder {
            url: url.into(),
            pool_size: 5,
            max_overflow: 10,
            pool_timeout: Duration::from_secs(30),
            echo: false,
        }
    }

    /// Check out a connection from the pool.
    ///
    /// # Errors
    /// A connection error, or [`Error::PoolTimeout`] when the pool stays exhausted.
    pub fn connect(&self) -> Result<Connection> {
        Ok(Connection::new(self.clone(), self.inner.pool.checkout()?))
    }

    /// Connectionless execution: run `stmt` on a connection checked out for it and returned to
    /// the pool once the rows are fetched.
    ///
    /// # Errors
    /// As [`Engine::connect`] and [`Connection::execute`].
    pub fn execute<S: Statement>(&self, stmt: S) -> Result<Rows<S::Row>> {
        self.connect()?.execute(stmt)
    }

    /// The dialect statements are compiled for.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.inner.dialect
    }

    /// The URL (its `Display` masks the password).
    pub fn url(&self) -> &Url {
        &self.inner.url
    }

    /// Close every idle connection of the pool. Checked-out connections stay usable.
    pub fn dispose(&self) {
        self.inner.pool.dispose();
    }

    pub(crate) fn echo(&self) -> bool {
        self.inner.echo
    }
}

/// Settings for an [`Engine`]; every setter states its default.
#[derive(Debug, Clone)]
#[must_use = "call .build() to get the engine"]
pub struct EngineBuilder {
    url: String,
    pool_size: usize,
    max_overflow: isize,
    pool_timeout: Duration,
    echo: bool,
}

impl EngineBuilder {
    /// Idle connections the pool keeps. Default 5. For `sqlite://` (memory) the pool always
    /// holds exactly one connection, since each connection would be its own database.
    pub fn pool_size(mut self, n: usize) -> Self {
        self.pool_size = n;
        self
    }

    /// Connections opened beyond `pool_size` under load, closed on return; `-1` = unbounded.
    /// Default 10.
    pub fn max_overflow(mut self, n: isize) -> Self {
        self.max_overflow = n;
        self
    }

    /// How long a checkout waits for a free connection. Default 30 s.
    pub fn pool_timeout(mut self, timeout: Duration) -> Self {
        self.pool_timeout = timeout;
        self
    }

    /// Print every statement and its parameters to stdout (besides the `tracing` events on target
    /// `quarry::engine`, which are always emitted). Default off.
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    /// Build the engine. No connection is opened until the first checkout.
    ///
    /// # Errors
    /// [`Error::Url`] for a malformed URL; [`Error::Config`] for settings that cannot work.
    pub fn build(self) -> Result<Engine> {
        let url = Url::parse(&self.url)?;
        if self.max_overflow < -1 {
            return Err(Error::config(format!(
                "max_overflow must be -1 (unbounded) or at least 0, got {}",
                self.max_overflow
            )));
        }
        let driver: Arc<dyn Driver> = driver::for_url(&url)?;
        let mut config = PoolConfig {
            size: self.pool_size,
            max_overflow: self.max_overflow,
            timeout: self.pool_timeout,
        };
        if url.dialect_name() == "sqlite" && matches!(url.database(), None | Some(":memory:")) {
            // Every connection to `sqlite://` is a new, empty database: share exactly one.
            config.size = 1;
            config.max_overflow = 0;
        }
        Ok(Engine {
            inner: Arc::new(Inner {
                dialect: driver.dialect(),
                pool: Pool::new(driver, config),
                url,
                echo: self.echo,
            }),
        })
    }
}
