//! The model of a statement: its clauses as `parse` reads them (Rust expressions, not yet read
//! as SQL), the plan `check` makes of them (every expression read as SQL, mistakes marked
//! `Sql::Invalid`), and the syntactic tests both use to tell columns, tables and SQL functions
//! from Rust values.

use proc_macro2::Span;
use syn::{BinOp, Expr, ExprCall, ExprMacro, ExprMethodCall, Ident, Path, UnOp};

/// `select!(…)` as written. A clause whose tokens did not parse is left out (its error is
/// reported); `tables_complete` says whether the tables the statement names are all known.
pub(crate) struct Select {
    /// Tables (type names) and aliases of enclosing statements.
    pub(crate) correlate: Vec<Ident>,
    pub(crate) distinct: bool,
    /// `DISTINCT ON (a, b)` (PostgreSQL): the terms.
    pub(crate) distinct_on: Vec<Expr>,
    /// The select list; `None` when it is missing or did not parse.
    pub(crate) items: Option<Vec<Expr>>,
    /// `FROM a, b` (joins attach to the last); `None` without a `FROM` clause.
    pub(crate) from: Option<Vec<Expr>>,
    pub(crate) joins: Vec<JoinClause>,
    pub(crate) filter: Option<Expr>,
    pub(crate) group_by: Vec<Expr>,
    pub(crate) having: Option<Expr>,
    pub(crate) order_by: Vec<(Expr, Option<Ident>)>,
    pub(crate) limit: Option<Expr>,
    pub(crate) offset: Option<Expr>,
    /// `FOR UPDATE …`; `None` without one or when it did not parse.
    pub(crate) lock: Option<LockClause>,
    /// False when a clause naming tables (the select list, `FROM`, a join's table) did not
    /// parse: a column's table may then be among those, so none is reported as missing.
    pub(crate) tables_complete: bool,
}

/// `FOR UPDATE [OF T, …] [NOWAIT] [SKIP LOCKED]`, `FOR SHARE …`.
pub(crate) struct LockClause {
    pub(crate) keyword: Ident,
    pub(crate) share: bool,
    pub(crate) of: Vec<Expr>,
    pub(crate) nowait: bool,
    pub(crate) skip_locked: bool,
}

/// `JOIN T ON c`, `LEFT [OUTER] JOIN T ON c`, `INNER JOIN T ON c`.
pub(crate) struct JoinClause {
    pub(crate) keyword: Ident,
    pub(crate) outer: bool,
    /// `FULL [OUTER] JOIN`: both sides may be `NULL`.
    pub(crate) full: bool,
    /// `JOIN LATERAL sub ON …`: the subquery variable joined `LATERAL`.
    pub(crate) lateral: bool,
    /// `None` when it did not parse.
    pub(crate) table: Option<Expr>,
    /// `JOIN (Post JOIN Comment ON …) ON …`: the joins nested after `table`.
    pub(crate) nested: Vec<JoinClause>,
    /// `None` when missing or when it did not parse.
    pub(crate) on: Option<Expr>,
}

/// `update!(…)` as written.
pub(crate) struct Update {
    /// `None` when missing or not a path.
    pub(crate) table: Option<Path>,
    /// `None` without a `SET` clause; empty when it did not parse.
    pub(crate) assignments: Option<Vec<Assignment>>,
    /// `FROM` tables of a multi-table update (named by its expressions; only checked here).
    pub(crate) from: Vec<Expr>,
    pub(crate) filter: Option<Expr>,
}

/// `column = value` in `update!`'s SET clause.
pub(crate) struct Assignment {
    pub(crate) column: Ident,
    pub(crate) value: Expr,
}

/// `delete!(…)` as written.
pub(crate) struct Delete {
    pub(crate) table: Option<Path>,
    /// `USING` tables of a multi-table delete (named by its condition; only checked here).
    pub(crate) using: Vec<Expr>,
    pub(crate) filter: Option<Expr>,
}

