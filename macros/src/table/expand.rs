//! The code `#[derive(Table)]` writes.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Expr, ExprLit, Lit};

use super::ast::{Field, Table};

pub(crate) fn expand(table: &Table<'_>) -> TokenStream {
    let ident = table.ident;
    let name = &table.name.0;
    let metadata = match &table.metadata {
        Some(path) => quote_spanned!(path.span()=> &#path),
        None => quote!(&::quarry::DEFAULT_METADATA),
    };
    // How the user wrote the `MetaData`, for error messages (`call META.bind(&engine)`).
    let metadata_path = match &table.metadata {
        Some(path) => quote!(#path).to_string().replace(' ', ""),
        None => "quarry::DEFAULT_METADATA".to_owned(),
    };
    let pk = table.primary_key();
    let autoincrement_key = match pk.as_slice() {
        [only] => table.fields[*only]
            .attrs
            .autoincrement
            .as_ref()
            .is_none_or(|b| b.value)
            .then_some(*only),
        _ => None,
    };
    // `autoincrement = true` written out on a key that is no integer is a compile error (a
    // const assertion, as the macro cannot see through type aliases); left implicit, such a key
    // is simply not autoincrement (see `column_def`).
    let autoincrement_check = autoincrement_key.and_then(|i| {
        let f = &table.fields[i];
        let lit = f.attrs.autoincrement.as_ref()?;
        let ty = f.ty;
        Some(quote_spanned! {lit.span()=>
            const _: () = ::core::assert!(
                ::quarry::__private::sql_type::<#ty>().is_integer(),
                "autoincrement applies only to an integer primary key column",
            );
        })
    });
    let n = table.fields.len();
    let columns = table
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| column_def(f, pk.contains(&i), autoincrement_key == Some(i)));
    let consts = column_consts(table);
    let decode = table.fields.iter().enumerate().map(|(i, f)| {
        let field = f.ident;
        let ty = f.ty;
        quote_spanned!(ty.span()=> #field: ::quarry::__private::decode::<#ty>(row, start + #i)?)
    });
    let values = table.fields.iter().enumerate().map(|(i, f)| {
        let field = f.ident;
        let ty = f.ty;
        let encode = quote_spanned!(ty.span()=> ::quarry::__private::encode::<#ty>);
        quote!(out.push((#i, #encode(&self.#field)));)
    });
    let identity = identity(table, &pk, autoincrement_key);
    quote! {
        #consts
        const _: () = {
            #autoincrement_check

            #[automatically_derived]
            impl ::quarry::Table for #ident {
                fn table() -> &'static ::quarry::TableDef {
                    static COLUMNS: [::quarry::__private::ColumnDef; #n] = [#(#columns),*];
                    static TABLE: ::quarry::__private::TableDef =
                        ::quarry::__private::TableDef::new(#name, &COLUMNS, #metadata)
                            .metadata_path(#metadata_path);
                    &TABLE
                }
            }

            #[automatically_derived]
            impl ::quarry::FromRow for #ident {
                fn width() -> usize {
                    #n
                }
                fn from_row(
                    row: &dyn ::quarry::RawRow,
                    start: usize,
                ) -> ::quarry::Result<Self> {
                    ::core::result::Result::Ok(#ident { #(#decode,)* })
                }
            }

            #[automatically_derived]
            impl ::quarry::Insertable for #ident {
                fn values(&self, out: &mut ::std::vec::Vec<(usize, ::quarry::Value)>) {
                    #(#values)*
                }
            }

            #identity

            ::quarry::__private::inventory::submit! {
                ::quarry::__private::TableRegistration::new(<#ident as ::quarry::Table>::table)
            }
        };
    }
}

/// `impl Identity`: the primary key's values (in declaration order, as `TableDef::primary_key`
/// lists the columns) and the setter for a key the database assigned.
fn identity(table: &Table<'_>, pk: &[usize], autoincrement_key: Option<usize>) -> TokenStream {
    let ident = table.ident;
    let mut pk = pk.to_vec();
    pk.sort_unstable();
    let values = pk.iter().map(|&i| {
        let field = table.fields[i].ident;
        let ty = table.fields[i].ty;
        let encode = quote_spanned!(ty.span()=> ::quarry::__private::encode::<#ty>);
        quote!(#encode(&self.#field))
    });
    let set_key = autoincrement_key.map(|i| {
        let f = &table.fields[i];
        let field = f.ident;
        let ty = f.ty;
        let column = &f.name.0;
        let convert = quote_spanned!(ty.span()=> ::quarry::__private::autoincrement_key::<#ty>);
        // A key left implicit on a type that is no integer is not autoincrement (see
        // `column_def`): the column definition decides at run time.
        quote! {
            if <Self as ::quarry::Table>::table().columns()[#i].is_autoincrement() {
                self.#field = #convert(#column, key)?;
            }
        }
    });
    let key = if set_key.is_some() {
        quote!(key)
    } else {
        quote!(_key)
    };
    quote! {
        #[automatically_derived]
        impl ::quarry::Identity for #ident {
            fn primary_key(&self) -> ::std::vec::Vec<::quarry::Value> {
                ::std::vec![#(#values),*]
            }
            fn set_autoincrement_key(&mut self, #key: i64) -> ::quarry::Result<()> {
                #set_key
                ::core::result::Result::Ok(())
            }
        }
    }
}

/// `User::id`, `User::name`, …: typed column handles as associated consts; and, hidden,
/// which fields an `insert!` must give (what `__private::check_insert` reads).
fn column_consts(table: &Table<'_>) -> TokenStream {
    let ident = table.ident;
    let pk = table.primary_key();
    let autoincrement_key = match pk.as_slice() {
        [only] => Some(*only),
        _ => None,
    };
    let required = table.fields.iter().enumerate().map(|(i, f)| {
        let field = f.ident.to_string();
        let ty = f.ty;
        // NOT NULL, no server default, and not a key the database assigns.
        let assigned = match (autoincrement_key == Some(i), &f.attrs.autoincrement) {
            (true, Some(flag)) => {
                let on = flag.value;
                quote!(#on)
            }
            (true, None) => quote!(::quarry::__private::sql_type::<#ty>().is_integer()),
            (false, _) => quote!(false),
        };
        let has_default = f.attrs.default.is_some();
        quote! {
            (#field, !::quarry::__private::nullable::<#ty>() && !#has_default && !(#assigned))
        }
    });
    let consts = table.fields.iter().enumerate().map(|(i, f)| {
        let field = f.ident;
        let ty = f.ty;
        let vis = f.vis;
        let doc = format!("The `{}` column of `{}`.", f.name.0, table.name.0);
        quote! {
            #[doc = #doc]
            #vis const #field: ::quarry::Column<#ident, #ty> = ::quarry::Column::new(#i);
        }
    });
    quote! {
        #[allow(non_upper_case_globals)]
        #[automatically_derived]
        impl #ident {
            #(#consts)*
            #[doc(hidden)]
            pub const __QUARRY_INSERT: &'static [(&'static str, bool)] = &[#(#required),*];
        }
    }
}

fn column_def(f: &Field<'_>, primary_key: bool, autoincrement: bool) -> TokenStream {
    let ty = f.ty;
    let name = &f.name.0;
    let field = f.ident.to_string();
    let mut def = quote_spanned! {ty.span()=>
        ::quarry::__private::ColumnDef::new(
            #name,
            #field,
            ::quarry::__private::sql_type::<#ty>(),
            ::quarry::__private::nullable::<#ty>(),
        )
        .enum_type(::quarry::__private::enum_type::<#ty>())
    };
    if primary_key {
        def.extend(quote!(.primary_key()));
    }
    if autoincrement && f.attrs.autoincrement.is_some() {
        def.extend(quote!(.autoincrement()));
    } else if autoincrement {
        def.extend(quote!(.autoincrement_if_integer()));
    }
    if f.attrs.unique.is_some() {
        def.extend(quote!(.unique()));
    }
    if f.attrs.index.is_some() {
        def.extend(quote!(.index()));
    }
    if let Some(lit) = &f.attrs.max_length
        && let Ok(len) = lit.base10_parse::<u32>()
    {
        // `check.rs` refuses the built-in types that are not text; for a type it cannot
        // see through (an enum, an alias), rustc checks that its SQL type is text.
        def = quote_spanned! {lit.span()=>
            {
                const _: () = ::core::assert!(
                    ::quarry::__private::sql_type::<#ty>().is_text(),
                    "max_length applies to String and #[derive(SqlEnum)] columns",
                );
                #def.max_length(#len)
            }
        };
    }
    if let Some(sql) = &f.attrs.sql_type {
        def.extend(quote!(.custom_type(#sql)));
    }
    if let Some(default) = &f.attrs.default {
        let value = default_value(default);
        def.extend(quote!(.default_value(#value)));
    }
    if let Some(target) = &f.attrs.references {
        def.extend(quote_spanned! {target.span()=>
            .references(::quarry::__private::foreign_key::<#ty, _, _>(#target))
        });
    }
    for (setter, action) in [
        ("on_delete", &f.attrs.on_delete),
        ("on_update", &f.attrs.on_update),
    ] {
        if let Some((lit, variant)) = action {
            let setter = syn::Ident::new(setter, lit.span());
            let variant = syn::Ident::new(variant, lit.span());
            def.extend(quote_spanned!(lit.span()=> .#setter(::quarry::FkAction::#variant)));
        }
    }
    def
}

/// A checked default literal (see `check.rs`) as a `DefaultValue`.
fn default_value(e: &Expr) -> TokenStream {
    let (negative, lit) = match e {
        Expr::Unary(u) => match &*u.expr {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            _ => return quote!(::core::unreachable!()),
        },
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        _ => return quote!(::core::unreachable!()),
    };
    let sign = if negative { quote!(-) } else { quote!() };
    match lit {
        Lit::Int(i) => {
            let digits = i.base10_digits();
            let v: TokenStream = format!("{digits}i64").parse().unwrap_or_default();
            quote!(::quarry::__private::DefaultValue::Int(#sign #v))
        }
        Lit::Float(f) => {
            let digits = f.base10_digits();
            let v: TokenStream = format!("{digits}f64").parse().unwrap_or_default();
            quote!(::quarry::__private::DefaultValue::Float(#sign #v))
        }
        Lit::Str(s) => quote!(::quarry::__private::DefaultValue::Text(#s)),
        Lit::Bool(b) => quote!(::quarry::__private::DefaultValue::Bool(#b)),
        _ => quote!(::core::unreachable!()),
    }
}

/// After an error: impls with no behaviour, so that uses of the type elsewhere do not add errors.
pub(crate) fn stub(input: &DeriveInput, table: Option<&Table<'_>>) -> TokenStream {
    if !input.generics.params.is_empty() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let consts = table.map(column_consts).unwrap_or_default();
    quote! {
        #consts
        const _: () = {
            impl ::quarry::Table for #ident {
                fn table() -> &'static ::quarry::TableDef {
                    ::core::unreachable!("#[derive(Table)] failed to compile")
                }
            }
            impl ::quarry::FromRow for #ident {
                fn width() -> usize {
                    0
                }
                fn from_row(_: &dyn ::quarry::RawRow, _: usize) -> ::quarry::Result<Self> {
                    ::core::unreachable!("#[derive(Table)] failed to compile")
                }
            }
            impl ::quarry::Insertable for #ident {
                fn values(&self, _: &mut ::std::vec::Vec<(usize, ::quarry::Value)>) {}
            }
            impl ::quarry::Identity for #ident {
                fn primary_key(&self) -> ::std::vec::Vec<::quarry::Value> {
                    ::std::vec::Vec::new()
                }
                fn set_autoincrement_key(&mut self, _: i64) -> ::quarry::Result<()> {
                    ::core::result::Result::Ok(())
                }
            }
        };
    }
}
