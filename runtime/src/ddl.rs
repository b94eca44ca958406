//! Running DDL: `create_all`, `drop_all`, and per-table `create` / `drop`.

use crate::bind::{engine_or_bind, table_engine_or_bind};
use crate::connection::Connection;
use crate::engine::Engine;
use crate::error::Result;
use crate::render;
use crate::schema::{MetaData, TableDef};
use crate::sql::Compiled;
use crate::sql::DefinedTable;
use crate::value::{EnumType, Value};

/// DDL for a whole [`MetaData`]: `create_all`, `drop_all`. Implemented for `MetaData`; in the
/// prelude.
pub trait MetaDataDdl {
    /// Create every table that does not exist yet, parents first, in one transaction where the
    /// database has transactional DDL. `bind` is the engine, or `None` for the one this
    /// `MetaData` is bound to ([`BoundMetaData::bind`](crate::BoundMetaData::bind)).
    ///
    /// # Errors
    /// A database error naming the failed `CREATE` statement; [`crate::Error::Config`] when a
    /// column cannot be created on this database as declared; [`crate::Error::Unbound`] for
    /// `None` on an unbound `MetaData`.
    fn create_all<'e>(&'static self, bind: impl Into<Option<&'e Engine>>) -> Result<()>;

    /// Drop every table that exists, children first. `bind` as for [`MetaDataDdl::create_all`].
    ///
    /// # Errors
    /// A database error naming the failed `DROP` statement; [`crate::Error::Unbound`] as for
    /// [`MetaDataDdl::create_all`].
    fn drop_all<'e>(&'static self, bind: impl Into<Option<&'e Engine>>) -> Result<()>;
}

impl MetaDataDdl for MetaData {
    fn create_all<'e>(&'static self, bind: impl Into<Option<&'e Engine>>) -> Result<()> {
        let engine = engine_or_bind(self, bind.into())?;
        let declared = self.tables();
        let defined = self.defined_tables();
        in_transaction(&engine, |conn| {
            // Tables defined at run time may reference declared ones, never the reverse.
            for table in declared.into_iter().chain(defined.iter().map(|t| &**t)) {
                create_if_missing(conn, table)?;
            }
            Ok(())
        })
    }

    fn drop_all<'e>(&'static self, bind: impl Into<Option<&'e Engine>>) -> Result<()> {
        let engine = engine_or_bind(self, bind.into())?;
        let declared = self.tables();
        let defined = self.defined_tables();
        in_transaction(&engine, |conn| {
            let tables: Vec<&TableDef> = declared
                .into_iter()
                .chain(defined.iter().map(|t| &**t))
                .collect();
            for table in tables.iter().rev() {
                drop_if_present(conn, table)?;
            }
            // PostgreSQL enum types after the tables using them, as SQLAlchemy does.
            drop_enum_types(conn, tables)
        })
    }
}

/// DDL for one table: `create`, `drop`, `exists`. Implemented for `TableDef` (a declared
/// table's `static` or one built at run time) and [`DefinedTable`]; in the prelude.
pub trait TableDdl {
    /// `CREATE TABLE` (and its indexes) unless the table exists. `bind` is the engine, or
    /// `None` for the one the table's `MetaData` is bound to.
    ///
    /// # Errors
    /// As [`MetaDataDdl::create_all`]; the unbound error names the table.
    fn create<'e>(&self, bind: impl Into<Option<&'e Engine>>) -> Result<()>;

    /// `DROP TABLE` if the table exists. `bind` as for [`TableDdl::create`].
    ///
    /// # Errors
    /// As [`MetaDataDdl::drop_all`]; the unbound error names the table.
    fn drop<'e>(&self, bind: impl Into<Option<&'e Engine>>) -> Result<()>;

    /// True when the table exists in the database. `bind` as for [`TableDdl::create`].
    ///
    /// # Errors
    /// A database error; [`crate::Error::Unbound`] as for [`TableDdl::create`].
    fn exists<'e>(&self, bind: impl Into<Option<&'e Engine>>) -> Result<bool>;
}

impl TableDdl for TableDef {
    fn create<'e>(&self, bind: impl Into<Option<&'e Engine>>) -> Result<()> {
        let engine = table_engine_or_bind(self, bind.into())?;
        in_transaction(&engine, |conn| create_if_missing(conn, self))
    }

    fn drop<'e>(&self, bind: impl Into<Option<&'e Engine>>) -> Result<()> {
        let engine = table_engine_or_bind(self, bind.into())?;
        in_transaction(&engine, |conn| drop_if_present(conn, self))
    }

    fn exists<'e>(&self, bind: impl Into<Option<&'e Engine>>) -> Result<bool> {
        let engine = table_engine_or_bind(self, bind.into())?;
        has_table(&mut engine.connect()?, self)
    }
}

impl TableDdl for DefinedTable {
    fn create<'e>(&self, bind: impl Into<Option<&'e Engine>>) -> Result<()> {
        self.def().create(bind)
    }

    fn drop<'e>(&self, bind: impl Into<Option<&'e Engine>>) -> Result<()> {
        self.def().drop(bind)
    }

    fn exists<'e>(&self, bind: impl Into<Option<&'e Engine>>) -> Result<bool> {
        self.def().exists(bind)
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
    create_enum_types(conn, table)?;
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

/// Whether the PostgreSQL enum type `e` exists in the current schema.
fn has_enum_type(conn: &mut Connection, e: &EnumType) -> Result<bool> {
    let Some(sql) = conn.engine().dialect().has_enum_type_sql() else {
        return Ok(false);
    };
    let name = e.native_name().unwrap_or(e.rust_name()).to_owned();
    let query = Compiled::new(sql.to_owned(), vec![Value::Text(name)]);
    Ok(conn.run_compiled::<()>(&query)?.rowcount() > 0)
}

/// `CREATE TYPE … AS ENUM` for each native enum type `table` uses that does not exist yet.
fn create_enum_types(conn: &mut Connection, table: &TableDef) -> Result<()> {
    let dialect = conn.engine().dialect();
    for e in render::enum_types([table], dialect) {
        if !has_enum_type(conn, e)? {
            conn.run_sql(&render::create_enum_type(e, dialect))?;
        }
    }
    Ok(())
}

/// `DROP TYPE` for each native enum type `tables` use that exists.
fn drop_enum_types(conn: &mut Connection, tables: Vec<&TableDef>) -> Result<()> {
    let dialect = conn.engine().dialect();
    for e in render::enum_types(tables, dialect) {
        if has_enum_type(conn, e)? {
            conn.run_sql(&render::drop_enum_type(e, dialect))?;
        }
    }
    Ok(())
}
