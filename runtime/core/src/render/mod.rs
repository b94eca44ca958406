//! The one renderer: statement model + dialect → [`Compiled`].
//!
//! All SQL text Quarry produces is written here (`query` for statements, `ddl` for schema);
//! dialects only answer questions through the hooks of [`Dialect`]. Expressions are
//! parenthesized by SQLAlchemy's rule: a child operator is wrapped when it binds no tighter
//! than its parent, unless both are the same associative operator (`a AND b AND c`,
//! `a + b + c`).
//!
//! A renderer either writes SQL or, in *verify* mode, compares what it would write with the
//! SQL kept by a call site's [`SqlCache`](crate::sql::SqlCache) while it collects the bound
//! values: the same code path decides both, so the two cannot drift apart.

pub(crate) mod alter;
pub use alter::count_rows_sql;
mod batch;
mod compile;
mod ddl;
mod enum_ddl;
mod many;
pub(crate) mod query;

pub use ddl::{create_index, create_indexes, create_table, drop_table, index_name};
pub use enum_ddl::{create_enum_type, drop_enum_type, enum_types};

use crate::dialect::{Dialect, Placeholder, UpsertStyle};
use crate::error::Result;
use crate::sql::{BinOp, Compiled, SqlExpr, TableRef};
use crate::value::Value;

/// Accumulates SQL text and parameters for one statement.
pub struct Renderer<'d> {
    dialect: &'d dyn Dialect,
    sql: String,
    verify: Option<Verify<'d>>,
    params: Vec<Value>,
    /// Anonymous label counters (`count_1`, `anon_2`), statement-wide as in SQLAlchemy.
    labels: Vec<(&'static str, u32)>,
    /// Tables of the immediately enclosing query, which a subquery correlates to.
    pub(crate) enclosing: Vec<TableRef>,
    /// Write columns without their table (`RETURNING id` on SQLite).
    pub(crate) bare_columns: bool,
    /// The clause being written when it is one that windows are computed after (`WHERE` …):
    /// a window function there is an error.
    pub(crate) windows_refused: Option<&'static str>,
    /// How deeply the expression being written is nested (subqueries included), against
    /// [`MAX_EXPR_DEPTH`].
    depth: usize,
}

pub use crate::sql::MAX_EXPR_DEPTH;

struct Verify<'a> {
    expected: &'a str,
    pos: usize,
    matches: bool,
}

impl std::fmt::Debug for Renderer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field("dialect", &self.dialect.name())
            .field("sql", &self.sql)
            .field("verifying", &self.verify.is_some())
            .finish()
    }
}

/// What an expression is rendered inside of, for parenthesization.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Against {
    /// A clause of its own (`WHERE`, a select item, a function argument): never wrapped.
    Top,
    /// A value that SQLAlchemy groups (`SET name=(a || b)`): any operator is wrapped.
    Grouped,
    /// An operand of this operator.
    Op(OpKind),
}

/// The operator of an expression node, for precedence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum OpKind {
    Bin(BinOp),
    /// LIKE, IN, BETWEEN, IS, NOT: all SQLAlchemy precedence 5.
    Comparison(&'static str),
    Neg,
    Exists,
}

impl OpKind {
    fn precedence(self) -> u8 {
        match self {
            OpKind::Bin(op) => op.precedence(),
            OpKind::Comparison(_) => 5,
            OpKind::Neg => 8,
            OpKind::Exists => 0,
        }
    }

    fn wrapped_in(self, against: Against) -> bool {
        match against {
            Against::Top => false,
            Against::Grouped => true,
            Against::Op(parent) => {
                let same_associative =
                    matches!(self, OpKind::Bin(op) if op.associative()) && self == parent;
                !same_associative && self.precedence() <= parent.precedence()
            }
        }
    }
}

const LIKE: OpKind = OpKind::Comparison("LIKE");
const IN: OpKind = OpKind::Comparison("IN");
const BETWEEN: OpKind = OpKind::Comparison("BETWEEN");
const IS: OpKind = OpKind::Comparison("IS");
const NOT: OpKind = OpKind::Comparison("NOT");

