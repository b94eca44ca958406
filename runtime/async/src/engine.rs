//! [`AsyncEngine`]: a URL, a driver and a pool; [`create_async_engine`] and the builder.

use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use quarry_core::dialect::Dialect;
use quarry_core::rules::pool::{ResetOnReturn, Settings};
use quarry_core::{Result, Statement, Url, Value};

use crate::connection::AsyncConnection;
use crate::driver::Driver;
use crate::events::{ConnectionInfo, Events, HookConnection, HookFuture};
use crate::pool::{Pool, PoolStatus};
use crate::raw::AsyncRawConnection;
use crate::rows::Rows;

/// Opens an [`AsyncEngine`] with the default settings; see [`AsyncEngine::builder`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> quarry_core::Result<()> {
/// let engine = quarry_async::create_async_engine("sqlite://").await?;
/// let n: i64 = engine.execute(quarry_core::text("SELECT 40 + 2")).await?.scalar()?;
/// assert_eq!(n, 42);
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`quarry_core::Error::Url`] for a URL that does not parse or names no async driver of this
/// build; [`quarry_core::Error::Config`] for impossible pool settings.
pub async fn create_async_engine(url: &str) -> Result<AsyncEngine> {
    AsyncEngine::builder(url).build().await
}

/// The async engine: the same statements as the blocking [`Engine`](https://docs.rs/quarry)
/// (every `select!`, `insert!`, `update!`, `delete!`, `text()` runs unchanged, with the same
/// per-call-site SQL cache), on tokio. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct AsyncEngine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    url: Url,
    dialect: &'static dyn Dialect,
    pub(crate) pool: Pool,
    echo: bool,
    hide_parameters: bool,
}

impl std::fmt::Debug for AsyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncEngine")
            .field("url", &self.inner.url.render_as_string(true))
            .field("pool", &self.inner.pool)
            .finish()
    }
}

/// Settings of an [`AsyncEngine`], as the blocking engine's builder has them.
#[derive(Debug)]
#[must_use = "call .build().await to open the engine"]
pub struct AsyncEngineBuilder {
    url: String,
    settings: Settings,
    pool_size_set: bool,
    echo: bool,
    hide_parameters: bool,
    leak_threshold: Option<Duration>,
    events: Events,
}

impl AsyncEngine {
    /// A builder for `url` (`sqlite://`, `sqlite:///file.db`, `postgresql://user@host/db`,
    /// `mysql://user@host/db`).
    pub fn builder(url: impl Into<String>) -> AsyncEngineBuilder {
        AsyncEngineBuilder {
            url: url.into(),
            settings: Settings::default(),
            pool_size_set: false,
            echo: false,
            hide_parameters: false,
            leak_threshold: None,
            events: Events::default(),
        }
    }

