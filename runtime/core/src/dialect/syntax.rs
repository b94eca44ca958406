//! The lexical rules of a database's SQL that `text()` needs: which quotes and comments hide
//! a `:name` from being a bind.

/// How a database's SQL text is cut into strings, quoted identifiers, comments and the rest,
/// as far as `text()` needs to know where its `:name` binds can be: [`Dialect::text_syntax`].
///
/// Every syntax has `'…'` strings and `"…"` and `` `…` `` quotes (a doubled quote inside
/// stays inside), `-- line` and `/* block */` comments. The fields add each database's own.
///
/// [`Dialect::text_syntax`]: super::Dialect::text_syntax
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TextSyntax {
    /// `\` escapes the next character inside `'…'` and `"…"` (MySQL and MariaDB, unless
    /// the session's `sql_mode` has `NO_BACKSLASH_ESCAPES`).
    pub backslash_escapes: bool,
    /// `E'…'` strings, in which `\` escapes the next character (PostgreSQL).
    pub escape_strings: bool,
    /// `#` starts a comment that runs to the end of the line (MySQL).
    pub hash_comments: bool,
    /// `--` starts a comment only when a space, a control character or the end follows
    /// (MySQL: `1--1` is an expression).
    pub dash_comment_needs_space: bool,
    /// `/* … */` comments nest (PostgreSQL).
    pub nested_comments: bool,
    /// `$$…$$` and `$tag$…$tag$` strings, a tag being an identifier (PostgreSQL).
    pub dollar_quotes: bool,
    /// `[…]` quotes an identifier (SQLite).
    pub bracket_identifiers: bool,
}

impl TextSyntax {
    /// Quotes and comments alone: what a dialect that says nothing else gets.
    pub const ANSI: TextSyntax = TextSyntax {
        backslash_escapes: false,
        escape_strings: false,
        hash_comments: false,
        dash_comment_needs_space: false,
        nested_comments: false,
        dollar_quotes: false,
        bracket_identifiers: false,
    };
    /// SQLite's: also `[identifiers]`.
    pub const SQLITE: TextSyntax = TextSyntax {
        bracket_identifiers: true,
        ..TextSyntax::ANSI
    };
    /// PostgreSQL's: `E'…'` escapes, nested comments, dollar quotes.
    pub const POSTGRES: TextSyntax = TextSyntax {
        escape_strings: true,
        nested_comments: true,
        dollar_quotes: true,
        ..TextSyntax::ANSI
    };
    /// MySQL's and MariaDB's (default `sql_mode`): backslash escapes, `#` comments, `-- `
    /// comments only before a space.
    pub const MYSQL: TextSyntax = TextSyntax {
        backslash_escapes: true,
        hash_comments: true,
        dash_comment_needs_space: true,
        ..TextSyntax::ANSI
    };
}
