//! Expressions: the untyped model ([`SqlExpr`]) and the typed layer over it
//! ([`Column`], [`Expr`], [`Expression`], [`AsExpr`]).
//!
//! The typed layer is where rustc checks a statement: `User::id.eq("x")` does not compile because
//! `&str` is not [`AsExpr<i64>`]. Types compare by their [`ColumnType::Base`], so a nullable
//! column compares with a non-null value of the same base type.

use std::fmt;
use std::marker::PhantomData;

use super::{Table, TableRef};
use crate::schema::{ColumnDef, ColumnRef, TableDef};
use crate::sql::SelectStmt;
use crate::value::{ColumnType, ToSql, Value};

/// How deeply expressions may nest in one statement, subqueries included: deeper trees are
/// refused with [`Error::TooLarge`](crate::Error::TooLarge) when the statement compiles,
/// instead of overflowing the stack of the thread that renders them. Chains of `and` / `or`
/// do not count their length (they are one flat list, [`SqlExpr::Clauses`]); only real
/// nesting does, such as `a.and(b.or(c.and(…)))` or a subquery inside a subquery.
pub const MAX_EXPR_DEPTH: usize = 200;

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BinOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `AND`
    And,
    /// `OR`
    Or,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` between floats.
    Div,
    /// `/` between integers: integer division (SQLAlchemy's `//`; `FLOOR(a / b)` on MySQL).
    IntDiv,
    /// `%`
    Rem,
    /// String concatenation: `||` (`concat(a, b)` on MySQL).
    Concat,
    /// PostgreSQL array containment: `@>` (every element of the right is in the left).
    Contains,
    /// `IS DISTINCT FROM`: `!=` that treats `NULL` as a value (SQLite `IS NOT`, MySQL
    /// `NOT (a <=> b)`).
    IsDistinctFrom,
    /// `IS NOT DISTINCT FROM`: `=` that treats `NULL` as a value (SQLite `IS`, MySQL `<=>`).
    IsNotDistinctFrom,
}

impl BinOp {
    /// The operator's SQL spelling.
    pub fn sql(self) -> &'static str {
        match self {
            BinOp::Eq => "=",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "AND",
            BinOp::Or => "OR",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div | BinOp::IntDiv => "/",
            BinOp::Rem => "%",
            BinOp::Concat => "||",
            BinOp::Contains => "@>",
            BinOp::IsDistinctFrom => "IS DISTINCT FROM",
            BinOp::IsNotDistinctFrom => "IS NOT DISTINCT FROM",
        }
    }

    /// The comparison with the opposite meaning; `None` for AND / OR.
    pub fn negated(self) -> Option<BinOp> {
        Some(match self {
            BinOp::Eq => BinOp::Ne,
            BinOp::Ne => BinOp::Eq,
            BinOp::Lt => BinOp::Ge,
            BinOp::Ge => BinOp::Lt,
            BinOp::Gt => BinOp::Le,
            BinOp::Le => BinOp::Gt,
            BinOp::IsDistinctFrom => BinOp::IsNotDistinctFrom,
            BinOp::IsNotDistinctFrom => BinOp::IsDistinctFrom,
            _ => return None,
        })
    }

    /// Binding strength; higher binds tighter. SQLAlchemy's operator precedence.
    pub(crate) fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 2,
            BinOp::And => 3,
            BinOp::Eq
            | BinOp::Ne
            | BinOp::Lt
            | BinOp::Le
            | BinOp::Gt
            | BinOp::Ge
            | BinOp::Concat
            | BinOp::Contains
            | BinOp::IsDistinctFrom
            | BinOp::IsNotDistinctFrom => 5,
            BinOp::Add | BinOp::Sub => 7,
            BinOp::Mul | BinOp::Div | BinOp::IntDiv | BinOp::Rem => 8,
        }
    }

    /// `(a op b) op c` needs no parentheses: SQLAlchemy's "natural self precedent" operators.
    pub(crate) fn associative(self) -> bool {
        matches!(
            self,
            BinOp::And | BinOp::Or | BinOp::Add | BinOp::Mul | BinOp::Concat
        )
    }
}

/// The part of a date or time [`extract`](crate::func::extract) reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractField {
    /// The year.
    Year,
    /// The month, 1 to 12.
    Month,
    /// The day of the month, 1 to 31.
    Day,
    /// The hour, 0 to 23.
    Hour,
    /// The minute, 0 to 59.
    Minute,
    /// The second, 0 to 59 (PostgreSQL's has the fraction too: `EXTRACT` there is a numeric).
    Second,
}

impl ExtractField {
    /// The field's SQL name (`year`) and SQLite's `strftime` format (`%Y`).
    pub(crate) fn names(self) -> (&'static str, &'static str) {
        match self {
            ExtractField::Year => ("year", "%Y"),
            ExtractField::Month => ("month", "%m"),
            ExtractField::Day => ("day", "%d"),
            ExtractField::Hour => ("hour", "%H"),
            ExtractField::Minute => ("minute", "%M"),
            ExtractField::Second => ("second", "%S"),
        }
    }
}

