//! `#[derive(Table)]`: `attr` parses the attributes, `ast` builds the model, `check` applies the
//! rules that span several fields, `expand` writes the impls.

mod ast;
mod attr;
mod check;
mod expand;

use proc_macro2::TokenStream;

use crate::ctxt::Ctxt;

pub(crate) fn derive(input: syn::DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let model = ast::Table::from_input(&mut cx, &input);
    if let Some(model) = &model {
        check::check(&mut cx, model);
    }
    match cx.check() {
        Ok(()) => match model {
            Some(model) => expand::expand(&model),
            None => TokenStream::new(),
        },
        Err(err) => {
            // One clear error, plus a stub so the user's other uses of the type do not add forty.
            let mut out = crate::ctxt::to_compile_errors(err);
            out.extend(expand::stub(&input, model.as_ref()));
            out
        }
    }
}
