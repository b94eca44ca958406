//! Results: typed rows of an executed statement.

use std::fmt;
use std::sync::Arc;

use crate::connection::Connection;
use crate::driver::Outcome;
use crate::error::{Error, Result};
use crate::scalar::FirstColumn;

pub(crate) mod stream;

use stream::Reader;

/// The rows of an executed statement, decoded into `R`.
///
/// An iterator of `Result<R>`; the methods below consume it the way SQLAlchemy's result does.
/// Rows of a connectionless execution ([`Engine::execute`](crate::Engine::execute)) own their
/// connection and return it to the pool once exhausted, closed or dropped
/// (SQLAlchemy's close-with-result).
///
/// **Buffered or streamed.** [`Connection::execute`] and [`Engine::execute`] read the whole
/// result before they return (buffered, as SQLAlchemy's default cursor): the connection is
/// free for the next statement at once, however long the rows are kept — `Rows` borrows
/// nothing. [`Connection::stream`] and [`Engine::stream`] (SQLAlchemy's `stream_results` /
/// `yield_per`) return rows that the driver reads as the caller iterates, a chunk of
/// `yield_per` at a time, so a result of any size takes the memory of a few chunks; the
/// connection is busy until the rows are read, closed or dropped (its next use closes them).
/// `all()` on streamed rows reads the rest into a `Vec`, as it must.
///
/// **No result set.** The result of a statement that returns no rows (an `INSERT`, `UPDATE` or
/// `DELETE` without `RETURNING`, DDL) has [`rowcount`](Rows::rowcount) and
/// [`last_insert_id`](Rows::last_insert_id) but no rows to fetch: `all()`, `first()`, `one()`,
/// the `scalar` family, `fetchmany` and iteration give [`Error::NoResultSet`], as SQLAlchemy's
/// `ResourceClosedError("This result object does not return rows")` — never an empty result
/// that reads as "nothing matched". [`Rows::returns_rows`] tells which kind a result is.
///
/// ```
/// use quarry::prelude::*;
///
/// let engine = create_engine("sqlite://")?;
/// let mut conn = engine.connect()?;
/// conn.execute(text("CREATE TABLE t (x INTEGER)"))?;
/// let rows = conn.execute(text("INSERT INTO t VALUES (1), (2)"))?;
/// assert!(!rows.returns_rows());
/// assert_eq!(rows.rowcount(), 2);
/// assert!(matches!(rows.first(), Err(quarry::Error::NoResultSet)));
/// # Ok::<(), quarry::Error>(())
/// ```
///
/// [`Connection::execute`]: crate::Connection::execute
/// [`Connection::stream`]: crate::Connection::stream
/// [`Engine::execute`]: crate::Engine::execute
/// [`Engine::stream`]: crate::Engine::stream
pub struct Rows<R> {
    source: Source<R>,
    keys: Arc<[String]>,
    outcome: Outcome,
    /// The connection of a connectionless execution, held until the rows are consumed.
    conn: Option<Connection>,
    /// The statement produced a result set (see [`Rows::returns_rows`]).
    returns_rows: bool,
    /// Iteration over a result without rows gave its one [`Error::NoResultSet`].
    reported: bool,
}

/// Where the rows come from.
enum Source<R> {
    /// Read in full by the driver before `execute` returned: the first row apart, so that a
    /// one-row result (a lookup) allocates no `Vec`.
    Buffered(Buffered<R>),
    /// Read by the driver as the caller iterates.
    Streamed(Reader<R>),
}

/// Buffered rows: the first, then the rest. The connection fills either `first` (a one-row
/// result, no `Vec`) or `rest` (every row).
struct Buffered<R> {
    first: Option<R>,
    rest: std::vec::IntoIter<R>,
}

impl<R> Buffered<R> {
    fn next(&mut self) -> Option<R> {
        self.first.take().or_else(|| self.rest.next())
    }

    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }
}

impl<R> Source<R> {
    fn next(&mut self) -> Option<Result<R>> {
        match self {
            Source::Buffered(rows) => rows.next().map(Ok),
            Source::Streamed(reader) => reader.next(),
        }
    }

    /// True when nothing is left to read.
    fn exhausted(&self) -> bool {
        match self {
            Source::Buffered(rows) => rows.len() == 0,
            Source::Streamed(reader) => reader.finished(),
        }
    }
}

impl<R> fmt::Debug for Rows<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Rows");
        d.field("keys", &self.keys);
        match &self.source {
            Source::Buffered(rows) => d.field("remaining", &rows.len()),
            Source::Streamed(_) => d.field("streamed", &true),
        };
        d.field("returns_rows", &self.returns_rows)
            .field("rowcount", &self.rowcount())
            .field("owns_connection", &self.conn.is_some())
            .finish()
    }
}

