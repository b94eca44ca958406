//! Every table a statement names, subqueries included: what implicit execution looks up to
//! find the statement's bind (see `crate::bind`).

use super::OrderBy;
use super::dml::{ConflictAction, DeleteStmt, InsertStmt, UpdateStmt};
use super::expr::SqlExpr;
use super::select::{CompoundStmt, Member, SelectItem, SelectStmt};
use super::source::{DerivedKind, DerivedTable};
use super::{FromSource, TableRef};
use crate::schema::TableDef;
use std::sync::Arc;

/// What a walk over a statement finds: its declared tables and its common table
/// expressions, each in first-seen order without repeats (a CTE after the CTEs its body
/// names, as `WITH` must list them).
#[derive(Default)]
pub(crate) struct Found {
    pub(crate) tables: Vec<&'static TableDef>,
    pub(crate) ctes: Vec<Arc<DerivedTable>>,
    /// Collect only the CTEs (compiling), not the tables: no allocation for a statement
    /// without CTEs.
    pub(crate) ctes_only: bool,
    /// The nesting depth of the `SELECT` being walked, counted as the renderer counts it (a
    /// nested `SELECT` weighs `SUBQUERY_DEPTH`): the walk stops at `MAX_EXPR_DEPTH`, where
    /// compiling fails anyway, so that it never overflows the stack first.
    pub(crate) depth: usize,
}

/// What a nested `SELECT` weighs against `MAX_EXPR_DEPTH`, as in the renderer.
const SUBQUERY_WEIGHT: usize = 4;

impl Found {
    /// Walk `select` one `SELECT` deeper than `at`.
    fn nested(&mut self, at: usize, select: &SelectStmt) {
        let outer = std::mem::replace(&mut self.depth, at + SUBQUERY_WEIGHT);
        if self.depth < super::MAX_EXPR_DEPTH {
            select.collect_tables(self);
        }
        self.depth = outer;
    }
}

impl Found {
    /// Walk the members of `compound` (a compound member, or the candidates of an `IN`), each
    /// one `SELECT` deeper than `at`.
    fn nested_compound(&mut self, at: usize, compound: &CompoundStmt) {
        self.nested(at, &compound.first);
        for (_, member) in &compound.rest {
            member.walk(self, at + SUBQUERY_WEIGHT);
        }
    }
}

impl Found {
    /// The tables, added to `out` (first-seen order, no repeats).
    pub(crate) fn tables_into(self, out: &mut Vec<&'static TableDef>) {
        for t in self.tables {
            if !out.iter().any(|o| std::ptr::eq(*o, t)) {
                out.push(t);
            }
        }
    }
}

/// Add `table` to `out` unless it is there already; `out` keeps first-seen order.
fn push(out: &mut Found, table: &'static TableDef) {
    if out.ctes_only {
        return;
    }
    if !out.tables.iter().any(|t| std::ptr::eq(*t, table)) {
        out.tables.push(table);
    }
}

/// The tables behind a `FROM` item: a declared table itself, a derived table's own tables. A
/// table defined at run time is not collected (implicit execution knows declared tables).
fn push_ref(out: &mut Found, table: &TableRef) {
    match table.source() {
        FromSource::Declared(def) => push(out, def),
        FromSource::Derived(derived) => match derived.kind() {
            // Its own name inside its body: the CTE is being collected already.
            DerivedKind::SelfReference => {}
            DerivedKind::Subquery | DerivedKind::Lateral => derived_members(derived, out),
            DerivedKind::Cte { .. } => {
                if !out.ctes.iter().any(|c| Arc::ptr_eq(c, derived)) {
                    derived_members(derived, out);
                    // A CTE named again inside its own dependencies is listed once.
                    if !out.ctes.iter().any(|c| Arc::ptr_eq(c, derived)) {
                        out.ctes.push(Arc::clone(derived));
                    }
                }
            }
        },
        _ => {}
    }
}

