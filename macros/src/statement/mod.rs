//! `select!`, `insert!`, `update!` and `delete!`: `parse` reads the SQL-shaped input into a model, `expand` writes
//! builder calls. Conditions are Rust expressions translated operator by operator, so rustc
//! checks every column and every value's type at the user's own tokens.

mod expand;
mod parse;

use proc_macro2::TokenStream;

pub(crate) fn select(input: TokenStream) -> TokenStream {
    match syn::parse2::<parse::Select>(input).and_then(|s| expand::select(&s)) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

pub(crate) fn update(input: TokenStream) -> TokenStream {
    match syn::parse2::<parse::Update>(input).and_then(|u| expand::update(&u)) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

pub(crate) fn delete(input: TokenStream) -> TokenStream {
    match syn::parse2::<parse::Delete>(input).and_then(|d| expand::delete(&d)) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

pub(crate) fn insert(input: TokenStream) -> TokenStream {
    match syn::parse2::<syn::ExprStruct>(input)
        .map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("{e}; insert! takes a table and its values: insert!(User {{ name: \"ed\", hair_color: None }})"),
            )
        })
        .and_then(|s| expand::insert(&s))
    {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}
