//! Streamed results: the driver reads the rows as the caller iterates.
//!
//! A streamed execution ([`Connection::stream`](crate::Connection::stream),
//! [`Engine::stream`](crate::Engine::stream)) moves the pooled driver connection to a worker
//! thread, which runs the statement with [`DriverConnection::run_streaming`] and decodes the
//! rows into `R` there, handing them over in chunks of `yield_per` through a queue of at most
//! [`QUEUED`] chunks: when the caller stops reading, the worker stops at the next full chunk,
//! and so does the driver (SQLite stops stepping, MySQL and PostgreSQL stop reading the
//! socket). So at most `(QUEUED + 2) × yield_per` rows are in memory at a time.
//!
//! The connection comes back when the worker ends: the rows were read to the end, failed,
//! or were closed — by the caller (`close()`, drop) or by the connection itself, whose next
//! use (another statement, a commit, its return to the pool) closes the stream first and
//! waits for the worker, as a DB-API connection discards an unbuffered cursor. A decode or
//! database error mid-stream is the iterator's last item; a lost connection is invalidated
//! by the worker (the pool replaces it), any other error leaves it healthy.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use crate::connection::lock;
use crate::driver::{Outcome, RowSink};
use crate::error::{Error, Result};
use crate::pool::PooledConnection;
use crate::schema::FromRow;
use crate::sql::Compiled;
use crate::value::RawRow;

/// Chunks the worker may have handed over and the caller not yet taken.
pub(crate) const QUEUED: usize = 2;

/// The default number of rows per chunk (SQLAlchemy's `yield_per` default for
/// `stream_results` is 1000).
pub(crate) const DEFAULT_YIELD_PER: usize = 1000;

/// What the worker and the reader share.
struct Shared<R> {
    inner: Mutex<Inner<R>>,
    /// The reader waits here for a chunk, the column names or the end.
    ready: Condvar,
    /// The worker waits here for room in the queue (or for the stream to be closed).
    room: Condvar,
}

struct Inner<R> {
    keys: Option<Arc<[String]>>,
    /// The driver got a result set whose names it could not tell ([`RowSink::unnamed_result`]).
    unnamed: bool,
    chunks: VecDeque<Vec<R>>,
    /// What the statement did, set once when the driver returned.
    end: Option<Result<Outcome>>,
    /// No one will read any more rows: the worker stops at its next chunk.
    closed: bool,
}

/// The worker's end, as the connection takes it back.
pub(crate) struct Handback {
    /// `None` when the worker found the connection lost (and invalidated it).
    pub(crate) conn: Option<PooledConnection>,
}

/// The connection's hold on a running stream: closes it and takes the connection back.
pub(crate) struct Running {
    close: Arc<dyn Close>,
    worker: JoinHandle<Handback>,
}

impl Running {
    /// Close the stream (if it still runs) and wait for the worker: the connection back, or
    /// `None` when it was lost (or the worker panicked: then it is not trusted either).
    pub(crate) fn reclaim(self) -> Option<PooledConnection> {
        self.close.close();
        match self.worker.join() {
            Ok(back) => back.conn,
            Err(_) => None,
        }
    }
}

trait Close: Send + Sync {
    fn close(&self);
}

impl<R: Send> Close for Shared<R> {
    fn close(&self) {
        lock(&self.inner).closed = true;
        self.room.notify_all();
        self.ready.notify_all();
    }
}

/// The error a stream ends with when its connection was used for something else.
fn closed_error() -> Error {
    Error::config(
        "the streamed result was closed: its connection ran another statement (or ended) \
         before every row was read; read the rows first, or call all()",
    )
}

/// A stream that failed before its first row: the error, and the connection back (`None`
/// when it was lost).
pub(crate) struct Failed {
    pub(crate) error: Error,
    pub(crate) conn: Option<PooledConnection>,
}

