//! Splitting a migration file into statements.

/// The statements of a SQL script, split at `;` outside quotes (`'…'`, `"…"`, `` `…` ``),
/// comments (`-- …`, `/* … */`) and PostgreSQL dollar quotes (`$$ … $$`, `$tag$ … $tag$`);
/// empty statements and comment-only ones are left out, each statement trimmed.
///
/// ```
/// use quarry::migrate::split_statements;
/// let sql = "-- add a column\nALTER TABLE t ADD COLUMN x TEXT;\nINSERT INTO t (x) VALUES ('a;b');\n";
/// assert_eq!(
///     split_statements(sql),
///     ["ALTER TABLE t ADD COLUMN x TEXT", "INSERT INTO t (x) VALUES ('a;b')"]
/// );
/// ```
pub fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut has_code = false;
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                current.push(c);
                has_code = true;
                for (_, d) in chars.by_ref() {
                    current.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            '-' if sql[i..].starts_with("--") => {
                for (_, d) in chars.by_ref() {
                    if d == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            '/' if sql[i..].starts_with("/*") => {
                chars.next();
                let mut prev = ' ';
                for (_, d) in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
                current.push(' ');
            }
            '$' => {
                let rest = &sql[i + 1..];
                let tag_len = rest
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                    .unwrap_or(rest.len());
                if rest[tag_len..].starts_with('$') {
                    let tag = &sql[i..i + tag_len + 2];
                    if let Some(end) = sql[i + tag.len()..].find(tag) {
                        let stop = i + tag.len() + end + tag.len();
                        current.push_str(&sql[i..stop]);
                        has_code = true;
                        while chars.peek().is_some_and(|(j, _)| *j < stop) {
                            chars.next();
                        }
                        continue;
                    }
                }
                current.push(c);
                has_code = true;
            }
            ';' => {
                if has_code {
                    out.push(current.trim().to_owned());
                }
                current.clear();
                has_code = false;
            }
            c => {
                if !c.is_whitespace() {
                    has_code = true;
                }
                current.push(c);
            }
        }
    }
    if has_code {
        out.push(current.trim().to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::split_statements;

    #[test]
    fn semicolons_in_quotes_comments_and_dollar_quotes_do_not_split() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\
                   /* a; b */ SELECT ';' -- c; d\n;\n;";
        assert_eq!(
            split_statements(sql),
            [
                "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
                "SELECT ';'"
            ]
        );
    }
}