impl<R> Rows<R> {
    pub(crate) fn new(rows: Vec<R>, keys: Arc<[String]>, outcome: Outcome) -> Self {
        Rows {
            returns_rows: !keys.is_empty() || !rows.is_empty(),
            reported: false,
            source: Source::Buffered(Buffered {
                first: None,
                rest: rows.into_iter(),
            }),
            keys,
            outcome,
            conn: None,
        }
    }

    /// Buffered rows given as the first and the rest.
    pub(crate) fn split(
        first: Option<R>,
        rest: Vec<R>,
        keys: Arc<[String]>,
        outcome: Outcome,
    ) -> Self {
        Rows {
            // The drivers report a statement without a result set as no columns (SQLAlchemy:
            // `cursor.description is None`); a static call site's kept names are its result's.
            returns_rows: !keys.is_empty() || first.is_some(),
            reported: false,
            source: Source::Buffered(Buffered {
                first,
                rest: rest.into_iter(),
            }),
            keys,
            outcome,
            conn: None,
        }
    }

    /// Rows read from `reader` as the caller iterates.
    pub(crate) fn streamed(reader: Reader<R>) -> Self {
        Rows {
            returns_rows: reader.returns_rows,
            reported: false,
            keys: Arc::clone(&reader.keys),
            source: Source::Streamed(reader),
            outcome: Outcome::default(),
            conn: None,
        }
    }

    /// These rows are a result set even without column names (the driver could not tell
    /// them: [`RowSink::unnamed_result`](crate::sink::RowSink::unnamed_result)).
    pub(crate) fn with_result_set(mut self) -> Self {
        self.returns_rows = true;
        self
    }

    /// True when the driver reads these rows as they are iterated (see [`Rows`]).
    pub fn is_streamed(&self) -> bool {
        matches!(self.source, Source::Streamed(_))
    }

    /// The buffered rows, column names and outcome (for results put together from parts).
    ///
    /// # Errors
    /// A streamed result's error.
    pub(crate) fn into_parts(mut self) -> Result<(Vec<R>, Arc<[String]>, Outcome)> {
        let keys = Arc::clone(&self.keys);
        let outcome = self.outcome.clone();
        // The parts of a split statement: an `INSERT`'s parts have no rows, and that is fine.
        self.returns_rows = true;
        Ok((self.all()?, keys, outcome))
    }

    /// True when the statement produced a result set to fetch (a `SELECT`, `RETURNING`, a
    /// `text()` query with columns), as SQLAlchemy's `returns_rows`; false for an `INSERT`,
    /// `UPDATE` or `DELETE` without `RETURNING`, and DDL, whose rows cannot be fetched
    /// ([`Error::NoResultSet`]).
    pub fn returns_rows(&self) -> bool {
        self.returns_rows
    }

    /// [`Error::NoResultSet`] unless there are rows to fetch.
    fn check_rows(&self) -> Result<()> {
        if self.returns_rows {
            Ok(())
        } else {
            Err(Error::NoResultSet)
        }
    }

    /// Hand `conn` to the rows: it goes back to the pool when they are done.
    pub(crate) fn owning(mut self, conn: Connection) -> Self {
        if self.source.exhausted() {
            // Nothing to read: release at once (an INSERT's rows are done when returned).
            drop(conn);
        } else {
            self.conn = Some(conn);
        }
        self
    }

    /// Every remaining row.
    ///
    /// # Errors
    /// A decode error, naming the column; [`Error::NoResultSet`] for a statement without rows.
    pub fn all(mut self) -> Result<Vec<R>> {
        self.check_rows()?;
        let rows = match &mut self.source {
            Source::Buffered(rows) => match rows.first.take() {
                Some(first) if rows.rest.len() == 0 => vec![first],
                Some(first) => {
                    let mut all = Vec::with_capacity(rows.len() + 1);
                    all.push(first);
                    all.extend(std::mem::take(&mut rows.rest));
                    all
                }
                // The driver's `Vec`, its buffer reused (collecting a `vec::IntoIter` keeps
                // its allocation): no copy of the rows.
                None => std::mem::take(&mut rows.rest).collect(),
            },
            Source::Streamed(_) => self.by_ref().collect::<Result<Vec<R>>>()?,
        };
        self.conn = None;
        Ok(rows)
    }

    /// The first row, if any; the rest are discarded.
    ///
    /// # Errors
    /// A decode error, naming the column; [`Error::NoResultSet`] for a statement without rows.
    pub fn first(mut self) -> Result<Option<R>> {
        self.check_rows()?;
        self.source.next().transpose()
    }

    /// Exactly one row.
    ///
    /// # Errors
    /// [`Error::NoRows`] or [`Error::MultipleRows`].
    pub fn one(self) -> Result<R> {
        self.one_or_none()?.ok_or(Error::NoRows)
    }

    /// One row or none.
    ///
    /// # Errors
    /// [`Error::MultipleRows`] when there is more than one; [`Error::NoResultSet`] for a
    /// statement without rows.
    pub fn one_or_none(mut self) -> Result<Option<R>> {
        self.check_rows()?;
        let first = self.source.next().transpose()?;
        if first.is_some() && self.source.next().transpose()?.is_some() {
            return Err(Error::MultipleRows);
        }
        Ok(first)
    }

