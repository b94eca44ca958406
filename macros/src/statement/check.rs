//! The rules of a statement, checked after parsing and before expanding: every column's table
//! must be among the statement's tables (its `FROM`/`JOIN`, or the select list when there is no
//! `FROM`, plus the tables of the enclosing statements a nested `select!` correlates to), with
//! did-you-mean; operators must have an SQL meaning; and the rules across clauses. Each
//! mistake is recorded in the `Ctxt` with the span of the user's token, and the expression it
//! sits in is read as `Sql::Invalid`, so that all are reported at once.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, ExprBinary, ExprStruct, Member, Path, UnOp};

use super::ast::{
    Delete, DmlPlan, Item, ItemKind, JoinPlan, Select, SelectPlan, Sql, Update, Value,
    alias_column, column_path, column_table, is_comparison, is_none, is_sql, last_segment,
    plain_ident, select_macro, sql_function, strip, table_path,
};
use super::parse::UPDATE_USAGE;
use crate::ctxt::{Ctxt, hint};

/// The most items a select list may have (the longest tuple the runtime reads rows into).
const MAX_ITEMS: usize = 12;

/// The tables a statement's columns may come from.
struct Scope {
    /// Type names (last path segment) of the tables in `FROM`/`JOIN`.
    tables: Vec<String>,
    /// Alias variables in `FROM`/`JOIN`.
    aliases: Vec<String>,
    /// Tables and aliases on the right of a `LEFT JOIN`: their columns may be `NULL`.
    nullable: Vec<String>,
    /// Tables and aliases of enclosing statements, for correlated subqueries.
    outer: Vec<String>,
    /// How to bring a missing table in, for the error message.
    fix: &'static str,
    /// False when some of the tables are unknown (their clause did not parse): then no table
    /// is reported as missing.
    complete: bool,
}

impl Scope {
    fn for_table(table: Option<&Path>, fix: &'static str) -> Scope {
        Scope {
            tables: table.map(last_segment).into_iter().collect(),
            aliases: Vec::new(),
            nullable: Vec::new(),
            outer: Vec::new(),
            fix,
            complete: table.is_some(),
        }
    }

    /// The tables of `UPDATE … FROM` / `DELETE … USING`: table types and alias variables.
    fn add_other_tables(&mut self, tables: &[Expr]) {
        for t in tables {
            if let Some(path) = table_path(t) {
                self.tables.push(last_segment(path));
            } else if let Some(alias) = plain_ident(t) {
                self.aliases.push(alias);
            }
        }
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.tables
            .iter()
            .chain(&self.aliases)
            .chain(&self.outer)
            .map(String::as_str)
    }

    /// Whether `name` is among the tables; if not, an error at `at`.
    fn contains(&self, cx: &mut Ctxt, name: &str, at: &dyn ToTokens) -> bool {
        if self.names().any(|n| n == name) || !self.complete {
            return true;
        }
        cx.error_spanned_by(
            at,
            format!(
                "`{name}` is not among this statement's tables ({}); {}{}",
                self.names().collect::<Vec<_>>().join(", "),
                self.fix.replace("{}", name),
                hint(name, self.names())
            ),
        );
        false
    }