/// The kind of a [`SqlExpr::Match`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MatchKind {
    /// The value anywhere in the text.
    Contains,
    /// The text starts with the value.
    StartsWith,
    /// The text ends with the value.
    EndsWith,
    /// `ILIKE`: a `LIKE` pattern, case-insensitive.
    ILike,
}

/// An SQL expression, before a dialect renders it.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum SqlExpr {
    /// A column of a table or of a table alias.
    Column {
        /// The table, possibly under an alias.
        table: TableRef,
        /// The column's position in the table.
        index: usize,
    },
    /// A bound parameter.
    Param(Value),
    /// `left op right`.
    Binary(Box<SqlExpr>, BinOp, Box<SqlExpr>),
    /// `a AND b AND c …` or `a OR b OR c …` (the operator is [`BinOp::And`] or
    /// [`BinOp::Or`]; two items or more): a chain of one boolean operator kept flat, as
    /// SQLAlchemy's `BooleanClauseList`, so that a chain's depth does not grow with its
    /// length. [`SqlExpr::binary`] builds it.
    Clauses(BinOp, Vec<SqlExpr>),
    /// `NOT expr`.
    Not(Box<SqlExpr>),
    /// `expr IS NULL` or, negated, `expr IS NOT NULL`.
    IsNull {
        /// The tested expression.
        expr: Box<SqlExpr>,
        /// True for `IS NOT NULL`.
        negated: bool,
    },
    /// `expr [NOT] LIKE pattern`.
    Like {
        /// The tested expression.
        expr: Box<SqlExpr>,
        /// The pattern.
        pattern: Box<SqlExpr>,
        /// True for `NOT LIKE`.
        negated: bool,
    },
    /// `expr [NOT] IN (v1, v2, …)`.
    InList {
        /// The tested expression.
        expr: Box<SqlExpr>,
        /// The candidates; may be empty.
        values: Vec<SqlExpr>,
        /// True for `NOT IN`.
        negated: bool,
    },
    /// `expr [NOT] BETWEEN low AND high`.
    Between {
        /// The tested expression.
        expr: Box<SqlExpr>,
        /// Lower bound, inclusive.
        low: Box<SqlExpr>,
        /// Upper bound, inclusive.
        high: Box<SqlExpr>,
        /// True for `NOT BETWEEN`.
        negated: bool,
    },
    /// `-expr`
    Neg(Box<SqlExpr>),
    /// `expr [NOT] IN (SELECT …)`.
    InSelect {
        /// The tested expression.
        expr: Box<SqlExpr>,
        /// The subquery; one column.
        select: Box<SelectStmt>,
        /// True for `NOT IN`.
        negated: bool,
    },
    /// `EXISTS (SELECT …)`.
    Exists(Box<SelectStmt>),
    /// A scalar subquery: `(SELECT …)`.
    Subquery(Box<SelectStmt>),
    /// A function call such as `count(users.id)`.
    Function {
        /// The SQL function name, lower case.
        name: &'static str,
        /// The arguments.
        args: Vec<SqlExpr>,
    },
    /// `*`, as in `count(*)`.
    Star,
    /// A mistake found while the expression was built (a subquery's column that it does not
    /// select), reported with this message when the statement compiles.
    Invalid(std::sync::Arc<str>),
    /// A JSON document's element: `expr -> key` (`->>` when `as_text`) on PostgreSQL,
    /// `JSON_EXTRACT(expr, path)` elsewhere.
    JsonGet {
        /// The document.
        expr: Box<SqlExpr>,
        /// The member or index.
        key: super::JsonKey,
        /// The element as text, not JSON.
        as_text: bool,
    },
    /// `expr [NOT] LIKE pattern` for a text search SQLAlchemy writes with `%` around the
    /// value: `contains` (`'%' || ? || '%'`), `startswith` (`? || '%'`), `endswith`
    /// (`'%' || ?`) — `concat(…)` on MySQL; or a case-insensitive `ILIKE` (`lower(x) LIKE
    /// lower(?)` where the database has no `ILIKE`).
    Match {
        /// The tested expression.
        expr: Box<SqlExpr>,
        /// The value searched for.
        value: Box<SqlExpr>,
        /// Which search.
        kind: MatchKind,
        /// True for `NOT LIKE`.
        negated: bool,
    },
    /// `EXTRACT(field FROM expr)`; SQLite: `CAST(STRFTIME('%Y', expr) AS INTEGER)`.
    Extract {
        /// The part of the date or time.
        field: ExtractField,
        /// The date or time.
        expr: Box<SqlExpr>,
    },
    /// `(a, b, …)`: a row value, as in a tuple `IN` (`(a, b) IN ((?, ?), …)`).
    Tuple(Vec<SqlExpr>),
    /// `true` / `false` as a condition (SQLAlchemy's `true()` / `false()`), in the dialect's
    /// form: `true` (PostgreSQL), `1 = 1` (SQLite), `true = 1` (MySQL).
    Truth(bool),
    /// A window function: `func OVER (PARTITION BY … ORDER BY … frame)`.
    Over {
        /// The function (a window function or an aggregate).
        func: Box<SqlExpr>,
        /// The window.
        window: Box<super::WindowSpec>,
    },
    /// An aggregate over the rows that pass a condition: `count(x) FILTER (WHERE …)`.
    Filter {
        /// The aggregate.
        func: Box<SqlExpr>,
        /// The condition.
        condition: Box<SqlExpr>,
    },
    /// `CASE WHEN c THEN v … [ELSE e] END`.
    Case {
        /// The conditions and their values, in order.
        whens: Vec<(SqlExpr, SqlExpr)>,
        /// The value when no condition holds; `NULL` without one.
        else_: Option<Box<SqlExpr>>,
    },
    /// `CAST(expr AS type)`, the type spelled by the dialect.
    Cast {
        /// The value converted.
        expr: Box<SqlExpr>,
        /// The type converted to.
        to: crate::value::SqlType,
    },
    /// SQL's `NULL` written out (SQLAlchemy's `null()`), not bound as a parameter.
    Null,
    /// `expr [NOT] IN (SELECT … UNION SELECT …)`: a compound select as the candidates.
    InCompound {
        /// The tested expression.
        expr: Box<SqlExpr>,
        /// The compound select; one column.
        compound: Box<super::CompoundStmt>,
        /// True for `NOT IN`.
        negated: bool,
    },
    /// The value a conflicting upsert tried to insert: `excluded.name` (`VALUES(name)` on MySQL).
    Excluded {
        /// The table inserted into.
        table: &'static TableDef,
        /// The column's position in the table.
        index: usize,
    },
}

