//! Builder calls for `select!`, `insert!`, `update!` and `delete!`.
//!
//! A path `Table::column` is a column; `alias.col(Table::column)` a column of an alias; calls of
//! SQL functions (`count`, `max`, …, `exists`) become `::quarry::func` calls; anything else is a
//! Rust value, bound as a parameter. Operators become calls of `::quarry::Expression` methods or
//! of `core::ops` (arithmetic), spanned at the user's tokens, so a type error (`User::id == "x"`)
//! is reported at `"x"`. Every column is checked against the tables of the statement (its
//! `FROM`/`JOIN`, or the select list when there is no `FROM`, plus the tables of the enclosing
//! statements a nested `select!` correlates to), so a column of a missing table is an error at
//! that column.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, ExprBinary, ExprMacro, ExprMethodCall, ExprStruct, Member, Path, UnOp};

use super::parse::{CORRELATE, Delete, Select, Update};
use crate::ctxt::hint;

/// SQL functions `select!` knows; they become `::quarry::func::<name>(…)`.
const FUNCTIONS: &[&str] = &[
    "count", "sum", "avg", "min", "max", "lower", "upper", "coalesce", "length",
];

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
}

/// `Table::column` (or `module::Table::column`): a path whose last segment starts lower case
/// and whose second-to-last starts upper case.
fn column_path(e: &Expr) -> Option<&Path> {
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

/// A table type: a path whose last segment starts upper case (`User`, `models::User`).
fn table_path(e: &Expr) -> Option<&Path> {
    let Expr::Path(p) = strip(e) else { return None };
    let last = p.path.segments.last()?;
    (p.qself.is_none() && !p.path.is_ident("None"))
        .then_some(())
        .filter(|()| last.ident.to_string().starts_with(char::is_uppercase))
        .map(|()| &p.path)
}

/// A single lower-case identifier: possibly an alias variable.
fn plain_ident(e: &Expr) -> Option<String> {
    let Expr::Path(p) = strip(e) else { return None };
    let id = p.path.get_ident()?.to_string();
    id.starts_with(|c: char| c.is_lowercase() || c == '_')
        .then_some(id)
}

fn last_segment(path: &Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// `manager.col(User::id)`: a column read through an alias.
fn alias_column(m: &ExprMethodCall) -> Option<String> {
    (m.method == "col" && m.args.len() == 1 && column_path(&m.args[0]).is_some())
        .then(|| plain_ident(&m.receiver))
        .flatten()
}

fn is_none(e: &Expr) -> bool {
    matches!(strip(e), Expr::Path(p) if p.path.is_ident("None"))
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        other => other,
    }
}

fn select_macro(e: &Expr) -> Option<&ExprMacro> {
    let Expr::Macro(m) = strip(e) else {
        return None;
    };
    (last_segment(&m.mac.path) == "select").then_some(m)
}

fn function_name(e: &Expr) -> Option<String> {
    let Expr::Path(p) = e else { return None };
    p.path.get_ident().map(ToString::to_string)
}

impl Scope {
    fn for_table(table: &Path, fix: &'static str) -> Scope {
        Scope {
            tables: vec![last_segment(table)],
            aliases: Vec::new(),
            nullable: Vec::new(),
            outer: Vec::new(),
            fix,
        }
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.tables
            .iter()
            .chain(&self.aliases)
            .chain(&self.outer)
            .map(String::as_str)
    }

    fn check(&self, name: &str, at: &dyn ToTokens) -> syn::Result<()> {
        if self.names().any(|n| n == name) {
            return Ok(());
        }
        Err(syn::Error::new_spanned(
            at,
            format!(
                "`{name}` is not among this statement's tables ({}); {}{}",
                self.names().collect::<Vec<_>>().join(", "),
                self.fix.replace("{}", name),
                hint(name, self.names())
            ),
        ))
    }

    /// Whether `e` is (or contains, at its top) an SQL expression rather than a Rust value.
    fn is_sql(&self, e: &Expr) -> bool {
        match strip(e) {
            Expr::Path(_) => column_path(strip(e)).is_some(),
            Expr::MethodCall(m) => alias_column(m).is_some() || self.is_sql(&m.receiver),
            Expr::Call(c) => self.sql_function(c).is_some(),
            Expr::Macro(_) => select_macro(e).is_some(),
            Expr::Binary(b) => self.is_sql(&b.left) || self.is_sql(&b.right),
            Expr::Unary(u) => self.is_sql(&u.expr),
            _ => false,
        }
    }

    /// The path to call for an SQL function call, if `c` is one: a known name with at least
    /// one SQL argument, or `count()`.
    fn sql_function(&self, c: &syn::ExprCall) -> Option<TokenStream> {
        let name = function_name(&c.func)?;
        let span = c.func.span();
        if name == "count" && c.args.is_empty() {
            return Some(quote_spanned!(span=> ::quarry::func::count_star));
        }
        if !c.args.iter().any(|a| self.is_sql(a)) {
            return None;
        }
        let ident = syn::Ident::new(&name, span);
        match name.as_str() {
            "exists" => Some(quote_spanned!(span=> ::quarry::exists)),
            "excluded" => Some(quote_spanned!(span=> ::quarry::excluded)),
            n if FUNCTIONS.contains(&n) => Some(quote_spanned!(span=> ::quarry::func::#ident)),
            _ => None,
        }
    }

    /// Translate an expression: SQL parts become builder calls, Rust values stay as written.
    fn tr(&self, e: &Expr) -> syn::Result<TokenStream> {
        match e {
            Expr::Paren(p) => return self.tr(&p.expr),
            Expr::Group(g) => return self.tr(&g.expr),
            Expr::Binary(b) => return self.binary(b),
            _ => {}
        }
        if !self.is_sql(e) {
            // `{expr}` marks a Rust value; emitted as is the braces would trip `unused_braces`
            // in the user's crate.
            if let Expr::Block(b) = e
                && let [syn::Stmt::Expr(inner, None)] = b.block.stmts.as_slice()
                && b.attrs.is_empty()
                && b.label.is_none()
            {
                return Ok(inner.to_token_stream());
            }
            return Ok(e.to_token_stream());
        }
        match e {
            Expr::Path(_) => {
                if let Some(path) = column_path(e) {
                    let segments = &path.segments;
                    let table = &segments[segments.len() - 2].ident;
                    self.check(&table.to_string(), table)?;
                }
                Ok(e.to_token_stream())
            }
            Expr::MethodCall(m) => {
                if let Some(alias) = alias_column(m) {
                    self.check(&alias, &m.receiver)?;
                    return Ok(e.to_token_stream());
                }
                let receiver = self.tr(&m.receiver)?;
                let method = &m.method;
                let turbofish = &m.turbofish;
                let args = m
                    .args
                    .iter()
                    .map(|a| self.tr(a))
                    .collect::<syn::Result<Vec<_>>>()?;
                Ok(quote_spanned! {method.span()=>
                    ::quarry::Expression::#method #turbofish(#receiver #(, #args)*)
                })
            }
            Expr::Call(c) => {
                let func = self
                    .sql_function(c)
                    .unwrap_or_else(|| c.func.to_token_stream());
                let args = c
                    .args
                    .iter()
                    .map(|a| self.tr(a))
                    .collect::<syn::Result<Vec<_>>>()?;
                Ok(quote_spanned!(c.func.span()=> #func(#(#args),*)))
            }
            Expr::Macro(m) => Ok(self.nested_select(m)),
            Expr::Unary(u) => {
                let inner = self.tr(&u.expr)?;
                match u.op {
                    UnOp::Not(_) => {
                        Ok(quote_spanned!(u.op.span()=> ::quarry::Expression::not(#inner)))
                    }
                    UnOp::Neg(_) => Ok(quote_spanned!(u.op.span()=> ::core::ops::Neg::neg(#inner))),
                    _ => Err(syn::Error::new_spanned(
                        u.op,
                        "this operator has no SQL meaning; use ! (NOT) or - (negation)",
                    )),
                }
            }
            other => Ok(other.to_token_stream()),
        }
    }

    /// A nested `select!`: told the tables it may correlate to.
    fn nested_select(&self, m: &ExprMacro) -> TokenStream {
        let path = &m.mac.path;
        let tokens = &m.mac.tokens;
        let correlate = syn::Ident::new(CORRELATE, Span::call_site());
        let names = self.names().map(|n| syn::Ident::new(n, Span::call_site()));
        quote_spanned!(path.span()=> #path!(#correlate(#(#names),*) #tokens))
    }

    fn binary(&self, b: &ExprBinary) -> syn::Result<TokenStream> {
        let op_span = b.op.span();
        let (left, right) = (strip(&b.left), strip(&b.right));
        let logical = match b.op {
            BinOp::And(_) => Some(quote_spanned!(op_span=> and)),
            BinOp::Or(_) => Some(quote_spanned!(op_span=> or)),
            _ => None,
        };
        if let Some(method) = logical {
            if !self.is_sql(left) && !self.is_sql(right) && !is_comparison(left) {
                return Ok(b.to_token_stream());
            }
            let l = self.tr(left)?;
            let r = self.tr(right)?;
            return Ok(quote_spanned!(op_span=> ::quarry::Expression::#method(#l, #r)));
        }
        let arithmetic = match b.op {
            BinOp::Add(_) => Some(("Add", "add")),
            BinOp::Sub(_) => Some(("Sub", "sub")),
            BinOp::Mul(_) => Some(("Mul", "mul")),
            BinOp::Div(_) => Some(("Div", "div")),
            BinOp::Rem(_) => Some(("Rem", "rem")),
            _ => None,
        };
        if let Some((trait_name, method)) = arithmetic {
            let trait_name = syn::Ident::new(trait_name, op_span);
            let method = syn::Ident::new(method, op_span);
            return if self.is_sql(left) {
                let l = self.tr(left)?;
                let r = self.tr(right)?;
                Ok(quote_spanned!(op_span=> ::core::ops::#trait_name::#method(#l, #r)))
            } else if self.is_sql(right) {
                let r = self.tr(right)?;
                Ok(quote_spanned! {op_span=>
                    ::quarry::__private::value_first(
                        #left, ::quarry::__private::BinOp::#trait_name, #r)
                })
            } else {
                Ok(b.to_token_stream())
            };
        }
        let (method, flipped) = match b.op {
            BinOp::Eq(_) => ("eq", "eq"),
            BinOp::Ne(_) => ("ne", "ne"),
            BinOp::Lt(_) => ("lt", "gt"),
            BinOp::Le(_) => ("le", "ge"),
            BinOp::Gt(_) => ("gt", "lt"),
            BinOp::Ge(_) => ("ge", "le"),
            _ if !self.is_sql(left) && !self.is_sql(right) => return Ok(b.to_token_stream()),
            _ => {
                return Err(syn::Error::new(
                    op_span,
                    "this operator has no SQL meaning here; use == != < <= > >= && || ! \
                     and + - * / %",
                ));
            }
        };
        // `x == None` is `x IS NULL`, as in SQLAlchemy.
        if is_none(right) || is_none(left) {
            let (value, none) = if is_none(right) {
                (left, right)
            } else {
                (right, left)
            };
            let test = match method {
                "eq" => quote_spanned!(none.span()=> is_null),
                "ne" => quote_spanned!(none.span()=> is_not_null),
                _ => {
                    return Err(syn::Error::new(
                        op_span,
                        "None can only be compared with == (IS NULL) or != (IS NOT NULL)",
                    ));
                }
            };
            let value = self.tr(value)?;
            return Ok(quote_spanned!(none.span()=> ::quarry::Expression::#test(#value)));
        }
        let (receiver, method, argument) = if self.is_sql(left) {
            (left, method, right)
        } else if self.is_sql(right) {
            (right, flipped, left)
        } else {
            return Err(syn::Error::new_spanned(
                b,
                "a comparison needs a column on one side, written Table::column \
                 (e.g. User::id == 5)",
            ));
        };
        let method = syn::Ident::new(method, op_span);
        let receiver = self.tr(receiver)?;
        let argument_span = argument.span();
        let argument = self.tr(argument)?;
        Ok(quote_spanned!(argument_span=> ::quarry::Expression::#method(#receiver, #argument)))
    }
}

fn is_comparison(e: &Expr) -> bool {
    matches!(strip(e), Expr::Binary(b) if matches!(b.op,
        BinOp::Eq(_) | BinOp::Ne(_) | BinOp::Lt(_) | BinOp::Le(_) | BinOp::Gt(_) | BinOp::Ge(_)))
}

/// `static` SQL cache for the statement built by `chain`.
fn cached(chain: TokenStream) -> TokenStream {
    quote! {{
        static __QUARRY_SQL: ::quarry::SqlCache = ::quarry::SqlCache::new();
        #chain.cached(&__QUARRY_SQL)
    }}
}

pub(crate) fn select(s: &Select) -> syn::Result<TokenStream> {
    let scope = select_scope(s)?;
    let mut items = Vec::with_capacity(s.items.len());
    for item in &s.items {
        items.push(select_item(&scope, item)?);
    }
    if items.len() > 12 {
        return Err(syn::Error::new_spanned(
            &s.items[12],
            "select! takes at most 12 items; select a table to get all its columns",
        ));
    }
    let list = match items.as_slice() {
        [one] => one.clone(),
        many => quote!((#(#many),*)),
    };
    let mut out = quote!(::quarry::select(#list));
    if s.distinct {
        out = quote!(#out.distinct());
    }
    for from in &s.from {
        let from = from_table(from);
        out = quote!(#out.from(#from));
    }
    for join in &s.joins {
        let table = from_table(&join.table);
        let on = scope.tr(&join.on)?;
        let method = if join.outer {
            quote_spanned!(join.keyword.span()=> left_join)
        } else {
            quote_spanned!(join.keyword.span()=> join)
        };
        out = quote!(#out.#method(#table, #on));
    }
    if let Some(filter) = &s.filter {
        let cond = scope.tr(filter)?;
        out = quote!(#out.filter(#cond));
    }
    for term in &s.group_by {
        let term = scope.tr(term)?;
        out = quote!(#out.group_by(#term));
    }
    if let Some(having) = &s.having {
        let cond = scope.tr(having)?;
        out = quote!(#out.having(#cond));
    }
    for (term, direction) in &s.order_by {
        let column = scope.tr(term)?;
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
        out = quote_spanned!(limit.span()=> #out.limit(#limit));
    }
    if let Some(offset) = &s.offset {
        out = quote_spanned!(offset.span()=> #out.offset(#offset));
    }
    Ok(cached(out))
}

/// The tables of a select: its `FROM` and joins, or, without `FROM`, those its select list
/// names (as SQLAlchemy derives `FROM` from the columns).
fn select_scope(s: &Select) -> syn::Result<Scope> {
    let mut scope = Scope {
        tables: Vec::new(),
        aliases: Vec::new(),
        nullable: Vec::new(),
        outer: s.correlate.iter().map(ToString::to_string).collect(),
        fix: "",
    };
    let add = |scope: &mut Scope, e: &Expr, nullable: bool| -> syn::Result<()> {
        let name = if let Some(path) = table_path(e) {
            let name = last_segment(path);
            scope.tables.push(name.clone());
            name
        } else if let Some(alias) = plain_ident(e) {
            scope.aliases.push(alias.clone());
            alias
        } else {
            return Err(syn::Error::new_spanned(
                e,
                "expected a table type (User) or an alias variable (let manager = \
                 User::alias(\"manager\"))",
            ));
        };
        if nullable {
            scope.nullable.push(name);
        }
        Ok(())
    };
    match s.from.as_slice() {
        [_, ..] => {
            scope.fix = "add it with `JOIN {} ON …`";
            for from in &s.from {
                add(&mut scope, from, false)?;
            }
            for join in &s.joins {
                add(&mut scope, &join.table, join.outer)?;
            }
        }
        [] => {
            scope.fix = "select from it, or name the tables with `FROM {} JOIN …`";
            for item in &s.items {
                collect_item_tables(&mut scope, item);
            }
        }
    }
    Ok(scope)
}

/// Without `FROM`, the tables of the select list: table items, `Table::column` prefixes and
/// alias receivers.
fn collect_item_tables(scope: &mut Scope, e: &Expr) {
    let e = strip(e);
    if let Some(path) = column_path(e) {
        let segments = &path.segments;
        let name = segments[segments.len() - 2].ident.to_string();
        if !scope.tables.contains(&name) {
            scope.tables.push(name);
        }
        return;
    }
    if let Some(path) = table_path(e) {
        let name = last_segment(path);
        if !scope.tables.contains(&name) {
            scope.tables.push(name);
        }
        return;
    }
    match e {
        Expr::MethodCall(m) => {
            if let Some(alias) = alias_column(m) {
                if !scope.aliases.contains(&alias) {
                    scope.aliases.push(alias);
                }
            } else {
                collect_item_tables(scope, &m.receiver);
                m.args.iter().for_each(|a| collect_item_tables(scope, a));
            }
        }
        Expr::Call(c) => c.args.iter().for_each(|a| collect_item_tables(scope, a)),
        Expr::Binary(b) => {
            collect_item_tables(scope, &b.left);
            collect_item_tables(scope, &b.right);
        }
        Expr::Unary(u) => collect_item_tables(scope, &u.expr),
        _ => {}
    }
}

/// A `FROM`/`JOIN` table: `::quarry::all::<User>()` or an alias variable.
fn from_table(e: &Expr) -> TokenStream {
    match table_path(e) {
        Some(path) => quote_spanned!(path.span()=> ::quarry::all::<#path>()),
        None => e.to_token_stream(),
    }
}

/// One select item; the items of a left-joined table become `Option`s.
fn select_item(scope: &Scope, e: &Expr) -> syn::Result<TokenStream> {
    let nullable_name: Option<String>;
    let item = if let Some(path) = table_path(e) {
        let name = last_segment(path);
        scope.check(&name, path)?;
        nullable_name = Some(name);
        quote_spanned!(path.span()=> ::quarry::all::<#path>())
    } else if let Some(alias) = plain_ident(e).filter(|a| scope.aliases.contains(a)) {
        nullable_name = Some(alias);
        e.to_token_stream()
    } else if let Some(m) = select_macro(e) {
        nullable_name = None;
        let nested = scope.nested_select(m);
        quote_spanned!(m.span()=> ::quarry::Select::scalar(#nested))
    } else {
        nullable_name = match strip(e) {
            Expr::MethodCall(m) => alias_column(m),
            other => column_path(other).map(|p| p.segments[p.segments.len() - 2].ident.to_string()),
        };
        scope.tr(e)?
    };
    Ok(match nullable_name {
        Some(name) if scope.nullable.contains(&name) => {
            quote_spanned!(e.span()=> ::quarry::nullable(#item))
        }
        _ => item,
    })
}

pub(crate) fn update(u: &Update) -> syn::Result<TokenStream> {
    let table = &u.table;
    let scope = Scope::for_table(
        table,
        "UPDATE changes one table; reach others through a subquery (`.in_(select!(…))`)",
    );
    let mut out = quote_spanned!(table.span()=> <#table as ::quarry::Table>::update());
    for a in &u.assignments {
        let name = &a.column;
        let column = quote_spanned!(name.span()=> <#table>::#name);
        let value = &a.value;
        out = if is_none(value) {
            quote_spanned! {value.span()=>
                #out.set_expr(#column.index(), ::quarry::__private::null_of(#column))
            }
        } else {
            let span = value.span();
            let value = scope.tr(value)?;
            quote_spanned!(span=> #out.set(#column, #value))
        };
    }
    if let Some(filter) = &u.filter {
        let cond = scope.tr(filter)?;
        out = quote!(#out.filter(#cond));
    }
    Ok(cached(out))
}

pub(crate) fn delete(d: &Delete) -> syn::Result<TokenStream> {
    let table = &d.table;
    let scope = Scope::for_table(
        table,
        "DELETE reads one table; reach others through a subquery (`exists(select!(…))`)",
    );
    let mut out = quote_spanned!(table.span()=> <#table as ::quarry::Table>::delete());
    if let Some(filter) = &d.filter {
        let cond = scope.tr(filter)?;
        out = quote!(#out.filter(#cond));
    }
    Ok(cached(out))
}

pub(crate) fn insert(s: &ExprStruct) -> syn::Result<TokenStream> {
    if let Some(rest) = &s.rest {
        return Err(syn::Error::new_spanned(
            rest,
            "insert! takes the values to insert; `..rest` has no meaning here",
        ));
    }
    if s.qself.is_some() {
        return Err(syn::Error::new_spanned(
            &s.path,
            "expected a table type, e.g. insert!(User { … })",
        ));
    }
    let table = &s.path;
    let scope = Scope::for_table(table, "INSERT values come from one table; use a subquery");
    let mut out = quote_spanned!(table.span()=> ::quarry::__private::insert_into::<#table>());
    for field in &s.fields {
        let Member::Named(name) = &field.member else {
            return Err(syn::Error::new_spanned(
                &field.member,
                "expected a column name",
            ));
        };
        let column = quote_spanned!(name.span()=> <#table>::#name);
        let value = &field.expr;
        out = if is_none(value) {
            quote_spanned! {value.span()=>
                #out.value_expr(#column.index(), ::quarry::__private::null_of(#column))
            }
        } else {
            let span = value.span();
            let value = scope.tr(value)?;
            quote_spanned!(span=> #out.value(#column, #value))
        };
    }
    Ok(cached(out))
}
