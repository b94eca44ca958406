//! Cutting a `text()` statement into literal pieces and `:name` binds, by the lexical rules of
//! the database it is compiled for ([`TextSyntax`]).
//!
//! A bind is SQLAlchemy's: a `:` followed by a name of word characters (`\w`: letters and
//! digits of any script, and `_`; it starts with a letter or `_`), where the `:` does not
//! follow a word character, a `:` or a `\`. Where it cannot be is each server's business:
//! strings, quoted identifiers and comments, as that server reads them.

use std::collections::HashMap;
use std::ops::Range;

use crate::dialect::TextSyntax;

/// A statement cut into pieces.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scan {
    pub(super) pieces: Vec<Piece>,
    /// The distinct bind names, as ranges of the SQL, in order of first use.
    pub(super) names: Vec<Range<usize>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Piece {
    /// SQL written as it is.
    Sql(Range<usize>),
    /// A placeholder for the bind `names[i]`.
    Bind(usize),
}

/// From this many distinct names on, a scan looks them up in a map.
const INDEXED: usize = 16;

/// A character that continues a bind name: SQLAlchemy's `\w`.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A character that starts a bind name: a word character other than a digit.
fn starts_name(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

/// A byte of a PostgreSQL identifier after its first: `[A-Za-z0-9_$]` or any non-ASCII byte.
fn pg_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Cut `sql` by the rules of `syntax`. Every index where a piece starts or ends is at an
/// ASCII character or at a character boundary, so each piece is a valid `str` slice.
pub(super) fn scan(sql: &str, syntax: TextSyntax) -> Scan {
    let b = sql.as_bytes();
    let mut pieces = Vec::new();
    let mut names: Vec<Range<usize>> = Vec::new();
    let mut ids: HashMap<&str, usize> = HashMap::new();
    let mut literal = 0;
    let mut i = 0;
    while i < b.len() {
        let next = b.get(i + 1).copied();
        i = match b[i] {
            b'\'' => {
                // PostgreSQL's E'…' (not the end of an identifier such as `some'`).
                let e_string = syntax.escape_strings
                    && i > 0
                    && matches!(b[i - 1], b'E' | b'e')
                    && (i < 2 || !pg_ident_byte(b[i - 2]));
                skip_quoted(b, i, syntax.backslash_escapes || e_string)
            }
            b'"' => skip_quoted(b, i, syntax.backslash_escapes),
            b'`' => skip_quoted(b, i, false),
            b'[' if syntax.bracket_identifiers => find(b, i + 1, b"]").map_or(b.len(), |p| p + 1),
            b'-' if next == Some(b'-')
                && (!syntax.dash_comment_needs_space
                    || b.get(i + 2)
                        .is_none_or(|c| c.is_ascii_whitespace() || *c < 0x20)) =>
            {
                line_end(b, i)
            }
            b'#' if syntax.hash_comments => line_end(b, i),
            // MySQL runs the inside of `/*! … */` as SQL: scanned as such.
            b'/' if next == Some(b'*') && syntax.hash_comments && b.get(i + 2) == Some(&b'!') => {
                i + 3
            }
            b'/' if next == Some(b'*') => skip_block_comment(b, i, syntax.nested_comments),
            b'$' if syntax.dollar_quotes && !(i > 0 && pg_ident_byte(b[i - 1])) => {
                skip_dollar_quoted(b, i)
            }
            b'\\' if next == Some(b':') => {
                // Drop the backslash; the colon starts the next literal piece.
                push_sql(&mut pieces, literal..i);
                literal = i + 1;
                i + 2
            }
            b':' if next == Some(b':') => i + 2,
            b':' => {
                let after_word = sql[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| is_word(c) || c == ':' || c == '\\');
                let start = i + 1;
                if after_word || !sql[start..].chars().next().is_some_and(starts_name) {
                    i + 1
                } else {
                    let end = sql[start..]
                        .char_indices()
                        .find(|(_, c)| !is_word(*c))
                        .map_or(sql.len(), |(p, _)| start + p);
                    push_sql(&mut pieces, literal..i);
                    let name = &sql[start..end];
                    // A handful of names are searched; past that, looked up (linear overall).
                    let found = if names.len() < INDEXED {
                        names.iter().position(|r| &sql[r.clone()] == name)
                    } else {
                        if ids.is_empty() {
                            ids = (names.iter().enumerate())
                                .map(|(i, r)| (&sql[r.clone()], i))
                                .collect();
                        }
                        ids.get(name).copied()
                    };
                    let id = match found {
                        Some(id) => id,
                        None => {
                            names.push(start..end);
                            if !ids.is_empty() {
                                ids.insert(name, names.len() - 1);
                            }
                            names.len() - 1
                        }
                    };
                    pieces.push(Piece::Bind(id));
                    literal = end;
                    end
                }
            }
            _ => i + 1,
        };
    }
    push_sql(&mut pieces, literal..b.len());
    Scan { pieces, names }
}

fn push_sql(pieces: &mut Vec<Piece>, range: Range<usize>) {
    if !range.is_empty() {
        pieces.push(Piece::Sql(range));
    }
}

/// The index of the first `needle` at or after `from`.
fn find(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// After the end of the line at `from` (its `\n` included); the end when there is none.
fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| from + p + 1)
}