impl fmt::Debug for SqlExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlExpr::Column { table, index } => {
                write!(
                    f,
                    "{}.{}",
                    table.name(),
                    table.def().columns()[*index].name()
                )
            }
            SqlExpr::Param(v) => write!(f, "{v:?}"),
            SqlExpr::Binary(l, op, r) => write!(f, "({l:?} {} {r:?})", op.sql()),
            SqlExpr::Clauses(op, items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, " {} ", op.sql())?;
                    }
                    write!(f, "{item:?}")?;
                }
                f.write_str(")")
            }
            SqlExpr::Not(e) => write!(f, "NOT {e:?}"),
            SqlExpr::IsNull { expr, negated } => {
                write!(f, "{expr:?} IS {}NULL", not(*negated))
            }
            SqlExpr::Like {
                expr,
                pattern,
                negated,
            } => {
                write!(f, "{expr:?} {}LIKE {pattern:?}", not(*negated))
            }
            SqlExpr::InList {
                expr,
                values,
                negated,
            } => {
                write!(f, "{expr:?} {}IN {values:?}", not(*negated))
            }
            SqlExpr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                write!(f, "{expr:?} {}BETWEEN {low:?} AND {high:?}", not(*negated))
            }
            SqlExpr::Neg(e) => write!(f, "-{e:?}"),
            SqlExpr::InSelect {
                expr,
                select,
                negated,
            } => write!(f, "{expr:?} {}IN ({select:?})", not(*negated)),
            SqlExpr::Exists(select) => write!(f, "EXISTS ({select:?})"),
            SqlExpr::Subquery(select) => write!(f, "({select:?})"),
            SqlExpr::Function { name, args } => {
                write!(f, "{name}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a:?}")?;
                }
                f.write_str(")")
            }
            SqlExpr::Star => f.write_str("*"),
            SqlExpr::Invalid(message) => write!(f, "<invalid: {message}>"),
            SqlExpr::Excluded { table, index } => {
                write!(f, "excluded.{}", table.columns()[*index].name())
            }
            SqlExpr::JsonGet { expr, key, as_text } => {
                write!(
                    f,
                    "{expr:?} {} {key:?}",
                    if *as_text { "->>" } else { "->" }
                )
            }
            SqlExpr::Truth(v) => write!(f, "{v}"),
            SqlExpr::Tuple(items) => write!(f, "{items:?}"),
            SqlExpr::Extract { field, expr } => write!(f, "EXTRACT({field:?} FROM {expr:?})"),
            SqlExpr::Over { .. }
            | SqlExpr::Match { .. }
            | SqlExpr::Filter { .. }
            | SqlExpr::Case { .. }
            | SqlExpr::Null
            | SqlExpr::InCompound { .. }
            | SqlExpr::Cast { .. } => debug_extra(self, f),
        }
    }
}

