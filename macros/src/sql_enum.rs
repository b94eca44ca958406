//! `#[derive(SqlEnum)]`: a Rust enum without payloads as a column type, stored as one label per
//! variant. Parses `#[sql_enum(rename_all = "…", postgres_type = "…")]` on the enum and
//! `#[sql_enum(rename = "…")]` on a variant, checks the variants (unit only, labels distinct),
//! and writes the impls of `quarry::SqlEnum` and of every trait a column type needs.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, LitStr};

use crate::ctxt::{Ctxt, hint};

const SQL_ENUM: &str = "sql_enum";
const RENAME_ALL: &str = "rename_all";
const RENAME: &str = "rename";
const POSTGRES_TYPE: &str = "postgres_type";
const ENUM_KEYS: &[&str] = &[RENAME_ALL, POSTGRES_TYPE];
const VARIANT_KEYS: &[&str] = &[RENAME];
const CASES: &[&str] = &[
    "lowercase",
    "UPPERCASE",
    "PascalCase",
    "camelCase",
    "snake_case",
    "SCREAMING_SNAKE_CASE",
    "kebab-case",
    "SCREAMING-KEBAB-CASE",
];

pub(crate) fn derive(input: DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let model = parse(&mut cx, &input);
    match (cx.check(), model) {
        (Ok(()), Some(model)) => expand(&input.ident, &model, false),
        (Err(err), model) => {
            // One clear error, plus the impls for the variants that are fine, so that the
            // enum's uses as a column elsewhere do not add errors of their own.
            let mut out = crate::ctxt::to_compile_errors(err);
            if let Some(model) = model.filter(|_| input.generics.params.is_empty()) {
                out.extend(expand(&input.ident, &model, true));
            }
            out
        }
        (Ok(()), None) => TokenStream::new(),
    }
}

struct Model {
    variants: Vec<(Ident, String)>,
    postgres_type: Option<LitStr>,
}

fn parse(cx: &mut Ctxt, input: &DeriveInput) -> Option<Model> {
    let Data::Enum(data) = &input.data else {
        cx.error_spanned_by(
            &input.ident,
            "#[derive(SqlEnum)] applies to enums whose variants have no fields; \
             for a struct use #[derive(Table)]",
        );
        return None;
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            &input.generics,
            "#[derive(SqlEnum)] does not support generic enums",
        );
    }
    let mut rename_all: Option<LitStr> = None;
    let mut postgres_type: Option<LitStr> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident(SQL_ENUM)) {
        let parsed = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(RENAME_ALL) {
                let v: LitStr = meta.value()?.parse()?;
                if !CASES.contains(&v.value().as_str()) {
                    return Err(syn::Error::new(
                        v.span(),
                        format!(
                            "unknown rename_all case {:?}: expected one of {}{}",
                            v.value(),
                            CASES.join(", "),
                            hint(&v.value(), CASES.iter().copied())
                        ),
                    ));
                }
                rename_all = Some(v);
            } else if meta.path.is_ident(POSTGRES_TYPE) {
                let v: LitStr = meta.value()?.parse()?;
                if v.value().is_empty() {
                    return Err(syn::Error::new(
                        v.span(),
                        "postgres_type needs a type name: #[sql_enum(postgres_type = \"loan_status\")]",
                    ));
                }
                postgres_type = Some(v);
            } else {
                return Err(unknown(&meta, ENUM_KEYS));
            }
            Ok(())
        });
        if let Err(e) = parsed {
            cx.push(e);
        }
    }
    if data.variants.is_empty() {
        cx.error_spanned_by(
            &input.ident,
            "#[derive(SqlEnum)] needs at least one variant: a column of an empty enum could hold no value",
        );
    }
    let mut variants: Vec<(Ident, String)> = Vec::new();
    for v in &data.variants {
        if !matches!(v.fields, Fields::Unit) {
            cx.error_spanned_by(
                &v.fields,
                format!(
                    "variant `{}` has fields, but a SQL enum stores one label per variant: \
                     remove the fields, or store the data in columns of their own",
                    v.ident
                ),
            );
            continue;
        }
        let mut label = rename_all.as_ref().map_or_else(
            || v.ident.to_string(),
            |case| rename(&v.ident.to_string(), &case.value()),
        );
        for attr in v.attrs.iter().filter(|a| a.path().is_ident(SQL_ENUM)) {
            let parsed = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident(RENAME) {
                    let lit: LitStr = meta.value()?.parse()?;
                    label = lit.value();
                    Ok(())
                } else {
                    Err(unknown(&meta, VARIANT_KEYS))
                }
            });
            if let Err(e) = parsed {
                cx.push(e);
            }
        }
        if let Some((other, _)) = variants.iter().find(|(_, l)| *l == label) {
            cx.error_spanned_by(
                &v.ident,
                format!(
                    "variants `{other}` and `{}` are both stored as {label:?}; \
                     give one #[sql_enum(rename = \"…\")]",
                    v.ident
                ),
            );
        }
        variants.push((v.ident.clone(), label));
    }
    Some(Model {
        variants,
        postgres_type,
    })
}

fn unknown(meta: &syn::meta::ParseNestedMeta<'_>, keys: &[&str]) -> syn::Error {
    let key = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    meta.error(format!(
        "unknown #[sql_enum] attribute `{key}`: expected one of {}{}",
        keys.join(", "),
        hint(&key, keys.iter().copied())
    ))
}

