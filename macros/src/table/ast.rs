//! The model of a table as the derive sees it.

use proc_macro2::Span;
use syn::{Data, DeriveInput, Fields, Ident, Path, Type, Visibility};

use super::attr::{self, ColumnAttrs, TableAttrs};
use crate::ctxt::Ctxt;

pub(crate) struct Table<'a> {
    pub(crate) ident: &'a Ident,
    /// SQL name and the span to blame for it.
    pub(crate) name: (String, Span),
    pub(crate) metadata: Option<Path>,
    pub(crate) attrs: TableAttrs,
    pub(crate) fields: Vec<Field<'a>>,
}

pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) vis: &'a Visibility,
    /// SQL name and the span to blame for it.
    pub(crate) name: (String, Span),
    pub(crate) attrs: ColumnAttrs,
}

impl<'a> Table<'a> {
    /// The model, or `None` when the input is not a struct with named fields (already reported).
    pub(crate) fn from_input(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let fields = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => &named.named,
                Fields::Unnamed(f) => {
                    cx.error_spanned_by(
                        f,
                        "#[derive(Table)] needs named fields, one per column: \
                         `struct User { id: i64, name: String }`",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "#[derive(Table)] needs named fields, one per column: \
                         `struct User { id: i64, name: String }`",
                    );
                    return None;
                }
            },
            Data::Enum(e) => {
                cx.error_spanned_by(e.enum_token, "#[derive(Table)] works on structs, not enums");
                return None;
            }
            Data::Union(u) => {
                cx.error_spanned_by(
                    u.union_token,
                    "#[derive(Table)] works on structs, not unions",
                );
                return None;
            }
        };
        if !input.generics.params.is_empty() {
            cx.error_spanned_by(
                &input.generics,
                "#[derive(Table)] does not support generic parameters or lifetimes: a table's \
                 columns have fixed types; use owned types such as String instead of &str",
            );
        }
        let attrs = attr::parse_table(cx, &input.attrs);
        let name = match &attrs.name {
            Some(lit) => (lit.value(), lit.span()),
            None => (snake_case(&input.ident.to_string()), input.ident.span()),
        };
        let fields = fields
            .iter()
            .filter_map(|f| {
                let ident = f.ident.as_ref()?;
                let attrs = attr::parse_column(cx, &f.attrs);
                let name = match &attrs.name {
                    Some(lit) => (lit.value(), lit.span()),
                    None => (
                        ident.to_string().trim_start_matches("r#").to_owned(),
                        ident.span(),
                    ),
                };
                Some(Field {
                    ident,
                    ty: &f.ty,
                    vis: &f.vis,
                    name,
                    attrs,
                })
            })
            .collect();
        Some(Table {
            ident: &input.ident,
            name,
            metadata: attrs.metadata.clone(),
            attrs,
            fields,
        })
    }

    /// Indices of the primary-key fields, from `#[column(primary_key)]` or
    /// `#[table(primary_key(…))]`.
    pub(crate) fn primary_key(&self) -> Vec<usize> {
        match &self.attrs.primary_key {
            Some((_, names)) => names
                .iter()
                .filter_map(|n| self.fields.iter().position(|f| f.ident == n))
                .collect(),
            None => (0..self.fields.len())
                .filter(|i| self.fields[*i].attrs.primary_key.is_some())
                .collect(),
        }
    }
}

/// `BlogPost` → `blog_post`, `HTTPLog` → `http_log`.
pub(crate) fn snake_case(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if i > 0 && (prev_lower || (next_lower && chars[i - 1].is_uppercase())) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The last path segment of a type, and the inner type when it is `Option<T>`.
pub(crate) fn type_name(ty: &Type) -> Option<String> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// `T` of `Option<T>`, when the type is spelled `Option<…>`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Option" {
        return None;
    }
    match &seg.arguments {
        syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_splits_words_and_acronyms() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("BlogPost"), "blog_post");
        assert_eq!(snake_case("HTTPLog"), "http_log");
        assert_eq!(snake_case("Post2Tag"), "post2_tag");
    }
}
