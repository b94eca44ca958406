//! Read/write routing: which statements a read replica may serve.
//!
//! An engine with replicas sends a statement to one only when [`reads_only`] says its SQL
//! cannot change anything or take a lock; everything else goes to the primary. The test is on
//! the compiled SQL text, so `select!`, builders and `text()` are judged alike:
//!
//! ```
//! use quarry_core::rules::routing::reads_only;
//!
//! assert!(reads_only("SELECT users.id FROM users WHERE users.id = ?"));
//! assert!(reads_only("  /* report */ WITH t AS (SELECT 1 AS x) SELECT x FROM t"));
//! assert!(reads_only("(SELECT 1) UNION (SELECT 2)"));
//! assert!(!reads_only("SELECT * FROM jobs FOR UPDATE SKIP LOCKED"));
//! assert!(!reads_only("SELECT * FROM t LOCK IN SHARE MODE"));
//! assert!(!reads_only("SELECT * INTO copy FROM t"));
//! assert!(!reads_only("WITH gone AS (DELETE FROM t RETURNING id) SELECT id FROM gone"));
//! assert!(!reads_only("INSERT INTO t VALUES (1)"));
//! // Words inside quotes are data, not SQL:
//! assert!(reads_only("SELECT 'FOR UPDATE', \"insert\" FROM t"));
//! ```
//!
//! What the text cannot show — a function with side effects such as PostgreSQL's `nextval()`
//! or `pg_advisory_lock()` in a `SELECT` — is the caller's to route: the engine's
//! `with_route(Route::Primary)` forces the primary.

/// Where an engine with replicas sends a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[non_exhaustive]
pub enum Route {
    /// Reads outside a transaction to a replica, everything else to the primary. The default.
    #[default]
    Auto,
    /// Everything to the primary: for reads that must see the caller's latest writes, or
    /// `SELECT`s with side effects.
    Primary,
    /// Everything to a replica (the primary when none is up). Writes sent there fail with the
    /// server's read-only error.
    Replica,
}

/// True when `sql` only reads: a `SELECT`, `VALUES`, `SHOW`, `EXPLAIN` (without `ANALYZE`),
/// `DESCRIBE`, or a `WITH` whose statements are all `SELECT`s — and it takes no row lock
/// (`FOR UPDATE`, `FOR SHARE`, `FOR NO KEY UPDATE`, `FOR KEY SHARE`, `LOCK IN SHARE MODE`) and
/// creates nothing (`SELECT … INTO`).
///
/// Quoted strings, quoted identifiers and comments are skipped, so their words never count.
pub fn reads_only(sql: &str) -> bool {
    let mut words = Words::new(sql);
    let Some(first) = words.next() else {
        return false;
    };
    match first.as_str() {
        "SELECT" | "VALUES" | "WITH" | "TABLE" => {}
        "SHOW" | "DESCRIBE" | "DESC" => return true,
        "EXPLAIN" => return !words.any(|w| w == "ANALYZE"),
        _ => return false,
    }
    let mut previous = String::new();
    for word in words {
        match word.as_str() {
            "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "INTO" | "REPLACE" | "TRUNCATE" => {
                // `FOR UPDATE` is a lock; any other of these writes.
                return false;
            }
            "SHARE" if previous == "FOR" || previous == "KEY" || previous == "IN" => return false,
            _ => {}
        }
        previous = word;
    }
    true
}

/// The upper-cased words of SQL text, outside quotes and comments.
struct Words<'a> {
    rest: &'a [u8],
}

impl<'a> Words<'a> {
    fn new(sql: &'a str) -> Self {
        Words {
            rest: sql.as_bytes(),
        }
    }

