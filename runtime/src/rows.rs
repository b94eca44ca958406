//! Results: typed rows of an executed statement.

use std::fmt;
use std::sync::Arc;

use crate::connection::Connection;
use crate::driver::Outcome;
use crate::error::{Error, Result};
use crate::scalar::FirstColumn;

/// The rows of an executed statement, decoded into `R`.
///
/// An iterator of `Result<R>`; the methods below consume it the way SQLAlchemy's result does.
/// Rows of a connectionless execution ([`Engine::execute`](crate::Engine::execute)) own their
/// connection and return it to the pool once exhausted, closed or dropped
/// (SQLAlchemy's close-with-result).
pub struct Rows<R> {
    rows: std::vec::IntoIter<R>,
    keys: Arc<[String]>,
    outcome: Outcome,
    /// The connection of a connectionless execution, held until the rows are consumed.
    conn: Option<Connection>,
}

impl<R> fmt::Debug for Rows<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("keys", &self.keys)
            .field("remaining", &self.rows.len())
            .field("rowcount", &self.outcome.rows_affected)
            .field("owns_connection", &self.conn.is_some())
            .finish()
    }
}

impl<R> Rows<R> {
    pub(crate) fn new(rows: Vec<R>, keys: Arc<[String]>, outcome: Outcome) -> Self {
        Rows {
            rows: rows.into_iter(),
            keys,
            outcome,
            conn: None,
        }
    }

    /// The buffered rows, column names and outcome (for results put together from parts).
    pub(crate) fn into_parts(mut self) -> (Vec<R>, Arc<[String]>, Outcome) {
        let rows = std::mem::take(&mut self.rows).collect();
        (rows, Arc::clone(&self.keys), self.outcome.clone())
    }

    /// Hand `conn` to the rows: it goes back to the pool when they are done.
    pub(crate) fn owning(mut self, conn: Connection) -> Self {
        if self.rows.len() == 0 {
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
    /// A decode error, naming the column.
    pub fn all(mut self) -> Result<Vec<R>> {
        self.conn = None;
        Ok(std::mem::take(&mut self.rows).collect())
    }

    /// The first row, if any; the rest are discarded.
    ///
    /// # Errors
    /// A decode error, naming the column.
    pub fn first(mut self) -> Result<Option<R>> {
        Ok(self.rows.next())
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
    /// [`Error::MultipleRows`] when there is more than one.
    pub fn one_or_none(mut self) -> Result<Option<R>> {
        let first = self.rows.next();
        if self.rows.next().is_some() {
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
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::NoRows`] when there is no row (use [`Rows::scalar_one_or_none`] to get
    /// `None`); a decode error naming the column.
    pub fn scalar<T>(self) -> Result<T>
    where
        R: FirstColumn<T>,
    {
        self.first()?.ok_or(Error::NoRows)?.first_column()
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
    /// A decode error, naming the column.
    pub fn fetchmany(&mut self, n: usize) -> Result<Vec<R>> {
        let batch: Vec<R> = self.rows.by_ref().take(n).collect();
        if self.rows.len() == 0 {
            self.conn = None;
        }
        Ok(batch)
    }

    /// The column names of the result, in order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Rows inserted, updated or deleted; for a `SELECT`, rows returned.
    pub fn rowcount(&self) -> u64 {
        self.outcome.rows_affected
    }

    /// The key the database assigned to the last inserted row: SQLite's `last_insert_rowid()`,
    /// MySQL's `LAST_INSERT_ID()`, PostgreSQL's `RETURNING` of the table's autoincrement key
    /// (added to single-row inserts when executed).
    pub fn last_insert_id(&self) -> Option<i64> {
        self.outcome.last_insert_id
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
        let next = self.rows.next();
        if next.is_none() {
            // Exhausted: give the connection back now rather than when the rows are dropped.
            self.conn = None;
        }
        next.map(Ok)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}
