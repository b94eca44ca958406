//! Reflection: a live database's tables read back into Quarry's [`TableDef`] model — columns
//! with their types mapped back to Quarry's (the reported type kept), nullability, server
//! defaults, autoincrement, primary keys, foreign keys with their actions, unique
//! constraints, indexes, `CHECK` constraints, and PostgreSQL's enum types.
//!
//! Read from `pg_catalog` / `information_schema` on PostgreSQL, `information_schema` on
//! MySQL/MariaDB and `PRAGMA`s on SQLite. The tables are usable in statements like any table
//! defined at run time ([`DefinedTable`]: rows are [`Row`](crate::Row)s).

mod mysql;
mod postgres;
mod sqlite;

use std::sync::Arc;

use crate::connection::Connection;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::schema::{MetaData, TableDef};
use crate::sql::DefinedTable;
use crate::value::Value;
use quarry_core::Row;

/// The `MetaData` reflected tables belong to: a registry of its own (nothing is ever defined
/// in it), so that reflected tables never mix with declared ones.
pub static REFLECTED: MetaData = MetaData::new();

/// A live database's tables (and PostgreSQL enum types), as [`reflect`] read them.
#[derive(Debug, Clone, Default)]
pub struct LiveSchema {
    tables: Vec<Arc<TableDef>>,
    enums: Vec<(String, Vec<String>)>,
}

impl LiveSchema {
    /// The table named `name`, usable in statements (`live.table("users")?.select()`).
    pub fn table(&self, name: &str) -> Option<DefinedTable> {
        self.def(name).map(|t| DefinedTable::from(Arc::clone(t)))
    }
    /// The definition of the table named `name`.
    pub fn def(&self, name: &str) -> Option<&Arc<TableDef>> {
        self.tables.iter().find(|t| t.name() == name)
    }
    /// Every table, by name.
    pub fn tables(&self) -> &[Arc<TableDef>] {
        &self.tables
    }
    /// The table names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.tables.iter().map(|t| t.name()).collect()
    }
    /// PostgreSQL enum types of the schema: name and labels in order.
    pub fn enums(&self) -> &[(String, Vec<String>)] {
        &self.enums
    }
    /// Keep only the tables for which `keep` is true.
    pub fn retain(mut self, keep: impl Fn(&TableDef) -> bool) -> Self {
        self.tables.retain(|t| keep(t));
        self
    }
}

/// Every table of the engine's current schema (PostgreSQL: `current_schema()`, MySQL: the
/// URL's database, SQLite: `main`).
///
/// ```
/// use quarry::prelude::*;
///
/// let engine = create_engine("sqlite://")?;
/// engine.execute(text("CREATE TABLE users (id INTEGER NOT NULL, name VARCHAR(50) NOT NULL, PRIMARY KEY (id))"))?;
/// let live = quarry::reflect(&engine)?;
/// let users = live.table("users").expect("reflected");
/// assert_eq!(users.def().column("name").and_then(|c| c.max_length_value()), Some(50));
/// let rows = engine.execute(users.select())?.all()?;
/// assert!(rows.is_empty());
/// # Ok::<(), quarry::Error>(())
/// ```
///
/// # Errors
/// A database error from the catalog queries; [`Error::Unsupported`] for a dialect Quarry
/// cannot reflect (a registered fourth one).
pub fn reflect(engine: &Engine) -> Result<LiveSchema> {
    read(engine, None, None)
}

/// The tables of the named schema (PostgreSQL schema, MySQL database, SQLite attached
/// database).
///
/// # Errors
/// As [`reflect`].
pub fn reflect_schema(engine: &Engine, schema: &str) -> Result<LiveSchema> {
    read(engine, Some(schema), None)
}

/// One table of the current schema, `None` when there is no table of that name.
///
/// # Errors
/// As [`reflect`].
pub fn reflect_table(engine: &Engine, name: &str) -> Result<Option<DefinedTable>> {
    Ok(read(engine, None, Some(name))?.table(name))
}

fn read(engine: &Engine, schema: Option<&str>, only: Option<&str>) -> Result<LiveSchema> {
    let mut conn = engine.connect()?;
    let dialect = engine.dialect().name();
    let (tables, enums) = match dialect {
        "sqlite" => (sqlite::tables(&mut conn, schema, only)?, Vec::new()),
        "postgresql" => postgres::read(&mut conn, schema, only)?,
        "mysql" => (mysql::tables(&mut conn, schema, only)?, Vec::new()),
        _ => {
            return Err(Error::Unsupported {
                feature: "reflection".into(),
                dialect: engine.dialect().name(),
            });
        }
    };
    Ok(LiveSchema {
        tables: tables.into_iter().map(Arc::new).collect(),
        enums,
    })
}

/// The rows of a catalog query.
fn rows(
    conn: &mut Connection,
    sql: &'static str,
    binds: &[(&'static str, &str)],
) -> Result<Vec<Row>> {
    let mut stmt = quarry_core::text(sql);
    for (name, value) in binds {
        stmt = stmt.bind(*name, (*value).to_owned());
    }
    conn.execute(stmt)?.all()
}

/// Column `i` as text (`None` for `NULL`), whatever type the catalog gave it.
fn text_at(row: &Row, i: usize) -> Result<Option<String>> {
    Ok(match row.get_value(i)? {
        Value::Null => None,
        Value::Text(s) | Value::Json(s) | Value::Decimal(s) => Some(s.clone()),
        Value::Blob(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::I16(v) => Some(v.to_string()),
        Value::I32(v) => Some(v.to_string()),
        Value::I64(v) => Some(v.to_string()),
        Value::Bool(v) => Some(v.to_string()),
        other => Some(format!("{other:?}")),
    })
}

/// Column `i` as text, an error naming the column when it is `NULL`.
fn req_text(row: &Row, i: usize) -> Result<String> {
    text_at(row, i)?.ok_or_else(|| {
        Error::config(format!(
            "the catalog gave NULL for column {i} ({:?}) where a value was expected",
            row.keys().nth(i).unwrap_or("?")
        ))
    })
}

/// Column `i` as an integer (`None` for `NULL` or text that is not one).
fn int_at(row: &Row, i: usize) -> Result<Option<i64>> {
    Ok(match row.get_value(i)? {
        Value::I16(v) => Some(i64::from(*v)),
        Value::I32(v) => Some(i64::from(*v)),
        Value::I64(v) => Some(*v),
        Value::Bool(v) => Some(i64::from(*v)),
        Value::Text(s) | Value::Decimal(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// Column `i` as a boolean (`t`/`true`/`1`/`YES`).
fn bool_at(row: &Row, i: usize) -> Result<bool> {
    Ok(match row.get_value(i)? {
        Value::Bool(v) => *v,
        Value::Text(s) => matches!(s.to_ascii_lowercase().as_str(), "t" | "true" | "1" | "yes"),
        _ => int_at(row, i)?.is_some_and(|v| v != 0),
    })
}

/// A non-negative catalog number as `u32`.
fn u32_at(row: &Row, i: usize) -> Result<Option<u32>> {
    Ok(int_at(row, i)?.and_then(|v| u32::try_from(v).ok()))
}
