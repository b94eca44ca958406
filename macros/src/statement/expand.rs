//! Builder calls for checked `select!`, `insert!`, `update!` and `delete!`.
//!
//! Columns and Rust values are written as the user wrote them, comparisons and column methods
//! become `::quarry::Expression` calls, arithmetic `core::ops` calls and SQL functions
//! `::quarry::func` calls, all spanned at the user's tokens, so a type error (`User::id == "x"`)
//! is reported at `"x"`. On error the statement becomes a stub: the compile errors, and the
//! builder calls without the parts holding a mistake, so that rustc still reports the mistakes
//! only it can see (an unknown column, a value of the wrong type) and nothing that follows
//! from the macro's own errors; the stub's value has rustc's error type, so the user's code
//! around it adds no errors either.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use std::cell::RefCell;
use syn::spanned::Spanned;

use syn::{BinOp, ExprMacro, Ident, Path, UnOp};

use super::ast::{
    DmlPlan, Item, ItemKind, Select, SelectPlan, Sql, Value, column_path, table_path,
};
use super::parse::CORRELATE;

/// The methods of `::quarry::Expression`, called through the trait.
pub(super) const EXPRESSION_METHODS: &[&str] = &[
    "and",
    "asc",
    "between",
    "desc",
    "eq",
    "ge",
    "gt",
    "in_",
    "into_sql",
    "is_distinct_from",
    "is_not_distinct_from",
    "is_not_null",
    "is_null",
    "label",
    "le",
    "like",
    "lt",
    "ne",
    "not",
    "not_between",
    "not_in",
    "not_like",
    "or",
];

/// Writes the checked expressions of one statement.
struct Writer<'p> {
    /// The names a nested `select!` may correlate to.
    correlate: &'p [String],
    /// For a static call site (the zero-render path): its Rust values become slots.
    slots: Option<RefCell<Slots>>,
}

/// The Rust values of a static `select!`, evaluated once before the statement is built, and
/// what the zero-render path must know of the rest.
#[derive(Default)]
pub(super) struct Slots {
    /// Each slot's expression and the name it is bound to.
    values: Vec<(Ident, TokenStream)>,
    /// Literals: parameters whose value is the call site's own.
    constants: usize,
    /// Every table type the statement names (a call site in a generic function is one
    /// `static` for all its instances).
    tables: Vec<TokenStream>,
}

