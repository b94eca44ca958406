//! Statements: `SELECT` (with SQLAlchemy's FROM derivation, correlation and labels), compound
//! selects, `INSERT` (upserts, `RETURNING`), `UPDATE`, `DELETE`.

use super::{Against, Renderer};
use crate::dialect::{LimitOffsetWriter, MultiTable, UpsertStyle};
use crate::error::{Error, Result};
use crate::schema::TableDef;
use crate::sql::DerivedTable;
use crate::sql::FromSource;
use crate::sql::source::DerivedKind;
use crate::sql::{
    CompoundStmt, ConflictAction, DeleteStmt, FromItem, InsertStmt, Member, OnConflictClause,
    OrderBy, SelectItem, SelectStmt, SqlExpr, TableRef, UpdateStmt,
};
use std::sync::Arc;

/// `WITH [RECURSIVE] name AS (SELECT …), … ` before a statement naming common table
/// expressions (none: nothing). A recursive one lists its columns, `name(a, b) AS (…)`, as
/// SQLAlchemy writes it.
pub(crate) fn with(r: &mut Renderer<'_>, ctes: &[Arc<DerivedTable>]) -> Result<()> {
    if ctes.is_empty() {
        return Ok(());
    }
    let recursive = ctes
        .iter()
        .any(|c| c.kind() == DerivedKind::Cte { recursive: true });
    r.push(if recursive {
        "WITH RECURSIVE "
    } else {
        "WITH "
    });
    for (i, cte) in ctes.iter().enumerate() {
        if i > 0 {
            r.push(", ");
        }
        r.ident(cte.def().name());
        if cte.kind() == (DerivedKind::Cte { recursive: true }) {
            r.push("(");
            for (k, c) in cte.def().columns().iter().enumerate() {
                if k > 0 {
                    r.push(", ");
                }
                r.ident(c.name());
            }
            r.push(")");
        }
        r.push(" AS (");
        let outer = std::mem::take(&mut r.enclosing);
        let body = r.deeper(SUBQUERY_DEPTH, |r| {
            select(r, cte.select())?;
            for (op, member) in cte.rest() {
                r.push(op.sql());
                select(r, member)?;
            }
            Ok(())
        });
        r.enclosing = outer;
        body?;
        r.push(")");
    }
    r.push(" ");
    Ok(())
}

/// A top-level `SELECT`.
pub(crate) fn select(r: &mut Renderer<'_>, s: &SelectStmt) -> Result<()> {
    let froms = s.froms();
    select_with(r, s, froms)
}

/// A `SELECT` inside another statement: tables of the immediately enclosing query are left out
/// of its `FROM` (correlated) when it has more than one, as SQLAlchemy's auto-correlation does.
pub(crate) fn subquery(r: &mut Renderer<'_>, s: &SelectStmt) -> Result<()> {
    r.deeper(SUBQUERY_DEPTH, |r| correlated_subquery(r, s))
}

/// Nesting levels a `SELECT` inside another statement counts for against [`MAX_EXPR_DEPTH`]:
/// rendering one takes about four expressions' worth of stack (the select, its clauses and
/// the expression holding it), so that the limit keeps a debug build inside a 2 MiB thread.
///
/// [`MAX_EXPR_DEPTH`]: crate::sql::MAX_EXPR_DEPTH
pub(crate) const SUBQUERY_DEPTH: usize = 4;

fn correlated_subquery(r: &mut Renderer<'_>, s: &SelectStmt) -> Result<()> {
    use crate::sql::select::Correlation;
    let mut froms = s.froms();
    let auto = s.correlation == Correlation::Auto;
    if (froms.len() > 1 || !auto) && !r.enclosing.is_empty() {
        let correlated = |f: &FromItem| {
            f.joins.is_empty()
                && r.enclosing.contains(&f.table)
                && match &s.correlation {
                    Correlation::Auto => true,
                    Correlation::Only(list) => list.contains(&f.table),
                    Correlation::Except(list) => !list.contains(&f.table),
                }
        };
        if froms.iter().all(correlated) {
            let names: Vec<&str> = froms.iter().map(|f| f.table.name()).collect();
            return Err(Error::config(format!(
                "a subquery over {} has no table left in FROM once correlated to the \
                 enclosing query; select from a table of its own",
                names.join(", ")
            )));
        }
        froms.retain(|f| !correlated(f));
    }
    select_with(r, s, froms)
}

