//! SQLite: `sqlite_master` and the `table_info`, `foreign_key_list`, `index_list` and
//! `index_info` pragmas (as table-valued functions, so that names are bound, never spliced).

use super::{REFLECTED, bool_at, int_at, req_text, rows, text_at};
use crate::connection::Connection;
use crate::error::Result;
use crate::schema::{ColumnDef, TableDef};
use quarry_core::migrate::sqlite_type;
use quarry_core::{CheckDef, FkAction, IndexDef, SqlType};

pub(super) fn tables(
    conn: &mut Connection,
    schema: Option<&str>,
    only: Option<&str>,
) -> Result<Vec<TableDef>> {
    let schema = schema.unwrap_or("main");
    let names = rows(
        conn,
        "SELECT name FROM pragma_table_list WHERE schema = :schema AND type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        &[("schema", schema)],
    )?;
    let mut out = Vec::new();
    for row in names {
        let name = req_text(&row, 0)?;
        if only.is_some_and(|o| o != name) {
            continue;
        }
        out.push(table(conn, schema, &name)?);
    }
    Ok(out)
}

fn table(conn: &mut Connection, schema: &str, name: &str) -> Result<TableDef> {
    let binds = [("schema", schema), ("table", name)];
    let cols = rows(
        conn,
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(:table, :schema) \
         ORDER BY cid",
        &binds,
    )?;
    let pk_count = cols
        .iter()
        .filter(|r| int_at(r, 4).ok().flatten().unwrap_or(0) > 0)
        .count();
    let mut columns = Vec::new();
    for row in &cols {
        let col_name = req_text(row, 0)?;
        let raw = text_at(row, 1)?.unwrap_or_default();
        let read = sqlite_type(&raw);
        let mut col = read
            .column(&col_name, !bool_at(row, 2)?)
            .raw_type(raw.clone());
        if let Some(default) = text_at(row, 3)? {
            col = col.server_default(default);
        }
        if int_at(row, 4)?.unwrap_or(0) > 0 {
            col = col.primary_key();
            // Only a lone key declared exactly INTEGER is the rowid, which autoincrements.
            // Its values are 64-bit, as the rowid's.
            if pk_count == 1 && raw.eq_ignore_ascii_case("INTEGER") {
                col = col
                    .with_type(SqlType::BigInt, None)
                    .with_nullable(false)
                    .autoincrement();
            }
        }
        columns.push(col);
    }

    let fks = rows(
        conn,
        "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete \
         FROM pragma_foreign_key_list(:table, :schema) ORDER BY id, seq",
        &binds,
    )?;
    for row in &fks {
        let id = int_at(row, 0)?.unwrap_or(0);
        // A key over several columns has no place in the column model; keep single ones.
        if fks
            .iter()
            .filter(|r| int_at(r, 0).ok().flatten() == Some(id))
            .count()
            != 1
        {
            continue;
        }
        let (parent, from) = (req_text(row, 2)?, req_text(row, 3)?);
        let to = text_at(row, 4)?.unwrap_or_else(|| "id".to_owned());
        if let Some(col) = columns.iter_mut().find(|c| c.name() == from) {
            *col = with_fk(
                col.clone(),
                &parent,
                &to,
                text_at(row, 6)?,
                text_at(row, 5)?,
            );
        }
    }

    let mut extra = Vec::new();
    let indexes = rows(
        conn,
        "SELECT name, \"unique\", origin FROM pragma_index_list(:table, :schema) ORDER BY name",
        &binds,
    )?;
    for row in &indexes {
        let (ix_name, unique, origin) = (req_text(row, 0)?, bool_at(row, 1)?, req_text(row, 2)?);
        if origin == "pk" {
            continue;
        }
        let ix_cols: Vec<String> = rows(
            conn,
            "SELECT name FROM pragma_index_info(:index, :schema) ORDER BY seqno",
            &[("schema", schema), ("index", &ix_name)],
        )?
        .iter()
        .map(|r| text_at(r, 0).map(Option::unwrap_or_default))
        .collect::<Result<_>>()?;
        match (origin.as_str(), ix_cols.as_slice()) {
            ("u", [only]) => flag(&mut columns, only, |c| c.unique()),
            ("c", [only]) if ix_name == conventional_index(name, only) => {
                flag(&mut columns, only, |c| {
                    if unique {
                        c.unique().index()
                    } else {
                        c.index()
                    }
                });
            }
            ("u", _) => extra.push(IndexDef::new(ix_name, ix_cols).constraint()),
            _ => {
                let ix = IndexDef::new(ix_name, ix_cols);
                extra.push(if unique { ix.unique() } else { ix });
            }
        }
    }
    let mut table = TableDef::build(name, columns, &REFLECTED);
    for ix in extra {
        table = table.with_index(ix);
    }
    // SQLite keeps no catalog of checks: read them from the table's CREATE statement.
    if schema == "main" {
        let sql = rows(
            conn,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :table",
            &[("table", name)],
        )?;
        if let Some(sql) = sql.first().map(|r| text_at(r, 0)).transpose()?.flatten() {
            for expr in checks_in(&sql) {
                table = table.with_check(CheckDef::new(None, expr));
            }
        }
    }
    Ok(table)
}

/// The column with its foreign key to `parent (to)` and the reported actions.
pub(super) fn with_fk(
    col: ColumnDef,
    parent: &str,
    to: &str,
    on_delete: Option<String>,
    on_update: Option<String>,
) -> ColumnDef {
    let mut col = col.references_named(parent, to);
    let action = |a: Option<String>| {
        a.as_deref()
            .and_then(FkAction::parse)
            .filter(|a| *a != FkAction::NoAction)
    };
    if let Some(a) = action(on_delete) {
        col = col.on_delete(a);
    }
    if let Some(a) = action(on_update) {
        col = col.on_update(a);
    }
    col
}

/// Apply `f` to the column named `name`.
pub(super) fn flag(columns: &mut [ColumnDef], name: &str, f: impl Fn(ColumnDef) -> ColumnDef) {
    if let Some(col) = columns.iter_mut().find(|c| c.name() == name) {
        *col = f(col.clone());
    }
}

/// SQLAlchemy's `ix_<table>_<column>`, which a column's own index flag stands for.
pub(super) fn conventional_index(table: &str, column: &str) -> String {
    format!("ix_{table}_{column}")
}

/// The expressions of the `CHECK (…)` clauses of a `CREATE TABLE`, outside quotes.
fn checks_in(sql: &str) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut quote = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, b'\'' | b'"' | b'`' | b'[') => {
                quote = Some(if c == b'[' { b']' } else { c });
            }
            None if sql[i..].len() >= 5
                && sql[i..i + 5].eq_ignore_ascii_case("check")
                && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')) =>
            {
                let rest = sql[i + 5..].trim_start();
                if rest.starts_with('(') {
                    let start = sql.len() - rest.len();
                    let mut depth = 0;
                    for (j, ch) in sql[start..].char_indices() {
                        match ch {
                            '(' => depth += 1,
                            ')' => {
                                depth -= 1;
                                if depth == 0 {
                                    out.push(sql[start + 1..start + j].trim().to_owned());
                                    i = start + j;
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            None => {}
        }
        i += 1;
    }
    out
}
