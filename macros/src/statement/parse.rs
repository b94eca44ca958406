//! Parsing `select!(…)`: clauses are found by their upper-case (or lower-case) keywords at the
//! top level of the input, and each clause's tokens are parsed as Rust.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Path};

use crate::ctxt::hint;

/// Clause keywords, in the order they may appear.
const CLAUSES: &[&str] = &["WHERE", "ORDER", "LIMIT", "OFFSET"];
/// Keywords of SQL that `select!` does not take yet, so they get a clear message.
const NOT_YET: &[&str] = &[
    "FROM", "JOIN", "LEFT", "GROUP", "HAVING", "DISTINCT", "UNION",
];

pub(crate) struct Select {
    pub(crate) table: Path,
    pub(crate) filter: Option<Expr>,
    pub(crate) order_by: Vec<(Expr, Option<Ident>)>,
    pub(crate) limit: Option<Expr>,
    pub(crate) offset: Option<Expr>,
}

/// A top-level keyword and the tokens after it up to the next keyword.
struct Clause {
    keyword: Ident,
    tokens: TokenStream,
}

fn keyword_of(tt: &TokenTree) -> Option<(Ident, String)> {
    let TokenTree::Ident(id) = tt else {
        return None;
    };
    let upper = id.to_string().to_ascii_uppercase();
    let is_keyword = CLAUSES.contains(&upper.as_str()) || NOT_YET.contains(&upper.as_str());
    is_keyword.then(|| (id.clone(), upper))
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let all: TokenStream = input.parse()?;
        let mut head = TokenStream::new();
        let mut clauses: Vec<Clause> = Vec::new();
        // After `::` or `.` an identifier is a column or method (`User::order`), never a keyword.
        let mut after_path_sep = false;
        for tt in all {
            let keyword = if after_path_sep {
                None
            } else {
                keyword_of(&tt)
            };
            after_path_sep =
                matches!(&tt, TokenTree::Punct(p) if p.as_char() == ':' || p.as_char() == '.');
            match keyword {
                Some((keyword, _)) => clauses.push(Clause {
                    keyword,
                    tokens: TokenStream::new(),
                }),
                None => match clauses.last_mut() {
                    Some(c) => c.tokens.extend([tt]),
                    None => head.extend([tt]),
                },
            }
        }
        if head.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "select! needs a table: select!(User) or select!(User WHERE User::id == 5)",
            ));
        }
        let table: Path = syn::parse2(head.clone()).map_err(|_| {
            syn::Error::new_spanned(
                &head,
                "expected a table type, e.g. select!(User); selecting columns \
                 (select!(User::id, User::name FROM User)) is not supported yet",
            )
        })?;
        let mut select = Select {
            table,
            filter: None,
            order_by: Vec::new(),
            limit: None,
            offset: None,
        };
        let mut seen = [false; CLAUSES.len()];
        let mut last_position = 0;
        for clause in clauses {
            let upper = clause.keyword.to_string().to_ascii_uppercase();
            let Some(position) = CLAUSES.iter().position(|c| *c == upper) else {
                return Err(syn::Error::new(
                    clause.keyword.span(),
                    format!("`{}` is not supported by select! yet", clause.keyword),
                ));
            };
            if seen[position] {
                return Err(syn::Error::new(
                    clause.keyword.span(),
                    format!("`{}` appears twice", clause.keyword),
                ));
            }
            if position < last_position {
                return Err(syn::Error::new(
                    clause.keyword.span(),
                    format!(
                        "`{}` is out of place: clauses go in the order WHERE, ORDER BY, LIMIT, OFFSET",
                        clause.keyword
                    ),
                ));
            }
            seen[position] = true;
            last_position = position;
            let span = clause.keyword.span();
            match upper.as_str() {
                "WHERE" => select.filter = Some(expr(clause.tokens, span, "WHERE")?),
                "ORDER" => select.order_by = order_by(clause.tokens, span)?,
                "LIMIT" => select.limit = Some(expr(clause.tokens, span, "LIMIT")?),
                "OFFSET" => select.offset = Some(expr(clause.tokens, span, "OFFSET")?),
                _ => unreachable!("every clause keyword is handled"),
            }
        }
        Ok(select)
    }
}

fn expr(tokens: TokenStream, span: Span, keyword: &str) -> syn::Result<Expr> {
    if tokens.is_empty() {
        return Err(syn::Error::new(
            span,
            format!("{keyword} needs an expression after it"),
        ));
    }
    syn::parse2(tokens)
}

fn order_by(tokens: TokenStream, span: Span) -> syn::Result<Vec<(Expr, Option<Ident>)>> {
    let mut iter = tokens.into_iter().peekable();
    match iter.next() {
        Some(TokenTree::Ident(by)) if by.to_string().eq_ignore_ascii_case("BY") => {}
        _ => {
            return Err(syn::Error::new(
                span,
                "expected BY after ORDER: ORDER BY User::id DESC",
            ));
        }
    }
    let mut terms = Vec::new();
    let mut current = TokenStream::new();
    let mut direction: Option<Ident> = None;
    let finish = |current: &mut TokenStream,
                  direction: &mut Option<Ident>,
                  terms: &mut Vec<(Expr, Option<Ident>)>|
     -> syn::Result<()> {
        if current.is_empty() {
            return Err(syn::Error::new(span, "ORDER BY needs a column after it"));
        }
        terms.push((syn::parse2(std::mem::take(current))?, direction.take()));
        Ok(())
    };
    for tt in iter {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => {
                finish(&mut current, &mut direction, &mut terms)?
            }
            TokenTree::Ident(id)
                if ["ASC", "DESC"].contains(&id.to_string().to_ascii_uppercase().as_str()) =>
            {
                direction = Some(id.clone());
            }
            TokenTree::Ident(id) if direction.is_some() => {
                return Err(syn::Error::new(
                    id.span(),
                    format!(
                        "unexpected `{id}` after the sort direction{}",
                        hint(&id.to_string(), ["ASC", "DESC"])
                    ),
                ));
            }
            _ => current.extend([tt]),
        }
    }
    finish(&mut current, &mut direction, &mut terms)?;
    Ok(terms)
}
