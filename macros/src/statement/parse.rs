//! Parsing `select!`, `update!`, `delete!` and `insert!`: clauses are found by their upper-case
//! (or lower-case) keywords at the top level of the input, and each clause's tokens are parsed
//! as Rust. Only the syntax is checked here; a clause that does not parse is reported and left
//! out, and the next one is read all the same.

use proc_macro2::{Ident, Spacing, Span, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprStruct, Path};

use super::ast::{Assignment, Delete, JoinClause, LockClause, Select, Update};
use crate::ctxt::{Ctxt, hint};

/// Clause keywords of `select!` after the select list, in the order they may appear; the
/// joins (`JOIN`, `LEFT [OUTER] JOIN`, `INNER JOIN`) may repeat after `FROM`.
const CLAUSES: &[&str] = &[
    "FROM", "JOIN", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "FOR",
];
const CLAUSE_ORDER: &str =
    "FROM, JOIN, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT, OFFSET, FOR UPDATE";
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
    "INNER",
    "FULL",
    "GROUP",
    "HAVING",
    "DISTINCT",
    "UNION",
    "RETURNING",
    "FOR",
    "NOWAIT",
    "SKIP",
    "USING",
];

/// Keywords followed by an expression: the identifier right after one is never a keyword.
const EXPRESSION_KEYWORDS: &[&str] = &["WHERE", "HAVING", "LIMIT", "OFFSET"];