    /// Read `e` as SQL: SQL parts become `Sql` nodes, Rust values stay as written.
    fn lower<'a>(&self, cx: &mut Ctxt, e: &'a Expr) -> Sql<'a> {
        match e {
            Expr::Paren(p) => return self.lower(cx, &p.expr),
            Expr::Group(g) => return self.lower(cx, &g.expr),
            Expr::Binary(b) => return self.binary(cx, b),
            _ => {}
        }
        if !is_sql(e) {
            // `{expr}` marks a Rust value; emitted as is the braces would trip `unused_braces`
            // in the user's crate.
            if let Expr::Block(b) = e
                && let [syn::Stmt::Expr(inner, None)] = b.block.stmts.as_slice()
                && b.attrs.is_empty()
                && b.label.is_none()
            {
                return Sql::Verbatim(inner.to_token_stream());
            }
            return Sql::Verbatim(e.to_token_stream());
        }
        match e {
            Expr::Array(array) => Sql::List {
                array,
                items: array.elems.iter().map(|x| self.lower(cx, x)).collect(),
            },
            Expr::Path(_) => {
                if let Some(path) = column_path(e) {
                    let table = column_table(path);
                    if !self.contains(cx, &table.to_string(), table) {
                        return Sql::Invalid;
                    }
                }
                Sql::Verbatim(e.to_token_stream())
            }
            Expr::MethodCall(m) => {
                if let Some(alias) = alias_column(m) {
                    if !self.contains(cx, &alias, &m.receiver) {
                        return Sql::Invalid;
                    }
                    return Sql::Verbatim(e.to_token_stream());
                }
                Sql::Method {
                    call: m,
                    receiver: Box::new(self.lower(cx, &m.receiver)),
                    args: m.args.iter().map(|a| self.lower(cx, a)).collect(),
                }
            }
            Expr::Call(c) => Sql::Call {
                call: c,
                function: sql_function(c),
                args: c.args.iter().map(|a| self.lower(cx, a)).collect(),
            },
            Expr::Macro(m) => Sql::Subquery(m),
            Expr::Unary(u) => {
                let inner = Box::new(self.lower(cx, &u.expr));
                match u.op {
                    UnOp::Not(_) | UnOp::Neg(_) => Sql::Unary { op: &u.op, inner },
                    _ => {
                        cx.error_spanned_by(
                            u.op,
                            "this operator has no SQL meaning; use ! (NOT) or - (negation)",
                        );
                        Sql::Invalid
                    }
                }
            }
            other => Sql::Verbatim(other.to_token_stream()),
        }
    }

    fn binary<'a>(&self, cx: &mut Ctxt, b: &'a ExprBinary) -> Sql<'a> {
        let op = &b.op;
        let (left, right) = (strip(&b.left), strip(&b.right));
        if let BinOp::And(_) | BinOp::Or(_) = op {
            if !is_sql(left) && !is_sql(right) && !is_comparison(left) {
                return Sql::Verbatim(b.to_token_stream());
            }
            return Sql::Logical {
                op,
                left: Box::new(self.lower(cx, left)),
                right: Box::new(self.lower(cx, right)),
            };
        }
        if let BinOp::Add(_) | BinOp::Sub(_) | BinOp::Mul(_) | BinOp::Div(_) | BinOp::Rem(_) = op {
            return if is_sql(left) {
                Sql::Arithmetic {
                    op,
                    left: Box::new(self.lower(cx, left)),
                    right: Box::new(self.lower(cx, right)),
                }
            } else if is_sql(right) {
                Sql::ValueFirst {
                    op,
                    left,
                    right: Box::new(self.lower(cx, right)),
                }
            } else {
                Sql::Verbatim(b.to_token_stream())
            };
        }
        let (method, flipped) = match op {
            BinOp::Eq(_) => ("eq", "eq"),
            BinOp::Ne(_) => ("ne", "ne"),
            BinOp::Lt(_) => ("lt", "gt"),
            BinOp::Le(_) => ("le", "ge"),
            BinOp::Gt(_) => ("gt", "lt"),
            BinOp::Ge(_) => ("ge", "le"),
            _ if !is_sql(left) && !is_sql(right) => return Sql::Verbatim(b.to_token_stream()),
            _ => {
                cx.push(syn::Error::new(
                    op.span(),
                    "this operator has no SQL meaning here; use == != < <= > >= && || ! \
                     and + - * / %",
                ));
                self.lower(cx, left);
                self.lower(cx, right);
                return Sql::Invalid;
            }
        };
        // `x == None` is `x IS NULL`, as in SQLAlchemy.
        if is_none(right) || is_none(left) {
            let (value, none) = if is_none(right) {
                (left, right)
            } else {
                (right, left)
            };
            let value = Box::new(self.lower(cx, value));
            return match method {
                "eq" => Sql::NullTest {
                    none,
                    method: "is_null",
                    value,
                },
                "ne" => Sql::NullTest {
                    none,
                    method: "is_not_null",
                    value,
                },
                _ => {
                    cx.push(syn::Error::new(
                        op.span(),
                        "None can only be compared with == (IS NULL) or != (IS NOT NULL)",
                    ));
                    Sql::Invalid
                }
            };
        }
        let (receiver, method, argument) = if is_sql(left) {
            (left, method, right)
        } else if is_sql(right) {
            (right, flipped, left)
        } else {
            cx.error_spanned_by(
                b,
                "a comparison needs a column on one side, written Table::column \
                 (e.g. User::id == 5)",
            );
            return Sql::Invalid;
        };
        Sql::Compare {
            op,
            method,
            receiver: Box::new(self.lower(cx, receiver)),
            argument: Box::new(self.lower(cx, argument)),
            argument_span: argument.span(),
        }
    }

    /// Add a `FROM`/`JOIN` table or alias; false (and an error) when `e` is neither.
    fn add(&mut self, cx: &mut Ctxt, e: &Expr, nullable: bool) -> bool {
        let name = if let Some(path) = table_path(e) {
            let name = last_segment(path);
            self.tables.push(name.clone());
            name
        } else if let Some(alias) = plain_ident(e) {
            self.aliases.push(alias.clone());
            alias
        } else {
            cx.error_spanned_by(
                e,
                "expected a table type (User) or an alias variable (let manager = \
                 User::alias(\"manager\"))",
            );
            self.complete = false;
            return false;
        };
        if nullable {
            self.nullable.push(name);
        }
        true
    }

    /// Add a join's table and those of the joins nested in it (all `NULL`-able on the right
    /// of an outer join); its table when that is a table or alias.
    fn add_join<'a>(
        &mut self,
        cx: &mut Ctxt,
        join: &'a super::ast::JoinClause,
        outer: bool,
    ) -> Option<&'a Expr> {
        if join.full {
            // Every table before a FULL JOIN may be NULL too.
            let before: Vec<String> = self.tables.iter().chain(&self.aliases).cloned().collect();
            self.nullable.extend(before);
        }
        let outer = outer || join.outer;
        if join.lateral
            && join
                .table
                .as_ref()
                .is_some_and(|t| plain_ident(t).is_none())
        {
            cx.error_spanned_by(
                &join.table,
                "LATERAL joins a subquery variable: let last = select!(…).subquery(\"last\"); \
                 … JOIN LATERAL last ON true_()",
            );
            // Left out of the statement, its columns are not reported as missing.
            self.complete = false;
            return None;
        }
        let table = join
            .table
            .as_ref()
            .filter(|table| self.add(cx, table, outer));
        let nested: Vec<_> = join
            .nested
            .iter()
            .map(|j| self.add_join(cx, j, outer))
            .collect();
        table.filter(|_| nested.iter().all(Option::is_some))
    }

    /// The plans of `joins`, whose tables `add_join` gave (`None`: left out).
    fn join_plans<'a>(
        &self,
        cx: &mut Ctxt,
        joins: &'a [super::ast::JoinClause],
        tables: Vec<Option<&'a Expr>>,
    ) -> Vec<JoinPlan<'a>> {
        let mut plans = Vec::with_capacity(joins.len());
        for (join, table) in joins.iter().zip(tables) {
            let nested_tables = join
                .nested
                .iter()
                .map(|j| {
                    j.table
                        .as_ref()
                        .filter(|t| table_path(t).is_some() || plain_ident(t).is_some())
                })
                .collect();
            let nested = self.join_plans(cx, &join.nested, nested_tables);
            let on = join.on.as_ref().map(|on| self.lower(cx, on));
            if let (Some(table), Some(on)) = (table, on) {
                plans.push(JoinPlan {
                    keyword: &join.keyword,
                    outer: join.outer,
                    full: join.full,
                    lateral: join.lateral,
                    table,
                    nested,
                    on,
                });
            }
        }
        plans
    }

    /// Without `FROM`, the tables of the select list: table items, `Table::column` prefixes
    /// and alias receivers.
    fn add_item_tables(&mut self, e: &Expr) {
        let e = strip(e);
        if let Some(path) = column_path(e) {
            let name = column_table(path).to_string();
            if !self.tables.contains(&name) {
                self.tables.push(name);
            }
            return;
        }
        if let Some(path) = table_path(e) {
            let name = last_segment(path);
            if !self.tables.contains(&name) {
                self.tables.push(name);
            }
            return;
        }
        match e {
            Expr::MethodCall(m) => {
                if let Some(alias) = alias_column(m) {
                    if !self.aliases.contains(&alias) {
                        self.aliases.push(alias);
                    }
                } else {
                    self.add_item_tables(&m.receiver);
                    m.args.iter().for_each(|a| self.add_item_tables(a));
                }
            }
            Expr::Call(c) => c.args.iter().for_each(|a| self.add_item_tables(a)),
            Expr::Binary(b) => {
                self.add_item_tables(&b.left);
                self.add_item_tables(&b.right);
            }
            Expr::Unary(u) => self.add_item_tables(&u.expr),
            _ => {}
        }
    }

    /// One select item; the items of a left-joined table become `Option`s.
    fn item<'a>(&self, cx: &mut Ctxt, e: &'a Expr) -> Item<'a> {
        let (kind, name) = if let Some(path) = table_path(e) {
            let name = last_segment(path);
            if self.contains(cx, &name, path) {
                (ItemKind::Table(path), Some(name))
            } else {
                (ItemKind::Expr(Sql::Invalid), None)
            }
        } else if let Some(alias) = plain_ident(e).filter(|a| self.aliases.contains(a)) {
            (
                ItemKind::Expr(Sql::Verbatim(e.to_token_stream())),
                Some(alias),
            )
        } else if let Some(m) = select_macro(e) {
            (ItemKind::Subquery(m), None)
        } else {
            let name = match strip(e) {
                Expr::MethodCall(m) => alias_column(m),
                other => column_path(other).map(|p| column_table(p).to_string()),
            };
            (ItemKind::Expr(self.lower(cx, e)), name)
        };
        Item {
            expr: e,
            kind,
            nullable: name.is_some_and(|n| self.nullable.contains(&n)),
        }
    }
}

