//! The zero-render path of `select!` (see `quarry_core::sql::fast`): which call sites may
//! take it, decided from the statement as written, and the block they expand to.
//!
//! A call site is *static* when every part of it renders the same SQL whatever its Rust
//! values are — as far as syntax can tell: the select list names tables, columns and the
//! known functions below over such expressions; `FROM`, `JOIN` and `FOR UPDATE OF` name
//! table types (no alias, no subquery, no table built at run time); conditions and terms are
//! comparisons, `&&`, `||`, `!`, `== None`, arithmetic, and the methods below (no `in_`: a
//! list's length is the SQL's); no nested `select!`, no function of the user's (which could
//! build anything), no turbofish (`cast::<T>` in a generic function). The values' types are
//! decided at run time by the core (an `Option` or a column is dynamic), per dialect.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Ident;

use super::ast::{ItemKind, JoinPlan, Select, SelectPlan, Sql, table_path};
use super::expand::EXPRESSION_METHODS;

/// The most Rust values a static call site binds (the core keeps them inline).
pub(super) const MAX_SLOTS: usize = 8;

/// The `Expression` methods whose SQL depends on their arguments' values (`in_`: a list's
/// length) or on what they are given (`into_sql`); the others' does not.
const DYNAMIC_METHODS: &[&str] = &["in_", "into_sql", "not_in"];

/// SQL functions whose SQL does not depend on their arguments' values.
const FUNCTIONS: &[&str] = &[
    "abs",
    "avg",
    "coalesce",
    "count",
    "count_star",
    "length",
    "lower",
    "max",
    "min",
    "sum",
    "upper",
];

/// Whether the call site is static (see the module docs).
pub(super) fn eligible(s: &Select, plan: &SelectPlan<'_>) -> bool {
    let tables_only = |e: &syn::Expr| table_path(e).is_some();
    s.correlate.is_empty()
        && plan.items.iter().all(|i| match &i.kind {
            ItemKind::Table(_) => true,
            ItemKind::Subquery(_) => false,
            // A bare value in the select list (an alias variable, a labeled expression …)
            // is not known to be static.
            ItemKind::Expr(Sql::Verbatim(_)) => super::ast::column_path(i.expr).is_some(),
            ItemKind::Expr(sql) => static_sql(sql),
        })
        && plan.from.iter().all(|f| tables_only(f))
        && static_joins(&plan.joins)
        && plan.distinct_on.iter().all(static_sql)
        && plan.filter.as_ref().is_none_or(static_sql)
        && plan.group_by.iter().all(static_sql)
        && plan.having.as_ref().is_none_or(static_sql)
        && plan.order_by.iter().all(|(t, _)| static_sql(t))
        && s.lock.as_ref().is_none_or(|l| l.of.iter().all(tables_only))
}

/// Joins of table types on static conditions, nested ones too; a `LATERAL` join's right side
/// is a subquery built at run time.
fn static_joins(joins: &[JoinPlan<'_>]) -> bool {
    joins.iter().all(|j| {
        !j.lateral && table_path(j.table).is_some() && static_sql(&j.on) && static_joins(&j.nested)
    })
}

fn static_sql(sql: &Sql<'_>) -> bool {
    match sql {
        // A list's length is the SQL's.
        Sql::Invalid | Sql::Subquery(_) | Sql::List { .. } => false,
        Sql::Verbatim(_) => true,
        Sql::Method {
            call,
            receiver,
            args,
        } => {
            let method = call.method.to_string();
            call.turbofish.is_none()
                && EXPRESSION_METHODS.contains(&method.as_str())
                && !DYNAMIC_METHODS.contains(&method.as_str())
                && static_sql(receiver)
                && args.iter().all(static_sql)
        }
        Sql::Call {
            call,
            function,
            args,
        } => {
            let plain = match &*call.func {
                syn::Expr::Path(p) => p.path.segments.iter().all(|s| s.arguments.is_none()),
                _ => false,
            };
            plain
                && function.as_deref().is_some_and(|f| FUNCTIONS.contains(&f))
                && args.iter().all(static_sql)
        }
        Sql::Unary { inner, .. } => static_sql(inner),
        Sql::Logical { left, right, .. } | Sql::Arithmetic { left, right, .. } => {
            static_sql(left) && static_sql(right)
        }
        Sql::ValueFirst { right, .. } => static_sql(right),
        Sql::Compare {
            receiver, argument, ..
        } => static_sql(receiver) && static_sql(argument),
        Sql::NullTest { value, .. } => static_sql(value),
    }
}

/// The block of a static call site: the slots evaluated once (in a `match`, so that their
/// temporaries live as long as they did inside the builder chain), then either the learned
/// statement with the slots' values, or `chain` — learning from it when the site is new.
pub(super) fn select(
    chain: &TokenStream,
    values: &[(Ident, TokenStream)],
    constants: usize,
    tables: &[TokenStream],
) -> TokenStream {
    let names: Vec<&Ident> = values.iter().map(|(n, _)| n).collect();
    let exprs = values.iter().map(|(_, e)| e);
    let mut seen: Vec<String> = Vec::new();
    let tables: Vec<&TokenStream> = tables
        .iter()
        .filter(|t| {
            let key = t.to_string();
            let new = !seen.contains(&key);
            seen.push(key);
            new
        })
        .collect();
    quote! {{
        static __QUARRY_SQL: ::quarry::SqlCache = ::quarry::SqlCache::new();
        static __QUARRY_FAST: ::quarry::__private::FastSite<::quarry::__private::SelectStmt> =
            ::quarry::__private::FastSite::new(#constants);
        #[allow(unused_imports)]
        use ::quarry::__private::{
            Bindable as _, NotBindable as _, NotTakeable as _, Takeable as _,
        };
        #[allow(unused_parens, clippy::double_parens)]
        match (#(#exprs,)*) {
            (#(#names,)*) => {
                let __quarry_tables = ::quarry::__private::tables_name::<(#(#tables,)*)>();
                let __quarry_decision = __QUARRY_FAST.check(
                    __quarry_tables,
                    &[#((&::quarry::__private::Probe(&#names)).bindable()),*],
                );
                if let ::quarry::__private::Decision::Ready(__quarry_template) = __quarry_decision {
                    ::quarry::__private::fast_select(
                        __quarry_template,
                        &__QUARRY_FAST,
                        &__QUARRY_SQL,
                        [#((&::quarry::__private::Take::new(#names)).take()),*],
                    )
                } else {
                    let __quarry_values = ::core::matches!(
                        __quarry_decision,
                        ::quarry::__private::Decision::Learn
                    )
                    .then(|| [#((&::quarry::__private::Probe(&#names)).value()),*]);
                    #chain.cached(&__QUARRY_SQL).learning(&__QUARRY_FAST, __quarry_tables, __quarry_values)
                }
            }
        }
    }}
}