impl<'d> Renderer<'d> {
    /// An empty renderer for `dialect`.
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        Renderer {
            sql: String::with_capacity(128),
            ..Renderer::new_empty(dialect)
        }
    }

    /// A renderer that writes nothing and checks that the statement renders to `expected`.
    pub(crate) fn verifying(dialect: &'d dyn Dialect, expected: &'d str) -> Self {
        Renderer {
            verify: Some(Verify {
                expected,
                pos: 0,
                matches: true,
            }),
            ..Renderer::new_empty(dialect)
        }
    }

    fn new_empty(dialect: &'d dyn Dialect) -> Self {
        Renderer {
            dialect,
            sql: String::new(),
            verify: None,
            params: Vec::new(),
            labels: Vec::new(),
            enclosing: Vec::new(),
            bare_columns: false,
            windows_refused: None,
            depth: 0,
        }
    }

    /// The dialect being rendered for.
    pub fn dialect(&self) -> &'d dyn Dialect {
        self.dialect
    }

    /// Append raw SQL text.
    pub fn push(&mut self, sql: &str) {
        match &mut self.verify {
            None => self.sql.push_str(sql),
            Some(v) => {
                if v.matches && v.expected.as_bytes()[v.pos..].starts_with(sql.as_bytes()) {
                    v.pos += sql.len();
                } else {
                    v.matches = false;
                }
            }
        }
    }

    /// Append an identifier, quoted if the dialect needs it (a quote inside is doubled).
    pub fn ident(&mut self, name: &str) {
        if !self.dialect.needs_quotes(name) {
            self.push(name);
            return;
        }
        let mut buf = [0u8; 4];
        let q: &str = self.dialect.quote_char().encode_utf8(&mut buf);
        self.push(q);
        for (i, piece) in name.split(q).enumerate() {
            if i > 0 {
                self.push(q);
                self.push(q);
            }
            self.push(piece);
        }
        self.push(q);
    }

    /// Append a placeholder for `value` and bind it.
    pub fn param(&mut self, value: Value) {
        self.params.push(value);
        match self.dialect.placeholder() {
            Placeholder::Question => self.push("?"),
            Placeholder::Numbered(prefix) => {
                self.push(prefix);
                self.decimal(self.params.len());
            }
        }
    }

    /// Append `n` in decimal, without allocating (verify mode runs on every execution).
    fn decimal(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            // `n % 10` is a single decimal digit.
            digits[start] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        // ASCII digits are valid UTF-8.
        let text = std::str::from_utf8(&digits[start..]).unwrap_or("0");
        self.push(text);
    }

    /// The next anonymous label for `name`: `count_1`, `count_2`, `anon_1`, …
    pub(crate) fn anon_label(&mut self, name: &'static str) -> u32 {
        match self.labels.iter_mut().find(|(n, _)| *n == name) {
            Some((_, k)) => {
                *k += 1;
                *k
            }
            None => {
                self.labels.push((name, 1));
                1
            }
        }
    }

    /// Append a label's number.
    pub(crate) fn number(&mut self, n: u32) {
        self.decimal(n as usize);
    }

    /// Append column `index` of `table`: `users.name`, `u2.name`, `recent.count_1` (bare
    /// where the dialect wants it: `RETURNING id` on SQLite).
    pub(crate) fn column(&mut self, table: &TableRef, index: usize) {
        if !self.bare_columns {
            self.ident(table.name());
            self.push(".");
        }
        self.ident(table.def().columns()[index].name());
    }

    /// Append an expression.
    ///
    /// # Errors
    /// When a subquery inside cannot be rendered for the dialect.
    pub fn expr(&mut self, e: &SqlExpr) -> Result<()> {
        self.expr_in(e, Against::Top)
    }

    pub(crate) fn expr_in(&mut self, e: &SqlExpr, against: Against) -> Result<()> {
        self.deeper(1, |this| this.expr_node(e, against))
    }

    /// Render `body` one nesting level of weight `cost` further in: an error, not a stack
    /// overflow, once the levels pass [`MAX_EXPR_DEPTH`].
    pub(crate) fn deeper(
        &mut self,
        cost: usize,
        body: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        if self.depth + cost > MAX_EXPR_DEPTH {
            return Err(crate::Error::TooLarge {
                what: "or more levels of nested expressions (a nested SELECT counts as 4)",
                count: self.depth + cost,
                limit: MAX_EXPR_DEPTH,
                dialect: "quarry",
                hint: "nest less: chains of and/or are flat at any length, an IN list takes \
                       any number of values, a deep tree can often be written as a chain, and \
                       nested subqueries as joins or CTEs",
            });
        }
        self.depth += cost;
        let result = body(self);
        self.depth -= cost;
        result
    }

    /// One node. Kept small: the nodes that chains and trees recurse through most are handled
    /// here or in functions of their own, the rest in [`Renderer::expr_other`], so that a
    /// nesting level costs little stack even in a debug build (200 levels in a 2 MiB thread).
    fn expr_node(&mut self, e: &SqlExpr, against: Against) -> Result<()> {
        match e {
            SqlExpr::Column { table, index } => self.column(table, *index),
            SqlExpr::Param(v) => self.param(v.clone()),
            SqlExpr::Binary(l, op, r) => self.binary(l, *op, r, against)?,
            SqlExpr::Clauses(op, items) => self.clauses(*op, items, against)?,
            _ => self.expr_other(e, against)?,
        }
        Ok(())
    }

    /// `a AND b AND …` / `a OR b OR …`, in groups of about √n where the dialect's parser
    /// nests a flat chain as deep as it is long.
    #[inline(never)]
    fn clauses(&mut self, op: BinOp, items: &[SqlExpr], against: Against) -> Result<()> {
        let kind = OpKind::Bin(op);
        let group = match self.dialect.max_flat_chain() {
            Some(max) if items.len() > max => items.len().isqrt() + 1,
            _ => items.len(),
        };
        self.wrap(kind.wrapped_in(against), |this| {
            for (g, chunk) in items.chunks(group.max(1)).enumerate() {
                if g > 0 {
                    this.push(" ");
                    this.push(op.sql());
                    this.push(" ");
                }
                this.wrap(group < items.len(), |this| {
                    for (i, item) in chunk.iter().enumerate() {
                        if i > 0 {
                            this.push(" ");
                            this.push(op.sql());
                            this.push(" ");
                        }
                        this.expr_in(item, Against::Op(kind))?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })
    }

    /// Every other node (see [`Renderer::expr_node`]).
    #[inline(never)]
    fn expr_other(&mut self, e: &SqlExpr, against: Against) -> Result<()> {
        match e {
            SqlExpr::Column { .. }
            | SqlExpr::Param(_)
            | SqlExpr::Binary(..)
            | SqlExpr::Clauses(..) => return self.expr_node(e, against),
            SqlExpr::Invalid(message) => return Err(crate::Error::config(message.to_string())),
            SqlExpr::Not(inner) => self.wrap(NOT.wrapped_in(against), |this| {
                this.push("NOT ");
                this.expr_in(inner, Against::Op(NOT))
            })?,
            SqlExpr::Neg(inner) => self.wrap(OpKind::Neg.wrapped_in(against), |this| {
                this.push("-");
                this.expr_in(inner, Against::Op(OpKind::Neg))
            })?,
            SqlExpr::IsNull { expr, negated } => self.wrap(IS.wrapped_in(against), |this| {
                this.expr_in(expr, Against::Op(IS))?;
                this.push(if *negated { " IS NOT NULL" } else { " IS NULL" });
                Ok(())
            })?,
            SqlExpr::Like {
                expr,
                pattern,
                negated,
            } => self.wrap(LIKE.wrapped_in(against), |this| {
                this.expr_in(expr, Against::Op(LIKE))?;
                this.push(if *negated { " NOT LIKE " } else { " LIKE " });
                this.expr_in(pattern, Against::Op(LIKE))
            })?,
            SqlExpr::Between {
                expr,
                low,
                high,
                negated,
            } => self.wrap(BETWEEN.wrapped_in(against), |this| {
                this.expr_in(expr, Against::Op(BETWEEN))?;
                this.push(if *negated {
                    " NOT BETWEEN "
                } else {
                    " BETWEEN "
                });
                let and = Against::Op(OpKind::Bin(BinOp::And));
                this.expr_in(low, and)?;
                this.push(" AND ");
                this.expr_in(high, and)
            })?,
            SqlExpr::InList {
                expr,
                values,
                negated,
            } => {
                // SQLAlchemy parenthesizes NOT IN as a whole: `(x NOT IN (…))`.
                self.wrap(*negated || IN.wrapped_in(against), |this| {
                    this.expr_in(expr, Against::Op(IN))?;
                    this.push(if *negated { " NOT IN " } else { " IN " });
                    if values.is_empty() {
                        this.push(this.dialect.empty_in(*negated));
                        return Ok(());
                    }
                    this.push("(");
                    // SQLite takes a list of row values only as VALUES, as SQLAlchemy writes it.
                    if matches!(values.first(), Some(SqlExpr::Tuple(_)))
                        && this.dialect.tuple_in_values()
                    {
                        this.push("VALUES ");
                    }
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            this.push(", ");
                        }
                        this.expr(v)?;
                    }
                    this.push(")");
                    Ok(())
                })?
            }
            SqlExpr::InSelect {
                expr,
                select,
                negated,
            } => self.in_query(expr, *negated, against, |this| {
                query::subquery(this, select)
            })?,
            SqlExpr::Exists(select) => self.wrap(OpKind::Exists.wrapped_in(against), |this| {
                this.push("EXISTS (");
                query::subquery(this, select)?;
                this.push(")");
                Ok(())
            })?,
            SqlExpr::Subquery(select) => {
                self.push("(");
                query::subquery(self, select)?;
                self.push(")");
            }
            SqlExpr::Function { name: "ANY", args } => {
                // `value = ANY (array)`, PostgreSQL's array membership.
                self.arrays("ANY (array)")?;
                self.push("ANY (");
                self.list(args)?;
                self.push(")");
            }
            SqlExpr::Function {
                name: "current_timestamp",
                ..
            } => self.push("CURRENT_TIMESTAMP"),
            SqlExpr::Function { name: "now", .. } if !self.dialect.has_now() => {
                self.push("CURRENT_TIMESTAMP")
            }
            SqlExpr::Function { name, args } => {
                self.push(name);
                self.push("(");
                self.list(args)?;
                if *name == "coalesce" && args.len() == 1 && !self.dialect.coalesce_of_one() {
                    self.push(", NULL");
                }
                self.push(")");
            }
            SqlExpr::Star => self.push("*"),
            SqlExpr::JsonGet { expr, key, as_text } => {
                self.json_get(expr, key, *as_text, against)?;
            }
            SqlExpr::Truth(_)
            | SqlExpr::Tuple(_)
            | SqlExpr::Null
            | SqlExpr::InCompound { .. }
            | SqlExpr::Extract { .. }
            | SqlExpr::Match { .. }
            | SqlExpr::Over { .. }
            | SqlExpr::Filter { .. }
            | SqlExpr::Case { .. }
            | SqlExpr::Cast { .. } => self.expr_more(e, against)?,
            SqlExpr::Excluded { table, index } => {
                let column = table.columns()[*index].name();
                match self.dialect.upsert_style() {
                    UpsertStyle::OnConflict => {
                        self.push("excluded.");
                        self.ident(column);
                    }
                    UpsertStyle::OnDuplicateKey => {
                        self.push("VALUES(");
                        self.ident(column);
                        self.push(")");
                    }
                }
            }
        }
        Ok(())
    }

    /// The rarer expressions, out of `expr_node` so that its stack frame — one per nesting
    /// level — stays small (`MAX_EXPR_DEPTH` levels must fit a 2 MiB thread in debug builds).
    #[inline(never)]
    fn expr_more(&mut self, e: &SqlExpr, against: Against) -> Result<()> {
        match e {
            SqlExpr::Match {
                expr,
                value,
                kind,
                negated,
            } => self.text_match(expr, value, *kind, *negated, against)?,
            SqlExpr::Truth(v) => self.push(self.dialect.truth(*v)),
            SqlExpr::Null => self.push("NULL"),
            SqlExpr::InCompound {
                expr,
                compound,
                negated,
            } => self.in_query(expr, *negated, against, |this| {
                this.deeper(query::SUBQUERY_DEPTH, |this| {
                    query::compound(this, compound)
                })
            })?,
            SqlExpr::Tuple(items) => {
                self.push("(");
                self.list(items)?;
                self.push(")");
            }
            SqlExpr::Extract { field, expr } => {
                let (name, format) = field.names();
                if self.dialect.extract_by_strftime() {
                    self.push("CAST(STRFTIME('");
                    self.push(format);
                    self.push("', ");
                    self.expr(expr)?;
                    self.push(") AS INTEGER)");
                } else {
                    let floor = *field == crate::sql::ExtractField::Second
                        && self.dialect.extract_second_has_fraction();
                    if floor {
                        self.push("FLOOR(");
                    }
                    self.push("EXTRACT(");
                    self.push(name);
                    self.push(" FROM ");
                    self.expr(expr)?;
                    self.push(")");
                    if floor {
                        self.push(")");
                    }
                }
            }
            SqlExpr::Over { func, window } => self.over(func, window)?,
            SqlExpr::Filter { func, condition } => {
                if !self.dialect.supports_aggregate_filter() {
                    return Err(crate::Error::Unsupported {
                        feature: "an aggregate's FILTER (WHERE …)".into(),
                        dialect: self.dialect.name(),
                    });
                }
                self.expr(func)?;
                self.push(" FILTER (WHERE ");
                let outside = self.windows_refused.take();
                let result = self.expr(condition);
                self.windows_refused = outside;
                result?;
                self.push(")");
            }
            SqlExpr::Case { whens, else_ } => {
                self.push("CASE");
                for (condition, value) in whens {
                    self.push(" WHEN ");
                    self.expr_in(condition, Against::Grouped)?;
                    self.push(" THEN ");
                    self.case_value(value)?;
                }
                if let Some(e) = else_ {
                    self.push(" ELSE ");
                    self.case_value(e)?;
                }
                self.push(" END");
            }
            SqlExpr::Cast { expr, to } => {
                let name = self.dialect.cast_type(*to)?;
                self.push("CAST(");
                self.expr(expr)?;
                self.push(" AS ");
                self.push(name);
                self.push(")");
            }
            _ => {}
        }
        Ok(())
    }

    /// `expr [NOT] IN (query)`, the query written by `query`; SQLAlchemy parenthesizes `NOT IN`
    /// as a whole: `(x NOT IN (…))`.
    #[inline(never)]
    fn in_query(
        &mut self,
        expr: &SqlExpr,
        negated: bool,
        against: Against,
        query: impl FnOnce(&mut Self) -> Result<()>,
    ) -> Result<()> {
        self.wrap(negated || IN.wrapped_in(against), |this| {
            this.expr_in(expr, Against::Op(IN))?;
            this.push(if negated { " NOT IN (" } else { " IN (" });
            query(this)?;
            this.push(")");
            Ok(())
        })
    }

    /// `contains` / `startswith` / `endswith` / `ilike`, as SQLAlchemy writes them: the
    /// searches in parentheses inside another operator, `%` joined to the value with `||`
    /// (`concat(…)` on MySQL); `ILIKE` or `lower(x) LIKE lower(?)`.
    fn text_match(
        &mut self,
        expr: &SqlExpr,
        value: &SqlExpr,
        kind: crate::sql::MatchKind,
        negated: bool,
        against: Against,
    ) -> Result<()> {
        use crate::sql::MatchKind;
        let like = if negated { " NOT LIKE " } else { " LIKE " };
        if kind == MatchKind::ILike {
            return self.wrap(LIKE.wrapped_in(against), |this| {
                if this.dialect.has_ilike() {
                    this.expr_in(expr, Against::Op(LIKE))?;
                    this.push(if negated { " NOT ILIKE " } else { " ILIKE " });
                    return this.expr_in(value, Against::Op(LIKE));
                }
                this.push("lower(");
                this.expr(expr)?;
                this.push(")");
                this.push(like);
                this.push("lower(");
                this.expr(value)?;
                this.push(")");
                Ok(())
            });
        }
        let (before, after) = match kind {
            MatchKind::Contains => (true, true),
            MatchKind::StartsWith => (false, true),
            _ => (true, false),
        };
        self.wrap(against != Against::Top, |this| {
            this.expr_in(expr, Against::Op(LIKE))?;
            this.push(like);
            let concat = this.dialect.concat_function();
            if concat {
                this.push("concat(");
            }
            let sep = if concat { ", " } else { " || " };
            if before {
                this.push("'%'");
                this.push(sep);
            }
            this.expr_in(value, Against::Op(OpKind::Bin(BinOp::Concat)))?;
            if after {
                this.push(sep);
                this.push("'%'");
            }
            if concat {
                this.push(")");
            }
            Ok(())
        })
    }

    /// A `THEN` / `ELSE` value: a parameter there has no column to take its type from, so
    /// where the dialect wants it typed it is cast (`$2::BIGINT`, as SQLAlchemy's psycopg
    /// dialect writes it).
    pub(crate) fn case_value(&mut self, value: &SqlExpr) -> Result<()> {
        if let SqlExpr::Param(v) = value
            && let Some(ty) = self.dialect.typed_param(v)
        {
            self.param(v.clone());
            self.push("::");
            self.push(ty);
            return Ok(());
        }
        self.expr(value)
    }

    /// `func OVER (PARTITION BY … ORDER BY … frame)`; an error inside a clause evaluated
    /// before windows are (`WHERE` …).
    fn over(&mut self, func: &SqlExpr, window: &crate::sql::WindowSpec) -> Result<()> {
        if let Some(clause) = self.windows_refused {
            return Err(crate::Error::config(format!(
                "a window function cannot be used in {clause}: windows are computed after it; \
                 select it in a subquery or CTE and filter on that"
            )));
        }
        self.expr(func)?;
        self.push(" OVER (");
        let mut space = false;
        if !window.partition_by.is_empty() {
            self.push("PARTITION BY ");
            self.list(&window.partition_by)?;
            space = true;
        }
        if !window.order_by.is_empty() {
            if space {
                self.push(" ");
            }
            self.push("ORDER BY ");
            self.order_terms(&window.order_by)?;
            space = true;
        }
        if let Some(frame) = &window.frame {
            if space {
                self.push(" ");
            }
            self.push(if frame.range {
                "RANGE BETWEEN "
            } else {
                "ROWS BETWEEN "
            });
            self.frame_bound(frame.start)?;
            self.push(" AND ");
            self.frame_bound(frame.end)?;
        }
        self.push(")");
        Ok(())
    }

    /// `UNBOUNDED PRECEDING`, `? PRECEDING` (the count bound, as SQLAlchemy binds it; written
    /// out where the dialect takes no parameter there), `CURRENT ROW` …
    fn frame_bound(&mut self, bound: crate::sql::FrameBound) -> Result<()> {
        use crate::sql::FrameBound;
        let (n, side) = match bound {
            FrameBound::UnboundedPreceding => {
                self.push("UNBOUNDED PRECEDING");
                return Ok(());
            }
            FrameBound::UnboundedFollowing => {
                self.push("UNBOUNDED FOLLOWING");
                return Ok(());
            }
            FrameBound::CurrentRow => {
                self.push("CURRENT ROW");
                return Ok(());
            }
            FrameBound::Preceding(n) => (n, " PRECEDING"),
            FrameBound::Following(n) => (n, " FOLLOWING"),
        };
        if self.dialect.frame_offsets_literal() {
            self.decimal(usize::try_from(n).unwrap_or(usize::MAX));
        } else {
            self.param(Value::I64(i64::try_from(n).unwrap_or(i64::MAX)));
        }
        self.push(side);
        Ok(())
    }

    /// `ORDER BY` terms: `a, b DESC`.
    pub(crate) fn order_terms(&mut self, terms: &[crate::sql::OrderBy]) -> Result<()> {
        for (i, o) in terms.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.expr(&o.expr)?;
            if o.descending {
                self.push(" DESC");
            } else if o.ascending {
                self.push(" ASC");
            }
            if let Some(first) = o.nulls_first {
                if !self.dialect.supports_nulls_order() {
                    return Err(crate::Error::Unsupported {
                        feature: "NULLS FIRST / NULLS LAST".into(),
                        dialect: self.dialect.name(),
                    });
                }
                self.push(if first { " NULLS FIRST" } else { " NULLS LAST" });
            }
        }
        Ok(())
    }

    /// `doc -> $1` / `doc ->> $1` (PostgreSQL, parenthesized inside another operator, as
    /// SQLAlchemy writes it), else the dialect's `JSON_EXTRACT` form with a JSON path.
    fn json_get(
        &mut self,
        doc: &SqlExpr,
        key: &crate::sql::JsonKey,
        as_text: bool,
        against: Against,
    ) -> Result<()> {
        use crate::dialect::JsonAccess;
        use crate::sql::JsonKey;
        let path = || Value::Text(key.path());
        match self.dialect.json_access() {
            JsonAccess::Operators => self.wrap(against != Against::Top, |this| {
                this.expr_in(doc, Against::Grouped)?;
                this.push(if as_text { " ->> " } else { " -> " });
                match key {
                    JsonKey::Field(k) => this.param(Value::Text(k.clone())),
                    // Typed, as SQLAlchemy's asyncpg dialect binds it: the server would take
                    // an untyped parameter for a member name.
                    JsonKey::Index(i) => {
                        this.param(Value::I64(*i));
                        this.push("::INTEGER");
                    }
                }
                Ok(())
            })?,
            JsonAccess::ExtractUnquote => {
                self.push(if as_text {
                    "JSON_UNQUOTE(JSON_EXTRACT("
                } else {
                    "JSON_EXTRACT("
                });
                self.expr(doc)?;
                self.push(", ");
                self.param(path());
                self.push(if as_text { "))" } else { ")" });
            }
            JsonAccess::ExtractQuote => {
                self.push(if as_text {
                    "JSON_EXTRACT("
                } else {
                    "JSON_QUOTE(JSON_EXTRACT("
                });
                self.expr(doc)?;
                self.push(", ");
                self.param(path());
                self.push(if as_text { ")" } else { "))" });
            }
        }
        Ok(())
    }

    /// [`crate::Error::Unsupported`] for `feature` where the dialect has no arrays.
    fn arrays(&self, feature: &str) -> Result<()> {
        if self.dialect.has_arrays() {
            return Ok(());
        }
        Err(crate::Error::Unsupported {
            feature: feature.to_owned(),
            dialect: self.dialect.name(),
        })
    }

    fn binary(&mut self, l: &SqlExpr, op: BinOp, r: &SqlExpr, against: Against) -> Result<()> {
        let kind = OpKind::Bin(op);
        if op == BinOp::Contains {
            self.arrays("array containment (@>)")?;
        }
        if op == BinOp::Concat && self.dialect.concat_function() {
            // `concat(a, b, c)` for a chain, as SQLAlchemy writes it on MySQL; still an operator
            // for grouping (`SET name=(concat(…))`).
            let mut operands = vec![r];
            let mut left = l;
            while let SqlExpr::Binary(ll, BinOp::Concat, lr) = left {
                operands.push(lr);
                left = ll;
            }
            operands.push(left);
            return self.wrap(kind.wrapped_in(against), |this| {
                this.push("concat(");
                for (i, operand) in operands.iter().rev().enumerate() {
                    if i > 0 {
                        this.push(", ");
                    }
                    this.expr(operand)?;
                }
                this.push(")");
                Ok(())
            });
        }
        if matches!(op, BinOp::IsDistinctFrom | BinOp::IsNotDistinctFrom) {
            return self.distinct_from(l, op, r, against);
        }
        if op == BinOp::IntDiv && self.dialect.floor_division() {
            return self.wrap(kind.wrapped_in(against), |this| {
                this.push("FLOOR(");
                this.binary(l, BinOp::Div, r, Against::Top)?;
                this.push(")");
                Ok(())
            });
        }
        let kind = OpKind::Bin(op);
        self.wrap(kind.wrapped_in(against), |this| {
            this.expr_in(l, Against::Op(kind))?;
            this.push(" ");
            this.push(op.sql());
            this.push(" ");
            this.expr_in(r, Against::Op(kind))
        })
    }

    /// `a IS [NOT] DISTINCT FROM b` in the dialect's spelling; out of `binary` so that its
    /// frame stays small.
    #[inline(never)]
    fn distinct_from(
        &mut self,
        l: &SqlExpr,
        op: BinOp,
        r: &SqlExpr,
        against: Against,
    ) -> Result<()> {
        let kind = OpKind::Bin(op);
        let distinct = op == BinOp::IsDistinctFrom;
        let spelling = self.dialect.distinct_from(distinct);
        // MySQL has only `<=>` (not distinct): distinct is `NOT (a <=> b)`.
        let negate = spelling.is_none();
        let operator = spelling.unwrap_or("<=>");
        let not = OpKind::Comparison("NOT");
        self.wrap(
            if negate {
                not.wrapped_in(against)
            } else {
                kind.wrapped_in(against)
            },
            |this| {
                if negate {
                    this.push("NOT (");
                }
                this.expr_in(l, Against::Op(kind))?;
                this.push(" ");
                this.push(operator);
                this.push(" ");
                // `None` is the literal NULL there, as SQLAlchemy writes it.
                if matches!(r, SqlExpr::Param(Value::Null)) {
                    this.push("NULL");
                } else {
                    this.expr_in(r, Against::Op(kind))?;
                }
                if negate {
                    this.push(")");
                }
                Ok(())
            },
        )
    }

    /// Comma-separated expressions.
    pub(crate) fn list(&mut self, exprs: &[SqlExpr]) -> Result<()> {
        for (i, e) in exprs.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.expr(e)?;
        }
        Ok(())
    }

    fn wrap(&mut self, parens: bool, body: impl FnOnce(&mut Self) -> Result<()>) -> Result<()> {
        if parens {
            self.push("(");
        }
        body(self)?;
        if parens {
            self.push(")");
        }
        Ok(())
    }

    /// Finish: the SQL and its parameters.
    pub fn finish(self) -> Compiled {
        Compiled::new(self.sql, self.params)
    }

    /// Finish a verifying render: the parameters if the statement rendered to exactly the
    /// expected text.
    pub(crate) fn finish_verified(self) -> Option<Vec<Value>> {
        let v = self.verify?;
        (v.matches && v.pos == v.expected.len()).then_some(self.params)
    }

    /// The SQL written so far (DDL, which has no parameters).
    pub(crate) fn into_sql(self) -> String {
        self.sql
    }
}
