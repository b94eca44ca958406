//! `select!`, `insert!`, `update!` and `delete!`: `parse` reads the SQL-shaped input into a
//! model, `expand` writes builder calls. Conditions are Rust expressions translated operator by
//! operator, so rustc checks every column and every value's type at the user's own tokens.

mod expand;
mod parse;

use proc_macro2::TokenStream;
use syn::parse::Parse;

/// Parse `input` as `P`, expand it, and turn any error into `compile_error!`.
fn run<P: Parse>(input: TokenStream, expand: fn(&P) -> syn::Result<TokenStream>) -> TokenStream {
    syn::parse2::<P>(input)
        .and_then(|model| expand(&model))
        .unwrap_or_else(|e| e.to_compile_error())
}

pub(crate) fn select(input: TokenStream) -> TokenStream {
    run(input, expand::select)
}

pub(crate) fn update(input: TokenStream) -> TokenStream {
    run(input, expand::update)
}

pub(crate) fn delete(input: TokenStream) -> TokenStream {
    run(input, expand::delete)
}

pub(crate) fn insert(input: TokenStream) -> TokenStream {
    run(input, |i: &parse::Insert| expand::insert(&i.0))
}