fn derived_members(derived: &DerivedTable, out: &mut Found) {
    let at = out.depth;
    out.nested(at, derived.select());
    for (_, member) in derived.rest() {
        out.nested(at, member);
    }
}

impl SqlExpr {
    pub(crate) fn collect_tables(&self, out: &mut Found) {
        let at = out.depth;
        self.tables_into(out, at);
    }

    /// At nesting `depth`: not past `MAX_EXPR_DEPTH`, where compiling fails anyway.
    fn tables_into(&self, out: &mut Found, depth: usize) {
        if depth >= super::MAX_EXPR_DEPTH {
            return;
        }
        let depth = depth + 1;
        match self {
            SqlExpr::Column { table, .. } => push_ref(out, table),
            SqlExpr::Excluded { table, .. } => push(out, table),
            SqlExpr::Param(_) | SqlExpr::Truth(_) | SqlExpr::Star | SqlExpr::Invalid(_) => {}
            SqlExpr::Binary(l, _, r) => {
                l.tables_into(out, depth);
                r.tables_into(out, depth);
            }
            SqlExpr::Clauses(_, items) => items.iter().for_each(|e| e.tables_into(out, depth)),
            SqlExpr::Not(e)
            | SqlExpr::Neg(e)
            | SqlExpr::IsNull { expr: e, .. }
            | SqlExpr::JsonGet { expr: e, .. } => {
                e.tables_into(out, depth);
            }
            SqlExpr::Like { expr, pattern, .. } => {
                expr.tables_into(out, depth);
                pattern.tables_into(out, depth);
            }
            SqlExpr::InList { expr, values, .. } => {
                expr.tables_into(out, depth);
                values.iter().for_each(|v| v.tables_into(out, depth));
            }
            SqlExpr::Between {
                expr, low, high, ..
            } => {
                expr.tables_into(out, depth);
                low.tables_into(out, depth);
                high.tables_into(out, depth);
            }
            SqlExpr::InSelect { expr, select, .. } => {
                expr.tables_into(out, depth);
                out.nested(depth, select);
            }
            SqlExpr::Exists(select) | SqlExpr::Subquery(select) => out.nested(depth, select),
            SqlExpr::Function { args, .. } => args.iter().for_each(|a| a.tables_into(out, depth)),
            SqlExpr::Over { .. }
            | SqlExpr::Filter { .. }
            | SqlExpr::Case { .. }
            | SqlExpr::Cast { .. }
            | SqlExpr::Extract { .. }
            | SqlExpr::Tuple(_)
            | SqlExpr::Null
            | SqlExpr::InCompound { .. }
            | SqlExpr::Match { .. } => self.tables_into_more(out, depth),
        }
    }

    /// The rarer expressions of `tables_into`, out of it so that its frame stays small.
    #[inline(never)]
    fn tables_into_more(&self, out: &mut Found, depth: usize) {
        match self {
            SqlExpr::Tuple(items) => items.iter().for_each(|e| e.tables_into(out, depth)),
            SqlExpr::Over { func, window } => {
                func.tables_into(out, depth);
                window.for_each_expr(|e| e.tables_into(out, depth));
            }
            SqlExpr::Filter { func, condition } => {
                func.tables_into(out, depth);
                condition.tables_into(out, depth);
            }
            SqlExpr::Case { whens, else_ } => {
                for (c, v) in whens {
                    c.tables_into(out, depth);
                    v.tables_into(out, depth);
                }
                if let Some(e) = else_ {
                    e.tables_into(out, depth);
                }
            }
            SqlExpr::Cast { expr, .. } | SqlExpr::Extract { expr, .. } => {
                expr.tables_into(out, depth)
            }
            SqlExpr::Match { expr, value, .. } => {
                expr.tables_into(out, depth);
                value.tables_into(out, depth);
            }
            SqlExpr::InCompound { expr, compound, .. } => {
                expr.tables_into(out, depth);
                out.nested_compound(depth, compound);
            }
            _ => {}
        }
    }
}