/// An expression read as SQL by `check`; `expand` writes it out.
pub(crate) enum Sql<'a> {
    /// A mistake `check` reported: the stub leaves out the smallest part containing it.
    Invalid,
    /// Written as the user wrote it: a Rust value (bound as a parameter), a column
    /// (`User::id`, `manager.col(User::id)`), or Rust operators between Rust values.
    Verbatim(proc_macro2::TokenStream),
    /// `x.method(args)`: an `::quarry::Expression` method.
    Method {
        call: &'a ExprMethodCall,
        receiver: Box<Sql<'a>>,
        args: Vec<Sql<'a>>,
    },
    /// `f(args)`: an SQL function when `function` names one, else the user's own function.
    Call {
        call: &'a ExprCall,
        function: Option<String>,
        args: Vec<Sql<'a>>,
    },
    /// A nested `select!`, told the tables of this statement.
    Subquery(&'a ExprMacro),
    /// `[1, Post::user_id, 3]`: an `IN` list mixing values and SQL, each item made a
    /// `::quarry::func::in_item`.
    List {
        array: &'a syn::ExprArray,
        items: Vec<Sql<'a>>,
    },
    /// `!x` or `-x`.
    Unary { op: &'a UnOp, inner: Box<Sql<'a>> },
    /// `a && b`, `a || b`.
    Logical {
        op: &'a BinOp,
        left: Box<Sql<'a>>,
        right: Box<Sql<'a>>,
    },
    /// `a + b` … with an SQL left side: `core::ops`.
    Arithmetic {
        op: &'a BinOp,
        left: Box<Sql<'a>>,
        right: Box<Sql<'a>>,
    },
    /// `1 + User::id` …: a Rust value on the left.
    ValueFirst {
        op: &'a BinOp,
        left: &'a Expr,
        right: Box<Sql<'a>>,
    },
    /// `a == b` …, the column side first (`method` flipped when it was on the right).
    Compare {
        op: &'a BinOp,
        method: &'static str,
        receiver: Box<Sql<'a>>,
        argument: Box<Sql<'a>>,
        argument_span: Span,
    },
    /// `x == None` (`is_null`), `x != None` (`is_not_null`).
    NullTest {
        none: &'a Expr,
        method: &'static str,
        value: Box<Sql<'a>>,
    },
}

/// One item of a checked select list.
pub(crate) struct Item<'a> {
    pub(crate) expr: &'a Expr,
    pub(crate) kind: ItemKind<'a>,
    /// Of a left-joined table: wrapped in `::quarry::nullable`.
    pub(crate) nullable: bool,
}

pub(crate) enum ItemKind<'a> {
    /// A table: all its columns.
    Table(&'a Path),
    /// A scalar subquery.
    Subquery(&'a ExprMacro),
    /// An expression (a column, an alias, a function …).
    Expr(Sql<'a>),
}

/// A select after `check`: what `expand` writes, besides the clauses it copies (`DISTINCT`,
/// `FROM`, `LIMIT`, `OFFSET`).
pub(crate) struct SelectPlan<'a> {
    /// The names a nested `select!` may correlate to: the statement's tables and aliases and
    /// those of enclosing statements.
    pub(crate) correlate: Vec<String>,
    pub(crate) items: Vec<Item<'a>>,
    /// The `FROM` tables and aliases (an entry that is neither is left out).
    pub(crate) from: Vec<&'a Expr>,
    pub(crate) distinct_on: Vec<Sql<'a>>,
    pub(crate) joins: Vec<JoinPlan<'a>>,
    pub(crate) filter: Option<Sql<'a>>,
    pub(crate) group_by: Vec<Sql<'a>>,
    pub(crate) having: Option<Sql<'a>>,
    pub(crate) order_by: Vec<(Sql<'a>, Option<&'a Ident>)>,
}

pub(crate) struct JoinPlan<'a> {
    pub(crate) keyword: &'a Ident,
    pub(crate) outer: bool,
    pub(crate) full: bool,
    pub(crate) lateral: bool,
    pub(crate) table: &'a Expr,
    pub(crate) nested: Vec<JoinPlan<'a>>,
    pub(crate) on: Sql<'a>,
}

/// `update!`, `insert!` or `delete!` after `check`.
pub(crate) struct DmlPlan<'a> {
    pub(crate) table: Option<&'a Path>,
    pub(crate) correlate: Vec<String>,
    /// `SET` assignments or `insert!` fields.
    pub(crate) values: Vec<(&'a Ident, Value<'a>)>,
    pub(crate) filter: Option<Sql<'a>>,
}

/// The value given to a column.
pub(crate) enum Value<'a> {
    /// `None`: SQL `NULL`, allowed only for a nullable column (rustc checks).
    Null(&'a Expr),
    Sql {
        span: Span,
        sql: Sql<'a>,
    },
}

/// `Table::column` (or `module::Table::column`): a path whose last segment starts lower case
/// and whose second-to-last starts upper case.
pub(crate) fn column_path(e: &Expr) -> Option<&Path> {
    let Expr::Path(p) = e else { return None };
    let segments = &p.path.segments;
    if p.qself.is_some() || segments.len() < 2 {
        return None;
    }
    let table = segments[segments.len() - 2].ident.to_string();
    let column = segments[segments.len() - 1].ident.to_string();
    let upper = table.chars().next().is_some_and(char::is_uppercase);
    let lower = column
        .chars()
        .next()
        .is_some_and(|c| c.is_lowercase() || c == '_');
    (upper && lower).then_some(&p.path)
}

/// The table segment of a column path.
pub(crate) fn column_table(path: &Path) -> &Ident {
    &path.segments[path.segments.len() - 2].ident
}