    /// A connection from the pool, within `pool_timeout`.
    ///
    /// # Errors
    /// [`quarry_core::Error::PoolTimeout`] (naming the last connect error when connecting is
    /// what failed), or the connect error itself.
    #[track_caller]
    pub fn connect(&self) -> impl Future<Output = Result<AsyncConnection>> + Send + '_ {
        // The caller's line, taken now: `#[track_caller]` does not reach into an async body.
        let site = Location::caller();
        self.connect_at(site)
    }

    pub(crate) async fn connect_at(
        &self,
        site: &'static Location<'static>,
    ) -> Result<AsyncConnection> {
        let conn = self.inner.pool.checkout(site).await?;
        Ok(AsyncConnection::new(self.clone(), conn, site))
    }

    /// Connectionless execution: check out a connection, run `stmt`, return the connection
    /// (the rows are read whole first).
    ///
    /// # Errors
    /// As [`AsyncEngine::connect`] and [`AsyncConnection::execute`].
    #[track_caller]
    pub fn execute<S: Statement>(&self, stmt: S) -> impl Future<Output = Result<Rows<S::Row>>> + '_
    where
        S::Row: Send + 'static,
    {
        let site = Location::caller();
        // Compiled before the future: the statement need not be `Send`.
        let compiled = stmt.into_execution(self.dialect());
        async move {
            let compiled = compiled?;
            let mut conn = self.connect_at(site).await?;
            conn.run(compiled).await
        }
    }

    /// Run `f` in a transaction on a connection of its own: committed when `f` returns `Ok`,
    /// rolled back when it returns `Err` (that error is returned) or when the returned future
    /// is dropped.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> quarry_core::Result<()> {
    /// use quarry_core::text;
    /// let engine = quarry_async::create_async_engine("sqlite://").await?;
    /// engine.execute(text("CREATE TABLE t (x INTEGER)")).await?;
    /// engine
    ///     .transaction(async |conn| {
    ///         conn.execute(text("INSERT INTO t VALUES (1)")).await?;
    ///         Ok(())
    ///     })
    ///     .await?;
    /// let n: i64 = engine.execute(text("SELECT count(*) FROM t")).await?.scalar()?;
    /// assert_eq!(n, 1);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// `f`'s error, or the error of begin or commit.
    #[track_caller]
    pub fn transaction<T>(
        &self,
        f: impl AsyncFnOnce(&mut AsyncConnection) -> Result<T>,
    ) -> impl Future<Output = Result<T>> {
        let site = Location::caller();
        async move {
            let mut conn = self.connect_at(site).await?;
            conn.run_in_transaction(f).await
        }
    }

    /// A connection of the pool for the driver's own API (see [`AsyncRawConnection`]),
    /// within `pool_timeout`; back to the pool, rolled back, when dropped.
    ///
    /// # Errors
    /// As [`AsyncEngine::connect`].
    #[track_caller]
    pub fn raw_connection(&self) -> impl Future<Output = Result<AsyncRawConnection>> + Send + '_ {
        let site = Location::caller();
        async move {
            let conn = self.inner.pool.checkout(site).await?;
            Ok(AsyncRawConnection::new(conn, self.dialect()))
        }
    }

    /// Close every idle connection and retire the checked-out ones (closed when returned).
    /// The engine stays usable.
    pub async fn dispose(&self) {
        self.inner.pool.dispose().await;
    }

    /// The pool's counters now.
    pub fn pool_status(&self) -> PoolStatus {
        self.inner.pool.status()
    }

    /// True when `other` is a clone of this engine (the same pool).
    pub fn same(&self, other: &AsyncEngine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The engine's dialect.
    pub fn dialect(&self) -> &'static dyn Dialect {
        self.inner.dialect
    }

    /// The URL, password masked.
    pub fn url(&self) -> String {
        self.inner.url.render_as_string(true)
    }

    pub(crate) fn log_statement(&self, sql: &str, params: &[Value]) {
        if self.inner.hide_parameters {
            tracing::info!(target: "quarry::engine", sql, params = "[hidden]", "execute");
        } else {
            tracing::info!(target: "quarry::engine", sql, ?params, "execute");
        }
        if self.inner.echo {
            println!("{sql}");
            if self.inner.hide_parameters {
                println!("[SQL parameters hidden due to hide_parameters=true]");
            } else {
                println!("[parameters: {params:?}]");
            }
        }
    }

    pub(crate) fn log_text(&self, text: &str) {
        tracing::info!(target: "quarry::engine", sql = text, "execute");
        if self.inner.echo {
            println!("{text}");
        }
    }

    pub(crate) fn hide_parameters(&self) -> bool {
        self.inner.hide_parameters
    }
}

impl AsyncEngineBuilder {
    /// Idle connections kept. Default 5 (1 for `sqlite://` in memory, whose one connection
    /// is the database and is handed out in turn).
    pub fn pool_size(mut self, size: usize) -> Self {
        self.settings.size = size;
        self.pool_size_set = true;
        self
    }

    /// Connections opened beyond `pool_size` under load; `-1` for no limit. Default 10.
    pub fn max_overflow(mut self, overflow: isize) -> Self {
        self.settings.max_overflow = overflow;
        self
    }

    /// How long a checkout may take in all — waiting, connecting, pre-pinging. Default 30 s.
    pub fn pool_timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Replace connections at least this old at checkout. Default: never.
    pub fn pool_recycle(mut self, age: Duration) -> Self {
        self.settings.recycle = Some(age);
        self
    }

    /// Test each reused connection with a round trip at checkout. Default false.
    pub fn pool_pre_ping(mut self, on: bool) -> Self {
        self.settings.pre_ping = on;
        self
    }

