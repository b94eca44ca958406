//! Connections: a proxy for one pooled driver connection.

use std::fmt;

use crate::driver::{Outcome, RowSink};
use crate::engine::Engine;
use crate::error::Result;
use crate::pool::PooledConnection;
use crate::rows::Rows;
use crate::schema::FromRow;
use crate::sql::{Compiled, Statement};
use crate::value::RawRow;

/// A connection checked out of an [`Engine`]'s pool.
///
/// Dropping it (or calling [`Connection::close`]) returns the driver connection to the pool,
/// rolled back. With no transaction open every statement takes effect at once (autocommit).
pub struct Connection {
    engine: Engine,
    conn: PooledConnection,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Connection({})", self.engine.url())
    }
}

impl Connection {
    pub(crate) fn new(engine: Engine, conn: PooledConnection) -> Self {
        Connection { engine, conn }
    }

    /// The engine this connection came from.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Compile `stmt` for this connection's dialect and run it.
    ///
    /// ```
    /// use quarry::prelude::*;
    ///
    /// #[derive(Table, Debug, PartialEq)]
    /// struct Pet {
    ///     #[column(primary_key)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// let engine = create_engine("sqlite://")?;
    /// DEFAULT_METADATA.create_all(&engine)?;
    /// let mut conn = engine.connect()?;
    /// conn.execute(insert!(Pet { name: "Rex" }))?;
    /// let pets: Vec<Pet> = conn.execute(select!(Pet WHERE Pet::name == "Rex"))?.all()?;
    /// assert_eq!(pets, [Pet { id: 1, name: "Rex".into() }]);
    /// # Ok::<(), quarry::Error>(())
    /// ```
    ///
    /// # Errors
    /// A compile error ([`crate::Error::Unsupported`]), a database error carrying the SQL, or a
    /// decode error naming the column.
    pub fn execute<S: Statement>(&mut self, stmt: S) -> Result<Rows<S::Row>> {
        let compiled = stmt.compile(self.engine.dialect())?;
        self.run_compiled::<S::Row>(&compiled)
    }

    pub(crate) fn run_compiled<R: FromRow>(&mut self, compiled: &Compiled) -> Result<Rows<R>> {
        self.log(compiled);
        let mut sink = Collect::<R> {
            rows: Vec::new(),
            keys: Vec::new(),
        };
        let outcome: Outcome = self
            .conn
            .get()
            .run(compiled.sql(), compiled.params(), &mut sink)?;
        Ok(Rows::new(sink.rows, sink.keys, outcome))
    }

    /// Run DDL or other SQL without results or parameters.
    pub(crate) fn run_sql(&mut self, sql: &str) -> Result<()> {
        self.run_compiled::<()>(&Compiled::new(sql.to_owned(), Vec::new()))
            .map(drop)
    }

    pub(crate) fn begin_raw(&mut self) -> Result<()> {
        self.log_text("BEGIN (implicit)");
        self.conn.get().begin()
    }

    pub(crate) fn commit_raw(&mut self) -> Result<()> {
        self.log_text("COMMIT");
        self.conn.get().commit()
    }

    fn log(&self, compiled: &Compiled) {
        tracing::info!(target: "quarry::engine", sql = compiled.sql(), params = ?compiled.params());
        if self.engine.echo() {
            println!("{}\n[parameters: {:?}]", compiled.sql(), compiled.params());
        }
    }

    fn log_text(&self, text: &str) {
        tracing::info!(target: "quarry::engine", "{text}");
        if self.engine.echo() {
            println!("{text}");
        }
    }

    /// Return the connection to the pool now (rolled back); same as dropping it.
    pub fn close(self) {}
}

/// Decodes every row into `R` as the driver produces it.
struct Collect<R> {
    rows: Vec<R>,
    keys: Vec<String>,
}

impl<R: FromRow> RowSink for Collect<R> {
    fn columns(&mut self, names: &[&str]) {
        self.keys = names.iter().map(|n| (*n).to_owned()).collect();
    }

    fn row(&mut self, row: &dyn RawRow) -> Result<()> {
        self.rows.push(R::from_row(row, 0)?);
        Ok(())
    }
}