fn items(items: &[SelectItem], out: &mut Found) {
    for item in items {
        match item {
            SelectItem::Table(t) => push_ref(out, t),
            SelectItem::Expr(e) | SelectItem::Labeled { expr: e, .. } => e.collect_tables(out),
        }
    }
}

fn ordering(order_by: &[OrderBy], out: &mut Found) {
    order_by.iter().for_each(|o| o.expr.collect_tables(out));
}

fn optional(expr: Option<&SqlExpr>, out: &mut Found) {
    if let Some(e) = expr {
        e.collect_tables(out);
    }
}

impl SelectStmt {
    /// `FROM` and its joins first, then the select list, then every other clause.
    pub(crate) fn collect_tables(&self, out: &mut Found) {
        for from in &self.from {
            push_ref(out, &from.table);
            for join in &from.joins {
                join_tables(join, out);
            }
        }
        self.distinct_on.iter().for_each(|e| e.collect_tables(out));
        items(&self.items, out);
        optional(self.where_.as_ref(), out);
        self.group_by.iter().for_each(|e| e.collect_tables(out));
        optional(self.having.as_ref(), out);
        ordering(&self.order_by, out);
        optional(self.limit.as_ref(), out);
        optional(self.offset.as_ref(), out);
        if let Some(lock) = &self.lock {
            lock.of.iter().for_each(|t| push_ref(out, t));
        }
    }
}

/// A join's table, the joins nested in it, then its condition.
fn join_tables(join: &super::Join, out: &mut Found) {
    push_ref(out, &join.table);
    join.nested.iter().for_each(|j| join_tables(j, out));
    join.on.collect_tables(out);
}

impl CompoundStmt {
    pub(crate) fn collect_tables(&self, out: &mut Found) {
        self.first.collect_tables(out);
        let at = out.depth;
        self.rest.iter().for_each(|(_, m)| m.walk(out, at));
        ordering(&self.order_by, out);
        optional(self.limit.as_ref(), out);
        optional(self.offset.as_ref(), out);
    }
}

impl Member {
    /// A member's tables: a `SELECT`'s at `at`, a nested compound's one `SELECT` deeper.
    fn walk(&self, out: &mut Found, at: usize) {
        match self {
            Member::Select(s) => {
                let outer = std::mem::replace(&mut out.depth, at);
                s.collect_tables(out);
                out.depth = outer;
            }
            Member::Compound(c) => {
                if at + SUBQUERY_WEIGHT < super::MAX_EXPR_DEPTH {
                    out.nested_compound(at + SUBQUERY_WEIGHT, c);
                }
            }
        }
    }
}

impl InsertStmt {
    pub(crate) fn collect_tables(&self, out: &mut Found) {
        push_ref(out, &self.table);
        self.rows
            .iter()
            .flatten()
            .for_each(|e| e.collect_tables(out));
        if let Some(select) = &self.select {
            out.nested(0, select);
        }
        if let Some(clause) = &self.on_conflict {
            if let ConflictAction::Update(assignments) = &clause.action {
                assignments.iter().for_each(|(_, e)| e.collect_tables(out));
            }
            optional(clause.where_.as_ref(), out);
        }
        items(&self.returning, out);
    }
}

impl UpdateStmt {
    pub(crate) fn collect_tables(&self, out: &mut Found) {
        push_ref(out, &self.table);
        self.assignments
            .iter()
            .for_each(|(_, e)| e.collect_tables(out));
        optional(self.where_.as_ref(), out);
        items(&self.returning, out);
    }
}

impl DeleteStmt {
    pub(crate) fn collect_tables(&self, out: &mut Found) {
        push_ref(out, &self.table);
        optional(self.where_.as_ref(), out);
        items(&self.returning, out);
    }
}