fn debug_extra(e: &SqlExpr, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match e {
        SqlExpr::Match {
            expr,
            value,
            kind,
            negated,
        } => write!(f, "{expr:?} {}{kind:?} {value:?}", not(*negated)),
        SqlExpr::Over { func, window } => write!(f, "{func:?} OVER ({window:?})"),
        SqlExpr::Filter { func, condition } => write!(f, "{func:?} FILTER (WHERE {condition:?})"),
        SqlExpr::Case { whens, else_ } => {
            f.write_str("CASE")?;
            for (c, v) in whens {
                write!(f, " WHEN {c:?} THEN {v:?}")?;
            }
            if let Some(e) = else_ {
                write!(f, " ELSE {e:?}")?;
            }
            f.write_str(" END")
        }
        SqlExpr::Cast { expr, to } => write!(f, "CAST({expr:?} AS {to:?})"),
        SqlExpr::Null => f.write_str("NULL"),
        SqlExpr::InCompound {
            expr,
            compound,
            negated,
        } => write!(f, "{expr:?} {}IN ({compound:?})", not(*negated)),
        _ => Ok(()),
    }
}

fn not(negated: bool) -> &'static str {
    if negated { "NOT " } else { "" }
}

impl SqlExpr {
    /// The logical negation of a boolean expression.
    pub fn negate(self) -> SqlExpr {
        match self {
            SqlExpr::Binary(l, op, r) => match op.negated() {
                Some(neg) => SqlExpr::Binary(l, neg, r),
                None => SqlExpr::Not(Box::new(SqlExpr::Binary(l, op, r))),
            },
            SqlExpr::IsNull { expr, negated } => SqlExpr::IsNull {
                expr,
                negated: !negated,
            },
            SqlExpr::Like {
                expr,
                pattern,
                negated,
            } => SqlExpr::Like {
                expr,
                pattern,
                negated: !negated,
            },
            SqlExpr::InList {
                expr,
                values,
                negated,
            } => SqlExpr::InList {
                expr,
                values,
                negated: !negated,
            },
            SqlExpr::Between {
                expr,
                low,
                high,
                negated,
            } => SqlExpr::Between {
                expr,
                low,
                high,
                negated: !negated,
            },
            SqlExpr::InSelect {
                expr,
                select,
                negated,
            } => SqlExpr::InSelect {
                expr,
                select,
                negated: !negated,
            },
            SqlExpr::Match {
                expr,
                value,
                kind,
                negated,
            } => SqlExpr::Match {
                expr,
                value,
                kind,
                negated: !negated,
            },
            SqlExpr::InCompound {
                expr,
                compound,
                negated,
            } => SqlExpr::InCompound {
                expr,
                compound,
                negated: !negated,
            },
            SqlExpr::Not(inner) => *inner,
            other => SqlExpr::Not(Box::new(other)),
        }
    }

    /// `left op right`; for `AND` / `OR`, one flat [`SqlExpr::Clauses`] that takes in the
    /// items of either side's chain of the same operator.
    pub fn binary(left: SqlExpr, op: BinOp, right: SqlExpr) -> SqlExpr {
        if !matches!(op, BinOp::And | BinOp::Or) {
            return SqlExpr::Binary(Box::new(left), op, Box::new(right));
        }
        let mut items = match left {
            SqlExpr::Clauses(o, items) if o == op => items,
            other => vec![other],
        };
        match right {
            SqlExpr::Clauses(o, more) if o == op => items.extend(more),
            other => items.push(other),
        }
        SqlExpr::Clauses(op, items)
    }

    /// Call `f` with every table this expression takes columns from, in order, without looking
    /// into subqueries (their tables are their own, as in SQLAlchemy).
    pub(crate) fn for_each_table(&self, f: &mut dyn FnMut(&TableRef)) {
        self.tables_within(f, 0);
    }

    /// [`SqlExpr::for_each_table`] at nesting `depth`: not past [`MAX_EXPR_DEPTH`], where
    /// compiling fails anyway, so that a tree nested thousands deep is an error, not a stack
    /// overflow.
    fn tables_within(&self, f: &mut dyn FnMut(&TableRef), depth: usize) {
        if depth >= MAX_EXPR_DEPTH {
            return;
        }
        let depth = depth + 1;
        match self {
            SqlExpr::Column { table, .. } => f(table),
            SqlExpr::Param(_)
            | SqlExpr::Truth(_)
            | SqlExpr::Invalid(_)
            | SqlExpr::Star
            | SqlExpr::Exists(_)
            | SqlExpr::Subquery(_)
            | SqlExpr::Excluded { .. } => {}
            SqlExpr::Binary(l, _, r) => {
                l.tables_within(f, depth);
                r.tables_within(f, depth);
            }
            SqlExpr::Clauses(_, items) => items.iter().for_each(|e| e.tables_within(f, depth)),
            SqlExpr::Not(e) | SqlExpr::Neg(e) | SqlExpr::JsonGet { expr: e, .. } => {
                e.tables_within(f, depth)
            }
            SqlExpr::IsNull { expr, .. } | SqlExpr::InSelect { expr, .. } => {
                expr.tables_within(f, depth)
            }
            SqlExpr::Like { expr, pattern, .. } => {
                expr.tables_within(f, depth);
                pattern.tables_within(f, depth);
            }
            SqlExpr::InList { expr, values, .. } => {
                expr.tables_within(f, depth);
                values.iter().for_each(|v| v.tables_within(f, depth));
            }
            SqlExpr::Between {
                expr, low, high, ..
            } => {
                expr.tables_within(f, depth);
                low.tables_within(f, depth);
                high.tables_within(f, depth);
            }
            SqlExpr::Function { args, .. } => args.iter().for_each(|a| a.tables_within(f, depth)),
            SqlExpr::Over { .. }
            | SqlExpr::Filter { .. }
            | SqlExpr::Case { .. }
            | SqlExpr::Cast { .. }
            | SqlExpr::Extract { .. }
            | SqlExpr::Tuple(_)
            | SqlExpr::Null
            | SqlExpr::InCompound { .. }
            | SqlExpr::Match { .. } => self.tables_within_more(f, depth),
        }
    }