fn select_with(r: &mut Renderer<'_>, s: &SelectStmt, froms: Vec<FromItem>) -> Result<()> {
    // Subqueries correlate to this select's tables only, not to those of queries further out:
    // SQLAlchemy's implicit correlation looks one level up.
    let mut own = Vec::with_capacity(froms.len());
    for f in &froms {
        own.push(f.table.clone());
        for j in &f.joins {
            j.for_each_table(&mut |t| own.push(t.clone()));
        }
    }
    let outer = std::mem::replace(&mut r.enclosing, own);
    let outer_refused = r.windows_refused.take();
    let result = select_clauses(r, s, &froms);
    r.enclosing = outer;
    r.windows_refused = outer_refused;
    result
}

/// `clause` with window functions refused in it.
fn refusing_windows(
    r: &mut Renderer<'_>,
    clause: &'static str,
    body: impl FnOnce(&mut Renderer<'_>) -> Result<()>,
) -> Result<()> {
    let outside = r.windows_refused.replace(clause);
    let result = body(r);
    r.windows_refused = outside;
    result
}

fn select_clauses(r: &mut Renderer<'_>, s: &SelectStmt, froms: &[FromItem]) -> Result<()> {
    r.push("SELECT ");
    if !s.distinct_on.is_empty() {
        if !r.dialect().supports_distinct_on() {
            return Err(Error::Unsupported {
                feature: "DISTINCT ON".into(),
                dialect: r.dialect().name(),
            });
        }
        r.push("DISTINCT ON (");
        r.list(&s.distinct_on)?;
        r.push(") ");
    } else if s.distinct {
        r.push("DISTINCT ");
    }
    select_list(r, &s.items)?;
    if !froms.is_empty() {
        r.push(" FROM ");
        for (i, f) in froms.iter().enumerate() {
            if i > 0 {
                r.push(", ");
            }
            from_item(r, f)?;
        }
    }
    refusing_windows(r, "WHERE", |r| where_clause(r, s.where_.as_ref()))?;
    if !s.group_by.is_empty() {
        r.push(" GROUP BY ");
        refusing_windows(r, "GROUP BY", |r| r.list(&s.group_by))?;
    }
    if let Some(h) = &s.having {
        r.push(" HAVING ");
        refusing_windows(r, "HAVING", |r| r.expr(h))?;
    }
    order_by(r, &s.order_by, false)?;
    limit_offset(r, s.limit.as_ref(), s.offset.as_ref())?;
    lock(r, s)
}

/// `FOR UPDATE [OF t] [NOWAIT] [SKIP LOCKED]`, `FOR SHARE` (MySQL: `LOCK IN SHARE MODE`).
fn lock(r: &mut Renderer<'_>, s: &SelectStmt) -> Result<()> {
    let Some(lock) = &s.lock else { return Ok(()) };
    let Some(share) = lock.share else {
        return Err(Error::config(
            "NOWAIT, SKIP LOCKED and OF qualify a lock: add .for_update() or .for_share()",
        ));
    };
    let Some(clause) = r.dialect().lock_clause(share) else {
        // SQLite: no row locks; nothing is written, as SQLAlchemy does.
        return Ok(());
    };
    r.push(clause);
    if !lock.of.is_empty() {
        if !r.dialect().supports_lock_of() {
            return Err(Error::Unsupported {
                feature: "FOR UPDATE OF a table".into(),
                dialect: r.dialect().name(),
            });
        }
        r.push(" OF ");
        for (i, t) in lock.of.iter().enumerate() {
            if i > 0 {
                r.push(", ");
            }
            r.ident(t.name());
        }
    }
    if lock.nowait {
        r.push(" NOWAIT");
    }
    if lock.skip_locked {
        r.push(" SKIP LOCKED");
    }
    Ok(())
}

fn from_item(r: &mut Renderer<'_>, f: &FromItem) -> Result<()> {
    table_ref(r, &f.table)?;
    joins(r, &f.joins)
}

/// The joins after a `FROM` table; a join with joins nested in it is written in parentheses,
/// `LEFT OUTER JOIN (posts JOIN comments ON …) ON …`, as SQLAlchemy writes it.
fn joins(r: &mut Renderer<'_>, joins: &[crate::sql::Join]) -> Result<()> {
    for join in joins {
        if join.full && !r.dialect().supports_full_join() {
            return Err(Error::Unsupported {
                feature: "FULL OUTER JOIN".into(),
                dialect: r.dialect().name(),
            });
        }
        r.push(if join.full {
            " FULL OUTER JOIN "
        } else if join.outer {
            " LEFT OUTER JOIN "
        } else {
            r.dialect().inner_join()
        });
        if join.nested.is_empty() {
            table_ref(r, &join.table)?;
        } else {
            r.push("(");
            table_ref(r, &join.table)?;
            r.deeper(SUBQUERY_DEPTH, |r| self::joins(r, &join.nested))?;
            r.push(")");
        }
        r.push(" ON ");
        refusing_windows(r, "JOIN … ON", |r| r.expr(&join.on))?;
    }
    Ok(())
}

/// A `FROM` item: `users`, `users AS u2`, or a derived table `(SELECT …) AS name`.
fn table_ref(r: &mut Renderer<'_>, t: &TableRef) -> Result<()> {
    if let FromSource::Derived(derived) = t.source()
        && derived.kind() == DerivedKind::Lateral
    {
        if !r.dialect().supports_lateral() {
            return Err(Error::Unsupported {
                feature: "LATERAL".into(),
                dialect: r.dialect().name(),
            });
        }
        // Correlated to the tables of the FROM it joins, as SQLAlchemy's lateral.
        r.push("LATERAL (");
        subquery(r, derived.select())?;
        r.push(") AS ");
        r.ident(t.name());
        return Ok(());
    }
    if let FromSource::Derived(derived) = t.source()
        && derived.kind() == DerivedKind::Subquery
    {
        r.push("(");
        r.deeper(SUBQUERY_DEPTH, |r| select(r, derived.select()))?;
        r.push(") AS ");
        r.ident(t.name());
        return Ok(());
    }
    r.ident(t.def().name());
    if let Some(alias) = t.alias() {
        r.push(" AS ");
        r.ident(alias);
    }
    Ok(())
}

/// The table a DML statement writes to: declared or defined, never derived.
fn dml_target<'t>(t: &'t TableRef, verb: &str) -> Result<&'t str> {
    match t.source() {
        FromSource::Derived(_) => Err(Error::config(format!(
            "cannot {verb} subquery \"{}\": it is a derived table, not a table",
            t.name()
        ))),
        _ => Ok(t.def().name()),
    }
}

