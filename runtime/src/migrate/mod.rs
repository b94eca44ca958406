//! Schema migrations on a live database: the diff of a [`MetaData`]'s tables against it
//! ([`diff`]), running a [`Plan`] ([`apply`]), versioned migration files ([`Migrator`]) and
//! their generation ([`autogenerate`]). The pure part — [`Plan`], [`Op`], the SQL per dialect
//! and the destructive-step lint — comes from `quarry-core`.
//!
//! ```
//! use quarry::prelude::*;
//!
//! pub static META: MetaData = MetaData::new();
//!
//! #[derive(Table)]
//! #[table(name = "books", metadata = META)]
//! pub struct Book {
//!     #[column(primary_key)]
//!     pub id: i64,
//!     pub title: String,
//!     #[column(max_length = 8, default = "en")]
//!     pub language: String,
//! }
//!
//! let engine = create_engine("sqlite://")?;
//! engine.execute(text("CREATE TABLE books (id INTEGER NOT NULL, title TEXT NOT NULL, PRIMARY KEY (id))"))?;
//! let plan = quarry::migrate::diff(&META, &engine)?;
//! assert_eq!(plan.to_string(), "add column books.language\n");
//! quarry::migrate::apply(&engine, &plan)?;
//! assert!(quarry::migrate::diff(&META, &engine)?.is_empty());
//! # Ok::<(), quarry::Error>(())
//! ```

mod autogenerate;
mod migrator;
mod print_schema;

use std::sync::Arc;

use crate::connection::Connection;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::reflect::reflect;
use crate::schema::{MetaData, TableDef};

pub use autogenerate::{autogenerate, autogenerate_with};
pub use migrator::{Applied, Migration, MigrationState, Migrator, VERSION_TABLE, new_migration};
pub use print_schema::print_schema;
pub use quarry_core::migrate::*;

/// The steps that take the engine's live schema to the tables of `metadata` (declared and
/// defined at run time). Quarry's own tables (the migrations' version table) are left alone.
///
/// # Errors
/// A database error from reflection.
pub fn diff(metadata: &'static MetaData, engine: &Engine) -> Result<Plan> {
    diff_with(metadata, engine, &Renames::new())
}

/// [`diff`] with renames a human said ([`Renames`]): renames are never guessed.
///
/// # Errors
/// As [`diff`].
pub fn diff_with(metadata: &'static MetaData, engine: &Engine, renames: &Renames) -> Result<Plan> {
    let declared = declared_tables(metadata);
    let live = reflect(engine)?.retain(|t| !is_internal(t.name()));
    let mut plan = diff_schema(
        &declared,
        live.tables(),
        live.enums(),
        engine.dialect(),
        renames,
    );
    // The lint needs to know which tables have rows for the NOT NULL rule.
    let mut counted = Vec::new();
    for op in plan.ops() {
        let table = match op {
            Op::AddColumn { table, column } if !column.is_nullable() => table,
            Op::AlterColumn { table, to, .. } if !to.is_nullable() => table,
            _ => continue,
        };
        if !counted.contains(table) {
            counted.push(table.clone());
        }
    }
    for table in counted {
        let live_name = renames.live_table(&table).to_owned();
        let rows = count_rows(engine, &live_name)?;
        plan = plan.with_row_count(table, rows);
    }
    Ok(plan)
}

/// Run a plan's SQL on the engine, in one transaction where the database has transactional
/// DDL (PostgreSQL, SQLite); statement by statement on MySQL/MariaDB, where each DDL
/// statement commits.
///
/// # Errors
/// As [`Plan::sql`] (a destructive plan not allowed); a database error naming the failed
/// statement.
pub fn apply(engine: &Engine, plan: &Plan) -> Result<()> {
    let statements = plan.sql(engine.dialect())?;
    let mut conn = engine.connect()?;
    without_sqlite_foreign_keys(&mut conn, |conn| {
        let mut tx = conn.begin()?;
        for (i, sql) in statements.iter().enumerate() {
            tx.execute(quarry_core::text(sql.clone())).map_err(|e| {
                Error::Migration(format!(
                    "statement {} of {} failed: {sql}: {e}",
                    i + 1,
                    statements.len()
                ))
            })?;
        }
        tx.commit()
    })
}

/// Run `f` with SQLite's foreign key enforcement off, when a connection turned it on: a table
/// rebuild drops the old table, and with enforcement on that would delete (`ON DELETE
/// CASCADE`) or refuse the rows referencing it. SQLite's own procedure for altering a table:
/// off outside the transaction, then `foreign_key_check`, then back on.
pub(crate) fn without_sqlite_foreign_keys<T>(
    conn: &mut Connection,
    f: impl FnOnce(&mut Connection) -> Result<T>,
) -> Result<T> {
    if conn.engine().dialect().name() != "sqlite" {
        return f(conn);
    }
    let on: i64 = conn
        .execute(quarry_core::text("PRAGMA foreign_keys").columns::<i64>())?
        .scalar()?;
    if on == 0 {
        return f(conn);
    }
    conn.execute(quarry_core::text("PRAGMA foreign_keys = OFF"))?;
    let result = f(conn).and_then(|value| {
        let broken = conn
            .execute(quarry_core::text("PRAGMA foreign_key_check"))?
            .all()?;
        match broken.first() {
            None => Ok(value),
            Some(row) => Err(Error::Migration(format!(
                "after the migration, rows of table {:?} reference rows that do not exist                  ({} violations); the migration was applied, fix the data",
                row.get::<String>(0).unwrap_or_default(),
                broken.len()
            ))),
        }
    });
    let restored = conn.execute(quarry_core::text("PRAGMA foreign_keys = ON"));
    let value = result?;
    restored?;
    Ok(value)
}

/// The tables of `metadata` as owned definitions, declared first, parents first.
fn declared_tables(metadata: &'static MetaData) -> Vec<Arc<TableDef>> {
    metadata
        .tables()
        .into_iter()
        .map(|t| Arc::new(t.clone_as(t.name().to_owned())))
        .chain(metadata.defined_tables())
        .collect()
}

/// Tables Quarry keeps for itself, never part of a diff.
fn is_internal(name: &str) -> bool {
    name == VERSION_TABLE || name.starts_with(quarry_core::migrate::REBUILD_PREFIX)
}

fn count_rows(engine: &Engine, table: &str) -> Result<u64> {
    let sql = quarry_core::render::count_rows_sql(table, engine.dialect());
    let n: i64 = engine
        .execute(quarry_core::text(sql).columns::<i64>())?
        .scalar()?;
    Ok(u64::try_from(n).unwrap_or(0))
}
