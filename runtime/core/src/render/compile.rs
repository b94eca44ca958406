//! Compilation: every statement of the model becomes SQL here, through its call site's
//! [`SqlCache`] when it has one. The model (`crate::sql`) never calls the renderer; the
//! renderer implements the model's [`Compile`] and [`Statement`] traits.
//!
//! A statement with a cache is rendered in full once per dialect and form; every later
//! compile walks it in *verify* mode (see [`Renderer`]), which writes nothing, compares each
//! fragment with the kept text and collects the values. A match hands out the kept
//! `&'static str`; a mismatch (the shape changed) renders afresh.

use super::{Renderer, query};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::schema::{FromRow, TableDef};
use crate::sql::DerivedTable;
use crate::sql::tables::Found;
use crate::sql::{
    Compile, Compiled, Compound, ConflictAction, Delete, Form, Insert, InsertStmt,
    OnConflictClause, Run, Select, SelectItem, SqlCache, SqlExpr, Statement, Update, Upsert,
};
use std::sync::Arc;

/// Compile through `cache` when there is one: the kept text if the statement still renders
/// to it, else a full render (kept for next time if the dialect has no text yet).
pub(crate) fn cached(
    cache: Option<&'static SqlCache>,
    dialect: &dyn Dialect,
    render: impl Fn(&mut Renderer<'_>) -> Result<()>,
) -> Result<Compiled> {
    cached_as(cache, Form::Plain, dialect, render)
}

/// As [`cached`], keeping the text under `form` beside the dialect's name (for a second form
/// of the statement on one dialect).
pub(crate) fn cached_as(
    cache: Option<&'static SqlCache>,
    form: Form,
    dialect: &dyn Dialect,
    render: impl Fn(&mut Renderer<'_>) -> Result<()>,
) -> Result<Compiled> {
    let Some(cache) = cache else {
        let mut r = Renderer::new(dialect);
        render(&mut r)?;
        return Ok(r.finish());
    };
    let key = (dialect.name(), form);
    // Each shape the statement has taken here (a `None` compared with `==` is `IS NULL`):
    // the first that still fits.
    for sql in cache.shapes(key) {
        let mut r = Renderer::verifying(dialect, sql);
        render(&mut r)?;
        if let Some(params) = r.finish_verified() {
            return Ok(Compiled::cached(sql, params));
        }
    }
    cache.count_render();
    let mut r = Renderer::new(dialect);
    render(&mut r)?;
    let compiled = r.finish();
    cache.store_shape(key, compiled.sql());
    Ok(compiled)
}

/// The common table expressions a statement names, in the order `WITH` lists them.
fn ctes(walk: impl FnOnce(&mut Found)) -> Vec<Arc<DerivedTable>> {
    let mut found = Found {
        ctes_only: true,
        ..Found::default()
    };
    walk(&mut found);
    found.ctes
}

impl<R> Compile for Select<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        // A static `select!` call site's learned text: no model, no verify pass.
        if let Some(compiled) = self.stmt.fast_compiled(dialect, Form::Plain) {
            return Ok(compiled);
        }
        let ctes = ctes(|f| self.stmt.collect_tables(f));
        let compiled = cached(self.cache, dialect, |r| {
            query::with(r, &ctes)?;
            query::select(r, &self.stmt)
        })?;
        self.stmt.learn(dialect, Form::Plain, &compiled);
        Ok(compiled)
    }
}

impl<R: FromRow> Statement for Select<R> {
    type Row = R;

    #[inline]
    fn learned(&self, dialect: &dyn Dialect) -> Option<Run<'_>> {
        self.stmt.fast_run(dialect, Form::Plain)
    }

    fn tables(&self, out: &mut Vec<&'static TableDef>) {
        let mut found = Found::default();
        self.stmt.collect_tables(&mut found);
        found.tables_into(out);
    }
}

impl<R> Compile for Compound<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        let ctes = ctes(|f| self.stmt.collect_tables(f));
        cached(self.cache, dialect, |r| {
            query::with(r, &ctes)?;
            query::compound(r, &self.stmt)
        })
    }
}

impl<R: FromRow> Statement for Compound<R> {
    type Row = R;

    fn tables(&self, out: &mut Vec<&'static TableDef>) {
        let mut found = Found::default();
        self.stmt.collect_tables(&mut found);
        found.tables_into(out);
    }
}

impl<R> Compile for Insert<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        if let Some(message) = &self.stmt.error {
            return Err(Error::config(message.clone()));
        }
        if self.cache.is_none() && super::many::is_plain(&self.stmt) {
            // `insert_many` and the builder: the text kept per table and row count.
            return super::many::insert_rows(&self.stmt, dialect, 0..self.stmt.rows.len());
        }
        let ctes = ctes(|f| self.stmt.collect_tables(f));
        cached(self.cache, dialect, |r| {
            query::with(r, &ctes)?;
            query::insert(r, &self.stmt)
        })
    }
}

