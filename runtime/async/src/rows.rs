//! [`Rows`]: the decoded rows of an executed statement.

use std::sync::Arc;

use quarry_core::{Error, FirstColumn, Outcome, Result};

use crate::driver::Collected;

/// The rows of an executed statement, decoded into `R` and read whole (for rows pulled from
/// the server as they come, see [`AsyncConnection::stream`](crate::AsyncConnection::stream)).
/// An iterator of `R`; the methods below consume it as SQLAlchemy's result does.
pub struct Rows<R> {
    rows: std::vec::IntoIter<R>,
    keys: Arc<[String]>,
    outcome: Outcome,
}

impl<R> std::fmt::Debug for Rows<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rows")
            .field("keys", &self.keys)
            .field("remaining", &self.rows.len())
            .field("rowcount", &self.outcome.rows_affected)
            .finish()
    }
}

impl<R> Rows<R> {
    pub(crate) fn new(c: Collected<R>) -> Self {
        Rows {
            rows: c.rows.into_iter(),
            keys: c.keys,
            outcome: c.outcome,
        }
    }

    /// Every remaining row (decoded already, so this cannot fail).
    pub fn all(self) -> Vec<R> {
        self.rows.collect()
    }

    /// The first row, if any; the rest are discarded.
    pub fn first(mut self) -> Option<R> {
        self.rows.next()
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

    /// The first column of the first row, as SQLAlchemy's `scalar()`: `None` for an `Option`
    /// when there is no row.
    ///
    /// # Errors
    /// [`Error::NoRows`] when there is no row and `T` is not an `Option`; a decode error
    /// naming the column.
    pub fn scalar<T>(self) -> Result<T>
    where
        R: FirstColumn<T>,
    {
        match self.first() {
            Some(row) => row.first_column(),
            None => R::no_row(),
        }
    }

    /// The first column of the one row there must be.
    ///
    /// # Errors
    /// [`Error::NoRows`], [`Error::MultipleRows`], or a decode error.
    pub fn scalar_one<T>(self) -> Result<T>
    where
        R: FirstColumn<T>,
    {
        self.one()?.first_column()
    }

    /// The first column of the one row, or `None` when there is no row.
    ///
    /// # Errors
    /// [`Error::MultipleRows`] or a decode error.
    pub fn scalar_one_or_none<T>(self) -> Result<Option<T>>
    where
        R: FirstColumn<T>,
    {
        self.one_or_none()?
            .map(FirstColumn::first_column)
            .transpose()
    }

    /// The column names of the result, in order.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Rows inserted, updated or deleted; for a `SELECT`, rows returned.
    pub fn rowcount(&self) -> u64 {
        self.outcome.rows_affected
    }

    /// The key the database assigned to the last inserted row.
    pub fn last_insert_id(&self) -> Option<i64> {
        self.outcome.last_insert_id
    }
}

impl<R> Iterator for Rows<R> {
    type Item = R;
    fn next(&mut self) -> Option<R> {
        self.rows.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}