/// The select list, labelled as SQLAlchemy labels it: a column whose name an earlier column
/// already took gets `AS name_1` (`AS name__1` when it is the very same column again), a
/// function `AS count_1`, any other expression `AS anon_1`.
fn select_list<'i>(r: &mut Renderer<'_>, items: &'i [SelectItem]) -> Result<()> {
    // Names taken so far, with the column that took each (none for a label).
    let mut taken: Vec<(&'i str, Option<(&'i TableRef, usize)>)> = Vec::new();
    let mut other: Vec<(&'i str, u32)> = Vec::new();
    let mut same: Vec<(&'i str, u32)> = Vec::new();
    let mut first = true;
    // A column, or (`cast`) the CAST of one, which SQLAlchemy labels with the column's name
    // always: `CAST(users.id AS VARCHAR) AS id`.
    let mut column = |r: &mut Renderer<'_>,
                      table: &'i TableRef,
                      index: usize,
                      cast: Option<&SqlExpr>|
     -> Result<()> {
        let name = table.def().columns()[index].name();
        match cast {
            Some(e) => r.expr(e)?,
            None => r.column(table, index),
        }
        if cast.is_some() && !taken.iter().any(|(n, _)| *n == name) {
            r.push(" AS ");
            r.ident(name);
        } else if taken.iter().any(|(n, _)| *n == name) {
            let repeat = taken.iter().any(|(_, c)| *c == Some((table, index)));
            let counters = if repeat { &mut same } else { &mut other };
            let k = bump(counters, name);
            r.push(" AS ");
            r.ident(name);
            r.push(if repeat { "__" } else { "_" });
            r.number(k);
        }
        taken.push((name, Some((table, index))));
        Ok(())
    };
    for item in items {
        match item {
            SelectItem::Table(table) => {
                for index in 0..table.def().columns().len() {
                    if !first {
                        r.push(", ");
                    }
                    first = false;
                    column(r, table, index, None)?;
                }
            }
            SelectItem::Labeled { expr, label } => {
                if !first {
                    r.push(", ");
                }
                first = false;
                item_expr(r, expr)?;
                r.push(" AS ");
                r.ident(label);
            }
            SelectItem::Expr(e) => {
                if !first {
                    r.push(", ");
                }
                first = false;
                match e {
                    SqlExpr::Column { table, index } => column(r, table, *index, None)?,
                    // A literal (`literal(1)`): typed where the dialect wants it, as in a CASE.
                    SqlExpr::Param(_) => {
                        r.case_value(e)?;
                        let k = r.anon_label("anon");
                        r.push(" AS anon_");
                        r.number(k);
                    }
                    SqlExpr::Cast { expr, .. } if matches!(**expr, SqlExpr::Column { .. }) => {
                        if let SqlExpr::Column { table, index } = &**expr {
                            column(r, table, *index, Some(e))?;
                        }
                    }
                    _ => {
                        item_expr(r, e)?;
                        let label = match e {
                            SqlExpr::Function { name, .. } => name,
                            _ => "anon",
                        };
                        let k = r.anon_label(label);
                        r.push(" AS ");
                        r.push(label);
                        r.push("_");
                        r.number(k);
                    }
                }
            }
        }
    }
    Ok(())
}

/// A select item's expression: `true()` / `false()` as a value there (`1` / `0` on SQLite),
/// not as the condition they are elsewhere (`1 = 1`), as SQLAlchemy writes them.
fn item_expr(r: &mut Renderer<'_>, e: &SqlExpr) -> Result<()> {
    match e {
        SqlExpr::Truth(v) => {
            r.push(r.dialect().truth_value(*v));
            Ok(())
        }
        _ => r.expr(e),
    }
}

fn bump<'a>(counters: &mut Vec<(&'a str, u32)>, name: &'a str) -> u32 {
    match counters.iter_mut().find(|(n, _)| *n == name) {
        Some((_, k)) => {
            *k += 1;
            *k
        }
        None => {
            counters.push((name, 1));
            1
        }
    }
}