    /// Hand out the most recently returned idle connection first. Default false (FIFO).
    pub fn pool_use_lifo(mut self, on: bool) -> Self {
        self.settings.use_lifo = on;
        self
    }

    /// What a returned connection's reset does. Default [`ResetOnReturn::Rollback`].
    pub fn pool_reset_on_return(mut self, reset: ResetOnReturn) -> Self {
        self.settings.reset_on_return = reset;
        self
    }

    /// Log (a `tracing` warning on target `quarry::pool`) every connection held longer than
    /// `threshold`, naming the source line that checked it out (`engine.connect()`,
    /// `engine.execute(…)`, `engine.transaction(…)`); once more when it comes back. Default
    /// off. With it on, the pool runs one watchdog thread (not a task: the runtime is never
    /// asked to wake it).
    pub fn leak_detection_threshold(mut self, threshold: Duration) -> Self {
        self.leak_threshold = Some(threshold);
        self
    }

    /// Run `f` on every new connection before its first use, e.g.
    /// `|conn| Box::pin(async move { conn.batch("SET search_path TO app").await })`. An error
    /// fails the checkout and closes the connection. Hooks run in the order they were added.
    /// Default none.
    pub fn on_connect<F>(mut self, f: F) -> Self
    where
        F: for<'c, 'x> Fn(&'c mut HookConnection<'x>) -> HookFuture<'c> + Send + Sync + 'static,
    {
        self.events.connect.push(Arc::new(f));
        self
    }

    /// Run `f` on every checkout, after pre-ping (and after `on_connect` for a new
    /// connection). An error closes the connection; a disconnect error
    /// ([`quarry_core::Error::is_disconnect`]) makes the pool try another connection (up to
    /// three times), any other error fails the checkout. Default none.
    pub fn on_checkout<F>(mut self, f: F) -> Self
    where
        F: for<'c, 'x> Fn(&'c mut HookConnection<'x>) -> HookFuture<'c> + Send + Sync + 'static,
    {
        self.events.checkout.push(Arc::new(f));
        self
    }

    /// Call `f` for every connection coming back to the pool, after its reset. Default none.
    pub fn on_checkin<F>(mut self, f: F) -> Self
    where
        F: Fn(&ConnectionInfo) + Send + Sync + 'static,
    {
        self.events.checkin.push(Arc::new(f));
        self
    }

    /// Call `f` when a connection is invalidated — explicitly
    /// ([`AsyncConnection::invalidate`]), by a failed pre-ping or a failed hook — with the
    /// error that caused it, if any. Default none.
    pub fn on_invalidate<F>(mut self, f: F) -> Self
    where
        F: Fn(&ConnectionInfo, Option<&quarry_core::Error>) + Send + Sync + 'static,
    {
        self.events.invalidate.push(Arc::new(f));
        self
    }

    /// Print each statement and its parameters to stdout (they are logged through `tracing`
    /// either way). Default false.
    pub fn echo(mut self, on: bool) -> Self {
        self.echo = on;
        self
    }

    /// Keep parameter values out of logs and error messages. Default false.
    pub fn hide_parameters(mut self, on: bool) -> Self {
        self.hide_parameters = on;
        self
    }

    /// Open the engine. No connection is made until the first checkout.
    ///
    /// # Errors
    /// [`quarry_core::Error::Url`] for a URL that does not parse or names no async driver of
    /// this build; [`quarry_core::Error::Config`] for impossible pool settings or a zero leak
    /// threshold.
    pub async fn build(self) -> Result<AsyncEngine> {
        let url = Url::parse(&self.url)?;
        let driver = Driver::for_url(&url)?;
        let mut settings = self.settings;
        if driver.each_connection_is_a_new_database() {
            // One connection is the whole database: keep it, hand it out in turn.
            if !self.pool_size_set {
                settings.size = 1;
            }
            settings.size = settings.size.min(1);
            settings.max_overflow = 0;
            settings.recycle = None;
        }
        let dialect = driver.dialect();
        let pool = Pool::new(driver, settings, self.leak_threshold, self.events)?;
        Ok(AsyncEngine {
            inner: Arc::new(EngineInner {
                url,
                dialect,
                pool,
                echo: self.echo,
                hide_parameters: self.hide_parameters,
            }),
        })
    }
}
