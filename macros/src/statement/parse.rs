//! Parsing `select!`, `update!` and `delete!`: clauses are found by their upper-case (or lower-case) keywords at the
//! top level of the input, and each clause's tokens are parsed as Rust.

use proc_macro2::{Ident, Spacing, Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, Path};

use crate::ctxt::hint;

/// Clause keywords of `select!`, in the order they may appear.
const CLAUSES: &[&str] = &["WHERE", "ORDER", "LIMIT", "OFFSET"];
/// Every keyword that starts a clause in some statement, so that a misplaced one gets a clear
/// message instead of being parsed as Rust.
const KEYWORDS: &[&str] = &[
    "SET",
    "WHERE",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "FROM",
    "JOIN",
    "LEFT",
    "GROUP",
    "HAVING",
    "DISTINCT",
    "UNION",
    "RETURNING",
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

fn keyword_of(tt: &TokenTree) -> Option<Ident> {
    let TokenTree::Ident(id) = tt else {
        return None;
    };
    let upper = id.to_string().to_ascii_uppercase();
    KEYWORDS.contains(&upper.as_str()).then(|| id.clone())
}

/// Split the input at top-level clause keywords: the tokens before the first one, then each
/// keyword with the tokens up to the next.
fn split_clauses(all: TokenStream) -> (TokenStream, Vec<Clause>) {
    let mut head = TokenStream::new();
    let mut clauses: Vec<Clause> = Vec::new();
    // After `::` or `.` an identifier is a column or method (`User::order`), never a keyword;
    // nor is one followed by a lone `=` (`SET order = 2`).
    let mut after_path_sep = false;
    let mut tokens = all.into_iter().peekable();
    while let Some(tt) = tokens.next() {
        let assigned = matches!(
            tokens.peek(),
            Some(TokenTree::Punct(p)) if p.as_char() == '=' && p.spacing() == Spacing::Alone
        );
        let keyword = if after_path_sep || assigned {
            None
        } else {
            keyword_of(&tt)
        };
        after_path_sep =
            matches!(&tt, TokenTree::Punct(p) if p.as_char() == ':' || p.as_char() == '.');
        match keyword {
            Some(keyword) => clauses.push(Clause {
                keyword,
                tokens: TokenStream::new(),
            }),
            None => match clauses.last_mut() {
                Some(c) => c.tokens.extend([tt]),
                None => head.extend([tt]),
            },
        }
    }
    (head, clauses)
}

/// The table path at the head of an `update!` or `delete!`.
fn table_path(head: TokenStream, usage: &str) -> syn::Result<Path> {
    if head.is_empty() {
        return Err(syn::Error::new(
            Span::call_site(),
            format!("expected a table: {usage}"),
        ));
    }
    syn::parse2(head.clone())
        .map_err(|_| syn::Error::new_spanned(&head, format!("expected a table type: {usage}")))
}

impl Parse for Select {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (head, clauses) = split_clauses(input.parse()?);
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

/// `column = value` in `update!`'s SET clause.
pub(crate) struct Assignment {
    pub(crate) column: Ident,
    pub(crate) value: Expr,
}

impl Parse for Assignment {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let column: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a column name: SET name = \"ed\", hair_color = None",
            )
        })?;
        if input.peek(syn::Token![::]) {
            return Err(input.error(
                "write the column's name alone after SET: `name = …`, not `User::name = …`",
            ));
        }
        input.parse::<syn::Token![=]>()?;
        Ok(Assignment {
            column,
            value: input.parse()?,
        })
    }
}

pub(crate) struct Update {
    pub(crate) table: Path,
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) filter: Option<Expr>,
}

const UPDATE_USAGE: &str = "update!(User SET name = \"ed\" WHERE User::id == 5)";

impl Parse for Update {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (head, clauses) = split_clauses(input.parse()?);
        let table = table_path(head, UPDATE_USAGE)?;
        let mut assignments = None;
        let mut filter = None;
        for clause in clauses {
            let span = clause.keyword.span();
            match clause.keyword.to_string().to_ascii_uppercase().as_str() {
                "SET" if assignments.is_none() && filter.is_none() => {
                    let parser = Punctuated::<Assignment, syn::Token![,]>::parse_terminated;
                    let list = parser.parse2(clause.tokens)?;
                    if list.is_empty() {
                        return Err(syn::Error::new(
                            span,
                            format!("SET needs at least one column: {UPDATE_USAGE}"),
                        ));
                    }
                    assignments = Some(list.into_iter().collect());
                }
                "WHERE" if filter.is_none() => filter = Some(expr(clause.tokens, span, "WHERE")?),
                _ => {
                    return Err(misplaced(
                        &clause.keyword,
                        "update!",
                        "SET …, then optionally WHERE …",
                    ));
                }
            }
        }
        let assignments = assignments.ok_or_else(|| {
            syn::Error::new(
                Span::call_site(),
                format!("update! needs a SET clause: {UPDATE_USAGE}"),
            )
        })?;
        Ok(Update {
            table,
            assignments,
            filter,
        })
    }
}

pub(crate) struct Delete {
    pub(crate) table: Path,
    pub(crate) filter: Option<Expr>,
}

impl Parse for Delete {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let (head, clauses) = split_clauses(input.parse()?);
        let table = table_path(head, "delete!(User WHERE User::id == 5)")?;
        let mut filter = None;
        for clause in clauses {
            let span = clause.keyword.span();
            match clause.keyword.to_string().to_ascii_uppercase().as_str() {
                "WHERE" if filter.is_none() => filter = Some(expr(clause.tokens, span, "WHERE")?),
                _ => return Err(misplaced(&clause.keyword, "delete!", "optionally WHERE …")),
            }
        }
        Ok(Delete { table, filter })
    }
}

/// `insert!`'s input: a struct expression, with the macro's form in the error when it is not one.
pub(crate) struct Insert(pub(crate) syn::ExprStruct);

impl Parse for Insert {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        input.parse().map(Insert).map_err(|e| {
            syn::Error::new(
                e.span(),
                format!(
                    "{e}; insert! takes a table and its values: \
                     insert!(User {{ name: \"ed\", hair_color: None }})"
                ),
            )
        })
    }
}

fn misplaced(keyword: &Ident, mac: &str, form: &str) -> syn::Error {
    syn::Error::new(
        keyword.span(),
        format!("`{keyword}` is not valid here: {mac} takes the table, then {form}"),
    )
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