fn where_clause(r: &mut Renderer<'_>, condition: Option<&SqlExpr>) -> Result<()> {
    if let Some(w) = condition {
        r.push(" WHERE ");
        r.expr(w)?;
    }
    Ok(())
}

/// `ORDER BY`; in a compound select, columns go bare (`ORDER BY name`).
fn order_by(r: &mut Renderer<'_>, terms: &[OrderBy], bare: bool) -> Result<()> {
    if terms.is_empty() {
        return Ok(());
    }
    r.push(" ORDER BY ");
    let was_bare = std::mem::replace(&mut r.bare_columns, bare);
    let result = r.order_terms(terms);
    r.bare_columns = was_bare;
    result
}

fn limit_offset(
    r: &mut Renderer<'_>,
    limit: Option<&SqlExpr>,
    offset: Option<&SqlExpr>,
) -> Result<()> {
    if limit.is_some() || offset.is_some() {
        let dialect = r.dialect();
        dialect.limit_offset(&mut LimitOffset { r, limit, offset })?;
    }
    Ok(())
}

/// The renderer as a dialect's [`LimitOffsetWriter`], holding the statement's operands.
struct LimitOffset<'a, 'r> {
    r: &'a mut Renderer<'r>,
    limit: Option<&'a SqlExpr>,
    offset: Option<&'a SqlExpr>,
}

impl LimitOffsetWriter for LimitOffset<'_, '_> {
    fn push(&mut self, sql: &str) {
        self.r.push(sql);
    }
    fn has_limit(&self) -> bool {
        self.limit.is_some()
    }
    fn has_offset(&self) -> bool {
        self.offset.is_some()
    }
    fn limit(&mut self) -> Result<()> {
        self.limit.map_or(Ok(()), |e| self.r.expr(e))
    }
    fn offset(&mut self) -> Result<()> {
        self.offset.map_or(Ok(()), |e| self.r.expr(e))
    }
    fn bind(&mut self, value: i64) -> Result<()> {
        self.r
            .expr(&SqlExpr::Param(crate::value::Value::I64(value)))
    }
}

