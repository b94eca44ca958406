//! [`RowStream`]: the rows of a statement as a [`futures_core::Stream`], pulled from the
//! server as the caller polls, so that memory stays constant whatever the result's size.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use quarry_core::Result;

/// Where a stream's rows come from, per driver.
pub(crate) enum Source<'c, R> {
    /// Decoded on a worker thread (SQLite), sent through a bounded channel: the worker steps
    /// the statement only as fast as the caller takes rows, and stops when the stream is
    /// dropped.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Channel(
        tokio::sync::mpsc::Receiver<Result<R>>,
        PhantomData<&'c mut ()>,
    ),
    /// A driver's own stream (PostgreSQL's row stream).
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Boxed(Pin<Box<dyn Stream<Item = Result<R>> + Send + 'c>>),
}

/// The rows of a statement, decoded into `R` as they arrive; it borrows the connection until
/// dropped. Dropping it early stops reading: the rest of the result is discarded (SQLite stops
/// stepping, PostgreSQL's connection skips the remaining messages).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> quarry_core::Result<()> {
/// use quarry_async::create_async_engine;
/// use quarry_core::text;
/// use std::future::poll_fn;
/// use std::pin::Pin;
/// use futures_core::Stream;
///
/// let engine = create_async_engine("sqlite://").await?;
/// let mut conn = engine.connect().await?;
/// let mut rows = conn.stream(text("SELECT 1 UNION ALL SELECT 2")).await?;
/// let mut sum = 0;
/// while let Some(row) = poll_fn(|cx| Pin::new(&mut rows).poll_next(cx)).await {
///     let n: i64 = row?.get(0)?;
///     sum += n;
/// }
/// assert_eq!(sum, 3);
/// # Ok(())
/// # }
/// ```
pub struct RowStream<'c, R> {
    pub(crate) source: Source<'c, R>,
}

impl<R> std::fmt::Debug for RowStream<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream").finish_non_exhaustive()
    }
}

impl<R> RowStream<'_, R> {
    /// The next row, or `None` at the end: `while let Some(row) = stream.next().await`.
    ///
    /// # Errors
    /// A database error or a decode error naming the column; the stream ends after it.
    pub async fn next(&mut self) -> Option<Result<R>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }
}

impl<R> Stream for RowStream<'_, R> {
    type Item = Result<R>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<R>>> {
        let this = self.get_mut();
        match &mut this.source {
            Source::Channel(rx, _) => rx.poll_recv(cx),
            Source::Boxed(s) => s.as_mut().poll_next(cx),
        }
    }
}
