//! `select!`, `insert!`, `update!` and `delete!`, each a pipeline: `parse` reads the SQL-shaped
//! input into the model of `ast`, `check` reads its expressions as SQL under the statement's
//! rules, `expand` writes builder calls. Every mistake is collected in a `Ctxt` and reported at
//! once; conditions are Rust expressions translated operator by operator, so rustc checks every
//! column and every value's type at the user's own tokens.

mod ast;
mod check;
mod expand;
mod fast;
mod parse;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

pub(crate) fn select(input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let statement = parse::select(&mut cx, input);
    let plan = check::select(&mut cx, &statement);
    expand::select(&statement, &plan, cx.check())
}

pub(crate) fn update(input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let statement = parse::update(&mut cx, input);
    let plan = check::update(&mut cx, &statement);
    expand::update(&plan, cx.check())
}

pub(crate) fn delete(input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    let statement = parse::delete(&mut cx, input);
    let plan = check::delete(&mut cx, &statement);
    expand::delete(&plan, cx.check())
}

pub(crate) fn insert(input: TokenStream) -> TokenStream {
    let mut cx = Ctxt::default();
    if let Some(from) = parse::insert_from(&mut cx, &input) {
        return match (from, cx.check()) {
            (Some(from), Ok(())) => expand::insert_from(&from),
            (_, Err(e)) => e.to_compile_error(),
            (None, Ok(())) => TokenStream::new(),
        };
    }
    let Some(statement) = parse::insert(&mut cx, input) else {
        return cx
            .check()
            .err()
            .map(|e| e.to_compile_error())
            .unwrap_or_default();
    };
    let plan = check::insert(&mut cx, &statement);
    expand::insert(&plan, cx.check())
}
