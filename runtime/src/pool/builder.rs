//! [`PoolBuilder`], and [`pool_setters!`]: the one list of the pool's setters, which both
//! `PoolBuilder` and [`crate::EngineBuilder`] get as inherent methods.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::leak::LeakDetector;
use super::null::NullStore;
use super::policy::{Generations, Settings};
use super::queue::QueueStore;
use super::singleton_thread::SingletonThreadStore;
use super::static_::StaticStore;
use super::{ConnectionInfo, Pool, PoolClass, PoolStore, Shared};
use crate::driver::{Driver, DriverConnection};
use crate::error::{Error, Result};

pub(super) type ConnectHook =
    Arc<dyn Fn(&mut dyn DriverConnection, &ConnectionInfo) -> Result<()> + Send + Sync>;
pub(super) type NotifyHook = Arc<dyn Fn(&mut dyn DriverConnection, &ConnectionInfo) + Send + Sync>;
pub(super) type InvalidateHook = Arc<dyn Fn(&ConnectionInfo, Option<&Error>) + Send + Sync>;

#[derive(Clone, Default)]
pub(super) struct Events {
    pub(super) connect: Vec<ConnectHook>,
    pub(super) checkout: Vec<ConnectHook>,
    pub(super) checkin: Vec<NotifyHook>,
    pub(super) reset: Vec<NotifyHook>,
    pub(super) invalidate: Vec<InvalidateHook>,
}

/// Settings for a [`Pool`]; every setter states its default. [`crate::EngineBuilder`] has the
/// same setters and passes them on.
#[derive(Clone, Default)]
#[must_use = "call .build(driver) to get the pool"]
pub struct PoolBuilder {
    /// Set explicitly (else `Queue`, or what an engine picks for its URL).
    pub(super) class: Option<PoolClass>,
    pub(super) settings: Settings,
    pub(super) leak_threshold: Option<Duration>,
    pub(super) events: Events,
}

impl fmt::Debug for PoolBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.settings;
        f.debug_struct("PoolBuilder")
            .field("poolclass", &self.class.unwrap_or(PoolClass::Queue))
            .field("pool_size", &s.size)
            .field("max_overflow", &s.max_overflow)
            .field("pool_timeout", &s.timeout)
            .field("pool_recycle", &s.recycle)
            .field("pool_pre_ping", &s.pre_ping)
            .field("pool_use_lifo", &s.use_lifo)
            .field("reset_on_return", &s.reset_on_return)
            .field("leak_detection_threshold", &self.leak_threshold)
            .finish_non_exhaustive()
    }
}