impl Writer<'_> {
    /// A Rust value or a column as written; on a static call site a value that is not a
    /// literal becomes the name of its slot.
    fn value(&self, tokens: &TokenStream) -> TokenStream {
        let Some(slots) = &self.slots else {
            return tokens.clone();
        };
        let mut slots = slots.borrow_mut();
        match syn::parse2::<syn::Expr>(tokens.clone()) {
            Ok(e) if column_path(&e).is_some() => {
                if let Some(path) = column_path(&e) {
                    let table = path.segments.iter().take(path.segments.len() - 1);
                    let colon = &path.leading_colon;
                    slots.tables.push(quote!(#colon #(#table)::*));
                }
                tokens.clone()
            }
            Ok(e) if is_constant(&e) => {
                slots.constants += 1;
                tokens.clone()
            }
            _ => {
                let name = Ident::new(
                    &format!("__quarry_slot_{}", slots.values.len()),
                    tokens.span().resolved_at(Span::mixed_site()),
                );
                slots.values.push((name.clone(), tokens.clone()));
                name.into_token_stream()
            }
        }
    }

    fn table(&self, path: &Path) {
        if let Some(slots) = &self.slots {
            slots.borrow_mut().tables.push(path.to_token_stream());
        }
    }
}

/// A literal, or literals under `-` and arithmetic: a value the call site fixes.
fn is_constant(e: &syn::Expr) -> bool {
    match e {
        syn::Expr::Lit(_) => true,
        syn::Expr::Paren(p) => is_constant(&p.expr),
        syn::Expr::Group(g) => is_constant(&g.expr),
        syn::Expr::Unary(u) => matches!(u.op, UnOp::Neg(_)) && is_constant(&u.expr),
        syn::Expr::Binary(b) => is_constant(&b.left) && is_constant(&b.right),
        _ => false,
    }
}

impl Writer<'_> {
    /// The tokens of `sql`; `None` when it holds a mistake (only on error).
    fn sql(&self, sql: &Sql<'_>) -> Option<TokenStream> {
        Some(match sql {
            Sql::Invalid => return None,
            Sql::Verbatim(tokens) => self.value(tokens),
            Sql::Method {
                call,
                receiver,
                args,
            } => {
                let receiver = self.sql(receiver)?;
                let args = self.all(args)?;
                let method = &call.method;
                let turbofish = &call.turbofish;
                // JSON element access lives on a trait of its own (cargo feature serde_json).
                let on_row_value = matches!(&*call.receiver, syn::Expr::Call(c)
                    if matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("tuple_")));
                if on_row_value {
                    // `tuple_(…).in_(…)`: a row value's own method.
                    return Some(quote_spanned! {method.span()=>
                        (#receiver).#method #turbofish(#(#args),*)
                    });
                }
                let owner = if method == "get" || method == "get_text" {
                    quote_spanned!(method.span()=> ::quarry::sql::JsonExpression)
                } else if method == "contains" {
                    // An array's `@>` or a text search, by the receiver's type: method syntax
                    // with both traits in scope (each is implemented for its types only).
                    return Some(quote_spanned! {method.span()=> {
                        #[allow(unused_imports)]
                        use ::quarry::ArrayExpression as _;
                        #[allow(unused_imports)]
                        use ::quarry::TextExpression as _;
                        (#receiver).contains(#(#args),*)
                    }});
                } else if method == "startswith" || method == "endswith" || method == "ilike" {
                    quote_spanned!(method.span()=> ::quarry::TextExpression)
                } else if method == "any" {
                    // So are the operators of PostgreSQL arrays.
                    quote_spanned!(method.span()=> ::quarry::ArrayExpression)
                } else if method == "over" {
                    quote_spanned!(method.span()=> ::quarry::func::Window)
                } else if method == "filter" {
                    quote_spanned!(method.span()=> ::quarry::func::AggregateFilter)
                } else if method == "partition_by"
                    || method == "order_by"
                    || method == "rows_between"
                    || method == "range_between"
                {
                    quote_spanned!(method.span()=> ::quarry::func::WindowSpec)
                } else if method == "when" || method == "else_" {
                    quote_spanned!(method.span()=> ::quarry::func::Case)
                } else if method == "nulls_first" || method == "nulls_last" {
                    // Of a term (`User::id.desc().nulls_last()`) or of an expression.
                    quote_spanned!(method.span()=> ::quarry::IntoOrderBy::into_order_by)
                } else if EXPRESSION_METHODS.contains(&method.to_string().as_str()) {
                    quote_spanned!(method.span()=> ::quarry::Expression)
                } else {
                    // Not one of Quarry's: method syntax, so that rustc reports "no method
                    // named `…` found for … `Column<…>`" (or finds the user's own trait).
                    return Some(quote_spanned! {method.span()=>
                        (#receiver).#method #turbofish(#(#args),*)
                    });
                };
                if method == "nulls_first" || method == "nulls_last" {
                    return Some(quote_spanned! {method.span()=>
                        #owner(#receiver).#method()
                    });
                }
                quote_spanned! {method.span()=>
                    #owner::#method #turbofish(#receiver #(, #args)*)
                }
            }
            Sql::Call {
                call,
                function,
                args,
            } => {
                let args = self.all(args)?;
                let span = call.func.span();
                let func = match function.as_deref() {
                    None => call.func.to_token_stream(),
                    Some("exists") => quote_spanned!(span=> ::quarry::exists),
                    Some("excluded") => quote_spanned!(span=> ::quarry::excluded),
                    Some(name) => {
                        let ident = Ident::new(name, span);
                        // Generic arguments as written: `cast::<i64>(…)`.
                        let generics = match &*call.func {
                            syn::Expr::Path(p) => p
                                .path
                                .segments
                                .last()
                                .map(|s| s.arguments.to_token_stream()),
                            _ => None,
                        };
                        match generics {
                            Some(g) if !g.is_empty() => {
                                quote_spanned!(span=> ::quarry::func::#ident #g)
                            }
                            _ => quote_spanned!(span=> ::quarry::func::#ident),
                        }
                    }
                };
                quote_spanned!(span=> #func(#(#args),*))
            }
            Sql::Subquery(m) => self.nested_select(m),
            Sql::List { array, items } => {
                let items = self.all(items)?;
                quote_spanned!(array.span()=> [#(::quarry::func::in_item(#items)),*])
            }
            Sql::Unary { op, inner } => {
                let inner = self.sql(inner)?;
                match op {
                    UnOp::Neg(_) => quote_spanned!(op.span()=> ::core::ops::Neg::neg(#inner)),
                    _ => quote_spanned!(op.span()=> ::quarry::Expression::not(#inner)),
                }
            }
            Sql::Logical { op, left, right } => {
                let (l, r) = match (self.sql(left), self.sql(right)) {
                    (Some(l), Some(r)) => (l, r),
                    // In a stub, what is left of a condition after a mistake is cut out.
                    (Some(one), None) | (None, Some(one)) => return Some(one),
                    (None, None) => return None,
                };
                let method = match op {
                    BinOp::Or(_) => Ident::new("or", op.span()),
                    _ => Ident::new("and", op.span()),
                };
                quote_spanned!(op.span()=> ::quarry::Expression::#method(#l, #r))
            }
            Sql::Arithmetic { op, left, right } => {
                let (trait_name, method) = arithmetic(op);
                let l = self.sql(left)?;
                let r = self.sql(right)?;
                quote_spanned!(op.span()=> ::core::ops::#trait_name::#method(#l, #r))
            }
            Sql::ValueFirst { op, left, right } => {
                let (trait_name, _) = arithmetic(op);
                let left = self.value(&left.to_token_stream());
                let r = self.sql(right)?;
                quote_spanned! {op.span()=>
                    ::quarry::__private::value_first(
                        #left, ::quarry::__private::BinOp::#trait_name, #r)
                }
            }
            Sql::Compare {
                op,
                method,
                receiver,
                argument,
                argument_span,
            } => {
                let method = Ident::new(method, op.span());
                let receiver = self.sql(receiver)?;
                let argument = self.sql(argument)?;
                quote_spanned!(*argument_span=> ::quarry::Expression::#method(#receiver, #argument))
            }
            Sql::NullTest {
                none,
                method,
                value,
            } => {
                let test = Ident::new(method, none.span());
                let value = self.sql(value)?;
                quote_spanned!(none.span()=> ::quarry::Expression::#test(#value))
            }
        })
    }

    fn all(&self, sqls: &[Sql<'_>]) -> Option<Vec<TokenStream>> {
        sqls.iter().map(|s| self.sql(s)).collect()
    }

    /// A nested `select!`: told the tables it may correlate to.
    fn nested_select(&self, m: &ExprMacro) -> TokenStream {
        let path = &m.mac.path;
        let tokens = &m.mac.tokens;
        let correlate = Ident::new(CORRELATE, Span::call_site());
        let names = self
            .correlate
            .iter()
            .map(|n| Ident::new(n, Span::call_site()));
        quote_spanned!(path.span()=> #path!(#correlate(#(#names),*) #tokens))
    }

    /// One select item; the items of a left-joined table become `Option`s.
    fn item(&self, item: &Item<'_>) -> Option<TokenStream> {
        let tokens = match &item.kind {
            ItemKind::Table(path) => {
                self.table(path);
                quote_spanned!(path.span()=> ::quarry::all::<#path>())
            }
            // A scalar subquery: a `Select` is a select item whose value may be NULL.
            ItemKind::Subquery(m) => self.nested_select(m),
            ItemKind::Expr(sql) => self.sql(sql)?,
        };
        Some(if item.nullable {
            quote_spanned!(item.expr.span()=> ::quarry::nullable(#tokens))
        } else {
            tokens
        })
    }
}

/// `{offset}` as `offset`: braces mark a Rust value (a variable named like a keyword); kept,
/// they would trip `unused_braces` in the user's crate.
fn unbraced(e: &syn::Expr) -> TokenStream {
    if let syn::Expr::Block(b) = e
        && let [syn::Stmt::Expr(inner, None)] = b.block.stmts.as_slice()
        && b.attrs.is_empty()
        && b.label.is_none()
    {
        return inner.to_token_stream();
    }
    e.to_token_stream()
}

/// The `core::ops` trait and method of an arithmetic operator.
fn arithmetic(op: &BinOp) -> (Ident, Ident) {
    let (trait_name, method) = match op {
        BinOp::Add(_) => ("Add", "add"),
        BinOp::Sub(_) => ("Sub", "sub"),
        BinOp::Mul(_) => ("Mul", "mul"),
        BinOp::Div(_) => ("Div", "div"),
        _ => ("Rem", "rem"),
    };
    (
        Ident::new(trait_name, op.span()),
        Ident::new(method, op.span()),
    )
}

/// The statement with its `static` SQL cache, or on error the stub: `chain` (else the
/// `loose` expressions, each on its own) evaluated and dropped, then the errors, the last of
/// which is the block's value.
fn finish(
    checked: Result<(), syn::Error>,
    chain: Option<TokenStream>,
    loose: impl FnOnce() -> Vec<TokenStream>,
) -> TokenStream {
    match (checked, chain) {
        (Ok(()), Some(chain)) => quote! {{
            static __QUARRY_SQL: ::quarry::SqlCache = ::quarry::SqlCache::new();
            #chain.cached(&__QUARRY_SQL)
        }},
        (checked, chain) => {
            let parts = match chain {
                Some(chain) => vec![chain],
                None => loose(),
            };
            let errors = checked.err().map(|e| e.to_compile_error());
            quote! {{
                #(let _ = #parts;)*
                #errors
            }}
        }
    }
}

pub(crate) fn select(
    s: &Select,
    plan: &SelectPlan<'_>,
    checked: Result<(), syn::Error>,
) -> TokenStream {
    if checked.is_ok() && super::fast::eligible(s, plan) {
        let w = Writer {
            correlate: &plan.correlate,
            slots: Some(RefCell::default()),
        };
        if let Some(chain) = select_chain(&w, s, plan)
            && let Some(slots) = w.slots
        {
            let slots = slots.into_inner();
            if slots.values.len() <= super::fast::MAX_SLOTS {
                return super::fast::select(&chain, &slots.values, slots.constants, &slots.tables);
            }
        }
    }
    let w = Writer {
        correlate: &plan.correlate,
        slots: None,
    };
    let chain = select_chain(&w, s, plan);
    finish(checked, chain, || {
        let joins = plan.joins.iter().map(|j| &j.on);
        let conditions = joins.chain(&plan.filter).chain(&plan.having);
        let terms = plan
            .group_by
            .iter()
            .chain(plan.order_by.iter().map(|t| &t.0));
        conditions.chain(terms).filter_map(|t| w.sql(t)).collect()
    })
}

fn select_chain(w: &Writer<'_>, s: &Select, plan: &SelectPlan<'_>) -> Option<TokenStream> {
    let items: Vec<TokenStream> = plan.items.iter().filter_map(|i| w.item(i)).collect();
    let list = match items.as_slice() {
        [] => return None,
        [one] => one.clone(),
        many => quote!((#(#many),*)),
    };
    let mut out = quote!(::quarry::select(#list));
    if s.distinct {
        out = quote!(#out.distinct());
    }
    for term in plan.distinct_on.iter().filter_map(|t| w.sql(t)) {
        out = quote!(#out.distinct_on(#term));
    }
    for from in &plan.from {
        if let Some(path) = table_path(from) {
            w.table(path);
        }
        let from = from_table(from);
        out = quote!(#out.from(#from));
    }
    out = joins(w, out, &plan.joins);
    if let Some(cond) = plan.filter.as_ref().and_then(|f| w.sql(f)) {
        out = quote!(#out.filter(#cond));
    }
    for term in plan.group_by.iter().filter_map(|t| w.sql(t)) {
        out = quote!(#out.group_by(#term));
    }
    if let Some(cond) = plan.having.as_ref().and_then(|h| w.sql(h)) {
        out = quote!(#out.having(#cond));
    }
    for (term, direction) in &plan.order_by {
        let Some(column) = w.sql(term) else { continue };
        let term = match direction {
            Some(d) if d.to_string().eq_ignore_ascii_case("DESC") => {
                quote_spanned!(d.span()=> ::quarry::Expression::desc(#column))
            }
            Some(d) => quote_spanned!(d.span()=> ::quarry::Expression::asc(#column)),
            None => column,
        };
        out = quote!(#out.order_by(#term));
    }
    if let Some(limit) = &s.limit {
        let value = w.value(&unbraced(limit));
        out = quote_spanned!(limit.span()=> #out.limit(#value));
    }
    if let Some(offset) = &s.offset {
        let value = w.value(&unbraced(offset));
        out = quote_spanned!(offset.span()=> #out.offset(#value));
    }
    // `JOIN LATERAL sub`: the variable made lateral first, so its columns name that one.
    let laterals = plan.joins.iter().filter(|j| j.lateral).map(|j| j.table);
    let laterals: Vec<_> = laterals.collect();
    if !laterals.is_empty() {
        out = quote!(({ #(let #laterals = (#laterals).lateral();)* #out }));
    }
    if let Some(lock) = &s.lock {
        let span = lock.keyword.span();
        out = if lock.share {
            quote_spanned!(span=> #out.for_share())
        } else {
            quote_spanned!(span=> #out.for_update())
        };
        for table in &lock.of {
            if let Some(path) = table_path(table) {
                w.table(path);
            }
            let table = from_table(table);
            out = quote_spanned!(span=> #out.of(#table));
        }
        if lock.nowait {
            out = quote_spanned!(span=> #out.nowait());
        }
        if lock.skip_locked {
            out = quote_spanned!(span=> #out.skip_locked());
        }
    }
    Some(out)
}

/// `out` followed by a call per join; a join with joins nested in it joins
/// `::quarry::joined(table).join(…)`.
fn joins(w: &Writer<'_>, mut out: TokenStream, joins: &[super::ast::JoinPlan<'_>]) -> TokenStream {
    for join in joins {
        let Some(on) = w.sql(&join.on) else { continue };
        if let Some(path) = table_path(join.table) {
            w.table(path);
        }
        let mut table = from_table(join.table);
        if !join.nested.is_empty() {
            table = self::joins(w, quote!(::quarry::joined(#table)), &join.nested);
        }
        let method = if join.full {
            quote_spanned!(join.keyword.span()=> full_join)
        } else if join.outer {
            quote_spanned!(join.keyword.span()=> left_join)
        } else {
            quote_spanned!(join.keyword.span()=> join)
        };
        out = quote!(#out.#method(#table, #on));
    }
    out
}

/// A `FROM`/`JOIN` table: `::quarry::all::<User>()`, or a variable — an alias, a subquery
/// (derived table), a table defined at run time — borrowed, so that its columns can still be
/// named after it (`named.col(User::id)`).
fn from_table(e: &syn::Expr) -> TokenStream {
    match table_path(e) {
        Some(path) => quote_spanned!(path.span()=> ::quarry::all::<#path>()),
        None => quote_spanned!(e.span()=> &#e),
    }
}

pub(crate) fn update(plan: &DmlPlan<'_>, checked: Result<(), syn::Error>) -> TokenStream {
    let chain = plan.table.map(|table| {
        let start = quote_spanned!(table.span()=> <#table as ::quarry::Table>::update());
        dml_chain(plan, table, start, ("set_expr", "set"))
    });
    finish(checked, chain, || loose_values(plan))
}

pub(crate) fn delete(plan: &DmlPlan<'_>, checked: Result<(), syn::Error>) -> TokenStream {
    let chain = plan.table.map(|table| {
        // `delete!(u WHERE …)` through an alias variable: `DELETE FROM users AS u`.
        let alias = table
            .get_ident()
            .filter(|t| t.to_string().starts_with(char::is_lowercase));
        let start = match alias {
            Some(alias) => quote_spanned!(table.span()=> (#alias).delete()),
            None => quote_spanned!(table.span()=> <#table as ::quarry::Table>::delete()),
        };
        dml_chain(plan, table, start, ("set_expr", "set"))
    });
    finish(checked, chain, || loose_values(plan))
}

pub(crate) fn insert(plan: &DmlPlan<'_>, checked: Result<(), syn::Error>) -> TokenStream {
    let chain = plan.table.map(|table| {
        let start = quote_spanned!(table.span()=> ::quarry::__private::insert_into::<#table>());
        dml_chain(plan, table, start, ("value_expr", "value"))
    });
    // The NOT NULL columns without a default that the struct expression leaves out: a
    // compile error at the table's name, listing them (a `const` the compiler evaluates).
    let check = plan.table.filter(|_| checked.is_ok()).map(|table| {
        let name = table
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let given = plan.values.iter().map(|(field, _)| field.to_string());
        quote_spanned! {table.span()=>
            const _: () = ::quarry::__private::check_insert(
                #name,
                <#table>::__QUARRY_INSERT,
                &[#(#given),*],
            );
        }
    });
    let statement = finish(checked, chain, || loose_values(plan));
    match check {
        Some(check) => quote!({ #check #statement }),
        None => statement,
    }
}

/// `start` followed by a call per value (`methods`: for `NULL`, for a value) and the filter.
fn dml_chain(
    plan: &DmlPlan<'_>,
    table: &Path,
    start: TokenStream,
    (null_method, method): (&str, &str),
) -> TokenStream {
    let w = Writer {
        correlate: &plan.correlate,
        slots: None,
    };
    let mut out = start;
    for (name, value) in &plan.values {
        let column = quote_spanned!(name.span()=> <#table>::#name);
        out = match value {
            Value::Null(none) => {
                let method = Ident::new(null_method, none.span());
                quote_spanned! {none.span()=>
                    #out.#method(#column.index(), ::quarry::__private::null_of(#column))
                }
            }
            Value::Sql { span, sql } => {
                let Some(value) = w.sql(sql) else { continue };
                let method = Ident::new(method, *span);
                quote_spanned!(*span=> #out.#method(#column, #value))
            }
        };
    }
    if let Some(cond) = plan.filter.as_ref().and_then(|f| w.sql(f)) {
        out = quote!(#out.filter(#cond));
    }
    out
}

/// Without a table, the values and the filter on their own.
fn loose_values(plan: &DmlPlan<'_>) -> Vec<TokenStream> {
    let w = Writer {
        correlate: &plan.correlate,
        slots: None,
    };
    let values = plan.values.iter().filter_map(|(_, v)| match v {
        Value::Sql { sql, .. } => Some(sql),
        Value::Null(_) => None,
    });
    values
        .chain(&plan.filter)
        .filter_map(|sql| w.sql(sql))
        .collect()
}

/// `INSERT … SELECT`: `<Archive as Table>::insert_from((Archive::id, …), select)`.
pub(crate) fn insert_from(from: &super::parse::InsertFrom) -> TokenStream {
    let table = &from.table;
    let columns: Vec<TokenStream> = from
        .columns
        .iter()
        .map(|c| quote_spanned!(c.span()=> <#table>::#c))
        .collect();
    let list = match columns.as_slice() {
        [one] => one.clone(),
        many => quote!((#(#many),*)),
    };
    let source = &from.source;
    quote_spanned! {table.span()=> {
        static __QUARRY_SQL: ::quarry::SqlCache = ::quarry::SqlCache::new();
        <#table as ::quarry::Table>::insert_from(#list, #source).cached(&__QUARRY_SQL)
    }}
}
