//! Running DDL: `create_all`, `drop_all`, and per-table `create` / `drop`.

use crate::connection::Connection;
use crate::engine::Engine;
use crate::error::Result;
use crate::render;
use crate::schema::{MetaData, TableDef};
use crate::sql::Compiled;
use crate::value::Value;

impl MetaData {
    /// Create every table that does not exist yet, parents first, in one transaction where the
    /// database has transactional DDL.
    ///
    /// # Errors
    /// A database error naming the failed `CREATE` statement; [`crate::Error::Config`] when a
    /// column cannot be created on this database as declared.
    pub fn create_all(&'static self, engine: &Engine) -> Result<()> {
        let tables = self.tables();
        in_transaction(engine, |conn| {
            for table in tables {
                create_if_missing(conn, table)?;
            }
            Ok(())
        })
    }

    /// Drop every table that exists, children first.
    ///
    /// # Errors
    /// A database error naming the failed `DROP` statement.
    pub fn drop_all(&'static self, engine: &Engine) -> Result<()> {
        let tables = self.tables();
        in_transaction(engine, |conn| {
            for table in tables.into_iter().rev() {
                drop_if_present(conn, table)?;
            }
            Ok(())
        })
    }
}

impl TableDef {
    /// `CREATE TABLE` (and its indexes) unless the table exists.
    ///
    /// # Errors
    /// As [`MetaData::create_all`].
    pub fn create(&'static self, engine: &Engine) -> Result<()> {
        in_transaction(engine, |conn| create_if_missing(conn, self))
    }

    /// `DROP TABLE` if the table exists.
    ///
    /// # Errors
    /// As [`MetaData::drop_all`].
    pub fn drop(&'static self, engine: &Engine) -> Result<()> {
        in_transaction(engine, |conn| drop_if_present(conn, self))
    }

    /// True when the table exists in the database.
    ///
    /// # Errors
    /// A database error.
    pub fn exists(&'static self, engine: &Engine) -> Result<bool> {
        has_table(&mut engine.connect()?, self)
    }
}

fn in_transaction(engine: &Engine, f: impl FnOnce(&mut Connection) -> Result<()>) -> Result<()> {
    let mut conn = engine.connect()?;
    let mut tx = conn.begin()?;
    f(&mut tx)?;
    tx.commit()
}

fn has_table(conn: &mut Connection, table: &TableDef) -> Result<bool> {
    let sql = conn.engine().dialect().has_table_sql().to_owned();
    let query = Compiled::new(sql, vec![Value::Text(table.name().to_owned())]);
    Ok(conn.run_compiled::<()>(&query)?.rowcount() > 0)
}

fn create_if_missing(conn: &mut Connection, table: &TableDef) -> Result<()> {
    if has_table(conn, table)? {
        return Ok(());
    }
    let dialect = conn.engine().dialect();
    conn.run_sql(&render::create_table(table, dialect)?)?;
    for index in render::create_indexes(table, dialect) {
        conn.run_sql(&index)?;
    }
    Ok(())
}

fn drop_if_present(conn: &mut Connection, table: &TableDef) -> Result<()> {
    if !has_table(conn, table)? {
        return Ok(());
    }
    let sql = render::drop_table(table, conn.engine().dialect());
    conn.run_sql(&sql)
}
