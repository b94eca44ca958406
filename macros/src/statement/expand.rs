//! Builder calls for `select!` and `insert!`.
//!
//! A path `Table::column` is a column; anything else is a Rust value, bound as a parameter.
//! Operators become calls of `::quarry::Expression` methods, spanned at the user's tokens, so a
//! type error (`User::id == "x"`) is reported at `"x"`.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{BinOp, Expr, ExprBinary, ExprStruct, Member, Path, UnOp};

use super::parse::{Delete, Select, Update};

pub(crate) fn select(s: &Select) -> syn::Result<TokenStream> {
    let table = &s.table;
    let mut out = quote_spanned!(table.span()=> <#table as ::quarry::Table>::select());
    if let Some(filter) = &s.filter {
        let cond = condition(filter)?;
        out = quote!(#out.filter(#cond));
    }
    for (term, direction) in &s.order_by {
        let column = operand(term);
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
    Ok(out)
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

fn is_none(e: &Expr) -> bool {
    matches!(e, Expr::Path(p) if p.path.is_ident("None"))
}

/// An operand: columns and values pass through as written, `(…)` is unwrapped, and a method
/// call on a column (`User::name.like("j%")`) becomes `::quarry::Expression::like(User::name,
/// "j%")`, so it works whether or not the prelude is imported.
fn operand(e: &Expr) -> TokenStream {
    match strip(e) {
        Expr::MethodCall(m) if is_expression(strip(&m.receiver)) => {
            let receiver = operand(&m.receiver);
            let method = &m.method;
            let turbofish = &m.turbofish;
            let args = m.args.iter();
            quote_spanned!(method.span()=> ::quarry::Expression::#method #turbofish(#receiver #(, #args)*))
        }
        other => quote!(#other),
    }
}

/// A `WHERE` condition as an `Expr<bool>`.
fn condition(e: &Expr) -> syn::Result<TokenStream> {
    match e {
        Expr::Paren(p) => condition(&p.expr),
        Expr::Group(g) => condition(&g.expr),
        Expr::Unary(u) if matches!(u.op, UnOp::Not(_)) => {
            let inner = condition(&u.expr)?;
            Ok(quote_spanned!(u.op.span()=> ::quarry::Expression::not(#inner)))
        }
        Expr::Binary(b) => binary(b),
        // `User::name.like("j%")`, `User::active`, `true`, `{flag}`: already conditions.
        Expr::MethodCall(_) | Expr::Path(_) | Expr::Lit(_) | Expr::Block(_) | Expr::Call(_) => {
            Ok(operand(e))
        }
        other => Err(syn::Error::new_spanned(
            other,
            "expected a condition such as `User::name == name`, `User::id > 5 && …` or \
             `User::hair_color.is_null()`",
        )),
    }
}

fn binary(b: &ExprBinary) -> syn::Result<TokenStream> {
    let op_span = b.op.span();
    let logical = match b.op {
        BinOp::And(_) => Some(quote_spanned!(op_span=> and)),
        BinOp::Or(_) => Some(quote_spanned!(op_span=> or)),
        _ => None,
    };
    if let Some(method) = logical {
        let l = condition(&b.left)?;
        let r = condition(&b.right)?;
        return Ok(quote_spanned!(op_span=> ::quarry::Expression::#method(#l, #r)));
    }
    let (method, flipped) = match b.op {
        BinOp::Eq(_) => ("eq", "eq"),
        BinOp::Ne(_) => ("ne", "ne"),
        BinOp::Lt(_) => ("lt", "gt"),
        BinOp::Le(_) => ("le", "ge"),
        BinOp::Gt(_) => ("gt", "lt"),
        BinOp::Ge(_) => ("ge", "le"),
        _ => {
            return Err(syn::Error::new(
                op_span,
                "this operator is not supported in a condition; use == != < <= > >= && || !",
            ));
        }
    };
    let (left, right) = (strip(&b.left), strip(&b.right));
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
        let value = operand(value);
        return Ok(quote_spanned!(none.span()=> ::quarry::Expression::#test(#value)));
    }
    let (receiver, method, argument) =
        if column_path(left).is_some() || column_path(right).is_none() {
            (left, method, right)
        } else {
            (right, flipped, left)
        };
    if column_path(receiver).is_none() && !is_expression(receiver) {
        return Err(syn::Error::new_spanned(
            b,
            "a comparison needs a column on one side, written Table::column (e.g. User::id == 5)",
        ));
    }
    let method = syn::Ident::new(method, op_span);
    let receiver = operand(receiver);
    let argument = operand(argument);
    Ok(quote_spanned!(argument.span()=> ::quarry::Expression::#method(#receiver, #argument)))
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        other => other,
    }
}

/// A column, or a method call on one (`User::name.lower()`), which may stand on either side of
/// a comparison.
fn is_expression(e: &Expr) -> bool {
    match strip(e) {
        Expr::MethodCall(m) => is_expression(&m.receiver),
        other => column_path(other).is_some(),
    }
}

pub(crate) fn update(u: &Update) -> syn::Result<TokenStream> {
    let table = &u.table;
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
            let value = operand(value);
            quote_spanned!(value.span()=> #out.set(#column, #value))
        };
    }
    if let Some(filter) = &u.filter {
        let cond = condition(filter)?;
        out = quote!(#out.filter(#cond));
    }
    Ok(out)
}

pub(crate) fn delete(d: &Delete) -> syn::Result<TokenStream> {
    let table = &d.table;
    let mut out = quote_spanned!(table.span()=> <#table as ::quarry::Table>::delete());
    if let Some(filter) = &d.filter {
        let cond = condition(filter)?;
        out = quote!(#out.filter(#cond));
    }
    Ok(out)
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
            quote_spanned!(value.span()=> #out.value(#column, #value))
        };
    }
    Ok(out)
}
