//! Results: typed rows of an executed statement.

use crate::driver::Outcome;
use crate::error::{Error, Result};

/// The rows of an executed statement, decoded into `R`.
///
/// An iterator of `Result<R>`; the methods below consume it the way SQLAlchemy's result does.
#[derive(Debug)]
pub struct Rows<R> {
    rows: std::vec::IntoIter<R>,
    keys: Vec<String>,
    outcome: Outcome,
}

impl<R> Rows<R> {
    pub(crate) fn new(rows: Vec<R>, keys: Vec<String>, outcome: Outcome) -> Self {
        Rows {
            rows: rows.into_iter(),
            keys,
            outcome,
        }
    }

    /// Every remaining row.
    ///
    /// # Errors
    /// A decode error, naming the column.
    pub fn all(self) -> Result<Vec<R>> {
        Ok(self.rows.collect())
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

    /// The first row's value, for single-value selects like `count(…)`.
    ///
    /// # Errors
    /// [`Error::NoRows`] when there is no row.
    pub fn scalar(self) -> Result<R> {
        self.first()?.ok_or(Error::NoRows)
    }

    /// Up to `n` more rows.
    ///
    /// # Errors
    /// A decode error, naming the column.
    pub fn fetchmany(&mut self, n: usize) -> Result<Vec<R>> {
        Ok(self.rows.by_ref().take(n).collect())
    }

    /// The column names of the result.
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

    /// Discard the remaining rows.
    pub fn close(self) {}
}

impl<R> Iterator for Rows<R> {
    type Item = Result<R>;
    fn next(&mut self) -> Option<Self::Item> {
        self.rows.next().map(Ok)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.rows.size_hint()
    }
}