    /// Skip past the closing `close` of a quoted run (a doubled one stays inside). A
    /// backslash escapes nothing, as in standard SQL and PostgreSQL: where MySQL reads `\'` as
    /// a quote inside the string, this may end the string early and see more words, which
    /// only ever sends a read to the primary, or a lock to a MySQL replica, which serves it.
    fn skip_quoted(&mut self, close: u8) {
        let mut i = 1;
        while i < self.rest.len() {
            if self.rest[i] == close {
                if self.rest.get(i + 1) == Some(&close) && close != b']' {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        self.rest = self.rest.get(i + 1..).unwrap_or_default();
    }
}

impl Iterator for Words<'_> {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        loop {
            let (&c, tail) = self.rest.split_first()?;
            match c {
                b'\'' | b'"' | b'`' => self.skip_quoted(c),
                b'[' => self.skip_quoted(b']'),
                b'-' if tail.first() == Some(&b'-') => {
                    let end = self.rest.iter().position(|&b| b == b'\n');
                    self.rest = end.map_or(&[][..], |e| &self.rest[e..]);
                }
                b'#' => {
                    let end = self.rest.iter().position(|&b| b == b'\n');
                    self.rest = end.map_or(&[][..], |e| &self.rest[e..]);
                }
                b'/' if tail.first() == Some(&b'*') => {
                    let end = self.rest.windows(2).skip(2).position(|w| w == b"*/");
                    self.rest = end.map_or(&[][..], |e| &self.rest[e + 4..]);
                }
                b'$' if tail
                    .first()
                    .is_some_and(|b| *b == b'$' || b.is_ascii_alphabetic()) =>
                {
                    // A PostgreSQL dollar-quoted string: `$tag$ … $tag$`.
                    let Some(tag_len) = tail.iter().position(|&b| b == b'$') else {
                        self.rest = tail;
                        continue;
                    };
                    let tag = &self.rest[..tag_len + 2];
                    let body = &self.rest[tag.len()..];
                    let end = body.windows(tag.len()).position(|w| w == tag);
                    self.rest = end.map_or(&[][..], |e| &body[e + tag.len()..]);
                }
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let len = self
                        .rest
                        .iter()
                        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$'))
                        .unwrap_or(self.rest.len());
                    let word = String::from_utf8_lossy(&self.rest[..len]).to_ascii_uppercase();
                    self.rest = &self.rest[len..];
                    return Some(word);
                }
                _ => self.rest = tail,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes() {
        for sql in [
            "SELECT 1",
            "select x from t where y = $1",
            "VALUES (1), (2)",
            "SHOW TABLES",
            "EXPLAIN SELECT 1",
            "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3) SELECT x FROM n",
            "SELECT $q$ DELETE FROM t $q$",
            "SELECT 1 -- UPDATE t\n",
            "SELECT 1 /* INSERT */ ",
            "SELECT 'it''s' AS \"for\"\"update\"",
            "SELECT updated_at, inserted FROM t",
        ] {
            assert!(reads_only(sql), "{sql}");
        }
        for sql in [
            "",
            "  ",
            "INSERT INTO t VALUES (1)",
            "update t set x = 1",
            "DELETE FROM t",
            "CREATE TABLE t (x INT)",
            "BEGIN",
            "SET x = 1",
            "EXPLAIN ANALYZE DELETE FROM t",
            "SELECT * FROM t FOR UPDATE",
            "SELECT * FROM t FOR NO KEY UPDATE",
            "SELECT * FROM t FOR SHARE",
            "SELECT * FROM t FOR KEY SHARE",
            "SELECT * FROM t LOCK IN SHARE MODE",
            "SELECT * INTO t2 FROM t",
            "WITH x AS (UPDATE t SET y = 1 RETURNING y) SELECT * FROM x",
            "/* SELECT */ DELETE FROM t",
            "CALL p()",
            "LOCK TABLES t READ",
        ] {
            assert!(!reads_only(sql), "{sql}");
        }
    }

    #[test]
    fn unterminated_quotes_and_comments_end_the_text() {
        assert!(reads_only("SELECT 'unterminated FOR UPDATE"));
        assert!(reads_only("SELECT 1 /* never closed UPDATE"));
        assert!(reads_only("SELECT $tag$ never closed DELETE"));
    }
}