    /// The first column of the first row, as SQLAlchemy's `scalar()`; the other rows are
    /// discarded. A one-column select (`count(…)`) gives its value, a tuple its first item, a
    /// `text()` result's [`Row`](crate::Row) its first column decoded into the type asked for.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut conn = engine.connect()?;
    /// let n: i64 = conn.execute(text("SELECT 7, 'seven'"))?.scalar()?;
    /// assert_eq!(n, 7);
    /// // No row: `None` where the type can say it, as SQLAlchemy's scalar() returns None.
    /// let none: Option<i64> = conn.execute(text("SELECT 7 WHERE 1 = 0"))?.scalar()?;
    /// assert_eq!(none, None);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NoRows`] when there is no row and `T` is not an `Option` (a tuple's first
    /// item included); a decode error naming the column.
    pub fn scalar<T>(self) -> Result<T>
    where
        R: FirstColumn<T>,
    {
        match self.first()? {
            Some(row) => row.first_column(),
            None => R::no_row(),
        }
    }

    /// The first column of the one row there must be, as SQLAlchemy's `scalar_one()`.
    ///
    /// # Errors
    /// [`Error::NoRows`] when there is no row, [`Error::MultipleRows`] when there are more.
    pub fn scalar_one<T>(self) -> Result<T>
    where
        R: FirstColumn<T>,
    {
        self.one()?.first_column()
    }

    /// The first column of the one row, or `None` when there is no row, as SQLAlchemy's
    /// `scalar_one_or_none()`.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// let engine = create_engine("sqlite://")?;
    /// let mut conn = engine.connect()?;
    /// let none: Option<i64> = conn.execute(text("SELECT 1 WHERE 1 = 0"))?.scalar_one_or_none()?;
    /// assert_eq!(none, None);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::MultipleRows`] when there is more than one row.
    pub fn scalar_one_or_none<T>(self) -> Result<Option<T>>
    where
        R: FirstColumn<T>,
    {
        self.one_or_none()?
            .map(FirstColumn::first_column)
            .transpose()
    }

    /// Up to `n` more rows; an empty `Vec` once exhausted (which releases an owned connection).
    ///
    /// # Errors
    /// A decode error, naming the column; [`Error::NoResultSet`] for a statement without rows.
    pub fn fetchmany(&mut self, n: usize) -> Result<Vec<R>> {
        self.check_rows()?;
        let mut batch = Vec::with_capacity(n.min(1024));
        while batch.len() < n {
            match self.source.next() {
                Some(row) => batch.push(row?),
                None => break,
            }
        }
        if self.source.exhausted() {
            self.conn = None;
        }
        Ok(batch)
    }

    /// The column names of the result, in order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Rows inserted, updated or deleted; for a `SELECT`, rows returned (streamed: rows read
    /// so far, until the end was read).
    pub fn rowcount(&self) -> u64 {
        match &self.source {
            Source::Buffered(_) => self.outcome.rows_affected,
            Source::Streamed(reader) => reader.outcome().rows_affected,
        }
    }

    /// The key the database assigned to the last inserted row: SQLite's `last_insert_rowid()`,
    /// MySQL's `LAST_INSERT_ID()`, PostgreSQL's `RETURNING` of the table's autoincrement key
    /// (added to single-row inserts when executed).
    pub fn last_insert_id(&self) -> Option<i64> {
        match &self.source {
            Source::Buffered(_) => self.outcome.last_insert_id,
            Source::Streamed(reader) => reader.outcome().last_insert_id,
        }
    }

    /// Same as [`Rows::last_insert_id`], by SQLAlchemy's name.
    pub fn inserted_primary_key(&self) -> Option<i64> {
        self.last_insert_id()
    }

    /// True while these rows hold the connection of a connectionless execution.
    pub fn owns_connection(&self) -> bool {
        self.conn.is_some()
    }

    /// Discard the remaining rows and release the connection, if these rows own one.
    pub fn close(self) {}
}

impl<R> Iterator for Rows<R> {
    type Item = Result<R>;
    fn next(&mut self) -> Option<Self::Item> {
        if !self.returns_rows {
            // Once: a loop that stops at the first error sees it, one that goes on ends.
            self.conn = None;
            if std::mem::replace(&mut self.reported, true) {
                return None;
            }
            return Some(Err(Error::NoResultSet));
        }
        let next = self.source.next();
        if next.is_none() || self.source.exhausted() {
            // Exhausted: give the connection back now rather than when the rows are dropped.
            self.conn = None;
        }
        next
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        if !self.returns_rows {
            let left = usize::from(!self.reported);
            return (left, Some(left));
        }
        match &self.source {
            Source::Buffered(rows) => (rows.len(), Some(rows.len())),
            Source::Streamed(_) => (0, None),
        }
    }
}
