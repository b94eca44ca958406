//! Bulk loading with PostgreSQL's `COPY … FROM STDIN (FORMAT binary)`: the fastest way to
//! write many rows, opt-in beside [`insert_many`](crate::sql::Table::insert_many).

use crate::connection::Connection;
use crate::error::{Error, Result};
use crate::schema::Insertable;
use crate::sql::Table;
use crate::value::Value;

impl Connection {
    /// Load `rows` into their table with PostgreSQL's binary `COPY … FROM STDIN`: one
    /// statement, no bind limit, each value encoded for the column's type as a bound
    /// parameter would be. Returns the rows written.
    ///
    /// The columns are those the first row sets (an autoincrement key left at 0 is the
    /// database's, as for `insert_many`); every row must set the same ones. Like any
    /// statement it commits at once outside a transaction and is part of an open one; a
    /// failure (a constraint, a value the column cannot take) writes no row and leaves the
    /// connection usable.
    ///
    /// ```no_run
    /// use quarry::prelude::*;
    ///
    /// #[derive(Table)]
    /// struct Reading {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     value: f64,
    /// }
    ///
    /// let engine = create_engine("postgresql://postgres@127.0.0.1/test")?;
    /// let rows: Vec<Reading> = (0..1_000_000).map(|i| Reading { id: 0, value: i as f64 }).collect();
    /// let written = engine.connect()?.copy_in(&rows)?;
    /// assert_eq!(written, 1_000_000);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Unsupported`] on SQLite and MySQL; [`Error::Config`] when the rows set
    /// different columns or there are none; a database error as for `execute`.
    pub fn copy_in<T: Table + Insertable>(&mut self, rows: &[T]) -> Result<u64> {
        let dialect = self.engine().dialect();
        if dialect.name() != "postgresql" {
            return Err(Error::Unsupported {
                feature: "COPY … FROM STDIN (copy_in)".into(),
                dialect: dialect.name(),
            });
        }
        let table = T::table();
        let Some(first) = rows.first() else {
            return Err(Error::config(format!(
                "copy_in into \"{}\" got no rows",
                table.name()
            )));
        };
        let keep = |(i, v): &(usize, Value)| {
            !(table.columns()[*i].is_autoincrement()
                && matches!(v, Value::I16(0) | Value::I32(0) | Value::I64(0)))
        };
        let mut pairs = Vec::new();
        first.values(&mut pairs);
        pairs.retain(keep);
        let columns: Vec<usize> = pairs.iter().map(|(i, _)| *i).collect();
        let mut values: Vec<Value> = Vec::with_capacity(rows.len() * columns.len());
        for (n, row) in rows.iter().enumerate() {
            pairs.clear();
            row.values(&mut pairs);
            pairs.retain(keep);
            if pairs.len() != columns.len() || pairs.iter().zip(&columns).any(|((i, _), c)| i != c)
            {
                return Err(Error::config(format!(
                    "copy_in into \"{}\": row {n} sets other columns than row 0; give every \
                     row's autoincrement key the same treatment (all 0 or all set)",
                    table.name()
                )));
            }
            values.extend(pairs.drain(..).map(|(_, v)| v));
        }
        let names: Vec<&str> = columns.iter().map(|i| table.columns()[*i].name()).collect();
        self.state().copy_in(table.name(), &names, &values)
    }
}