pub(crate) fn select<'a>(cx: &mut Ctxt, s: &'a Select) -> SelectPlan<'a> {
    let mut scope = Scope {
        tables: Vec::new(),
        aliases: Vec::new(),
        nullable: Vec::new(),
        outer: s.correlate.iter().map(ToString::to_string).collect(),
        fix: "",
        complete: s.tables_complete,
    };
    let items = s.items.as_deref().unwrap_or_default();
    let mut from = Vec::new();
    match &s.from {
        Some(tables) => {
            scope.fix = "add it with `JOIN {} ON …`";
            for table in tables {
                if scope.add(cx, table, false) {
                    from.push(table);
                }
            }
        }
        None => {
            scope.fix = "select from it, or name the tables with `FROM {} JOIN …`";
            for item in items {
                scope.add_item_tables(item);
            }
        }
    }
    let mut join_tables = Vec::with_capacity(s.joins.len());
    for join in &s.joins {
        if s.from.is_none() {
            cx.push(syn::Error::new(
                join.keyword.span(),
                "a join needs a FROM first: FROM User JOIN Post ON …",
            ));
        }
        join_tables.push(scope.add_join(cx, join, false));
    }
    let mut plan_items: Vec<Item<'a>> = Vec::with_capacity(items.len());
    for item in items {
        plan_items.push(scope.item(cx, item));
    }
    if let Some(extra) = items.get(MAX_ITEMS) {
        cx.error_spanned_by(
            extra,
            "select! takes at most 12 items; select a table to get all its columns",
        );
        plan_items.truncate(MAX_ITEMS);
    }
    let joins = scope.join_plans(cx, &s.joins, join_tables);
    SelectPlan {
        items: plan_items,
        from,
        distinct_on: s.distinct_on.iter().map(|e| scope.lower(cx, e)).collect(),
        joins,
        filter: s.filter.as_ref().map(|e| scope.lower(cx, e)),
        group_by: s.group_by.iter().map(|e| scope.lower(cx, e)).collect(),
        having: s.having.as_ref().map(|e| scope.lower(cx, e)),
        order_by: s
            .order_by
            .iter()
            .map(|(e, direction)| (scope.lower(cx, e), direction.as_ref()))
            .collect(),
        correlate: scope.names().map(str::to_owned).collect(),
    }
}