/// Start streaming `compiled` on `conn`: returns once the column names (or an error) are
/// known. On an error before any row the connection comes back with it.
pub(crate) fn start<R: FromRow + Send + 'static>(
    mut conn: PooledConnection,
    compiled: Compiled,
    yield_per: usize,
    hide_parameters: bool,
) -> std::result::Result<(Reader<R>, Running), Box<Failed>> {
    let shared = Arc::new(Shared {
        inner: Mutex::new(Inner {
            keys: None,
            unnamed: false,
            chunks: VecDeque::new(),
            end: None,
            closed: false,
        }),
        ready: Condvar::new(),
        room: Condvar::new(),
    });
    let for_worker = Arc::clone(&shared);
    let yield_per = yield_per.max(1);
    let spawned = std::thread::Builder::new()
        .name("quarry-stream".into())
        .spawn(move || {
            let _ends = EndGuard(Arc::clone(&for_worker));
            let mut sink = Feed {
                shared: &for_worker,
                chunk: Vec::new(),
                yield_per,
            };
            let ran = conn
                .get()
                .run_streaming(compiled.sql(), compiled.params(), &mut sink);
            // The rows read before a failure are handed over ahead of it.
            let flushed = sink.flush();
            let ran = ran.and_then(|outcome| flushed.map(|()| outcome));
            let ran = ran.map_err(|mut e| {
                if let Error::Database(db) = &mut e
                    && hide_parameters
                {
                    db.params.clear();
                }
                e
            });
            let lost = ran.as_ref().err().is_some_and(Error::is_disconnect);
            let conn = if lost {
                if let Err(e) = &ran {
                    tracing::warn!(target: "quarry::pool", error = %e, "connection lost while streaming; invalidating it and every older connection of the pool");
                    conn.invalidate(Some(e));
                }
                None
            } else {
                Some(conn)
            };
            lock(&for_worker.inner).end = Some(ran);
            for_worker.ready.notify_all();
            Handback { conn }
        });
    let worker = match spawned {
        Ok(w) => w,
        Err(e) => {
            return Err(Box::new(Failed {
                error: Error::config(format!("cannot start the thread of a streamed result: {e}")),
                conn: None,
            }));
        }
    };
    // Wait for the column names: a statement that fails at once fails here, in `execute`.
    let keys = {
        let mut inner = lock(&shared.inner);
        loop {
            if let Some(keys) = &inner.keys {
                break Some(Arc::clone(keys));
            }
            if inner.end.is_some() {
                break None;
            }
            inner = shared
                .ready
                .wait(inner)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    };
    let running = Running {
        close: Arc::clone(&shared) as Arc<dyn Close>,
        worker,
    };
    let keys = match keys {
        Some(keys) => keys,
        None => {
            let end = lock(&shared.inner).end.take();
            match end {
                Some(Err(e)) => {
                    let conn = running.reclaim();
                    return Err(Box::new(Failed { error: e, conn }));
                }
                // Ended without naming columns: no result rows.
                _ => Arc::from(Vec::new()),
            }
        }
    };
    let unnamed = lock(&shared.inner).unnamed;
    let reader = Reader {
        shared,
        current: Vec::new().into_iter(),
        returns_rows: unnamed || !keys.is_empty(),
        keys,
        fetched: 0,
        outcome: None,
        done: false,
    };
    Ok((reader, running))
}

/// Makes sure the reader is woken with an end even if the worker panics (a decoder's panic).
struct EndGuard<R>(Arc<Shared<R>>);

impl<R> Drop for EndGuard<R> {
    fn drop(&mut self) {
        let mut inner = lock(&self.0.inner);
        if inner.end.is_none() {
            inner.end = Some(Err(Error::config(
                "the thread reading a streamed result panicked",
            )));
        }
        drop(inner);
        self.0.ready.notify_all();
    }
}

/// The worker's sink: decodes each row, hands over full chunks.
struct Feed<'a, R> {
    shared: &'a Shared<R>,
    chunk: Vec<R>,
    yield_per: usize,
}

impl<R> Feed<'_, R> {
    /// Hand the chunk over, waiting for room; an error once the stream is closed.
    fn flush(&mut self) -> Result<()> {
        let mut inner = lock(&self.shared.inner);
        while inner.chunks.len() >= QUEUED && !inner.closed {
            inner = self
                .shared
                .room
                .wait(inner)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if inner.closed {
            return Err(closed_error());
        }
        if !self.chunk.is_empty() {
            let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(self.yield_per));
            inner.chunks.push_back(chunk);
        }
        drop(inner);
        self.shared.ready.notify_all();
        Ok(())
    }
}

impl<R: FromRow> RowSink for Feed<'_, R> {
    fn columns(&mut self, names: &[&str]) {
        let keys: Arc<[String]> = names.iter().map(|n| (*n).to_owned()).collect();
        lock(&self.shared.inner).keys = Some(keys);
        self.shared.ready.notify_all();
    }

    fn unnamed_result(&mut self) {
        let mut inner = lock(&self.shared.inner);
        inner.unnamed = true;
        inner.keys = Some(Arc::from(Vec::new()));
        drop(inner);
        self.shared.ready.notify_all();
    }

    fn row(&mut self, row: &dyn RawRow) -> Result<()> {
        self.chunk.push(R::from_row(row, 0)?);
        if self.chunk.len() >= self.yield_per {
            self.flush()?;
        }
        Ok(())
    }
}

/// The reading end of a streamed result, inside [`Rows`](crate::Rows).
pub(crate) struct Reader<R> {
    shared: Arc<Shared<R>>,
    current: std::vec::IntoIter<R>,
    pub(crate) keys: Arc<[String]>,
    /// The statement had a result set (column names, or [`RowSink::unnamed_result`]).
    pub(crate) returns_rows: bool,
    fetched: u64,
    outcome: Option<Outcome>,
    done: bool,
}

impl<R> Reader<R> {
    pub(crate) fn next(&mut self) -> Option<Result<R>> {
        if let Some(row) = self.current.next() {
            self.fetched += 1;
            return Some(Ok(row));
        }
        if self.done {
            return None;
        }
        let mut inner = lock(&self.shared.inner);
        loop {
            if let Some(chunk) = inner.chunks.pop_front() {
                drop(inner);
                self.shared.room.notify_all();
                self.current = chunk.into_iter();
                // A chunk is never empty.
                return self.current.next().map(|row| {
                    self.fetched += 1;
                    Ok(row)
                });
            }
            if let Some(end) = inner.end.take() {
                self.done = true;
                return match end {
                    Ok(outcome) => {
                        self.outcome = Some(outcome);
                        None
                    }
                    Err(e) => Some(Err(e)),
                };
            }
            inner = self
                .shared
                .ready
                .wait(inner)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// True once the end was read (rows, error or closing).
    pub(crate) fn finished(&self) -> bool {
        self.done && self.current.len() == 0
    }

    /// What the statement did, once read to the end; the rows read so far before.
    pub(crate) fn outcome(&self) -> Outcome {
        self.outcome.clone().unwrap_or(Outcome {
            rows_affected: self.fetched,
            last_insert_id: None,
        })
    }
}

impl<R> Drop for Reader<R> {
    fn drop(&mut self) {
        lock(&self.shared.inner).closed = true;
        self.shared.room.notify_all();
    }
}