/// A table type: a path whose last segment starts upper case (`User`, `models::User`).
pub(crate) fn table_path(e: &Expr) -> Option<&Path> {
    let Expr::Path(p) = strip(e) else { return None };
    let last = p.path.segments.last()?;
    (p.qself.is_none() && !p.path.is_ident("None"))
        .then_some(())
        .filter(|()| last.ident.to_string().starts_with(char::is_uppercase))
        .map(|()| &p.path)
}

/// A single lower-case identifier: possibly an alias variable.
pub(crate) fn plain_ident(e: &Expr) -> Option<String> {
    let Expr::Path(p) = strip(e) else { return None };
    let id = p.path.get_ident()?.to_string();
    id.starts_with(|c: char| c.is_lowercase() || c == '_')
        .then_some(id)
}

pub(crate) fn last_segment(path: &Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// `manager.col(User::id)`: a column read through an alias.
pub(crate) fn alias_column(m: &ExprMethodCall) -> Option<String> {
    (m.method == "col" && m.args.len() == 1 && column_path(&m.args[0]).is_some())
        .then(|| plain_ident(&m.receiver))
        .flatten()
}

pub(crate) fn is_none(e: &Expr) -> bool {
    matches!(strip(e), Expr::Path(p) if p.path.is_ident("None"))
}

pub(crate) fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        other => other,
    }
}

pub(crate) fn select_macro(e: &Expr) -> Option<&ExprMacro> {
    let Expr::Macro(m) = strip(e) else {
        return None;
    };
    (last_segment(&m.mac.path) == "select").then_some(m)
}

pub(crate) fn is_comparison(e: &Expr) -> bool {
    matches!(strip(e), Expr::Binary(b) if matches!(b.op,
        BinOp::Eq(_) | BinOp::Ne(_) | BinOp::Lt(_) | BinOp::Le(_) | BinOp::Gt(_) | BinOp::Ge(_)))
}

/// SQL functions `select!` knows; they become `::quarry::func::<name>(…)`.
const FUNCTIONS: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "lower",
    "upper",
    "coalesce",
    "length",
    "lag",
    "lead",
    "first_value",
    "last_value",
    "partition_by",
    "order_by",
    "case_when",
    "cast",
    "substr",
    "replace",
    "trim",
    "abs",
    "round",
    "extract",
];

/// SQL functions that are SQL whatever their arguments (none, or Rust values only):
/// window functions and windows.
const ALWAYS_FUNCTIONS: &[&str] = &[
    "row_number",
    "rank",
    "dense_rank",
    "percent_rank",
    "cume_dist",
    "ntile",
    "window",
    "now",
    "current_timestamp",
    "call",
    "true_",
    "false_",
    "literal",
    "tuple_",
    "null",
];

/// Whether `e` is (or contains, at its top) an SQL expression rather than a Rust value.
pub(crate) fn is_sql(e: &Expr) -> bool {
    match strip(e) {
        Expr::Path(_) => column_path(strip(e)).is_some(),
        Expr::MethodCall(m) => alias_column(m).is_some() || is_sql(&m.receiver),
        // A Rust function over SQL (`nullable(select!(…))`) is read as SQL too, so that the
        // columns and subqueries among its arguments are checked and correlated.
        Expr::Call(c) => sql_function(c).is_some() || c.args.iter().any(is_sql),
        Expr::Macro(_) => select_macro(e).is_some(),
        Expr::Binary(b) => is_sql(&b.left) || is_sql(&b.right),
        Expr::Unary(u) => is_sql(&u.expr),
        // `[1, Post::user_id, 3]`: an `IN` list with columns among its values.
        Expr::Array(a) => a.elems.iter().any(is_sql),
        _ => false,
    }
}

/// The SQL function `c` calls, if it is one: a known name with at least one SQL argument
/// (`exists`, `excluded` or one of `FUNCTIONS`), or `count()` (`count_star`).
pub(crate) fn sql_function(c: &ExprCall) -> Option<String> {
    let Expr::Path(p) = &*c.func else { return None };
    // `cast::<i64>(…)`: one segment, with or without generic arguments.
    if p.qself.is_some() || p.path.leading_colon.is_some() || p.path.segments.len() != 1 {
        return None;
    }
    let name = p.path.segments[0].ident.to_string();
    if name == "count" && c.args.is_empty() {
        return Some("count_star".to_owned());
    }
    if ALWAYS_FUNCTIONS.contains(&name.as_str()) {
        return Some(name);
    }
    if !c.args.iter().any(is_sql) {
        return None;
    }
    if name == "coalesce" && c.args.len() == 1 {
        // `coalesce(x)` of one argument: a function of its own (Rust has no overloading).
        return Some("coalesce_one".to_owned());
    }
    (name == "exists" || name == "excluded" || FUNCTIONS.contains(&name.as_str())).then_some(name)
}
