//! The one renderer: statement model + dialect → [`Compiled`].
//!
//! All SQL text Quarry produces is written here; dialects only answer questions through the
//! hooks of [`Dialect`] (quoting, placeholders, type names, LIMIT/OFFSET).

use crate::dialect::Dialect;
use crate::error::Result;
use crate::schema::{ColumnDef, DefaultValue, TableDef};
use crate::sql::{Compiled, DeleteStmt, InsertStmt, SelectItem, SelectStmt, SqlExpr, UpdateStmt};
use crate::value::Value;

/// Accumulates SQL text and parameters for one statement.
pub struct Renderer<'d> {
    dialect: &'d dyn Dialect,
    sql: String,
    params: Vec<Value>,
}

impl std::fmt::Debug for Renderer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("dialect", &self.dialect.name())
            .field("sql", &self.sql)
            .finish()
    }
}

impl<'d> Renderer<'d> {
    /// An empty renderer for `dialect`.
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        Renderer {
            dialect,
            sql: String::with_capacity(128),
            params: Vec::new(),
        }
    }

    /// Append raw SQL text.
    pub fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Append an identifier, quoted if the dialect needs it.
    pub fn ident(&mut self, name: &str) {
        self.dialect.quote_ident(name, &mut self.sql);
    }

    /// Append a placeholder for `value` and bind it.
    pub fn param(&mut self, value: Value) {
        self.params.push(value);
        self.dialect.placeholder(self.params.len(), &mut self.sql);
    }

    /// Append an expression.
    pub fn expr(&mut self, e: &SqlExpr) {
        self.expr_prec(e, 0);
    }

    fn expr_prec(&mut self, e: &SqlExpr, outer: u8) {
        match e {
            SqlExpr::Column { table, index } => {
                self.ident(table.name());
                self.push(".");
                self.ident(table.columns()[*index].name());
            }
            SqlExpr::Param(v) => self.param(v.clone()),
            SqlExpr::Binary(l, op, r) => {
                let prec = op.precedence();
                self.wrap(prec < outer, |this| {
                    this.expr_prec(l, prec);
                    this.push(" ");
                    this.push(op.sql());
                    this.push(" ");
                    // Comparisons are not associative: `a = (b = c)` keeps its parentheses.
                    this.expr_prec(r, if prec == 5 { prec + 1 } else { prec });
                });
            }
            SqlExpr::Not(inner) => {
                self.push("NOT ");
                match **inner {
                    SqlExpr::Binary(..) => {
                        self.push("(");
                        self.expr_prec(inner, 0);
                        self.push(")");
                    }
                    _ => self.expr_prec(inner, 6),
                }
            }
            SqlExpr::IsNull { expr, negated } => {
                self.expr_prec(expr, 6);
                self.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            SqlExpr::Like {
                expr,
                pattern,
                negated,
            } => {
                self.wrap(outer > 5, |r| {
                    r.expr_prec(expr, 6);
                    r.push(if *negated { " NOT LIKE " } else { " LIKE " });
                    r.expr_prec(pattern, 6);
                });
            }
            SqlExpr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                self.wrap(outer > 5, |r| {
                    r.expr_prec(expr, 6);
                    r.push(if *negated {
                        " NOT BETWEEN "
                    } else {
                        " BETWEEN "
                    });
                    r.expr_prec(low, 6);
                    r.push(" AND ");
                    r.expr_prec(high, 6);
                });
            }
            SqlExpr::InList {
                expr,
                values,
                negated,
            } => {
                // SQLAlchemy parenthesizes NOT IN as a whole: `(x NOT IN (…))`.
                self.wrap(*negated || outer > 5, |r| {
                    r.expr_prec(expr, 6);
                    r.push(if *negated { " NOT IN " } else { " IN " });
                    if values.is_empty() {
                        r.push(r.dialect.empty_in(*negated));
                    } else {
                        r.push("(");
                        for (i, v) in values.iter().enumerate() {
                            if i > 0 {
                                r.push(", ");
                            }
                            r.expr(v);
                        }
                        r.push(")");
                    }
                });
            }
        }
    }

    fn wrap(&mut self, parens: bool, body: impl FnOnce(&mut Self)) {
        if parens {
            self.push("(");
        }
        body(self);
        if parens {
            self.push(")");
        }
    }

    /// Finish: the SQL and its parameters.
    pub fn finish(self) -> Compiled {
        Compiled::new(self.sql, self.params)
    }
}

