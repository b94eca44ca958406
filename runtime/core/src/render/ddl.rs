//! DDL: `CREATE TABLE`, `CREATE INDEX`, `DROP TABLE`, formatted as SQLAlchemy formats them.

use super::Renderer;
use crate::constraint::IndexDef;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::schema::{ColumnDef, DefaultValue, TableDef};

/// `CREATE TABLE`, formatted as SQLAlchemy formats it.
pub fn create_table(table: &TableDef, dialect: &dyn Dialect) -> Result<String> {
    let mut r = Renderer::new(dialect);
    r.push("CREATE TABLE ");
    r.ident(table.name());
    r.push(" (");
    let mut first = true;
    let mut line = |r: &mut Renderer<'_>| {
        r.push(if first { "\n\t" } else { ", \n\t" });
        first = false;
    };
    for col in table.columns() {
        line(&mut r);
        column_ddl(&mut r, table, col)?;
    }
    let pk: Vec<&ColumnDef> = table.primary_key().collect();
    if !pk.is_empty() {
        line(&mut r);
        r.push("PRIMARY KEY (");
        ident_list(&mut r, pk.iter().map(|c| c.name()));
        r.push(")");
    }
    for col in table
        .columns()
        .iter()
        .filter(|c| c.is_unique() && !c.has_index())
    {
        line(&mut r);
        r.push("UNIQUE (");
        r.ident(col.name());
        r.push(")");
    }
    for ix in table.indexes().iter().filter(|ix| ix.is_constraint()) {
        line(&mut r);
        r.push("CONSTRAINT ");
        r.ident(ix.name());
        r.push(" UNIQUE (");
        ident_list(&mut r, ix.columns().into_iter());
        r.push(")");
    }
    for col in table.columns() {
        if col.references_table().is_some() {
            line(&mut r);
            foreign_key(&mut r, col);
        }
    }
    r.push("\n)");
    Ok(r.into_sql())
}

/// `FOREIGN KEY(col) REFERENCES parent (col) [ON DELETE …] [ON UPDATE …]`, nothing for a
/// column without a foreign key.
pub(crate) fn foreign_key(r: &mut Renderer<'_>, col: &ColumnDef) {
    let Some((table, column)) = col.references_table() else {
        return;
    };
    r.push("FOREIGN KEY(");
    r.ident(col.name());
    r.push(") REFERENCES ");
    r.ident(table);
    r.push(" (");
    r.ident(column);
    r.push(")");
    if let Some(action) = col.on_delete_action() {
        r.push(" ON DELETE ");
        r.push(action.as_sql());
    }
    if let Some(action) = col.on_update_action() {
        r.push(" ON UPDATE ");
        r.push(action.as_sql());
    }
}

pub(crate) fn column_ddl(r: &mut Renderer<'_>, table: &TableDef, col: &ColumnDef) -> Result<()> {
    r.ident(col.name());
    r.push(" ");
    let ty = r.dialect().column_type(table, col)?;
    r.push(&ty);
    let default_first = r.dialect().default_before_not_null();
    if default_first {
        column_default(r, table.name(), col)?;
    }
    if !col.is_nullable() {
        r.push(" NOT NULL");
    }
    if !default_first {
        column_default(r, table.name(), col)?;
    }
    if col.is_autoincrement() {
        r.push(r.dialect().autoincrement_suffix());
    }
    Ok(())
}

pub(crate) fn column_default(r: &mut Renderer<'_>, table: &str, col: &ColumnDef) -> Result<()> {
    let Some(default) = col.default() else {
        if let Some(sql) = col.server_default_sql() {
            r.push(" DEFAULT ");
            r.push(sql);
        }
        return Ok(());
    };
    let dialect = r.dialect();
    r.push(" DEFAULT ");
    match default {
        DefaultValue::Int(v) => r.push(&v.to_string()),
        DefaultValue::Float(v) if v.is_finite() => r.push(&format!("{v:?}")),
        DefaultValue::Float(v) => {
            return Err(Error::config(format!(
                "the DEFAULT of column \"{}\".\"{}\" is {v}, which no SQL literal can \
                 write; give a finite number",
                table,
                col.name()
            )));
        }
        DefaultValue::Bool(v) => r.push(dialect.bool_literal(v)),
        DefaultValue::Text(s) => {
            let mut literal = String::with_capacity(s.len() + 2);
            dialect
                .string_literal(s, &mut literal)
                .map_err(|e| match e {
                    Error::Unsupported { feature, dialect } => Error::Unsupported {
                        feature: format!(
                            "{feature} (the DEFAULT of column \"{}\".\"{}\")",
                            table,
                            col.name()
                        ),
                        dialect,
                    },
                    other => other,
                })?;
            r.push(&literal);
        }
    }
    Ok(())
}

fn ident_list<'a>(r: &mut Renderer<'_>, names: impl Iterator<Item = &'a str>) {
    for (i, n) in names.enumerate() {
        if i > 0 {
            r.push(", ");
        }
        r.ident(n);
    }
}

/// `CREATE [UNIQUE] INDEX ix_<table>_<column> ON table (column)` for every indexed column.
pub fn create_indexes(table: &TableDef, dialect: &dyn Dialect) -> Vec<String> {
    table
        .columns()
        .iter()
        .filter(|c| c.has_index())
        .map(|col| {
            let mut r = Renderer::new(dialect);
            r.push(if col.is_unique() {
                "CREATE UNIQUE INDEX "
            } else {
                "CREATE INDEX "
            });
            r.ident(&index_name(table, col));
            r.push(" ON ");
            r.ident(table.name());
            r.push(" (");
            r.ident(col.name());
            r.push(")");
            r.into_sql()
        })
        .chain(
            table
                .indexes()
                .iter()
                .filter(|ix| !ix.is_constraint())
                .map(|ix| create_index(table.name(), ix, dialect)),
        )
        .collect()
}

/// `CREATE [UNIQUE] INDEX name ON table (a, b)` for an [`IndexDef`].
pub fn create_index(table: &str, ix: &IndexDef, dialect: &dyn Dialect) -> String {
    let mut r = Renderer::new(dialect);
    r.push(if ix.is_unique() {
        "CREATE UNIQUE INDEX "
    } else {
        "CREATE INDEX "
    });
    r.ident(ix.name());
    r.push(" ON ");
    r.ident(table);
    r.push(" (");
    ident_list(&mut r, ix.columns().into_iter());
    r.push(")");
    r.into_sql()
}

/// SQLAlchemy's default index naming convention: `ix_<table>_<column>`.
pub fn index_name(table: &TableDef, col: &ColumnDef) -> String {
    format!("ix_{}_{}", table.name(), col.name())
}

/// `DROP TABLE table`.
pub fn drop_table(table: &TableDef, dialect: &dyn Dialect) -> String {
    let mut r = Renderer::new(dialect);
    r.push("DROP TABLE ");
    r.ident(table.name());
    r.into_sql()
}