pub(crate) fn update<'a>(cx: &mut Ctxt, u: &'a Update) -> DmlPlan<'a> {
    let mut scope = Scope::for_table(
        u.table.as_ref(),
        "name it with `FROM {}` (UPDATE … FROM), or reach it through a subquery",
    );
    scope.add_other_tables(&u.from);
    if u.assignments.is_none() {
        cx.push(syn::Error::new(
            Span::call_site(),
            format!("update! needs a SET clause: {UPDATE_USAGE}"),
        ));
    }
    DmlPlan {
        table: u.table.as_ref(),
        values: u
            .assignments
            .iter()
            .flatten()
            .map(|a| (&a.column, value(cx, &scope, &a.value)))
            .collect(),
        filter: u.filter.as_ref().map(|e| scope.lower(cx, e)),
        correlate: scope.names().map(str::to_owned).collect(),
    }
}

pub(crate) fn delete<'a>(cx: &mut Ctxt, d: &'a Delete) -> DmlPlan<'a> {
    let mut scope = Scope::for_table(
        d.table.as_ref(),
        "name it with `USING {}` (DELETE … USING), or reach it through a subquery",
    );
    scope.add_other_tables(&d.using);
    DmlPlan {
        table: d.table.as_ref(),
        values: Vec::new(),
        filter: d.filter.as_ref().map(|e| scope.lower(cx, e)),
        correlate: scope.names().map(str::to_owned).collect(),
    }
}

pub(crate) fn insert<'a>(cx: &mut Ctxt, s: &'a ExprStruct) -> DmlPlan<'a> {
    if let Some(rest) = &s.rest {
        cx.error_spanned_by(
            rest,
            "insert! takes the values to insert; `..rest` has no meaning here",
        );
    }
    let table = if s.qself.is_some() {
        cx.error_spanned_by(&s.path, "expected a table type, e.g. insert!(User { … })");
        None
    } else {
        Some(&s.path)
    };
    let scope = Scope::for_table(table, "INSERT values come from one table; use a subquery");
    let mut values = Vec::with_capacity(s.fields.len());
    for field in &s.fields {
        match &field.member {
            Member::Named(name) => values.push((name, value(cx, &scope, &field.expr))),
            unnamed => cx.error_spanned_by(unnamed, "expected a column name"),
        }
    }
    DmlPlan {
        table,
        correlate: scope.names().map(str::to_owned).collect(),
        values,
        filter: None,
    }
}

fn value<'a>(cx: &mut Ctxt, scope: &Scope, e: &'a Expr) -> Value<'a> {
    if is_none(e) {
        Value::Null(e)
    } else {
        Value::Sql {
            span: e.span(),
            sql: scope.lower(cx, e),
        }
    }
}
