//! The interface between a driver and the rows it reads: a driver hands each result row, as a
//! [`RawRow`], to a [`RowSink`], which decodes it where it stands (no intermediate copy), and
//! reports what the statement did as an [`Outcome`]. Blocking and non-blocking drivers feed the
//! same sinks.

use crate::error::Result;
use crate::value::RawRow;

/// Receives result rows one at a time.
pub trait RowSink {
    /// Called with the column names before the first row (also when there are no rows).
    fn columns(&mut self, names: &[&str]);
    /// Called once per row; an error stops the query and is returned from `run`.
    fn row(&mut self, row: &dyn RawRow) -> Result<()>;
    /// Called before the rows by a driver that knows how many will come (one that read the
    /// whole result), so that the sink can allocate once. Default: nothing.
    fn expect_rows(&mut self, rows: usize) {
        let _ = rows;
    }
    /// True when the sink has the result's column names already (a static call site's,
    /// kept from its first result): the driver may skip [`RowSink::columns`]. Default false.
    fn knows_columns(&self) -> bool {
        false
    }
    /// Called instead of [`RowSink::columns`] by a driver that got a result set but cannot
    /// tell its column names: PostgreSQL without named prepared statements (pgbouncer's
    /// transaction mode), where only a row carries the names, for a query that returned none.
    /// The result is an empty result set, not a statement without one. Default: as
    /// `columns(&[])`.
    fn unnamed_result(&mut self) {
        self.columns(&[]);
    }
}

/// Hand a result's `count` column names to `sink`, read by `name(i)`: on the stack for up to
/// 16 columns (a `Vec` beyond), since a `Vec` per execution showed in the profile of
/// single-row lookups.
#[doc(hidden)]
pub fn send_column_names<'a, E>(
    count: usize,
    mut name: impl FnMut(usize) -> std::result::Result<&'a str, E>,
    sink: &mut dyn RowSink,
) -> std::result::Result<(), E> {
    if sink.knows_columns() {
        return Ok(());
    }
    let mut few = [""; 16];
    if count <= few.len() {
        for (i, slot) in few.iter_mut().take(count).enumerate() {
            *slot = name(i)?;
        }
        sink.columns(&few[..count]);
    } else {
        let many = (0..count)
            .map(name)
            .collect::<std::result::Result<Vec<_>, E>>()?;
        sink.columns(&many);
    }
    Ok(())
}

/// What running a statement did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Rows inserted, updated or deleted; rows returned for a `SELECT`.
    pub rows_affected: u64,
    /// The key the database assigned to the last inserted row, where it tells.
    pub last_insert_id: Option<i64>,
}
