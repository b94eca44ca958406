//! `embed_migrations!("migrations")`: the migration files compiled into the binary.
//!
//! Reads the directory (relative to the crate's `CARGO_MANIFEST_DIR`) when the macro expands
//! and emits `include_str!` of every `NNN_name/up.sql` and `down.sql`, so that editing a file
//! rebuilds the crate.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

pub fn embed(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(tokens) => tokens,
        Err(e) => e.to_compile_error(),
    }
}

fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let (dir, span) = if input.is_empty() {
        ("migrations".to_owned(), Span::call_site())
    } else {
        let lit: LitStr = syn::parse2(input)?;
        (lit.value(), lit.span())
    };
    let root =
        std::env::var("CARGO_MANIFEST_DIR").map_or_else(|_| PathBuf::from("."), PathBuf::from);
    let path = root.join(&dir);
    let entries = std::fs::read_dir(&path).map_err(|e| {
        syn::Error::new(
            span,
            format!(
                "cannot read the migrations directory {}: {e}; the path is relative to the \
                 crate's Cargo.toml, e.g. embed_migrations!(\"migrations\")",
                path.display()
            ),
        )
    })?;
    let mut found: Vec<(u64, String, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let p = entry.path();
        let Some(name) = p.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        let Some((number, _)) = name.split_once('_') else {
            continue;
        };
        let Ok(version) = number.parse::<u64>() else {
            continue;
        };
        if !p.is_dir() {
            continue;
        }
        if !p.join("up.sql").is_file() {
            return Err(syn::Error::new(
                span,
                format!("migration {} has no up.sql", p.display()),
            ));
        }
        if let Some((_, other, _)) = found.iter().find(|(v, _, _)| *v == version) {
            return Err(syn::Error::new(
                span,
                format!(
                    "migrations {other} and {name} have the same version {version}; renumber one"
                ),
            ));
        }
        found.push((version, name, p));
    }
    found.sort_by_key(|(v, _, _)| *v);
    let items = found.iter().map(|(_, name, p)| {
        let up = text(&p.join("up.sql"));
        let down_path = p.join("down.sql");
        let down = if down_path.is_file() {
            let down = text(&down_path);
            quote!(::core::option::Option::Some(::core::include_str!(#down)))
        } else {
            quote!(::core::option::Option::None)
        };
        quote!((#name, ::core::include_str!(#up), #down))
    });
    Ok(quote! {
        ::quarry::migrate::Migrator::from_embedded(&[#(#items),*])
    })
}

fn text(path: &Path) -> String {
    path.display().to_string()
}
