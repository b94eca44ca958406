//! Rules that span fields or need the field type: run after parsing, before expanding.

use std::collections::HashMap;

use syn::{Expr, ExprLit, ExprUnary, Lit, UnOp};

use super::ast::{Field, Table, option_inner, type_name};
use crate::ctxt::{Ctxt, hint};

const INTEGERS: &[&str] = &["i16", "i32", "i64"];
const FLOATS: &[&str] = &["f32", "f64"];

pub(crate) fn check(cx: &mut Ctxt, table: &Table<'_>) {
    if table.name.0.is_empty() {
        cx.push(syn::Error::new(table.name.1, "table name cannot be empty"));
    }
    check_primary_key(cx, table);
    let mut seen: HashMap<&str, &Field<'_>> = HashMap::new();
    for field in &table.fields {
        if field.name.0.is_empty() {
            cx.push(syn::Error::new(field.name.1, "column name cannot be empty"));
        }
        if let Some(first) = seen.insert(&field.name.0, field) {
            cx.push(syn::Error::new(
                field.name.1,
                format!(
                    "column name \"{}\" is already used by field `{}`; give one of them \
                     #[column(name = \"…\")]",
                    field.name.0, first.ident
                ),
            ));
        }
        check_field(cx, field);
    }
}

fn check_primary_key(cx: &mut Ctxt, table: &Table<'_>) {
    let marked: Vec<&Field<'_>> = table
        .fields
        .iter()
        .filter(|f| f.attrs.primary_key.is_some())
        .collect();
    if let Some((key, names)) = &table.attrs.primary_key {
        if let Some(f) = marked.first() {
            cx.error_spanned_by(
                &f.attrs.primary_key,
                "the primary key is already given by #[table(primary_key(…))]; remove this one",
            );
        }
        if names.is_empty() {
            cx.error_spanned_by(key, "primary_key(…) needs at least one field name");
        }
        for n in names {
            if !table.fields.iter().any(|f| f.ident == n) {
                let fields = table
                    .fields
                    .iter()
                    .map(|f| f.ident.to_string())
                    .collect::<Vec<_>>();
                cx.error_spanned_by(
                    n,
                    format!(
                        "no field named `{n}` in this struct{}",
                        hint(&n.to_string(), fields.iter().map(String::as_str))
                    ),
                );
            }
        }
    } else if marked.len() > 1 {
        let names: Vec<String> = marked.iter().map(|f| f.ident.to_string()).collect();
        for f in &marked[1..] {
            cx.error_spanned_by(
                &f.attrs.primary_key,
                format!(
                    "two fields are marked #[column(primary_key)]; for a composite key write \
                     #[table(primary_key({}))] on the struct instead",
                    names.join(", ")
                ),
            );
        }
    }
    for i in table.primary_key() {
        let f = &table.fields[i];
        if option_inner(f.ty).is_some() {
            cx.error_spanned_by(
                f.ty,
                format!(
                    "primary key `{}` cannot be an Option: primary key columns are NOT NULL",
                    f.ident
                ),
            );
        }
    }
}

/// The built-in field types that are not text, which `max_length` is refused on at once
/// (other types, such as enums, are checked by rustc against their SQL type).
const NOT_TEXT: &[&str] = &[
    "i16",
    "i32",
    "i64",
    "f32",
    "f64",
    "bool",
    "Vec",
    "NaiveDate",
    "NaiveTime",
    "NaiveDateTime",
    "DateTime",
    "Date",
    "Time",
    "PrimitiveDateTime",
    "OffsetDateTime",
    "Uuid",
    "Value",
    "Decimal",
];

fn check_field(cx: &mut Ctxt, field: &Field<'_>) {
    let base = option_inner(field.ty).unwrap_or(field.ty);
    let base_name = type_name(base);
    let known = base_name.as_deref();
    if let Some(len) = &field.attrs.max_length
        && known.is_some_and(|t| NOT_TEXT.contains(&t))
    {
        cx.error_spanned_by(
            len,
            format!(
                "max_length applies to String and #[derive(SqlEnum)] columns, but `{}` is not one",
                field.ident
            ),
        );
    }
    if let Some(auto) = &field.attrs.autoincrement
        && field.attrs.primary_key.is_none()
    {
        cx.error_spanned_by(
            auto,
            "autoincrement applies only to an integer primary key column",
        );
    }
    for (lit, _) in [&field.attrs.on_delete, &field.attrs.on_update]
        .into_iter()
        .flatten()
    {
        if field.attrs.references.is_none() {
            cx.error_spanned_by(
                lit,
                "on_delete / on_update apply to a foreign key; add references = Table::column",
            );
        }
    }
    if let (Some(default), Some(ty)) = (&field.attrs.default, known) {
        check_default(cx, default, ty);
    }
}

fn check_default(cx: &mut Ctxt, default: &Expr, ty: &str) {
    let lit = match default {
        Expr::Lit(ExprLit { lit, .. }) => lit,
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit {
                lit: l @ (Lit::Int(_) | Lit::Float(_)),
                ..
            }) => l,
            _ => return not_a_literal(cx, default),
        },
        _ => return not_a_literal(cx, default),
    };
    let fits = match lit {
        Lit::Int(_) => INTEGERS.contains(&ty) || FLOATS.contains(&ty),
        Lit::Float(_) => FLOATS.contains(&ty),
        Lit::Str(_) => ty == "String",
        Lit::Bool(_) => ty == "bool",
        _ => false,
    };
    let known = INTEGERS.contains(&ty) || FLOATS.contains(&ty) || ty == "String" || ty == "bool";
    if known && !fits {
        cx.error_spanned_by(
            default,
            format!("this default does not fit a column of type `{ty}`"),
        );
    }
    if !matches!(
        lit,
        Lit::Int(_) | Lit::Float(_) | Lit::Str(_) | Lit::Bool(_)
    ) {
        not_a_literal(cx, default);
    }
}

fn not_a_literal(cx: &mut Ctxt, default: &Expr) {
    cx.error_spanned_by(
        default,
        "default must be a literal: a number, a \"string\" or true/false; \
         other server defaults are not supported yet",
    );
}