/// The hidden prefix by which an enclosing statement tells a nested `select!` which tables it
/// may correlate to: `select!(__correlate(User, manager) Post WHERE …)`.
pub(crate) const CORRELATE: &str = "__correlate";

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
    // nor is one followed by a lone `=` (`SET order = 2`), nor one right after a keyword that
    // needs an expression (`LIMIT per_page OFFSET offset`: a variable named `offset`) or an
    // operator (`User::id > offset`).
    let mut after_path_sep = false;
    let mut after_expression_keyword = false;
    let mut after_operator = false;
    let mut tokens = all.into_iter().peekable();
    while let Some(tt) = tokens.next() {
        let assigned = matches!(
            tokens.peek(),
            Some(TokenTree::Punct(p)) if p.as_char() == '=' && p.spacing() == Spacing::Alone
        );
        let keyword = if after_path_sep || assigned || after_expression_keyword || after_operator {
            None
        } else {
            keyword_of(&tt)
        };
        after_expression_keyword = keyword.as_ref().is_some_and(|k| {
            EXPRESSION_KEYWORDS.contains(&k.to_string().to_ascii_uppercase().as_str())
        });
        // An operand follows an operator: `User::id > offset` compares with a variable.
        after_operator = matches!(&tt, TokenTree::Punct(p) if "<>=!+-*/%&|^".contains(p.as_char()));
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
fn table_path(cx: &mut Ctxt, head: TokenStream, usage: &str) -> Option<Path> {
    if head.is_empty() {
        cx.push(syn::Error::new(
            Span::call_site(),
            format!("expected a table: {usage}"),
        ));
        return None;
    }
    syn::parse2(head.clone())
        .map_err(|_| cx.error_spanned_by(&head, format!("expected a table type: {usage}")))
        .ok()
}

const SELECT_USAGE: &str = "select!(User WHERE User::id == 5) or \
                            select!(User::id, User::name FROM User WHERE …)";

/// Read `select!`'s input. Every mistake is recorded in `cx`; what did not parse is left out.
pub(crate) fn select(cx: &mut Ctxt, input: TokenStream) -> Select {
    let all = star_arguments(input);
    let (correlate, all) = correlation_prefix(cx, all);
    let (mut head, mut clauses) = split_clauses(all);
    let mut distinct = false;
    let mut distinct_on = Vec::new();
    // `DISTINCT ON` without its parentheses: where its terms end is unknown, so the select
    // list is not read (its mistake is reported alone).
    let mut items_unknown = false;
    if head.is_empty()
        && clauses
            .first()
            .is_some_and(|c| c.keyword.to_string().eq_ignore_ascii_case("DISTINCT"))
    {
        head = clauses.remove(0).tokens;
        match distinct_on_terms(cx, &head) {
            Some((terms, rest)) => {
                distinct_on = terms;
                items_unknown = rest.is_none();
                head = rest.unwrap_or_default();
            }
            None => distinct = true,
        }
    }
    let items = if items_unknown {
        None
    } else if head.is_empty() {
        cx.push(syn::Error::new(
            Span::call_site(),
            format!("select! needs a select list: {SELECT_USAGE}"),
        ));
        None
    } else {
        Punctuated::<Expr, syn::Token![,]>::parse_terminated
            .parse2(head)
            .map_err(|e| {
                cx.push(syn::Error::new(
                    e.span(),
                    format!("{e}; expected a select list: {SELECT_USAGE}"),
                ));
            })
            .ok()
            .map(|items| items.into_iter().collect())
    };
    let mut select = Select {
        correlate,
        distinct,
        distinct_on,
        tables_complete: false,
        items,
        from: None,
        joins: Vec::new(),
        filter: None,
        group_by: Vec::new(),
        having: None,
        order_by: Vec::new(),
        limit: None,
        offset: None,
        lock: None,
    };
    let mut from_complete = true;
    let mut seen = [false; CLAUSES.len()];
    let mut last_position = 0;
    for clause in merge_joins(clauses) {
        let upper = clause.keyword.to_string().to_ascii_uppercase();
        let is_join = matches!(upper.as_str(), "JOIN" | "LEFT" | "INNER" | "FULL");
        let name = if is_join { "JOIN" } else { upper.as_str() };
        let Some(position) = CLAUSES.iter().position(|c| *c == name) else {
            cx.push(syn::Error::new(
                clause.keyword.span(),
                format!(
                    "`{}` is not valid in select!{}",
                    clause.keyword,
                    if upper == "UNION" {
                        ": combine two selects with .union(…) or .union_all(…)"
                    } else if upper == "SKIP" || upper == "NOWAIT" {
                        ": it qualifies a lock, FOR UPDATE SKIP LOCKED or FOR UPDATE NOWAIT"
                    } else if upper == "DISTINCT" {
                        ": DISTINCT goes first, select!(DISTINCT User::name FROM User)"
                    } else {
                        ""
                    }
                ),
            ));
            if upper == "UNION" {
                // What follows is another select: its clauses are not this one's.
                break;
            }
            continue;
        };
        if seen[position] && !is_join {
            cx.push(syn::Error::new(
                clause.keyword.span(),
                format!("`{}` appears twice", clause.keyword),
            ));
            continue;
        }
        if position < last_position {
            cx.push(syn::Error::new(
                clause.keyword.span(),
                format!(
                    "`{}` is out of place: clauses go in the order {CLAUSE_ORDER}",
                    clause.keyword
                ),
            ));
        }
        seen[position] = true;
        last_position = last_position.max(position);
        let span = clause.keyword.span();
        match name {
            "FROM" => {
                let parsed = Punctuated::<Expr, syn::Token![,]>::parse_terminated
                    .parse2(clause.tokens)
                    .map_err(|e| cx.push(e));
                if parsed.as_ref().is_ok_and(Punctuated::is_empty) {
                    cx.push(syn::Error::new(span, "FROM needs a table after it"));
                }
                let tables: Vec<Expr> = parsed.into_iter().flatten().collect();
                from_complete = !tables.is_empty();
                select.from = Some(tables);
            }
            "JOIN" => select.joins.push(join(cx, clause)),
            "WHERE" => select.filter = expr(cx, clause.tokens, span, "WHERE"),
            "GROUP" => {
                select.group_by = group_by(clause.tokens, span).unwrap_or_else(|e| {
                    cx.push(e);
                    Vec::new()
                })
            }
            "HAVING" => select.having = expr(cx, clause.tokens, span, "HAVING"),
            "ORDER" => {
                select.order_by = order_by(clause.tokens, span).unwrap_or_else(|e| {
                    cx.push(e);
                    Vec::new()
                })
            }
            "LIMIT" => select.limit = expr(cx, clause.tokens, span, "LIMIT"),
            "OFFSET" => select.offset = expr(cx, clause.tokens, span, "OFFSET"),
            "FOR" => select.lock = lock(cx, clause),
            _ => unreachable!("every clause keyword is handled"),
        }
    }
    let named = match select.from {
        Some(_) => from_complete,
        None => select.items.is_some(),
    };
    select.tables_complete = named && select.joins.iter().all(JoinClause::complete);
    select
}

/// `DISTINCT ON (a, b) items…`: the terms and the tokens after them (`None` when the
/// parentheses are missing); `None` without `ON`.
fn distinct_on_terms(
    cx: &mut Ctxt,
    head: &TokenStream,
) -> Option<(Vec<Expr>, Option<TokenStream>)> {
    let mut tokens = head.clone().into_iter();
    let Some(TokenTree::Ident(on)) = tokens.next() else {
        return None;
    };
    if !on.to_string().eq_ignore_ascii_case("ON") {
        return None;
    }
    let (terms, parenthesized) = match tokens.next() {
        Some(TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Parenthesis => {
            let terms = Punctuated::<Expr, syn::Token![,]>::parse_terminated
                .parse2(g.stream())
                .map_err(|e| cx.push(e))
                .unwrap_or_default();
            (terms, true)
        }
        _ => (Punctuated::new(), false),
    };
    if terms.is_empty() {
        cx.push(syn::Error::new(
            on.span(),
            "DISTINCT ON needs its terms in parentheses: \
             select!(DISTINCT ON (User::hair_color) User FROM User ORDER BY User::hair_color)",
        ));
    }
    Some((
        terms.into_iter().collect(),
        parenthesized.then(|| tokens.collect()),
    ))
}

impl JoinClause {
    /// Whether its table, and those of the joins nested in it, parsed.
    fn complete(&self) -> bool {
        self.table.is_some() && self.nested.iter().all(JoinClause::complete)
    }
}

const LOCK_USAGE: &str = "FOR UPDATE, FOR SHARE, then optionally OF Table, NOWAIT or SKIP LOCKED";

/// `FOR UPDATE [OF T, …] [NOWAIT] [SKIP LOCKED]` or `FOR SHARE …`.
fn lock(cx: &mut Ctxt, clause: Clause) -> Option<LockClause> {
    let mut tokens = clause.tokens.into_iter().peekable();
    let word = |tt: Option<&TokenTree>| match tt {
        Some(TokenTree::Ident(id)) => Some(id.to_string().to_ascii_uppercase()),
        _ => None,
    };
    let share = match word(tokens.peek()).as_deref() {
        Some("UPDATE") => false,
        Some("SHARE") => true,
        _ => {
            let at = tokens.peek().map_or(clause.keyword.span(), TokenTree::span);
            cx.push(syn::Error::new(at, format!("expected {LOCK_USAGE}")));
            return None;
        }
    };
    tokens.next();
    let mut lock = LockClause {
        keyword: clause.keyword,
        share,
        of: Vec::new(),
        nowait: false,
        skip_locked: false,
    };
    while let Some(tt) = tokens.next() {
        match word(Some(&tt)).as_deref() {
            Some("NOWAIT") => lock.nowait = true,
            Some("SKIP") => {
                if word(tokens.peek()).as_deref() == Some("LOCKED") {
                    tokens.next();
                    lock.skip_locked = true;
                } else {
                    cx.push(syn::Error::new(tt.span(), "expected SKIP LOCKED"));
                }
            }
            Some("OF") => {
                let mut list = TokenStream::new();
                while let Some(next) = tokens.peek() {
                    if matches!(word(Some(next)).as_deref(), Some("NOWAIT" | "SKIP")) {
                        break;
                    }
                    list.extend(tokens.next());
                }
                match Punctuated::<Expr, syn::Token![,]>::parse_terminated.parse2(list) {
                    Ok(tables) if !tables.is_empty() => lock.of.extend(tables),
                    Ok(_) => cx.push(syn::Error::new(tt.span(), "OF needs a table after it")),
                    Err(e) => cx.push(e),
                }
            }
            _ => {
                cx.push(syn::Error::new(
                    tt.span(),
                    format!("unexpected `{tt}` in a lock clause: {LOCK_USAGE}"),
                ));
                return None;
            }
        }
    }
    if lock.nowait && lock.skip_locked {
        cx.push(syn::Error::new(
            lock.keyword.span(),
            "NOWAIT and SKIP LOCKED exclude each other: a locked row fails or is skipped",
        ));
    }
    Some(lock)
}

/// `LEFT [OUTER] JOIN` and `INNER JOIN` arrive as two clauses, since `JOIN` is a keyword of
/// its own: put them back together; so do `FOR UPDATE` and its `NOWAIT` / `SKIP LOCKED`.
fn merge_joins(clauses: Vec<Clause>) -> Vec<Clause> {
    let mut out: Vec<Clause> = Vec::with_capacity(clauses.len());
    for clause in clauses {
        let upper = clause.keyword.to_string().to_ascii_uppercase();
        if (upper == "SKIP" || upper == "NOWAIT")
            && let Some(prev) = out.last_mut()
            && prev.keyword.to_string().eq_ignore_ascii_case("FOR")
        {
            prev.tokens.extend([TokenTree::Ident(clause.keyword)]);
            prev.tokens.extend(clause.tokens);
            continue;
        }
        let is_join = clause.keyword.to_string().eq_ignore_ascii_case("JOIN");
        if let Some(prev) = out.last_mut() {
            let prev_kw = prev.keyword.to_string().to_ascii_uppercase();
            let only_outer = prev.tokens.clone().into_iter().all(
                |tt| matches!(&tt, TokenTree::Ident(id) if id.to_string().eq_ignore_ascii_case("OUTER")),
            );
            if is_join
                && (prev_kw == "LEFT" || prev_kw == "INNER" || prev_kw == "FULL")
                && only_outer
            {
                prev.tokens.extend([TokenTree::Ident(clause.keyword)]);
                prev.tokens.extend(clause.tokens);
                continue;
            }
        }
        out.push(clause);
    }
    out
}

/// `count(*)` is not Rust: write it as `count()` before parsing.
fn star_arguments(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut previous_is_count = false;
    for tt in tokens {
        let tt = match tt {
            TokenTree::Group(g) => {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                let is_star =
                    matches!(inner.as_slice(), [TokenTree::Punct(p)] if p.as_char() == '*');
                let stream = if previous_is_count && is_star {
                    TokenStream::new()
                } else {
                    star_arguments(g.stream())
                };
                let mut group = proc_macro2::Group::new(g.delimiter(), stream);
                group.set_span(g.span());
                TokenTree::Group(group)
            }
            other => other,
        };
        previous_is_count = matches!(&tt, TokenTree::Ident(id) if id == "count");
        out.push(tt);
    }
    out.into_iter().collect()
}

/// Split off `__correlate(A, b)`, which only an enclosing statement macro writes.
fn correlation_prefix(cx: &mut Ctxt, tokens: TokenStream) -> (Vec<Ident>, TokenStream) {
    let mut iter = tokens.clone().into_iter();
    match (iter.next(), iter.next()) {
        (Some(TokenTree::Ident(id)), Some(TokenTree::Group(g))) if id == CORRELATE => {
            let names = Punctuated::<Ident, syn::Token![,]>::parse_terminated
                .parse2(g.stream())
                .map_err(|e| cx.push(e))
                .unwrap_or_default();
            (names.into_iter().collect(), iter.collect())
        }
        _ => (Vec::new(), tokens),
    }
}

/// `JOIN T ON c`, `LEFT [OUTER] JOIN T ON c`, `INNER JOIN T ON c`. A missing `JOIN` after
/// `LEFT`/`INNER` or a missing `ON` is reported, and the rest is read as if it were there.
fn join(cx: &mut Ctxt, clause: Clause) -> JoinClause {
    let keyword = clause.keyword;
    let upper = keyword.to_string().to_ascii_uppercase();
    let mut tokens = clause.tokens.into_iter().peekable();
    let mut outer = false;
    let full = upper == "FULL";
    if upper != "JOIN" {
        if upper == "LEFT" || full {
            outer = true;
            if matches!(tokens.peek(), Some(TokenTree::Ident(id)) if id.to_string().eq_ignore_ascii_case("OUTER"))
            {
                tokens.next();
            }
        }
        match tokens.peek() {
            Some(TokenTree::Ident(id)) if id.to_string().eq_ignore_ascii_case("JOIN") => {
                tokens.next();
            }
            _ => {
                cx.push(syn::Error::new(
                    keyword.span(),
                    format!(
                        "expected JOIN after {keyword}: {} Post ON Post::user_id == User::id",
                        if full {
                            "FULL JOIN"
                        } else if outer {
                            "LEFT JOIN"
                        } else {
                            "INNER JOIN"
                        }
                    ),
                ));
            }
        }
    }
    // `JOIN LATERAL sub ON …`; `JOIN lateral ON …` joins a variable named `lateral`.
    let is_word = |tt: Option<&TokenTree>, word: &str| matches!(tt, Some(TokenTree::Ident(id)) if id.to_string().eq_ignore_ascii_case(word));
    let mut ahead = tokens.clone();
    let lateral = is_word(ahead.next().as_ref(), "LATERAL")
        && ahead.next().is_some_and(|next| !is_word(Some(&next), "ON"));
    if lateral {
        tokens.next();
    }
    let mut table = TokenStream::new();
    let mut on = None;
    let mut after_path_sep = false;
    for tt in tokens {
        if on.is_none()
            && !after_path_sep
            && matches!(&tt, TokenTree::Ident(id) if id.to_string().eq_ignore_ascii_case("ON"))
        {
            on = Some(TokenStream::new());
            continue;
        }
        after_path_sep =
            matches!(&tt, TokenTree::Punct(p) if p.as_char() == ':' || p.as_char() == '.');
        match &mut on {
            Some(on) => on.extend([tt]),
            None => table.extend([tt]),
        }
    }
    let (table, nested) = match nested_joins(cx, &table) {
        Some(parts) => parts,
        None => (expr(cx, table, keyword.span(), "JOIN"), Vec::new()),
    };
    let on = match on {
        Some(on) => expr(cx, on, keyword.span(), "ON"),
        None => {
            cx.push(syn::Error::new(
                keyword.span(),
                "a join needs ON and a condition: JOIN Post ON Post::user_id == User::id",
            ));
            None
        }
    };
    JoinClause {
        keyword,
        outer,
        full,
        lateral,
        table,
        nested,
        on,
    }
}

/// `(Post JOIN Comment ON …)` on the right of a join: its first table and its joins; `None`
/// when the tokens are not a parenthesized join.
fn nested_joins(cx: &mut Ctxt, tokens: &TokenStream) -> Option<(Option<Expr>, Vec<JoinClause>)> {
    let mut iter = tokens.clone().into_iter();
    let (Some(TokenTree::Group(g)), None) = (iter.next(), iter.next()) else {
        return None;
    };
    if g.delimiter() != proc_macro2::Delimiter::Parenthesis {
        return None;
    }
    let (head, clauses) = split_clauses(g.stream());
    if clauses.is_empty() {
        return None;
    }
    let table = expr(cx, head, g.span(), "JOIN (");
    let mut joins = Vec::with_capacity(clauses.len());
    for clause in merge_joins(clauses) {
        let upper = clause.keyword.to_string().to_ascii_uppercase();
        if matches!(upper.as_str(), "JOIN" | "LEFT" | "INNER" | "FULL") {
            joins.push(join(cx, clause));
        } else {
            cx.push(syn::Error::new(
                clause.keyword.span(),
                format!(
                    "`{}` is not valid inside a nested join: JOIN (Post JOIN Comment ON …) ON …",
                    clause.keyword
                ),
            ));
        }
    }
    Some((table, joins))
}

fn group_by(tokens: TokenStream, span: Span) -> syn::Result<Vec<Expr>> {
    let mut iter = tokens.into_iter();
    match iter.next() {
        Some(TokenTree::Ident(by)) if by.to_string().eq_ignore_ascii_case("BY") => {}
        _ => {
            return Err(syn::Error::new(
                span,
                "expected BY after GROUP: GROUP BY User::hair_color",
            ));
        }
    }
    let terms = Punctuated::<Expr, syn::Token![,]>::parse_terminated.parse2(iter.collect())?;
    if terms.is_empty() {
        return Err(syn::Error::new(span, "GROUP BY needs a column after it"));
    }
    Ok(terms.into_iter().collect())
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

pub(crate) const UPDATE_USAGE: &str = "update!(User SET name = \"ed\" WHERE User::id == 5)";

/// Read `update!`'s input; a missing SET clause is for `check` to report.
pub(crate) fn update(cx: &mut Ctxt, input: TokenStream) -> Update {
    let (head, clauses) = split_clauses(input);
    let table = table_path(cx, head, UPDATE_USAGE);
    let mut assignments: Option<Vec<Assignment>> = None;
    let mut from = Vec::new();
    let mut filter = None;
    let mut seen_where = false;
    for clause in clauses {
        let span = clause.keyword.span();
        match clause.keyword.to_string().to_ascii_uppercase().as_str() {
            "SET" if assignments.is_none() && !seen_where => {
                let parser = Punctuated::<Assignment, syn::Token![,]>::parse_terminated;
                let list = parser.parse2(clause.tokens).map_err(|e| cx.push(e));
                if list.as_ref().is_ok_and(Punctuated::is_empty) {
                    cx.push(syn::Error::new(
                        span,
                        format!("SET needs at least one column: {UPDATE_USAGE}"),
                    ));
                }
                let list = list.unwrap_or_default();
                assignments = Some(list.into_iter().collect());
            }
            "FROM" if assignments.is_some() && !seen_where && from.is_empty() => {
                from = tables(cx, clause.tokens, span, "FROM");
            }
            "WHERE" if !seen_where => {
                seen_where = true;
                filter = expr(cx, clause.tokens, span, "WHERE");
            }
            _ => cx.push(misplaced(
                &clause.keyword,
                "update!",
                "SET …, then optionally FROM … and WHERE …",
            )),
        }
    }
    Update {
        table,
        assignments,
        from,
        filter,
    }
}

/// Read `delete!`'s input.
pub(crate) fn delete(cx: &mut Ctxt, input: TokenStream) -> Delete {
    let (head, clauses) = split_clauses(input);
    let table = table_path(cx, head, "delete!(User WHERE User::id == 5)");
    let mut using = Vec::new();
    let mut filter = None;
    let mut seen_where = false;
    for clause in clauses {
        let span = clause.keyword.span();
        match clause.keyword.to_string().to_ascii_uppercase().as_str() {
            "USING" if !seen_where && using.is_empty() => {
                using = tables(cx, clause.tokens, span, "USING");
            }
            "WHERE" if !seen_where => {
                seen_where = true;
                filter = expr(cx, clause.tokens, span, "WHERE");
            }
            _ => cx.push(misplaced(
                &clause.keyword,
                "delete!",
                "optionally USING … and WHERE …",
            )),
        }
    }
    Delete {
        table,
        using,
        filter,
    }
}

/// The tables of an `UPDATE … FROM` or `DELETE … USING` clause.
fn tables(cx: &mut Ctxt, tokens: TokenStream, span: Span, keyword: &str) -> Vec<Expr> {
    match Punctuated::<Expr, syn::Token![,]>::parse_terminated.parse2(tokens) {
        Ok(list) if !list.is_empty() => list.into_iter().collect(),
        Ok(_) => {
            cx.push(syn::Error::new(
                span,
                format!("{keyword} needs a table after it"),
            ));
            Vec::new()
        }
        Err(e) => {
            cx.push(e);
            Vec::new()
        }
    }
}

/// Read `insert!`'s input: a struct expression, with the macro's form in the error when it is
/// not one.
/// `insert!(Archive (id, name) FROM select!(…))`: `INSERT … SELECT`.
pub(crate) struct InsertFrom {
    pub(crate) table: Path,
    pub(crate) columns: Vec<Ident>,
    pub(crate) source: Expr,
}

const INSERT_FROM_USAGE: &str =
    "insert!(Archive (id, name) FROM select!(User::id, User::name FROM User))";

/// The `INSERT … SELECT` form, when the input has a top-level `FROM`; `None` otherwise.
pub(crate) fn insert_from(cx: &mut Ctxt, input: &TokenStream) -> Option<Option<InsertFrom>> {
    let tokens: Vec<TokenTree> = input.clone().into_iter().collect();
    let at = tokens.iter().position(
        |tt| matches!(tt, TokenTree::Ident(id) if id.to_string().eq_ignore_ascii_case("FROM")),
    )?;
    let head: TokenStream = tokens[..at].iter().cloned().collect();
    let tail: TokenStream = tokens[at + 1..].iter().cloned().collect();
    let parsed = (|input: ParseStream<'_>| {
        let table: Path = input.parse()?;
        let content;
        syn::parenthesized!(content in input);
        let columns = Punctuated::<Ident, syn::Token![,]>::parse_terminated(&content)?;
        Ok((table, columns.into_iter().collect::<Vec<_>>()))
    })
    .parse2(head);
    let (table, columns) = match parsed {
        Ok(ok) => ok,
        Err(e) => {
            cx.push(syn::Error::new(
                e.span(),
                format!("{e}; expected {INSERT_FROM_USAGE}"),
            ));
            return Some(None);
        }
    };
    if columns.is_empty() {
        cx.push(syn::Error::new(
            tokens[at].span(),
            format!("name the columns the select fills: {INSERT_FROM_USAGE}"),
        ));
        return Some(None);
    }
    match syn::parse2::<Expr>(tail) {
        Ok(source) => Some(Some(InsertFrom {
            table,
            columns,
            source,
        })),
        Err(e) => {
            cx.push(syn::Error::new(
                e.span(),
                format!("{e}; expected {INSERT_FROM_USAGE}"),
            ));
            Some(None)
        }
    }
}

pub(crate) fn insert(cx: &mut Ctxt, input: TokenStream) -> Option<ExprStruct> {
    syn::parse2(input)
        .map_err(|e| {
            cx.push(syn::Error::new(
                e.span(),
                format!(
                    "{e}; insert! takes a table and its values: \
                     insert!(User {{ name: \"ed\", hair_color: None }})"
                ),
            ));
        })
        .ok()
}

fn misplaced(keyword: &Ident, mac: &str, form: &str) -> syn::Error {
    syn::Error::new(
        keyword.span(),
        format!("`{keyword}` is not valid here: {mac} takes the table, then {form}"),
    )
}

/// A clause's expression; `None` (and an error) when it is missing or does not parse.
fn expr(cx: &mut Ctxt, tokens: TokenStream, span: Span, keyword: &str) -> Option<Expr> {
    if tokens.is_empty() {
        cx.push(syn::Error::new(
            span,
            format!(
                "{keyword} needs an expression after it{}",
                variable_hint(span)
            ),
        ));
        return None;
    }
    syn::parse2(tokens).map_err(|e| cx.push(e)).ok()
}

/// For a keyword written in lower case where an expression was cut short: it may be a
/// variable of that name, which braces keep from being read as the keyword.
fn variable_hint(span: Span) -> String {
    match span.source_text() {
        Some(word) if word.chars().all(|c| c.is_ascii_lowercase()) => format!(
            "; `{word}` is read as the keyword {}: to use a variable named `{word}`, write `{{{word}}}`",
            word.to_ascii_uppercase()
        ),
        _ => String::new(),
    }
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
    // `NULLS FIRST` / `NULLS LAST`: the `NULLS` keyword, then the word.
    let mut nulls: Option<Ident> = None;
    let mut nulls_word: Option<Ident> = None;
    let finish = |current: &mut TokenStream,
                  direction: &mut Option<Ident>,
                  nulls: &mut Option<Ident>,
                  nulls_word: &mut Option<Ident>,
                  terms: &mut Vec<(Expr, Option<Ident>)>|
     -> syn::Result<()> {
        if current.is_empty() {
            return Err(syn::Error::new(span, "ORDER BY needs a column after it"));
        }
        let mut term: Expr = syn::parse2(std::mem::take(current))?;
        if let Some(kw) = nulls.take() {
            let Some(word) = nulls_word.take() else {
                return Err(syn::Error::new(
                    kw.span(),
                    "expected FIRST or LAST after NULLS",
                ));
            };
            // `term.nulls_first()` after its direction: the direction goes onto the term
            // first (`asc()`/`desc()`), then the NULLS order, both read by `expand`.
            let method = Ident::new(
                &format!("nulls_{}", word.to_string().to_ascii_lowercase()),
                word.span(),
            );
            let dir = direction
                .take()
                .map(|d| Ident::new(&d.to_string().to_ascii_lowercase(), d.span()));
            term = match dir {
                Some(d) => syn::parse_quote_spanned!(word.span()=> (#term).#d().#method()),
                None => syn::parse_quote_spanned!(word.span()=> (#term).#method()),
            };
        }
        terms.push((term, direction.take()));
        Ok(())
    };
    for tt in iter {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => finish(
                &mut current,
                &mut direction,
                &mut nulls,
                &mut nulls_word,
                &mut terms,
            )?,
            TokenTree::Ident(id)
                if nulls.is_none()
                    && ["ASC", "DESC"].contains(&id.to_string().to_ascii_uppercase().as_str()) =>
            {
                direction = Some(id.clone());
            }
            TokenTree::Ident(id)
                if nulls.is_none() && id.to_string().eq_ignore_ascii_case("NULLS") =>
            {
                nulls = Some(id.clone());
            }
            TokenTree::Ident(id)
                if nulls.is_some()
                    && nulls_word.is_none()
                    && ["FIRST", "LAST"]
                        .contains(&id.to_string().to_ascii_uppercase().as_str()) =>
            {
                nulls_word = Some(id.clone());
            }
            TokenTree::Ident(id) if direction.is_some() || nulls.is_some() => {
                return Err(syn::Error::new(
                    id.span(),
                    format!(
                        "unexpected `{id}` after the sort direction{}",
                        hint(&id.to_string(), ["ASC", "DESC", "NULLS", "FIRST", "LAST"])
                    ),
                ));
            }
            _ => current.extend([tt]),
        }
    }
    finish(
        &mut current,
        &mut direction,
        &mut nulls,
        &mut nulls_word,
        &mut terms,
    )?;
    Ok(terms)
}