    /// The rarer expressions of [`SqlExpr::tables_within`], out of it so that its stack
    /// frame — one per nesting level — stays small.
    #[inline(never)]
    fn tables_within_more(&self, f: &mut dyn FnMut(&TableRef), depth: usize) {
        match self {
            SqlExpr::Tuple(items) => items.iter().for_each(|e| e.tables_within(f, depth)),
            SqlExpr::Over { func, window } => {
                func.tables_within(f, depth);
                window.for_each_expr(|e| e.tables_within(f, depth));
            }
            SqlExpr::Filter { func, condition } => {
                func.tables_within(f, depth);
                condition.tables_within(f, depth);
            }
            SqlExpr::Case { whens, else_ } => {
                for (c, v) in whens {
                    c.tables_within(f, depth);
                    v.tables_within(f, depth);
                }
                if let Some(e) = else_ {
                    e.tables_within(f, depth);
                }
            }
            SqlExpr::Cast { expr, .. }
            | SqlExpr::Extract { expr, .. }
            | SqlExpr::InCompound { expr, .. } => expr.tables_within(f, depth),
            SqlExpr::Match { expr, value, .. } => {
                expr.tables_within(f, depth);
                value.tables_within(f, depth);
            }
            _ => {}
        }
    }
}

/// A typed column handle: `User::name` is a `Column<User, String>`.
///
/// The derive emits one per field as an associated `const`.
pub struct Column<T, V> {
    index: usize,
    alias: Option<&'static str>,
    _marker: PhantomData<fn() -> (T, V)>,
}

impl<T, V> Clone for Column<T, V> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, V> Copy for Column<T, V> {}

impl<T: Table, V> fmt::Debug for Column<T, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.table_ref().name(), self.def().name())
    }
}

impl<T, V> Column<T, V> {
    /// The column at position `index` of `T`'s table.
    pub const fn new(index: usize) -> Self {
        Column {
            index,
            alias: None,
            _marker: PhantomData,
        }
    }
    /// The column's position in its table.
    pub const fn index(self) -> usize {
        self.index
    }
    /// The same column of the table under `alias`; see [`Alias`](crate::sql::Alias).
    pub(crate) const fn aliased(self, alias: &'static str) -> Self {
        Column {
            index: self.index,
            alias: Some(alias),
            _marker: PhantomData,
        }
    }
}

impl<T: Table, V> Column<T, V> {
    /// The column's definition.
    pub fn def(self) -> &'static ColumnDef {
        &T::table().columns()[self.index]
    }
    /// A reference usable in a `static`, e.g. for `#[column(references = …)]`.
    pub const fn as_ref(self) -> ColumnRef {
        ColumnRef::new(T::table, self.index)
    }
    /// The table the column is read from, alias included.
    pub fn table_ref(self) -> TableRef {
        match self.alias {
            Some(alias) => TableRef::aliased(T::table(), alias),
            None => TableRef::new(T::table()),
        }
    }
}

/// A typed expression whose SQL value has Rust type `V`.
pub struct Expr<V> {
    node: SqlExpr,
    _marker: PhantomData<fn() -> V>,
}

impl<V> Clone for Expr<V> {
    fn clone(&self) -> Self {
        Expr::new(self.node.clone())
    }
}

impl<V> fmt::Debug for Expr<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

impl<V> Expr<V> {
    /// Wrap an untyped expression; the caller vouches for its type.
    pub fn new(node: SqlExpr) -> Self {
        Expr {
            node,
            _marker: PhantomData,
        }
    }
    /// The untyped expression.
    pub fn into_node(self) -> SqlExpr {
        self.node
    }
}

/// Something that renders to SQL with a known Rust type: a column or a typed expression.
///
/// Its methods build conditions; the right-hand side is anything [`AsExpr`] of a compatible type
/// (another column, or a Rust value that is bound as a parameter).
pub trait Expression: Sized {
    /// The Rust type of the expression's value.
    type SqlType: ColumnType;

    /// The untyped expression.
    fn into_sql(self) -> SqlExpr;