/// The pool's setters, each declared once — its doc comment (stating its default), its
/// signature, and what it does to a `PoolBuilder` — and emitted as inherent methods:
///
/// - `pool_setters!(PoolBuilder)`: each setter applies its body to the builder;
/// - `pool_setters!(EngineBuilder.pool)`: each setter passes its arguments on to the
///   `PoolBuilder` in the field `pool`.
///
/// An entry reads `fn name[generics](b, arg: Type) where [bounds] { body on b }`; the
/// generics and bounds are optional and bracketed (so that a `macro_rules!` can tell where
/// they end). Paths are absolute: the list expands in `pool` and in `engine`.
macro_rules! pool_setters {
    (@emit [PoolBuilder] $(
        $(#[$attr:meta])*
        fn $name:ident $([$($generic:tt)*])? ($b:ident $(, $arg:ident: $ty:ty)*)
            $(where [$($bound:tt)*])? $body:block
    )*) => {
        impl PoolBuilder {$(
            $(#[$attr])*
            pub fn $name $(<$($generic)*>)? (mut self $(, $arg: $ty)*) -> Self
            $(where $($bound)*)?
            {
                let $b = &mut self;
                $body
                self
            }
        )*}
    };
    (@emit [$target:ident . $field:ident] $(
        $(#[$attr:meta])*
        fn $name:ident $([$($generic:tt)*])? ($b:ident $(, $arg:ident: $ty:ty)*)
            $(where [$($bound:tt)*])? $body:block
    )*) => {
        impl $target {$(
            $(#[$attr])*
            pub fn $name $(<$($generic)*>)? (mut self $(, $arg: $ty)*) -> Self
            $(where $($bound)*)?
            {
                self.$field = self.$field.$name($($arg),*);
                self
            }
        )*}
    };
    ($($target:tt)+) => { $crate::pool::pool_setters! { @emit [$($target)+]
        /// The pool implementation (SQLAlchemy's `poolclass`). Default
        /// [`PoolClass::Queue`](crate::pool::PoolClass::Queue); an engine picks
        /// [`PoolClass::SingletonThread`](crate::pool::PoolClass::SingletonThread) for
        /// `sqlite://` memory databases unless told otherwise (each connection to one is a
        /// database of its own; `Static` shares one between threads).
        fn poolclass(b, class: $crate::pool::PoolClass) {
            b.class = ::core::option::Option::Some(class);
        }

        /// Idle connections a `Queue` pool keeps; connections of other threads a
        /// `SingletonThread` pool keeps. Default 5.
        fn pool_size(b, n: usize) {
            b.settings.size = n;
        }

        /// Connections a `Queue` pool opens beyond `pool_size` under load, closed on return;
        /// `-1` = unbounded. Default 10.
        fn max_overflow(b, n: isize) {
            b.settings.max_overflow = n;
        }

        /// How long a checkout may take in all — waiting for a free connection and opening a
        /// new one — before it fails. Default 30 s.
        fn pool_timeout(b, timeout: ::std::time::Duration) {
            b.settings.timeout = timeout;
        }

        /// Replace connections older than this at checkout (never while in use), e.g. below a
        /// server's idle-connection timeout. Default: never.
        fn pool_recycle(b, age: ::std::time::Duration) {
            b.settings.recycle = ::core::option::Option::Some(age);
        }

        /// Test every reused connection with a round trip at checkout and replace it if it is
        /// gone; a dead one also marks every older connection for replacement. Bounded by the
        /// time left of `pool_timeout` (MySQL/MariaDB: by the URL's `read_timeout`). Default
        /// off.
        fn pool_pre_ping(b, on: bool) {
            b.settings.pre_ping = on;
        }

        /// Hand out the most recently returned idle connection first (so that the ones beyond
        /// need stay idle and may time out server-side) instead of the least recently
        /// returned. Default off (FIFO).
        fn pool_use_lifo(b, on: bool) {
            b.settings.use_lifo = on;
        }

        /// What to do with a connection's open transaction when it comes back. Default
        /// [`ResetOnReturn::Rollback`](crate::pool::ResetOnReturn::Rollback).
        fn reset_on_return(b, reset: $crate::pool::ResetOnReturn) {
            b.settings.reset_on_return = reset;
        }

        /// Log (a `tracing` warning on target `quarry::pool`) every connection held longer
        /// than `threshold`, naming the source line that checked it out; once more when it
        /// comes back. Default off. With it on, the pool runs one watchdog thread.
        fn leak_detection_threshold(b, threshold: ::std::time::Duration) {
            b.leak_threshold = ::core::option::Option::Some(threshold);
        }

        /// Run `f` on every new connection before its first use. An error fails the checkout
        /// and closes the connection. Hooks run in the order they were added. Default none.
        ///
        /// ```
        /// use quarry::prelude::*;
        ///
        /// let engine = Engine::builder("sqlite://")
        ///     .on_connect(|conn, _info| conn.batch("PRAGMA foreign_keys=ON"))
        ///     .build()?;
        /// let on: i64 = engine.execute(text("PRAGMA foreign_keys").columns::<i64>())?.scalar()?;
        /// assert_eq!(on, 1);
        /// # Ok::<(), quarry::Error>(())
        /// ```
        fn on_connect[F](b, f: F) where [
            F: Fn(
                    &mut dyn $crate::driver::DriverConnection,
                    &$crate::pool::ConnectionInfo,
                ) -> $crate::error::Result<()>
                + Send
                + Sync
                + 'static,
        ] {
            b.events.connect.push(::std::sync::Arc::new(f));
        }

        /// Run `f` on every checkout, after pre-ping. An error invalidates the connection; a
        /// disconnect error ([`Error::is_disconnect`](crate::Error::is_disconnect)) makes the
        /// pool try another connection (up to three times), any other error fails the
        /// checkout. Default none.
        fn on_checkout[F](b, f: F) where [
            F: Fn(
                    &mut dyn $crate::driver::DriverConnection,
                    &$crate::pool::ConnectionInfo,
                ) -> $crate::error::Result<()>
                + Send
                + Sync
                + 'static,
        ] {
            b.events.checkout.push(::std::sync::Arc::new(f));
        }

        /// Run `f` on every connection coming back, after its reset. Default none.
        fn on_checkin[F](b, f: F) where [
            F: Fn(&mut dyn $crate::driver::DriverConnection, &$crate::pool::ConnectionInfo)
                + Send
                + Sync
                + 'static,
        ] {
            b.events.checkin.push(::std::sync::Arc::new(f));
        }

        /// Run `f` just before a returned connection is reset (rolled back or committed).
        /// Default none.
        fn on_reset[F](b, f: F) where [
            F: Fn(&mut dyn $crate::driver::DriverConnection, &$crate::pool::ConnectionInfo)
                + Send
                + Sync
                + 'static,
        ] {
            b.events.reset.push(::std::sync::Arc::new(f));
        }

        /// Run `f` when a connection is invalidated — explicitly, after a disconnect error, or
        /// by a failed pre-ping — with the error that caused it, if any. Default none.
        fn on_invalidate[F](b, f: F) where [
            F: Fn(&$crate::pool::ConnectionInfo, ::core::option::Option<&$crate::error::Error>)
                + Send
                + Sync
                + 'static,
        ] {
            b.events.invalidate.push(::std::sync::Arc::new(f));
        }
    } };
}
pub(crate) use pool_setters;

pool_setters!(PoolBuilder);

impl PoolBuilder {
    /// The class set with `poolclass`, if any: an engine picks one by URL otherwise.
    pub(crate) fn chosen_class(&self) -> Option<PoolClass> {
        self.class
    }

    /// Build the pool. No connection is opened until the first checkout.
    ///
    /// # Errors
    /// [`Error::Config`] for a `max_overflow` below -1, a `Queue` pool that could never hold a
    /// connection, or a zero leak-detection threshold.
    pub fn build(self, driver: Arc<dyn Driver>) -> Result<Pool> {
        self.settings.validate()?;
        let class = self.class.unwrap_or(PoolClass::Queue);
        // The one place that knows the classes: a new class is a file and an arm here.
        let store: Box<dyn PoolStore> = match class {
            PoolClass::Queue => Box::new(QueueStore::new(&self.settings)?),
            PoolClass::Null => Box::new(NullStore::default()),
            PoolClass::Static => Box::new(StaticStore::default()),
            PoolClass::SingletonThread => Box::new(SingletonThreadStore::new(self.settings.size)),
        };
        if self.leak_threshold == Some(Duration::ZERO) {
            return Err(Error::config(
                "leak_detection_threshold must be longer than zero",
            ));
        }
        Ok(Pool {
            shared: Arc::new(Shared {
                driver,
                class,
                store,
                generations: Generations::default(),
                last_connect_error: std::sync::Mutex::new(None),
                leaks: self.leak_threshold.map(LeakDetector::start),
                options: self,
            }),
        })
    }
}
