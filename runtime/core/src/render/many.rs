//! The texts of `insert_many` statements, rendered once per (declared table, dialect, columns,
//! row count): a multi-row `INSERT` whose every value is a parameter has SQL that depends on
//! nothing else, so a later call with as many rows only gathers its values (issue 21).
//!
//! `Table::insert_many` is a trait method, not a macro call site: the key is the table's
//! `static` definition instead, which names the same text. Tables defined at run time are not
//! kept (an `Arc<TableDef>` could be dropped and its address reused). The store is bounded
//! ([`MAX_BYTES`] of text); past it statements are rendered as before.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{PoisonError, RwLock};

use super::{Renderer, query};
use crate::dialect::Dialect;
use crate::error::Result;
use crate::sql::{Compiled, FromSource, InsertStmt, SqlExpr};
use crate::value::Value;

/// At most this much text is kept.
const MAX_BYTES: usize = 32 << 20;

/// (table address, dialect name, row count) → the texts for each column list seen.
type Texts = HashMap<(usize, &'static str, usize), Vec<(Box<[usize]>, &'static str)>>;

static TEXTS: RwLock<Option<Texts>> = RwLock::new(None);
static BYTES: AtomicUsize = AtomicUsize::new(0);

/// Whether `stmt` is what `insert_many` builds into a declared table (see [`plain`]).
pub(crate) fn is_plain(stmt: &InsertStmt) -> bool {
    plain(stmt).is_some()
}

/// The table's address when `stmt` is what `insert_many` builds into a declared table: rows
/// of parameters only, nothing else that renders.
fn plain(stmt: &InsertStmt) -> Option<usize> {
    let FromSource::Declared(def) = stmt.table.source() else {
        return None;
    };
    let simple = stmt.error.is_none()
        && stmt.select.is_none()
        && stmt.on_conflict.is_none()
        && stmt.returning.is_empty()
        && stmt.table.alias().is_none()
        && !stmt.columns.is_empty()
        && stmt.rows.iter().all(|row| {
            row.len() == stmt.columns.len() && row.iter().all(|e| matches!(e, SqlExpr::Param(_)))
        });
    simple.then_some(std::ptr::from_ref(*def) as usize)
}

/// `stmt` with its rows `rows` (all of them: `0..stmt.rows.len()`), from the kept text when
/// it is a plain multi-row insert; else rendered.
pub(crate) fn insert_rows(
    stmt: &InsertStmt,
    dialect: &dyn Dialect,
    rows: std::ops::Range<usize>,
) -> Result<Compiled> {
    let Some(table) = plain(stmt) else {
        return render(stmt, dialect, rows);
    };
    let part = &stmt.rows[rows.clone()];
    let key = (table, dialect.name(), part.len());
    if let Some(sql) = kept(key, &stmt.columns) {
        return Ok(Compiled::cached(sql, values(part)));
    }
    let compiled = render(stmt, dialect, rows)?;
    // Kept only if its parameters are its rows' values in order (what reusing it assumes).
    if compiled.params() == values(part).as_slice() {
        keep(key, &stmt.columns, compiled.sql());
    }
    Ok(compiled)
}

/// [`insert_rows`] of every row of a plain multi-row insert that is executed once: the values
/// move into the parameters instead of being copied.
pub(crate) fn insert_all_rows(stmt: InsertStmt, dialect: &dyn Dialect) -> Result<Compiled> {
    let Some(table) = plain(&stmt) else {
        return render(&stmt, dialect, 0..stmt.rows.len());
    };
    let key = (table, dialect.name(), stmt.rows.len());
    match kept(key, &stmt.columns) {
        Some(sql) => Ok(Compiled::cached(sql, into_values(stmt.rows))),
        None => insert_rows(&stmt, dialect, 0..stmt.rows.len()),
    }
}

/// The kept text of `key` for `columns`, if any.
fn kept(key: (usize, &'static str, usize), columns: &[usize]) -> Option<&'static str> {
    TEXTS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .as_ref()
        .and_then(|texts| texts.get(&key))
        .and_then(|shapes| {
            shapes
                .iter()
                .find(|(kept, _)| **kept == *columns)
                .map(|(_, sql)| *sql)
        })
}

fn keep(key: (usize, &'static str, usize), columns: &[usize], sql: &str) {
    if BYTES.fetch_add(sql.len(), Ordering::Relaxed) + sql.len() > MAX_BYTES {
        BYTES.fetch_sub(sql.len(), Ordering::Relaxed);
        return;
    }
    let mut texts = TEXTS.write().unwrap_or_else(PoisonError::into_inner);
    let shapes = texts
        .get_or_insert_with(HashMap::new)
        .entry(key)
        .or_default();
    if shapes.iter().any(|(c, _)| **c == *columns) {
        BYTES.fetch_sub(sql.len(), Ordering::Relaxed);
        return;
    }
    // Kept for the life of the process, as a call site's `SqlCache` keeps its texts; bounded
    // by `MAX_BYTES`.
    let sql: &'static str = Box::leak(sql.into());
    shapes.push((columns.into(), sql));
}

/// `stmt` with only the rows in `rows`, rendered.
fn render(
    stmt: &InsertStmt,
    dialect: &dyn Dialect,
    rows: std::ops::Range<usize>,
) -> Result<Compiled> {
    let mut r = Renderer::new(dialect);
    if rows.len() == stmt.rows.len() {
        query::insert(&mut r, stmt)?;
    } else {
        let part = InsertStmt {
            table: stmt.table.clone(),
            columns: stmt.columns.clone(),
            rows: stmt.rows[rows].to_vec(),
            on_conflict: stmt.on_conflict.clone(),
            returning: stmt.returning.clone(),
            error: None,
            // Only a VALUES insert has rows to split.
            select: None,
        };
        query::insert(&mut r, &part)?;
    }
    Ok(r.finish())
}

/// [`values`], moved out of the rows.
fn into_values(rows: Vec<Vec<SqlExpr>>) -> Vec<Value> {
    let mut out = Vec::with_capacity(rows.iter().map(Vec::len).sum());
    for row in rows {
        out.extend(row.into_iter().filter_map(|e| match e {
            SqlExpr::Param(v) => Some(v),
            _ => None,
        }));
    }
    out
}

/// The values of rows whose every item is a parameter, row by row.
pub(crate) fn values(rows: &[Vec<SqlExpr>]) -> Vec<Value> {
    rows.iter()
        .flatten()
        .filter_map(|e| match e {
            SqlExpr::Param(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
}