    /// `self = rhs`; `IS NULL` when `rhs` is `None` at run time, as SQLAlchemy does.
    fn eq<R: AsExpr<Self::SqlType>>(self, rhs: R) -> Expr<bool> {
        equality(self.into_sql(), false, rhs.into_expr())
    }
    /// `self != rhs`; `IS NOT NULL` when `rhs` is `None` at run time, as SQLAlchemy does.
    fn ne<R: AsExpr<Self::SqlType>>(self, rhs: R) -> Expr<bool> {
        equality(self.into_sql(), true, rhs.into_expr())
    }
    /// `self < rhs`
    fn lt<R: AsExpr<Self::SqlType>>(self, rhs: R) -> Expr<bool> {
        compare(self.into_sql(), BinOp::Lt, rhs.into_expr())
    }
    /// `self <= rhs`
    fn le<R: AsExpr<Self::SqlType>>(self, rhs: R) -> Expr<bool> {
        compare(self.into_sql(), BinOp::Le, rhs.into_expr())
    }
    /// `self > rhs`
    fn gt<R: AsExpr<Self::SqlType>>(self, rhs: R) -> Expr<bool> {
        compare(self.into_sql(), BinOp::Gt, rhs.into_expr())
    }
    /// `self >= rhs`
    fn ge<R: AsExpr<Self::SqlType>>(self, rhs: R) -> Expr<bool> {
        compare(self.into_sql(), BinOp::Ge, rhs.into_expr())
    }
    /// `self IS NULL`; only for nullable expressions.
    // Named after SQL's `IS NULL`: it builds a condition, it does not test `self`.
    #[allow(clippy::wrong_self_convention)]
    fn is_null(self) -> Expr<bool>
    where
        Self::SqlType: Nullable,
    {
        Expr::new(SqlExpr::IsNull {
            expr: Box::new(self.into_sql()),
            negated: false,
        })
    }
    /// `self IS NOT NULL`; only for nullable expressions.
    #[allow(clippy::wrong_self_convention)]
    fn is_not_null(self) -> Expr<bool>
    where
        Self::SqlType: Nullable,
    {
        Expr::new(SqlExpr::IsNull {
            expr: Box::new(self.into_sql()),
            negated: true,
        })
    }
    /// `self LIKE pattern`; only for text expressions.
    fn like<P: AsExpr<String>>(self, pattern: P) -> Expr<bool>
    where
        Self::SqlType: Textual,
    {
        like(self.into_sql(), pattern.into_expr(), false)
    }
    /// `self NOT LIKE pattern`; only for text expressions.
    fn not_like<P: AsExpr<String>>(self, pattern: P) -> Expr<bool>
    where
        Self::SqlType: Textual,
    {
        like(self.into_sql(), pattern.into_expr(), true)
    }
    /// `self IN (v1, v2, …)` with each value bound, or `self IN (SELECT …)` for a one-column
    /// [`Select`](crate::Select). An empty list is false, as in SQLAlchemy.
    fn in_<I: InOperand<Self::SqlType>>(self, candidates: I) -> Expr<bool> {
        Expr::new(candidates.in_expr(self.into_sql()))
    }
    /// `self NOT IN (…)`: the negation of [`Expression::in_`]. An empty list is true.
    fn not_in<I: InOperand<Self::SqlType>>(self, candidates: I) -> Expr<bool> {
        Expr::new(candidates.in_expr(self.into_sql()).negate())
    }
    /// `self BETWEEN low AND high`, both bounds inclusive.
    fn between<L: AsExpr<Self::SqlType>, H: AsExpr<Self::SqlType>>(
        self,
        low: L,
        high: H,
    ) -> Expr<bool> {
        Expr::new(SqlExpr::Between {
            expr: Box::new(self.into_sql()),
            low: Box::new(low.into_expr()),
            high: Box::new(high.into_expr()),
            negated: false,
        })
    }
    /// `self NOT BETWEEN low AND high`.
    fn not_between<L: AsExpr<Self::SqlType>, H: AsExpr<Self::SqlType>>(
        self,
        low: L,
        high: H,
    ) -> Expr<bool> {
        self.between(low, high).not()
    }
    /// `self AND rhs`
    fn and<R: AsExpr<bool>>(self, rhs: R) -> Expr<bool>
    where
        Self: Expression<SqlType = bool>,
    {
        compare(self.into_sql(), BinOp::And, rhs.into_expr())
    }
    /// `self OR rhs`
    fn or<R: AsExpr<bool>>(self, rhs: R) -> Expr<bool>
    where
        Self: Expression<SqlType = bool>,
    {
        compare(self.into_sql(), BinOp::Or, rhs.into_expr())
    }
    /// `NOT self`. As in SQLAlchemy, a comparison is negated instead (`NOT (a > b)` is `a <= b`,
    /// `NOT (a IS NULL)` is `a IS NOT NULL`) and a double negation cancels.
    fn not(self) -> Expr<bool>
    where
        Self: Expression<SqlType = bool>,
    {
        Expr::new(self.into_sql().negate())
    }
    /// `self IS DISTINCT FROM rhs`: unequal, `NULL` counting as a value (never `NULL`
    /// itself). SQLite writes `IS NOT`, MySQL `NOT (a <=> b)`, as SQLAlchemy does.
    #[allow(clippy::wrong_self_convention)]
    fn is_distinct_from<R: AsExpr<Self::SqlType>>(self, rhs: R) -> Expr<bool> {
        compare(self.into_sql(), BinOp::IsDistinctFrom, rhs.into_expr())
    }
    /// `self IS NOT DISTINCT FROM rhs`: equal, `NULL` counting as a value (SQLite `IS`,
    /// MySQL `<=>`).
    #[allow(clippy::wrong_self_convention)]
    fn is_not_distinct_from<R: AsExpr<Self::SqlType>>(self, rhs: R) -> Expr<bool> {
        compare(self.into_sql(), BinOp::IsNotDistinctFrom, rhs.into_expr())
    }
    /// `self ASC` in `ORDER BY`.
    fn asc(self) -> crate::sql::OrderBy {
        let mut term = crate::sql::OrderBy::new(self.into_sql(), false);
        term.ascending = true;
        term
    }
    /// `self NULLS FIRST` in `ORDER BY`; see [`OrderBy::nulls_first`](crate::sql::OrderBy::nulls_first).
    fn nulls_first(self) -> crate::sql::OrderBy {
        crate::sql::OrderBy::new(self.into_sql(), false).nulls_first()
    }
    /// `self NULLS LAST` in `ORDER BY`.
    fn nulls_last(self) -> crate::sql::OrderBy {
        crate::sql::OrderBy::new(self.into_sql(), false).nulls_last()
    }
    /// `self DESC` in `ORDER BY`.
    fn desc(self) -> crate::sql::OrderBy {
        crate::sql::OrderBy::new(self.into_sql(), true)
    }
    /// `self AS name` in a select list (SQLAlchemy's `label()`): the name a subquery's column
    /// takes, and the key of a result column.
    fn label(
        self,
        name: impl Into<std::borrow::Cow<'static, str>>,
    ) -> crate::sql::Labeled<Self::SqlType> {
        crate::sql::Labeled::new(self.into_sql(), name.into())
    }
}