/// The words of a `PascalCase` variant name.
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let starts_word = i == 0
            || c == '_'
            || (c.is_uppercase()
                && (chars[i - 1].is_lowercase()
                    || chars[i - 1].is_ascii_digit()
                    || chars.get(i + 1).is_some_and(|n| n.is_lowercase())
                        && chars[i - 1].is_uppercase()));
        if c == '_' {
            out.push(String::new());
            continue;
        }
        if starts_word && out.last().is_none_or(|w| !w.is_empty()) {
            out.push(String::new());
        }
        if let Some(w) = out.last_mut() {
            w.push(c);
        }
    }
    out.retain(|w| !w.is_empty());
    out
}

/// `name` in `case`, as serde's `rename_all` spells it.
fn rename(name: &str, case: &str) -> String {
    let words = words(name);
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    let capital = |w: &String| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    };
    match case {
        "lowercase" => name.to_lowercase(),
        "UPPERCASE" => name.to_uppercase(),
        "PascalCase" => lower.iter().map(capital).collect(),
        "camelCase" => lower
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { w.clone() } else { capital(w) })
            .collect(),
        "snake_case" => lower.join("_"),
        "SCREAMING_SNAKE_CASE" => lower.join("_").to_uppercase(),
        "kebab-case" => lower.join("-"),
        "SCREAMING-KEBAB-CASE" => lower.join("-").to_uppercase(),
        _ => name.to_owned(),
    }
}

fn expand(ident: &Ident, model: &Model, stub: bool) -> TokenStream {
    let rust_name = ident.to_string();
    let idents: Vec<&Ident> = model.variants.iter().map(|(i, _)| i).collect();
    let labels: Vec<&String> = model.variants.iter().map(|(_, l)| l).collect();
    let n = labels.len();
    let native = model
        .postgres_type
        .as_ref()
        .map(|name| quote!(.postgres_type(#name)));
    let p = quote!(::quarry::__private);
    let rest =
        stub.then(|| quote!(_ => ::core::unreachable!("#[derive(SqlEnum)] failed to compile"),));
    quote! {
        const _: () = {
            #[automatically_derived]
            impl #p::SqlEnum for #ident {
                const TYPE: &'static #p::EnumType = {
                    static LABELS: [&str; #n] = [#(#labels),*];
                    static TYPE: #p::EnumType =
                        #p::EnumType::new(#rust_name, &LABELS) #native;
                    &TYPE
                };
                fn label(&self) -> &'static str {
                    match self {
                        #(#ident::#idents => #labels,)*
                        #rest
                    }
                }
                fn from_label(label: &str) -> ::core::option::Option<Self> {
                    match label {
                        #(#labels => ::core::option::Option::Some(#ident::#idents),)*
                        _ => ::core::option::Option::None,
                    }
                }
            }

            #[automatically_derived]
            impl #p::ToSql for #ident {
                fn to_value(&self) -> #p::Value {
                    #p::Value::Text(::std::string::String::from(#p::SqlEnum::label(self)))
                }
            }

            #[automatically_derived]
            impl #p::FromSql for #ident {
                fn from_sql(row: &dyn #p::RawRow, idx: usize) -> ::quarry::Result<Self> {
                    #p::decode_enum::<Self>(row, idx)
                }
            }

            #[automatically_derived]
            impl #p::ColumnType for #ident {
                const SQL_TYPE: #p::SqlType = #p::SqlType::Text;
                const NULLABLE: bool = false;
                type Base = #ident;
                const ENUM: ::core::option::Option<&'static #p::EnumType> =
                    ::core::option::Option::Some(<#ident as #p::SqlEnum>::TYPE);
            }

            #[automatically_derived]
            impl #p::NonNullColumnType for #ident {}

            #[automatically_derived]
            impl #p::Nullability for #ident {
                type Of<U: #p::NonNullColumnType> = U;
            }

            #[automatically_derived]
            impl #p::NullableRow for #ident {
                type Out = ::core::option::Option<#ident>;
            }

            #[automatically_derived]
            impl #p::FromRow for #ident {
                fn width() -> usize {
                    1
                }
                fn from_row(row: &dyn #p::RawRow, start: usize) -> ::quarry::Result<Self> {
                    #p::decode_enum::<Self>(row, start)
                }
            }

            #[automatically_derived]
            impl #p::FirstColumn<#ident> for #ident {
                fn first_column(self) -> ::quarry::Result<#ident> {
                    ::core::result::Result::Ok(self)
                }
            }

            #[automatically_derived]
            impl<V: #p::ColumnType<Base = #ident>> #p::AsExpr<V> for #ident {
                fn into_expr(self) -> #p::SqlExpr {
                    #p::SqlExpr::Param(#p::ToSql::to_value(&self))
                }
            }

            #[automatically_derived]
            impl<'a, V: #p::ColumnType<Base = #ident>> #p::AsExpr<V> for &'a #ident {
                fn into_expr(self) -> #p::SqlExpr {
                    #p::SqlExpr::Param(#p::ToSql::to_value(self))
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::rename;

    #[test]
    fn rename_all_spells_words_as_serde_does() {
        assert_eq!(rename("LostForGood", "snake_case"), "lost_for_good");
        assert_eq!(rename("LostForGood", "kebab-case"), "lost-for-good");
        assert_eq!(rename("LostForGood", "camelCase"), "lostForGood");
        assert_eq!(
            rename("LostForGood", "SCREAMING_SNAKE_CASE"),
            "LOST_FOR_GOOD"
        );
        assert_eq!(rename("LostForGood", "lowercase"), "lostforgood");
        assert_eq!(rename("LostForGood", "UPPERCASE"), "LOSTFORGOOD");
        assert_eq!(rename("HTTPError", "snake_case"), "http_error");
        assert_eq!(rename("Active", "snake_case"), "active");
        assert_eq!(rename("V2Beta", "snake_case"), "v2_beta");
    }
}