pub(crate) fn select(stmt: &SelectStmt, dialect: &dyn Dialect) -> Result<Compiled> {
    let mut r = Renderer::new(dialect);
    r.push("SELECT ");
    let mut first = true;
    for item in &stmt.items {
        match item {
            SelectItem::Table(table) => {
                for index in 0..table.columns().len() {
                    if !first {
                        r.push(", ");
                    }
                    first = false;
                    r.expr(&SqlExpr::Column { table, index });
                }
            }
            SelectItem::Expr(e) => {
                if !first {
                    r.push(", ");
                }
                first = false;
                r.expr(e);
            }
        }
    }
    r.push(" FROM ");
    for (i, table) in stmt.from.iter().enumerate() {
        if i > 0 {
            r.push(", ");
        }
        r.ident(table.name());
    }
    where_clause(&mut r, stmt.where_.as_ref());
    if !stmt.order_by.is_empty() {
        r.push(" ORDER BY ");
        for (i, o) in stmt.order_by.iter().enumerate() {
            if i > 0 {
                r.push(", ");
            }
            r.expr(&o.expr);
            if o.descending {
                r.push(" DESC");
            }
        }
    }
    if stmt.limit.is_some() || stmt.offset.is_some() {
        dialect.limit_offset(&mut r, stmt.limit.as_ref(), stmt.offset.as_ref());
    }
    Ok(r.finish())
}

pub(crate) fn insert(stmt: &InsertStmt, dialect: &dyn Dialect) -> Result<Compiled> {
    let mut r = Renderer::new(dialect);
    let table = stmt.table;
    r.push("INSERT INTO ");
    r.ident(table.name());
    if stmt.columns.is_empty() {
        r.push(dialect.insert_default_values());
        return Ok(r.finish());
    }
    r.push(" (");
    for (i, c) in stmt.columns.iter().enumerate() {
        if i > 0 {
            r.push(", ");
        }
        r.ident(table.columns()[*c].name());
    }
    r.push(") VALUES ");
    for (n, row) in stmt.rows.iter().enumerate() {
        if n > 0 {
            r.push(", ");
        }
        r.push("(");
        for (i, v) in row.iter().enumerate() {
            if i > 0 {
                r.push(", ");
            }
            r.expr(v);
        }
        r.push(")");
    }
    Ok(r.finish())
}

pub(crate) fn update(stmt: &UpdateStmt, dialect: &dyn Dialect) -> Result<Compiled> {
    let mut r = Renderer::new(dialect);
    r.push("UPDATE ");
    r.ident(stmt.table.name());
    r.push(" SET ");
    for (i, (column, value)) in stmt.assignments.iter().enumerate() {
        if i > 0 {
            r.push(", ");
        }
        // SQLAlchemy writes `SET name=?`: unqualified, no spaces.
        r.ident(stmt.table.columns()[*column].name());
        r.push("=");
        r.expr(value);
    }
    where_clause(&mut r, stmt.where_.as_ref());
    Ok(r.finish())
}

pub(crate) fn delete(stmt: &DeleteStmt, dialect: &dyn Dialect) -> Result<Compiled> {
    let mut r = Renderer::new(dialect);
    r.push("DELETE FROM ");
    r.ident(stmt.table.name());
    where_clause(&mut r, stmt.where_.as_ref());
    Ok(r.finish())
}

fn where_clause(r: &mut Renderer<'_>, condition: Option<&SqlExpr>) {
    if let Some(w) = condition {
        r.push(" WHERE ");
        r.expr(w);
    }
}

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
    Ok(r.sql)
}

fn column_ddl(r: &mut Renderer<'_>, table: &TableDef, col: &ColumnDef) -> Result<()> {
    r.ident(col.name());
    r.push(" ");
    let ty = r.dialect.column_type(table, col)?;
    r.push(&ty);
    let default_first = r.dialect.default_before_not_null();
    if default_first {
        column_default(r, col);
    }
    if !col.is_nullable() {
        r.push(" NOT NULL");
    }
    if !default_first {
        column_default(r, col);
    }
    if col.is_autoincrement() {
        r.push(r.dialect.autoincrement_suffix());
    }
    Ok(())
}

fn column_default(r: &mut Renderer<'_>, col: &ColumnDef) {
    let Some(default) = col.default() else { return };
    r.push(" DEFAULT ");
    match default {
        DefaultValue::Int(v) => r.push(&v.to_string()),
        DefaultValue::Float(v) => r.push(&format!("{v:?}")),
        DefaultValue::Bool(v) => r.push(r.dialect.bool_literal(v)),
        DefaultValue::Text(s) => {
            r.push("'");
            r.push(&s.replace('\'', "''"));
            r.push("'");
        }
    }
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
            r.sql
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
    r.sql
}
