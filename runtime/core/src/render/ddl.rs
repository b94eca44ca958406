//! DDL: `CREATE TABLE`, `CREATE INDEX`, `DROP TABLE`, formatted as SQLAlchemy formats them.

use super::Renderer;
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
    for (col, target) in table.foreign_keys() {
        line(&mut r);
        r.push("FOREIGN KEY(");
        r.ident(col.name());
        r.push(") REFERENCES ");
        r.ident(target.table().name());
        r.push(" (");
        r.ident(target.column().name());
        r.push(")");
    }
    r.push("\n)");
    Ok(r.into_sql())
}

fn column_ddl(r: &mut Renderer<'_>, table: &TableDef, col: &ColumnDef) -> Result<()> {
    r.ident(col.name());
    r.push(" ");
    let ty = r.dialect().column_type(table, col)?;
    r.push(&ty);
    let default_first = r.dialect().default_before_not_null();
    if default_first {
        column_default(r, table, col)?;
    }
    if !col.is_nullable() {
        r.push(" NOT NULL");
    }
    if !default_first {
        column_default(r, table, col)?;
    }
    if col.is_autoincrement() {
        r.push(r.dialect().autoincrement_suffix());
    }
    Ok(())
}

fn column_default(r: &mut Renderer<'_>, table: &TableDef, col: &ColumnDef) -> Result<()> {
    let Some(default) = col.default() else {
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
                table.name(),
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
                            table.name(),
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
        .collect()
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