/// `left = right` (`!=` when `negated`), or `IS [NOT] NULL` when one side is a `NULL` value —
/// whether `None` was written (`col == None`) or is the value of a variable at run time
/// (`col == v`, `v: Option<T>`), as SQLAlchemy compiles both: `= NULL` would match nothing.
/// The statement's shape then differs from run to run; the SQL cache renders the new shape.
fn equality(left: SqlExpr, negated: bool, right: SqlExpr) -> Expr<bool> {
    match (left, right) {
        (expr, SqlExpr::Param(Value::Null)) | (SqlExpr::Param(Value::Null), expr) => {
            Expr::new(SqlExpr::IsNull {
                expr: Box::new(expr),
                negated,
            })
        }
        (left, right) => {
            let op = if negated { BinOp::Ne } else { BinOp::Eq };
            compare(left, op, right)
        }
    }
}

fn compare(left: SqlExpr, op: BinOp, right: SqlExpr) -> Expr<bool> {
    Expr::new(SqlExpr::binary(left, op, right))
}

/// Text searches on text expressions (`String`, `Option<String>`), SQLAlchemy's
/// `contains`, `startswith`, `endswith` and `ilike`. A trait of its own, implemented only for
/// text, so that `contains` does not collide with the array operator
/// ([`ArrayExpression::contains`](crate::ArrayExpression::contains)).
pub trait TextExpression: Expression {
    /// `self LIKE '%' || value || '%'`: the text contains `value` (`%` and `_` in it are
    /// wildcards still, as in SQLAlchemy's default).
    fn contains<P: AsExpr<String>>(self, value: P) -> Expr<bool> {
        text_match(self.into_sql(), value.into_expr(), MatchKind::Contains)
    }
    /// `self LIKE value || '%'`: the text starts with `value`.
    fn startswith<P: AsExpr<String>>(self, value: P) -> Expr<bool> {
        text_match(self.into_sql(), value.into_expr(), MatchKind::StartsWith)
    }
    /// `self LIKE '%' || value`: the text ends with `value`.
    fn endswith<P: AsExpr<String>>(self, value: P) -> Expr<bool> {
        text_match(self.into_sql(), value.into_expr(), MatchKind::EndsWith)
    }
    /// `self ILIKE pattern` (PostgreSQL), `lower(self) LIKE lower(pattern)` elsewhere.
    fn ilike<P: AsExpr<String>>(self, pattern: P) -> Expr<bool> {
        text_match(self.into_sql(), pattern.into_expr(), MatchKind::ILike)
    }
}

impl<E: Expression> TextExpression for E where E::SqlType: Textual {}

fn text_match(expr: SqlExpr, value: SqlExpr, kind: MatchKind) -> Expr<bool> {
    Expr::new(SqlExpr::Match {
        expr: Box::new(expr),
        value: Box::new(value),
        kind,
        negated: false,
    })
}

fn like(expr: SqlExpr, pattern: SqlExpr, negated: bool) -> Expr<bool> {
    Expr::new(SqlExpr::Like {
        expr: Box::new(expr),
        pattern: Box::new(pattern),
        negated,
    })
}