/// The index after the quote closing the one at `open`: a doubled quote inside is part of the
/// text, and so, with `backslash`, is any character after a `\`. The end when unclosed.
fn skip_quoted(b: &[u8], open: usize, backslash: bool) -> usize {
    let quote = b[open];
    let mut i = open + 1;
    while i < b.len() {
        match b[i] {
            b'\\' if backslash => i += 2,
            c if c == quote => {
                if b.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    b.len()
}

/// The index after the `/* … */` comment opened at `open` (nested ones closed too where
/// `nested`); the end when unclosed.
fn skip_block_comment(b: &[u8], open: usize, nested: bool) -> usize {
    let mut depth = 1usize;
    let mut i = open + 2;
    while i < b.len() {
        if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else if nested && b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            depth += 1;
            i += 2;
        } else {
            i += 1;
        }
    }
    b.len()
}

/// After `$tag$…$tag$` starting at `open`, or just after the `$` when it opens no dollar quote
/// (`$1`, a lone `$`). A tag is a PostgreSQL identifier without `$`: any non-ASCII byte counts
/// as a letter, as PostgreSQL's lexer reads it.
fn skip_dollar_quoted(b: &[u8], open: usize) -> usize {
    let tag_start = open + 1;
    let tag_len = match b.get(tag_start) {
        Some(&c) if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => b[tag_start..]
            .iter()
            .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80))
            .unwrap_or(b.len() - tag_start),
        _ => 0,
    };
    let close = tag_start + tag_len;
    if b.get(close) != Some(&b'$') {
        return open + 1;
    }
    let delimiter = &b[open..=close];
    find(b, close + 1, delimiter).map_or(b.len(), |p| p + delimiter.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The bind names `sql` holds by `syntax`, in order of use.
    fn binds(sql: &str, syntax: TextSyntax) -> Vec<String> {
        let scan = scan(sql, syntax);
        scan.pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Bind(id) => Some(sql[scan.names[*id].clone()].to_owned()),
                Piece::Sql(_) => None,
            })
            .collect()
    }

    const PG: TextSyntax = TextSyntax::POSTGRES;
    const MY: TextSyntax = TextSyntax::MYSQL;
    const LITE: TextSyntax = TextSyntax::SQLITE;

    #[test]
    fn postgres_comments_nest() {
        assert_eq!(binds("SELECT /* /* :a */ :b */ :c", PG), ["c"]);
        // Elsewhere the first `*/` ends the comment.
        assert_eq!(binds("SELECT /* /* :a */ :b */ :c", LITE), ["b", "c"]);
        assert_eq!(binds("SELECT /* /* :a */ :b */ :c", MY), ["b", "c"]);
    }

    #[test]
    fn dollar_quote_tags_may_be_any_letters() {
        assert_eq!(binds("SELECT $é$ :a $é$, :b", PG), ["b"]);
        assert_eq!(binds("SELECT $tag_1$ :a $$ :x $tag_1$, :b", PG), ["b"]);
        // `$1` is a parameter, `a$b$` an identifier: neither opens a quote.
        assert_eq!(binds("SELECT $1, a$b$ :c", PG), ["c"]);
        // No dollar quotes outside PostgreSQL.
        assert_eq!(binds("SELECT $$ :a $$", LITE), ["a"]);
    }

    #[test]
    fn postgres_escape_strings_take_backslashes() {
        assert_eq!(binds(r"SELECT E'it\'s :a', :b", PG), ["b"]);
        assert_eq!(binds(r"SELECT e'\\', :b", PG), ["b"]);
        // A standard string ends at the next quote: `'\'` is one backslash.
        assert_eq!(binds(r"SELECT '\', :b", PG), ["b"]);
        assert_eq!(binds(r"SELECT some'x', :b", PG), ["b"]);
    }

    #[test]
    fn mysql_strings_take_backslashes_and_hash_starts_a_comment() {
        assert_eq!(binds(r"SELECT 'it\'s :a', :b", MY), ["b"]);
        assert_eq!(binds(r#"SELECT "say \":a\"", :b"#, MY), ["b"]);
        assert_eq!(binds(r"SELECT '\\', :b", MY), ["b"]);
        assert_eq!(binds("SELECT :a # :b\n, :c", MY), ["a", "c"]);
        assert_eq!(binds("SELECT :a # :b\n, :c", PG), ["a", "b", "c"]);
        // `--` comments need a space after them on MySQL; `1--1` is arithmetic.
        assert_eq!(binds("SELECT 1--:a\n", MY), ["a"]);
        assert_eq!(binds("SELECT 1-- :a\n", MY), Vec::<String>::new());
        assert_eq!(binds("SELECT 1--:a\n", LITE), Vec::<String>::new());
        // The inside of `/*! … */` runs on MySQL.
        assert_eq!(binds("SELECT /*! :a */ 1", MY), ["a"]);
    }

    #[test]
    fn sqlite_brackets_quote_identifiers() {
        assert_eq!(binds("SELECT [a:b], [:c], :d", LITE), ["d"]);
        assert_eq!(binds("SELECT x[1:2], :d", PG), ["d"]);
    }

    #[test]
    fn bind_names_follow_sqlalchemy_word_rule() {
        for syntax in [PG, MY, LITE] {
            assert_eq!(
                binds("SELECT :idé, :naïve_1, :_x", syntax),
                ["idé", "naïve_1", "_x"]
            );
            assert_eq!(
                binds("SELECT é:a, 1:a, ::a, \\:a, :1", syntax),
                Vec::<String>::new()
            );
            assert_eq!(binds("SELECT :id::int", syntax), ["id"]);
        }
    }

    /// One token of a generated statement: its text in a syntax, and the bind it holds.
    #[derive(Debug, Clone)]
    enum Token {
        Word(&'static str),
        Bind(&'static str),
        BindCast(&'static str),
        EscapedColon(&'static str),
        Single(String),
        Double(String),
        Backtick(String),
        LineComment(String),
        Block(String),
        Nested(String, String),
        Dollar(&'static str, String),
        EString(String),
        Hash(String),
        Bracket(String),
    }

    const NAMES: &[&str] = &["a", "id", "idé", "naïve", "_x1", "Ω2", "b_c"];
    const WORDS: &[&str] = &[
        "SELECT", "1", ",", "=", "x", "(", ")", "||", "+", "?", "é", "0.5",
    ];

    /// Text of hostile characters, without any in `forbidden`.
    fn filler(forbidden: &'static str) -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec![
                "a", ":", ":a", " ", "-", "*", "/", "#", "$", "é", "\n", "\"", "`", "'", "\\", "[",
                "]", "::b", "--", "/*", "*/", "$$",
            ]),
            0..8,
        )
        .prop_map(move |parts| {
            parts
                .concat()
                .chars()
                .filter(|c| !forbidden.contains(*c))
                .collect()
        })
    }

    fn token(syntax: TextSyntax) -> BoxedStrategy<Token> {
        let name = || prop::sample::select(NAMES.to_vec());
        let mut options: Vec<BoxedStrategy<Token>> = vec![
            prop::sample::select(WORDS.to_vec())
                .prop_map(Token::Word)
                .boxed(),
            name().prop_map(Token::Bind).boxed(),
            name().prop_map(Token::BindCast).boxed(),
            name().prop_map(Token::EscapedColon).boxed(),
            filler("'\\").prop_map(Token::Single).boxed(),
            filler("\"\\").prop_map(Token::Double).boxed(),
            filler("`").prop_map(Token::Backtick).boxed(),
            filler("\n").prop_map(Token::LineComment).boxed(),
            filler("*").prop_map(Token::Block).boxed(),
        ];
        if syntax.nested_comments {
            options.push(
                (filler("*/"), filler("*/"))
                    .prop_map(|(a, b)| Token::Nested(a, b))
                    .boxed(),
            );
        }
        if syntax.dollar_quotes {
            options.push(
                (
                    prop::sample::select(vec!["", "t", "é", "tag_1"]),
                    filler("$"),
                )
                    .prop_map(|(tag, body)| Token::Dollar(tag, body))
                    .boxed(),
            );
        }
        if syntax.escape_strings {
            options.push(filler("").prop_map(Token::EString).boxed());
        }
        if syntax.hash_comments {
            options.push(filler("\n").prop_map(Token::Hash).boxed());
        }
        if syntax.bracket_identifiers {
            options.push(filler("]").prop_map(Token::Bracket).boxed());
        }
        prop::strategy::Union::new(options).boxed()
    }

    /// Escape `body` for a quote `q` by the rules of `syntax` (doubling, and backslashes where
    /// they escape), so that it stays one token.
    fn quoted(q: char, body: &str, backslashes: bool) -> String {
        let mut out = String::from(q);
        for c in body.chars() {
            if c == q {
                out.push(q);
            } else if c == '\\' && backslashes {
                out.push('\\');
            }
            out.push(c);
        }
        out.push(q);
        out
    }

    /// The token's SQL and the SQL expected out of compiling it (`?` for its bind).
    fn render(t: &Token, syntax: TextSyntax) -> (String, String, Option<&'static str>) {
        let same = |s: String| (s.clone(), s, None);
        match t {
            Token::Word(w) => same((*w).to_owned()),
            Token::Bind(n) => (format!(":{n}"), "?".into(), Some(*n)),
            Token::BindCast(n) => (format!(":{n}::int"), "?::int".into(), Some(*n)),
            Token::EscapedColon(n) => (format!("\\:{n}"), format!(":{n}"), None),
            Token::Single(b) => same(quoted('\'', b, syntax.backslash_escapes)),
            Token::Double(b) => same(quoted('"', b, syntax.backslash_escapes)),
            Token::Backtick(b) => same(quoted('`', b, false)),
            Token::LineComment(b) => same(format!("-- {b}\n")),
            Token::Block(b) => same(format!("/* {b} */")),
            Token::Nested(a, b) => same(format!("/* {a} /* {b} */ {a} */")),
            Token::Dollar(tag, b) => same(format!("${tag}${b}${tag}$")),
            Token::EString(b) => same(format!("E{}", quoted('\'', b, true))),
            Token::Hash(b) => same(format!("# {b}\n")),
            Token::Bracket(b) => same(format!("[{b}]")),
        }
    }

    fn statement(syntax: TextSyntax) -> impl Strategy<Value = Vec<Token>> {
        proptest::collection::vec(token(syntax), 0..24)
    }

    fn check(tokens: &[Token], syntax: TextSyntax) -> std::result::Result<(), TestCaseError> {
        let rendered: Vec<_> = tokens.iter().map(|t| render(t, syntax)).collect();
        let sql = rendered
            .iter()
            .map(|r| r.0.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let want_sql = rendered
            .iter()
            .map(|r| r.1.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let want: Vec<String> = rendered
            .iter()
            .filter_map(|r| r.2.map(str::to_owned))
            .collect();
        prop_assert_eq!(binds(&sql, syntax), want, "{}", sql);
        let scan = scan(&sql, syntax);
        let joined: String = scan
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Sql(r) => &sql[r.clone()],
                Piece::Bind(_) => "?",
            })
            .collect();
        prop_assert_eq!(joined, want_sql, "{}", sql);
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 256,
            failure_persistence: None,
            rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
            rng_seed: proptest::test_runner::RngSeed::Fixed(18),
            ..ProptestConfig::default()
        })]

        #[test]
        fn generated_postgres_statements_bind_what_was_generated(t in statement(PG)) {
            check(&t, PG)?;
        }

        #[test]
        fn generated_mysql_statements_bind_what_was_generated(t in statement(MY)) {
            check(&t, MY)?;
        }

        #[test]
        fn generated_sqlite_statements_bind_what_was_generated(t in statement(LITE)) {
            check(&t, LITE)?;
        }

        #[test]
        fn any_text_scans_without_panicking(sql in "\\PC*", syntax in 0..4usize) {
            let syntax = [PG, MY, LITE, TextSyntax::ANSI][syntax];
            let scan = scan(&sql, syntax);
            for piece in &scan.pieces {
                if let Piece::Sql(r) = piece {
                    prop_assert!(sql.get(r.clone()).is_some());
                }
            }
        }
    }
}
