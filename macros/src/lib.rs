//! Procedural macros of Quarry. Use them through the `quarry` crate, which re-exports them and
//! whose documentation describes them.
//!
//! Every macro is a pipeline: parse the input into a model, check it (collecting every error with
//! the span of the user's token), and expand to calls into `::quarry::__private`.

mod ctxt;
mod migrations;
mod sql_enum;
mod statement;
mod table;

use proc_macro::TokenStream;

/// `#[derive(Table)]`: see the `quarry` crate.
#[proc_macro_derive(Table, attributes(table, column))]
pub fn derive_table(input: TokenStream) -> TokenStream {
    table::derive(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}

/// `#[derive(SqlEnum)]`: see the `quarry` crate.
#[proc_macro_derive(SqlEnum, attributes(sql_enum))]
pub fn derive_sql_enum(input: TokenStream) -> TokenStream {
    sql_enum::derive(syn::parse_macro_input!(input as syn::DeriveInput)).into()
}

/// `select!(…)`: see the `quarry` crate.
#[proc_macro]
pub fn select(input: TokenStream) -> TokenStream {
    statement::select(input.into()).into()
}

/// `insert!(Table { column: value, … })`: see the `quarry` crate.
#[proc_macro]
pub fn insert(input: TokenStream) -> TokenStream {
    statement::insert(input.into()).into()
}

/// `update!(Table SET column = value, … [WHERE cond])`: see the `quarry` crate.
#[proc_macro]
pub fn update(input: TokenStream) -> TokenStream {
    statement::update(input.into()).into()
}

/// `delete!(Table [WHERE cond])`: see the `quarry` crate.
#[proc_macro]
pub fn delete(input: TokenStream) -> TokenStream {
    statement::delete(input.into()).into()
}

/// `embed_migrations!("migrations")`: see `quarry::migrate::Migrator`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    migrations::embed(input.into()).into()
}