/// The right-hand side of [`Expression::in_`]: a list of values (anything iterable whose items
/// are [`AsExpr<V>`]) or a one-column [`Select`](crate::Select) of the same type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the right-hand side of IN for a `{V}` expression",
    label = "expected a list of `{V}` values or a one-column select of `{V}`"
)]
pub trait InOperand<V> {
    /// `expr IN (…)`.
    fn in_expr(self, expr: SqlExpr) -> SqlExpr;
}

impl<V, I> InOperand<V> for I
where
    I: IntoIterator,
    I::Item: AsExpr<V>,
{
    fn in_expr(self, expr: SqlExpr) -> SqlExpr {
        SqlExpr::InList {
            expr: Box::new(expr),
            values: self.into_iter().map(AsExpr::into_expr).collect(),
            negated: false,
        }
    }
}

/// Text types, the operands of `LIKE` and the text functions: `String` and `Option<String>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not text",
    label = "not a String column",
    note = "like(), not_like(), lower(), upper() and length() apply to String and Option<String>"
)]
pub trait Textual {}
impl Textual for String {}
impl Textual for Option<String> {}

/// Types that may be `NULL`: `Option<T>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not nullable, so it is never NULL",
    label = "this column is declared NOT NULL",
    note = "only `Option<…>` columns can be compared with `None` or tested with `is_null()`"
)]
pub trait Nullable {}
impl<T> Nullable for Option<T> {}

impl<T: Table, V: ColumnType> Expression for Column<T, V> {
    type SqlType = V;
    fn into_sql(self) -> SqlExpr {
        SqlExpr::Column {
            table: self.table_ref(),
            index: self.index,
        }
    }
}

impl<V: ColumnType> Expression for Expr<V> {
    type SqlType = V;
    fn into_sql(self) -> SqlExpr {
        self.node
    }
}

/// A value usable where an expression of Rust type `V` is expected: an [`Expression`] of the
/// same base type, or a Rust value bound as a parameter.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be compared with or assigned to a value of type `{V}`",
    label = "expected a value of type `{V}` (or a column of that type) here"
)]
pub trait AsExpr<V> {
    /// The expression.
    fn into_expr(self) -> SqlExpr;
}

impl<E, V> AsExpr<V> for E
where
    E: Expression,
    V: ColumnType,
    E::SqlType: ColumnType<Base = V::Base>,
{
    fn into_expr(self) -> SqlExpr {
        self.into_sql()
    }
}

macro_rules! bind_as_expr {
    ($($base:ty),*) => {$(
        impl<V: ColumnType<Base = $base>> AsExpr<V> for $base {
            fn into_expr(self) -> SqlExpr {
                SqlExpr::Param(self.to_value())
            }
        }
        impl<'a, V: ColumnType<Base = $base>> AsExpr<V> for &'a $base {
            fn into_expr(self) -> SqlExpr {
                SqlExpr::Param(self.to_value())
            }
        }
        impl AsExpr<Option<$base>> for Option<$base> {
            fn into_expr(self) -> SqlExpr {
                SqlExpr::Param(self.to_value())
            }
        }
        impl<'a> AsExpr<Option<$base>> for &'a Option<$base> {
            fn into_expr(self) -> SqlExpr {
                SqlExpr::Param(self.to_value())
            }
        }
    )*};
}

bind_as_expr!(i16, i32, i64, f32, f64, bool, String, Vec<u8>);

// `#[derive(SqlEnum)]` writes the impls for the enum itself (a type of the user's crate);
// these are the `Option` forms, which only this crate may write.
impl<E: crate::value::SqlEnum + ColumnType<Base = E>> AsExpr<Option<E>> for Option<E> {
    fn into_expr(self) -> SqlExpr {
        SqlExpr::Param(self.to_value())
    }
}
impl<E: crate::value::SqlEnum + ColumnType<Base = E>> AsExpr<Option<E>> for &Option<E> {
    fn into_expr(self) -> SqlExpr {
        SqlExpr::Param(self.to_value())
    }
}
crate::value::feature_types!(bind_as_expr);
crate::value::array_types!(bind_as_expr);

impl<V: ColumnType<Base = String>> AsExpr<V> for &str {
    fn into_expr(self) -> SqlExpr {
        SqlExpr::Param(Value::Text(self.to_owned()))
    }
}
impl AsExpr<Option<String>> for Option<&str> {
    fn into_expr(self) -> SqlExpr {
        SqlExpr::Param(self.to_value())
    }
}
impl<V: ColumnType<Base = Vec<u8>>> AsExpr<V> for &[u8] {
    fn into_expr(self) -> SqlExpr {
        SqlExpr::Param(Value::Blob(self.to_vec()))
    }
}

/// `NULL` of a nullable column's type: what `None` becomes in `insert!` and `update!`.
pub fn null_of<T, V: Nullable>(_column: Column<T, V>) -> SqlExpr {
    SqlExpr::Param(Value::Null)
}