/// `SELECT … UNION [ALL] SELECT …`. A member with its own `ORDER BY`/`LIMIT` is parenthesized
/// where the dialect allows it; on SQLite that is an [`Error::Unsupported`].
///
/// A chain that changes operator groups what came before, as SQLAlchemy nests a compound in
/// a compound: `a.union(b).intersect(c)` is `(A UNION B) INTERSECT C` — written flat,
/// PostgreSQL and MySQL would read `A UNION (B INTERSECT C)`, INTERSECT binding tighter.
/// SQLite rejects the parentheses and reads every operator left to right, so there the flat
/// chain already means the same.
pub(crate) fn compound(r: &mut Renderer<'_>, c: &CompoundStmt) -> Result<()> {
    let grouped = r.dialect().parenthesized_compound_members();
    let switches = |i: usize| grouped && i > 0 && c.rest[i].0 != c.rest[i - 1].0;
    for _ in (0..c.rest.len()).filter(|i| switches(*i)) {
        r.push("(");
    }
    member(r, &c.first)?;
    for (i, (op, m)) in c.rest.iter().enumerate() {
        if switches(i) {
            r.push(")");
        }
        r.push(op.sql());
        match m {
            Member::Select(s) => member(r, s)?,
            Member::Compound(inner) => nested_compound(r, inner)?,
        }
    }
    for term in &c.order_by {
        let SqlExpr::Column { table, index } = &term.expr else {
            return Err(Error::config(
                "ORDER BY of a compound select takes columns of its first SELECT",
            ));
        };
        let listed = c.first.items.iter().any(|item| match item {
            SelectItem::Table(t) => t == table,
            SelectItem::Expr(SqlExpr::Column { table: t, index: i }) => t == table && i == index,
            SelectItem::Expr(_) | SelectItem::Labeled { .. } => false,
        });
        if !listed {
            return Err(Error::config(format!(
                "ORDER BY {}.{} of a compound select: the column is not selected by its first \
                 SELECT",
                table.name(),
                table.def().columns()[*index].name()
            )));
        }
    }
    order_by(r, &c.order_by, true)?;
    limit_offset(r, c.limit.as_ref(), c.offset.as_ref())
}

/// A compound select as a member of another, in parentheses as SQLAlchemy writes it
/// (`A UNION (B INTERSECT C)`). SQLite takes no parenthesized member: there it is read from a
/// subquery, `A UNION SELECT * FROM (B INTERSECT C)`, which keeps its meaning.
fn nested_compound(r: &mut Renderer<'_>, c: &CompoundStmt) -> Result<()> {
    r.push(if r.dialect().parenthesized_compound_members() {
        "("
    } else {
        "SELECT * FROM ("
    });
    r.deeper(SUBQUERY_DEPTH, |r| compound(r, c))?;
    r.push(")");
    Ok(())
}

/// A member `SELECT`: correlated to the enclosing query where the compound is a subquery
/// (`x IN (SELECT … UNION SELECT …)`), as SQLAlchemy correlates it.
fn member(r: &mut Renderer<'_>, s: &SelectStmt) -> Result<()> {
    if !s.has_own_ordering() {
        return correlated_subquery(r, s);
    }
    if !r.dialect().parenthesized_compound_members() {
        return Err(Error::Unsupported {
            feature: "ORDER BY, LIMIT or OFFSET on a member of a compound select (UNION …)".into(),
            dialect: r.dialect().name(),
        });
    }
    r.push("(");
    correlated_subquery(r, s)?;
    r.push(")");
    Ok(())
}

pub(crate) fn insert(r: &mut Renderer<'_>, stmt: &InsertStmt) -> Result<()> {
    insert_returning(r, stmt, &stmt.returning)
}

/// `INSERT` with `returning` in place of the statement's own `RETURNING` list.
pub(crate) fn insert_returning(
    r: &mut Renderer<'_>,
    stmt: &InsertStmt,
    returning_items: &[SelectItem],
) -> Result<()> {
    let name = dml_target(&stmt.table, "INSERT INTO")?;
    let table = stmt.table.def();
    r.enclosing.push(stmt.table.clone());
    r.push("INSERT INTO ");
    r.ident(name);
    if let Some(select) = &stmt.select {
        r.push(" (");
        for (i, c) in stmt.columns.iter().enumerate() {
            if i > 0 {
                r.push(", ");
            }
            r.ident(table.columns()[*c].name());
        }
        r.push(") ");
        // The select's own FROM: no correlation to the table inserted into.
        let outer = std::mem::take(&mut r.enclosing);
        let result = r.deeper(SUBQUERY_DEPTH, |r| self::select(r, select));
        r.enclosing = outer;
        result?;
    } else if stmt.columns.is_empty() {
        r.push(r.dialect().insert_default_values());
    } else {
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
            r.list(row)?;
            r.push(")");
        }
    }
    if let Some(clause) = &stmt.on_conflict {
        on_conflict(r, table, clause)?;
    }
    returning(r, table, returning_items)
}

