//! `META.create_all_async(&engine)` / `drop_all_async`: the blocking engine's `create_all` /
//! `drop_all` on the async engine — the same DDL from the core's renderer (tables parents
//! first, their indexes, PostgreSQL's native enum types), each step only where needed (the
//! dialect's has-table query), in one transaction.

use std::sync::Arc;

use quarry_core::render;
use quarry_core::{Compiled, EnumType, MetaData, Result, TableDef, Value};

use crate::connection::AsyncConnection;
use crate::engine::AsyncEngine;

/// DDL for every table of a [`MetaData`] through an [`AsyncEngine`]. Implemented for
/// `MetaData`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> quarry_core::Result<()> {
/// use quarry_async::{AsyncMetaDataDdl, create_async_engine};
/// use quarry_core::MetaData;
///
/// static META: MetaData = MetaData::new();
/// let engine = create_async_engine("sqlite://").await?;
/// META.create_all_async(&engine).await?;   // nothing to create: no tables
/// META.drop_all_async(&engine).await?;
/// # Ok(())
/// # }
/// ```
pub trait AsyncMetaDataDdl {
    /// `CREATE TABLE` (and indexes, and PostgreSQL enum types) for each table that does not
    /// exist yet, parents first, in one transaction.
    ///
    /// # Errors
    /// A database error (nothing is created: the transaction is rolled back).
    fn create_all_async(
        &'static self,
        engine: &AsyncEngine,
    ) -> impl Future<Output = Result<()>> + Send;

    /// `DROP TABLE` for each table that exists, children first, then the PostgreSQL enum
    /// types they used, in one transaction.
    ///
    /// # Errors
    /// A database error (nothing is dropped).
    fn drop_all_async(
        &'static self,
        engine: &AsyncEngine,
    ) -> impl Future<Output = Result<()>> + Send;
}

impl AsyncMetaDataDdl for MetaData {
    async fn create_all_async(&'static self, engine: &AsyncEngine) -> Result<()> {
        let defined = self.defined_tables();
        let tables = all_tables(self.tables(), &defined);
        let mut conn = engine.connect().await?;
        let mut tx = conn.begin().await?;
        for table in &tables {
            if has_table(&mut tx, table).await? {
                continue;
            }
            let dialect = engine.dialect();
            for e in render::enum_types([*table], dialect) {
                if !has_enum_type(&mut tx, e).await? {
                    run_sql(&mut tx, render::create_enum_type(e, dialect)).await?;
                }
            }
            run_sql(&mut tx, render::create_table(table, dialect)?).await?;
            for index in render::create_indexes(table, dialect) {
                run_sql(&mut tx, index).await?;
            }
        }
        tx.commit().await
    }

    async fn drop_all_async(&'static self, engine: &AsyncEngine) -> Result<()> {
        let defined = self.defined_tables();
        let tables = all_tables(self.tables(), &defined);
        let mut conn = engine.connect().await?;
        let mut tx = conn.begin().await?;
        for table in tables.iter().rev() {
            if has_table(&mut tx, table).await? {
                run_sql(&mut tx, render::drop_table(table, engine.dialect())).await?;
            }
        }
        // PostgreSQL enum types after the tables using them, as SQLAlchemy does.
        for e in render::enum_types(tables.iter().copied(), engine.dialect()) {
            if has_enum_type(&mut tx, e).await? {
                run_sql(&mut tx, render::drop_enum_type(e, engine.dialect())).await?;
            }
        }
        tx.commit().await
    }
}

/// The declared tables (parents first), then those defined at run time (which may reference
/// declared ones, never the reverse).
fn all_tables<'a>(
    declared: Vec<&'static TableDef>,
    defined: &'a [Arc<TableDef>],
) -> Vec<&'a TableDef> {
    declared
        .into_iter()
        .chain(defined.iter().map(|t| &**t))
        .collect()
}

async fn run_sql(conn: &mut AsyncConnection, sql: String) -> Result<()> {
    conn.run::<()>(Compiled::new(sql, Vec::new()))
        .await
        .map(drop)
}

async fn has_table(conn: &mut AsyncConnection, table: &TableDef) -> Result<bool> {
    let sql = conn.engine().dialect().has_table_sql().to_owned();
    let query = Compiled::new(sql, vec![Value::Text(table.name().to_owned())]);
    Ok(conn.run::<()>(query).await?.rowcount() > 0)
}

async fn has_enum_type(conn: &mut AsyncConnection, e: &EnumType) -> Result<bool> {
    let Some(sql) = conn.engine().dialect().has_enum_type_sql() else {
        return Ok(false);
    };
    let name = e.native_name().unwrap_or(e.rust_name()).to_owned();
    let query = Compiled::new(sql.to_owned(), vec![Value::Text(name)]);
    Ok(conn.run::<()>(query).await?.rowcount() > 0)
}
