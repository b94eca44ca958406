//! Calls into the `postgres` crate from wherever the blocking engine is used, tokio included.
//!
//! That crate blocks on a tokio runtime of its own for every call (connect, each query, each
//! row of a streamed result, dropping a client). tokio refuses that on a thread that is
//! running another runtime — an `async fn`, a future given to `block_on` — with a panic
//! ("Cannot start a runtime from within a runtime"), and no public tokio call tells such a
//! thread apart from one where blocking is allowed (a `spawn_blocking` closure,
//! `block_in_place`, code under `Handle::enter`). So, where a runtime's context is present:
//! - on a multi-thread runtime, the call runs in `tokio::task::block_in_place`, which hands the
//!   worker's other tasks to another thread first when this thread is a worker, and is a plain
//!   call elsewhere (a blocking-pool thread, inside another `block_in_place`);
//! - on a current-thread runtime, whose only thread cannot hand its tasks on, the call runs on
//!   a short-lived thread of its own; a result's rows are read whole there ([`Held`]) and
//!   decoded into the sink after, on the caller's thread (a sink need not be `Send`).
//!
//! Either way the call works and blocks the calling code until it is done, as the SQLite and
//! MySQL blocking drivers do: an `async fn` should use `quarry::asyncio` instead. Outside any
//! runtime (the usual case) the call is made directly.

use postgres::{Column, Row};
use tokio::runtime::{Handle, RuntimeFlavor};

use super::{Failure, feed_row};
use crate::error::{Error, Result};
use crate::sink::RowSink;

/// Where the driver hands a result: the caller's sink, or [`Held`] for it.
pub(super) trait PgSink {
    /// The result's columns, before its rows (also when there are none).
    fn columns(&mut self, columns: &[Column]);
    /// A result set without rows whose column names are unknown ([`RowSink::unnamed_result`]).
    fn unnamed_result(&mut self);
    /// How many rows follow, when the whole result was read first.
    fn expect_rows(&mut self, rows: usize);
    /// One row of `width` columns.
    fn row(&mut self, row: Row, width: usize) -> std::result::Result<(), Failure>;
}

/// The caller's sink, fed as the rows come.
struct Direct<'s>(&'s mut dyn RowSink);

impl PgSink for Direct<'_> {
    fn columns(&mut self, columns: &[Column]) {
        super::super::send_column_names(
            columns.len(),
            |i| Ok::<_, std::convert::Infallible>(columns[i].name()),
            self.0,
        )
        .unwrap_or_else(|never| match never {});
    }

    fn unnamed_result(&mut self) {
        self.0.unnamed_result();
    }

    fn expect_rows(&mut self, rows: usize) {
        self.0.expect_rows(rows);
    }

    fn row(&mut self, row: Row, width: usize) -> std::result::Result<(), Failure> {
        feed_row(&row, width, self.0)
    }
}

/// A result read on another thread, its rows as the server sent them, decoded into the
/// caller's sink by [`Held::replay`].
#[derive(Default)]
struct Held {
    names: Vec<String>,
    /// [`PgSink::unnamed_result`] was called.
    unnamed: bool,
    rows: Vec<(Row, usize)>,
}

impl PgSink for Held {
    fn columns(&mut self, columns: &[Column]) {
        self.names = columns.iter().map(|c| c.name().to_owned()).collect();
    }

    fn unnamed_result(&mut self) {
        self.unnamed = true;
    }

    fn expect_rows(&mut self, rows: usize) {
        self.rows.reserve(rows);
    }

    fn row(&mut self, row: Row, width: usize) -> std::result::Result<(), Failure> {
        self.rows.push((row, width));
        Ok(())
    }
}

impl Held {
    fn replay(self, sink: &mut dyn RowSink) -> Result<()> {
        if self.unnamed {
            sink.unnamed_result();
            return Ok(());
        }
        let names = &self.names;
        super::super::send_column_names(
            names.len(),
            |i| Ok::<_, std::convert::Infallible>(names[i].as_str()),
            sink,
        )
        .unwrap_or_else(|never| match never {});
        sink.expect_rows(self.rows.len());
        for (row, width) in &self.rows {
            feed_row(row, *width, sink).map_err(|f| match f {
                Failure::Quarry(e) => e,
                Failure::Pg(e) => {
                    crate::error::DatabaseError::into_error(super::convert(&e, None, &[]))
                }
            })?;
        }
        Ok(())
    }
}

/// Where this thread stands towards tokio.
enum Context {
    /// No runtime: call the crate directly.
    Outside,
    /// Inside a multi-thread runtime's context: `block_in_place`.
    MultiThread,
    /// Inside a current-thread runtime's context: a thread of its own.
    CurrentThread,
}

fn context() -> Context {
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Err(_) => Context::Outside,
        Ok(RuntimeFlavor::MultiThread) => Context::MultiThread,
        Ok(_) => Context::CurrentThread,
    }
}

/// Run `f`, which calls into the `postgres` crate, where that crate can block.
pub(super) fn outside_runtime<R: Send>(f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    match context() {
        Context::Outside => f(),
        Context::MultiThread => tokio::task::block_in_place(f),
        Context::CurrentThread => on_a_thread(f),
    }
}

/// [`outside_runtime`] for a call that feeds a result to `sink` (which need not be `Send`):
/// on a thread of its own the rows are read whole, then handed to `sink` on this thread.
pub(super) fn outside_runtime_into<R: Send>(
    sink: &mut dyn RowSink,
    f: impl FnOnce(&mut dyn PgSink) -> Result<R> + Send,
) -> Result<R> {
    match context() {
        Context::Outside => f(&mut Direct(sink)),
        Context::MultiThread => tokio::task::block_in_place(|| f(&mut Direct(sink))),
        Context::CurrentThread => {
            let mut held = Held::default();
            let outcome = on_a_thread(|| f(&mut held))?;
            held.replay(sink)?;
            Ok(outcome)
        }
    }
}

/// Run `f` on a new thread, outside any runtime's context, and wait for it.
fn on_a_thread<R: Send>(f: impl FnOnce() -> Result<R> + Send) -> Result<R> {
    std::thread::scope(|scope| {
        let spawned = std::thread::Builder::new()
            .name("quarry-pg-call".into())
            .spawn_scoped(scope, f)
            .map_err(|e| {
                Error::config(format!(
                    "cannot start a thread for a PostgreSQL call inside a current-thread tokio \
                     runtime: {e}; use quarry::asyncio::create_async_engine in async code"
                ))
            })?;
        match spawned.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