fn on_conflict(r: &mut Renderer<'_>, table: &TableDef, clause: &OnConflictClause) -> Result<()> {
    let assign = |r: &mut Renderer<'_>, assignments: &[(usize, SqlExpr)]| -> Result<()> {
        for (i, (column, value)) in assignments.iter().enumerate() {
            if i > 0 {
                r.push(", ");
            }
            r.ident(table.columns()[*column].name());
            r.push(" = ");
            r.expr_in(value, Against::Grouped)?;
        }
        Ok(())
    };
    match r.dialect().upsert_style() {
        UpsertStyle::OnConflict => {
            r.push(" ON CONFLICT");
            if let Some(name) = &clause.constraint {
                if !r.dialect().supports_on_constraint() {
                    return Err(Error::Unsupported {
                        feature: "ON CONFLICT ON CONSTRAINT".into(),
                        dialect: r.dialect().name(),
                    });
                }
                r.push(" ON CONSTRAINT ");
                r.ident(name);
            } else if !clause.target.is_empty() {
                r.push(" (");
                for (i, c) in clause.target.iter().enumerate() {
                    if i > 0 {
                        r.push(", ");
                    }
                    r.ident(table.columns()[*c].name());
                }
                r.push(")");
            }
            match &clause.action {
                ConflictAction::Nothing => r.push(" DO NOTHING"),
                ConflictAction::Update(assignments) => {
                    if clause.target.is_empty()
                        && clause.constraint.is_none()
                        && !r.dialect().upsert_without_target()
                    {
                        return Err(Error::config(format!(
                            "upsert into \"{}\": DO UPDATE needs a conflict target, \
                             .on_conflict(column)",
                            table.name()
                        )));
                    }
                    r.push(" DO UPDATE SET ");
                    assign(r, assignments)?;
                    if let Some(condition) = &clause.where_ {
                        r.push(" WHERE ");
                        r.expr(condition)?;
                    }
                }
            }
        }
        UpsertStyle::OnDuplicateKey => {
            if clause.constraint.is_some() {
                return Err(Error::Unsupported {
                    feature: "ON CONFLICT ON CONSTRAINT".into(),
                    dialect: r.dialect().name(),
                });
            }
            if clause.where_.is_some() {
                return Err(Error::Unsupported {
                    feature: "a condition on an upsert's update (DO UPDATE … WHERE)".into(),
                    dialect: r.dialect().name(),
                });
            }
            r.push(" ON DUPLICATE KEY UPDATE ");
            match &clause.action {
                ConflictAction::Nothing => {
                    // MySQL has no DO NOTHING: assigning a key column to itself changes nothing.
                    let column = clause
                        .target
                        .first()
                        .copied()
                        .or_else(|| table.columns().iter().position(|c| c.is_primary_key()))
                        .unwrap_or(0);
                    let name = table.columns()[column].name();
                    r.ident(name);
                    r.push(" = ");
                    r.ident(name);
                }
                ConflictAction::Update(assignments) => assign(r, assignments)?,
            }
        }
    }
    Ok(())
}

/// ` RETURNING …`, or [`Error::Unsupported`] where the dialect has none.
fn returning(r: &mut Renderer<'_>, table: &TableDef, items: &[SelectItem]) -> Result<()> {
    if items.is_empty() {
        return Ok(());
    }
    if !r.dialect().supports_returning() {
        return Err(Error::Unsupported {
            feature: "RETURNING".into(),
            dialect: r.dialect().name(),
        });
    }
    let mut foreign: Option<String> = None;
    for item in items {
        match item {
            SelectItem::Table(t) if t.def() != table => foreign = Some(t.name().to_owned()),
            SelectItem::Table(_) => {}
            SelectItem::Expr(e) | SelectItem::Labeled { expr: e, .. } => {
                e.for_each_table(&mut |t| {
                    if t.def() != table {
                        foreign = Some(t.name().to_owned());
                    }
                })
            }
        }
    }
    if let Some(t) = foreign {
        return Err(Error::config(format!(
            "RETURNING from \"{}\" names a column of \"{t}\"; it can return only the table's own",
            table.name(),
        )));
    }
    r.push(" RETURNING ");
    let bare = !r.dialect().returning_qualified();
    let was_bare = std::mem::replace(&mut r.bare_columns, bare);
    let result = select_list(r, items);
    r.bare_columns = was_bare;
    result
}

