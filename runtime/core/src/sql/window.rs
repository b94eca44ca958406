//! Window functions: `row_number() OVER (PARTITION BY … ORDER BY …)`, frames
//! (`ROWS BETWEEN …`), any aggregate as a window, and an aggregate's `FILTER (WHERE …)`.
//!
//! A window function alone ([`WindowFn`], from `row_number()`, `rank()`, `lag(…)` …) is not an
//! expression: it takes a value only with [`Window::over`], so that `WHERE row_number() > 1`
//! does not compile. A windowed expression is still refused in `WHERE`, `GROUP BY`, `HAVING`
//! and `JOIN … ON` when the statement compiles (SQL evaluates windows after them): filter on
//! it through a subquery or a CTE.
//!
//! ```
//! use quarry::prelude::*;
//! use quarry::func::{partition_by, row_number};
//!
//! #[derive(Table)]
//! #[table(name = "users")]
//! struct User {
//!     #[column(primary_key)]
//!     id: i64,
//!     name: String,
//!     hair_color: Option<String>,
//! }
//!
//! let stmt = select!(User::name, row_number().over(partition_by(User::hair_color).order_by(User::id)) FROM User);
//! assert_eq!(
//!     stmt.compile(&quarry::dialect::Sqlite)?.sql(),
//!     "SELECT users.name, row_number() OVER (PARTITION BY users.hair_color ORDER BY users.id) \
//!      AS anon_1 FROM users"
//! );
//! # Ok::<(), quarry::Error>(())
//! ```

use std::fmt;
use std::marker::PhantomData;

use super::{AsExpr, Expr, Expression, IntoOrderBy, OrderBy, SqlExpr};
use crate::value::ColumnType;

/// The window of a window function: `PARTITION BY …`, `ORDER BY …` and a frame, each
/// optional (`OVER ()` for none).
#[derive(Clone, PartialEq, Default)]
pub struct WindowSpec {
    pub(crate) partition_by: Vec<SqlExpr>,
    pub(crate) order_by: Vec<OrderBy>,
    pub(crate) frame: Option<Frame>,
}

/// `ROWS BETWEEN start AND end` or `RANGE BETWEEN start AND end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub(crate) range: bool,
    pub(crate) start: FrameBound,
    pub(crate) end: FrameBound,
}

/// One end of a window frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameBound {
    /// `UNBOUNDED PRECEDING`: from the partition's first row.
    UnboundedPreceding,
    /// `n PRECEDING`.
    Preceding(u64),
    /// `CURRENT ROW`.
    CurrentRow,
    /// `n FOLLOWING`.
    Following(u64),
    /// `UNBOUNDED FOLLOWING`: to the partition's last row.
    UnboundedFollowing,
}

impl fmt::Debug for WindowSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PARTITION BY {:?} ORDER BY {:?} {:?}",
            self.partition_by, self.order_by, self.frame
        )
    }
}

/// An empty window, `OVER ()`: the whole result is one partition.
pub fn window() -> WindowSpec {
    WindowSpec::default()
}

/// A window `PARTITION BY term`; add more with [`WindowSpec::partition_by`].
pub fn partition_by<E: Expression>(term: E) -> WindowSpec {
    window().partition_by(term)
}

/// A window `ORDER BY term` (a column, or `.desc()` of one); add more with
/// [`WindowSpec::order_by`].
pub fn order_by<O: IntoOrderBy>(term: O) -> WindowSpec {
    window().order_by(term)
}

impl WindowSpec {
    /// Append a `PARTITION BY` term.
    pub fn partition_by<E: Expression>(mut self, term: E) -> Self {
        self.partition_by.push(term.into_sql());
        self
    }

    /// Append an `ORDER BY` term.
    pub fn order_by<O: IntoOrderBy>(mut self, term: O) -> Self {
        self.order_by.push(term.into_order_by());
        self
    }

    /// `ROWS BETWEEN start AND end`: a frame counted in rows.
    pub fn rows_between(mut self, start: FrameBound, end: FrameBound) -> Self {
        self.frame = Some(Frame {
            range: false,
            start,
            end,
        });
        self
    }

    /// `RANGE BETWEEN start AND end`: a frame counted in values of the `ORDER BY` term.
    pub fn range_between(mut self, start: FrameBound, end: FrameBound) -> Self {
        self.frame = Some(Frame {
            range: true,
            start,
            end,
        });
        self
    }

    /// Call `f` with every expression of the window.
    pub(crate) fn for_each_expr(&self, mut f: impl FnMut(&SqlExpr)) {
        self.partition_by.iter().for_each(&mut f);
        self.order_by.iter().for_each(|o| f(&o.expr));
    }
}

/// A function that has a value only over a window: `row_number()`, `rank()`, `lag(…)` …
/// Give it one with [`Window::over`].
pub struct WindowFn<V> {
    node: SqlExpr,
    _marker: PhantomData<fn() -> V>,
}

impl<V> WindowFn<V> {
    pub(crate) fn new(name: &'static str, args: Vec<SqlExpr>) -> Self {
        WindowFn {
            node: SqlExpr::Function { name, args },
            _marker: PhantomData,
        }
    }
}

impl<V> Clone for WindowFn<V> {
    fn clone(&self) -> Self {
        WindowFn {
            node: self.node.clone(),
            _marker: PhantomData,
        }
    }
}

impl<V> fmt::Debug for WindowFn<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

/// What can be computed over a window: a window function, or any aggregate
/// (`sum(Post::score).over(partition_by(Post::user_id))`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be computed over a window",
    label = "expected a window function (row_number(), rank(), lag(…) …) or an aggregate"
)]
pub trait Window: Sized {
    /// The value's type.
    type Value: ColumnType;
    /// The function.
    fn into_function(self) -> SqlExpr;

    /// `self OVER (window)`: a [`WindowSpec`] from [`partition_by`], [`order_by`] or
    /// [`window`].
    fn over(self, window: WindowSpec) -> Expr<Self::Value> {
        Expr::new(SqlExpr::Over {
            func: Box::new(self.into_function()),
            window: Box::new(window),
        })
    }
}

impl<V: ColumnType> Window for WindowFn<V> {
    type Value = V;
    fn into_function(self) -> SqlExpr {
        self.node
    }
}

impl<V: ColumnType> Window for Expr<V> {
    type Value = V;
    fn into_function(self) -> SqlExpr {
        self.into_node()
    }
}

/// An aggregate's `FILTER (WHERE …)`: `count(User::id).filter(User::name.like("a%"))` counts
/// only the rows that pass. PostgreSQL and SQLite;
/// [`Error::Unsupported`](crate::Error::Unsupported) on MySQL, which has no `FILTER`.
pub trait AggregateFilter: Sized {
    /// The aggregate's type.
    type Value: ColumnType;
    /// `self FILTER (WHERE condition)`.
    fn filter<C: AsExpr<bool>>(self, condition: C) -> Expr<Self::Value>;
}

impl<V: ColumnType> AggregateFilter for Expr<V> {
    type Value = V;
    fn filter<C: AsExpr<bool>>(self, condition: C) -> Expr<V> {
        Expr::new(SqlExpr::Filter {
            func: Box::new(self.into_node()),
            condition: Box::new(condition.into_expr()),
        })
    }
}