impl<R: FromRow> Statement for Insert<R> {
    type Row = R;

    fn into_execution(self, dialect: &dyn Dialect) -> Result<Compiled> {
        if self.cache.is_none()
            && super::many::is_plain(&self.stmt)
            && !wants_inserted_key(&self.stmt, dialect)
        {
            // `insert_many` run once: its values move into the parameters.
            return super::many::insert_all_rows(self.stmt.into_inner(), dialect);
        }
        self.compile_for_execution(dialect)
    }

    fn compile_batches(
        &self,
        dialect: &dyn Dialect,
        max_params: usize,
        max_bytes: &mut dyn FnMut() -> Result<Option<usize>>,
    ) -> Result<Option<Vec<Compiled>>> {
        super::batch::insert_batches(&self.stmt, dialect, max_params, max_bytes)
    }

    fn tables(&self, out: &mut Vec<&'static TableDef>) {
        let mut found = Found::default();
        self.stmt.collect_tables(&mut found);
        found.tables_into(out);
    }

    fn compile_for_execution(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        let stmt = &self.stmt;
        let Some(key) = autoincrement_key(stmt).filter(|_| wants_inserted_key(stmt, dialect))
        else {
            return self.compile(dialect);
        };
        if let Some(message) = &stmt.error {
            return Err(Error::config(message.clone()));
        }
        let returning = [SelectItem::Expr(SqlExpr::Column {
            table: stmt.table.clone(),
            index: key,
        })];
        let ctes = ctes(|f| stmt.collect_tables(f));
        let mut compiled = cached_as(self.cache, Form::ReturningKey, dialect, |r| {
            query::with(r, &ctes)?;
            query::insert_returning(r, stmt, &returning)
        })?;
        compiled.returns_key = true;
        Ok(compiled)
    }
}

/// The table's autoincrement key column, if it has one.
fn autoincrement_key(stmt: &InsertStmt) -> Option<usize> {
    stmt.table
        .def()
        .columns()
        .iter()
        .position(|c| c.is_autoincrement())
}

/// Whether executing `stmt` adds `RETURNING` of the key the database assigns (PostgreSQL,
/// which has no `last_insert_id`): a single-row insert that leaves the key out.
fn wants_inserted_key(stmt: &InsertStmt, dialect: &dyn Dialect) -> bool {
    dialect.returning_for_inserted_key()
        && stmt.returning.is_empty()
        && stmt.rows.len() == 1
        && autoincrement_key(stmt).is_some_and(|k| !stmt.columns.contains(&k))
}

impl<R> Compile for Upsert<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        if let Some(message) = &self.stmt.error {
            return Err(Error::config(message.clone()));
        }
        if let Some(OnConflictClause {
            action: ConflictAction::Update(a),
            ..
        }) = &self.stmt.on_conflict
            && a.is_empty()
        {
            return Err(Error::config(format!(
                "upsert into \"{}\": DO UPDATE sets no column; add .set(column, value) or \
                 .set_excluded(column), or use .do_nothing()",
                self.stmt.table.name()
            )));
        }
        let ctes = ctes(|f| self.stmt.collect_tables(f));
        cached(self.cache, dialect, |r| {
            query::with(r, &ctes)?;
            query::insert(r, &self.stmt)
        })
    }
}

impl<R: FromRow> Statement for Upsert<R> {
    type Row = R;

    fn tables(&self, out: &mut Vec<&'static TableDef>) {
        let mut found = Found::default();
        self.stmt.collect_tables(&mut found);
        found.tables_into(out);
    }
}

impl<R> Compile for Update<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        if let Some(message) = &self.stmt.error {
            return Err(Error::config(message.clone()));
        }
        if self.stmt.assignments.is_empty() {
            return Err(Error::config(format!(
                "UPDATE of \"{}\" sets no column; add .set(column, value)",
                self.stmt.table.name()
            )));
        }
        let ctes = ctes(|f| self.stmt.collect_tables(f));
        cached(self.cache, dialect, |r| {
            query::with(r, &ctes)?;
            query::update(r, &self.stmt)
        })
    }
}

impl<R: FromRow> Statement for Update<R> {
    type Row = R;

    fn tables(&self, out: &mut Vec<&'static TableDef>) {
        let mut found = Found::default();
        self.stmt.collect_tables(&mut found);
        found.tables_into(out);
    }
}

impl<R> Compile for Delete<R> {
    fn compile(&self, dialect: &dyn Dialect) -> Result<Compiled> {
        let ctes = ctes(|f| self.stmt.collect_tables(f));
        cached(self.cache, dialect, |r| {
            query::with(r, &ctes)?;
            query::delete(r, &self.stmt)
        })
    }
}

impl<R: FromRow> Statement for Delete<R> {
    type Row = R;

    fn tables(&self, out: &mut Vec<&'static TableDef>) {
        let mut found = Found::default();
        self.stmt.collect_tables(&mut found);
        found.tables_into(out);
    }
}