/// The tables other than `target` that an `UPDATE`'s or `DELETE`'s expressions use outside
/// subqueries: the extra tables of a multi-table statement, in first-seen order.
fn other_tables<'e>(target: &TableRef, exprs: impl Iterator<Item = &'e SqlExpr>) -> Vec<TableRef> {
    let mut others: Vec<TableRef> = Vec::new();
    for e in exprs {
        e.for_each_table(&mut |t| {
            if t != target && !others.contains(t) {
                others.push(t.clone());
            }
        });
    }
    others
}

fn table_list(r: &mut Renderer<'_>, tables: &[TableRef]) -> Result<()> {
    for (i, t) in tables.iter().enumerate() {
        if i > 0 {
            r.push(", ");
        }
        table_ref(r, t)?;
    }
    Ok(())
}

/// `UPDATE t SET … [FROM others] [WHERE …]` — a `SET` value or the condition naming another
/// table makes it a multi-table update, written as SQLAlchemy writes it: `FROM others`
/// (PostgreSQL, SQLite), `UPDATE t, others SET t.col=…` (MySQL).
pub(crate) fn update(r: &mut Renderer<'_>, stmt: &UpdateStmt) -> Result<()> {
    let name = dml_target(&stmt.table, "UPDATE")?;
    let table = stmt.table.def();
    let values = stmt.assignments.iter().map(|(_, v)| v);
    let others = other_tables(&stmt.table, values.chain(stmt.where_.as_ref()));
    let style = if others.is_empty() {
        None
    } else {
        Some(
            r.dialect()
                .update_from()
                .ok_or_else(|| Error::Unsupported {
                    feature: "UPDATE … FROM another table".into(),
                    dialect: r.dialect().name(),
                })?,
        )
    };
    r.enclosing.push(stmt.table.clone());
    r.enclosing.extend(others.iter().cloned());
    r.push("UPDATE ");
    r.ident(name);
    if style == Some(MultiTable::TableList) {
        r.push(", ");
        table_list(r, &others)?;
    }
    r.push(" SET ");
    for (i, (column, value)) in stmt.assignments.iter().enumerate() {
        if i > 0 {
            r.push(", ");
        }
        // SQLAlchemy writes `SET name=?`: unqualified, no spaces, expressions in parentheses;
        // qualified in MySQL's table list.
        if style == Some(MultiTable::TableList) {
            r.ident(name);
            r.push(".");
        }
        r.ident(table.columns()[*column].name());
        r.push("=");
        r.expr_in(value, Against::Grouped)?;
    }
    if style == Some(MultiTable::Clause) {
        r.push(" FROM ");
        table_list(r, &others)?;
    }
    where_clause(r, stmt.where_.as_ref())?;
    returning(r, table, &stmt.returning)
}

/// `DELETE FROM t [USING …] [WHERE …]`: a condition naming another table makes it a
/// multi-table delete, `USING others` (PostgreSQL) or `USING t, others` (MySQL); SQLite has
/// none ([`Error::Unsupported`], as SQLAlchemy refuses it).
pub(crate) fn delete(r: &mut Renderer<'_>, stmt: &DeleteStmt) -> Result<()> {
    let name = dml_target(&stmt.table, "DELETE FROM")?;
    let table = stmt.table.def();
    let others = other_tables(&stmt.table, stmt.where_.iter());
    let style = if others.is_empty() {
        None
    } else {
        Some(
            r.dialect()
                .delete_using()
                .ok_or_else(|| Error::Unsupported {
                    feature: "DELETE … USING another table (filter through a subquery instead)"
                        .into(),
                    dialect: r.dialect().name(),
                })?,
        )
    };
    r.enclosing.push(stmt.table.clone());
    r.enclosing.extend(others.iter().cloned());
    r.push("DELETE FROM ");
    r.ident(name);
    if let Some(alias) = stmt.table.alias() {
        r.push(" AS ");
        r.ident(alias);
    }
    match style {
        Some(MultiTable::Clause) => {
            r.push(" USING ");
            table_list(r, &others)?;
        }
        Some(MultiTable::TableList) => {
            r.push(" USING ");
            r.ident(name);
            r.push(", ");
            table_list(r, &others)?;
        }
        _ => {}
    }
    where_clause(r, stmt.where_.as_ref())?;
    returning(r, table, &stmt.returning)
}
