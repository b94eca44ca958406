//! How the text of a URL is cut into parts — shared by the parser and by the masking of error
//! messages, so that the two cannot disagree on what a password is.

use std::ops::Range;

/// The parts of the text after `scheme://`, not yet decoded.
#[derive(Debug, PartialEq)]
pub(super) struct Parts<'a> {
    /// `user` and, after a `:`, the password.
    pub(super) userinfo: Option<(&'a str, Option<&'a str>)>,
    pub(super) hostport: &'a str,
    pub(super) database: Option<&'a str>,
    pub(super) query: Option<&'a str>,
}

/// Where the user information of `rest` (the text after `scheme://`) lies.
struct Userinfo {
    /// The end of the user name.
    user_end: usize,
    /// The password's bytes, after a `:`.
    password: Option<Range<usize>>,
    /// The index after the `@`.
    after: usize,
}

/// A user name stops at the first `:`, `/`, `?` or `@`. After a `:`, a password runs to the
/// last `@` before the first `?` that follows an `@` (so it may hold `/`, `?`, `:` and `@`
/// as they are); without an `@` there is no user information at all.
fn userinfo(rest: &str) -> Option<Userinfo> {
    let user_end = rest.find([':', '/', '?', '@'])?;
    match rest.as_bytes()[user_end] {
        b'@' => Some(Userinfo {
            user_end,
            password: None,
            after: user_end + 1,
        }),
        b':' => {
            let first_at = user_end + rest[user_end..].find('@')?;
            let limit = rest[first_at..]
                .find('?')
                .map_or(rest.len(), |p| first_at + p);
            let at = rest[..limit].rfind('@').unwrap_or(first_at);
            Some(Userinfo {
                user_end,
                password: Some(user_end + 1..at),
                after: at + 1,
            })
        }
        _ => None,
    }
}

/// Cut the text after `scheme://`.
pub(super) fn split(rest: &str) -> Parts<'_> {
    let (userinfo, tail) = match userinfo(rest) {
        Some(u) => (
            Some((&rest[..u.user_end], u.password.map(|p| &rest[p]))),
            &rest[u.after..],
        ),
        None => (None, rest),
    };
    let (before_query, query) = match tail.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (tail, None),
    };
    let (hostport, database) = match before_query.split_once('/') {
        Some((h, db)) => (h, Some(db)),
        None => (before_query, None),
    };
    Parts {
        userinfo,
        hostport,
        database,
        query,
    }
}

/// Whether a query argument named `key` holds a secret: its name contains `pass`, `pwd`,
/// `secret`, `token`, `credential` or `key`, in any case (`password`, `PASSWORD`,
/// `ssl_password`, `sslkey`, `auth_token`). Such values are shown as `***`.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token", "credential", "key"]
        .iter()
        .any(|word| key.contains(word))
}

/// `text` with every possible password and secret query value replaced by `***`.
///
/// Lenient where the parser is strict, and on the side of hiding more: the scheme may be
/// followed by any number of slashes (`postgresql:/u:pw@h` is masked too), a password runs to
/// the last `@` of the text, and query argument names are percent-decoded as far as they can
/// be before they are matched against [`is_secret_key`].
pub(super) fn mask_text(text: &str) -> String {
    let (prefix, rest) = split_scheme(text);
    let mut out = String::with_capacity(text.len());
    out.push_str(prefix);
    let tail = match rest.find([':', '/', '?', '@']) {
        Some(user_end) if rest.as_bytes()[user_end] == b':' => match rest.rfind('@') {
            Some(at) if at > user_end => {
                out.push_str(&rest[..=user_end]);
                out.push_str("***");
                &rest[at..]
            }
            _ => rest,
        },
        _ => rest,
    };
    match tail.split_once('?') {
        None => out.push_str(tail),
        Some((before, query)) => {
            out.push_str(before);
            out.push('?');
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.split_once('=') {
                    Some((k, _)) if is_secret_key(&lenient_decode(k)) => {
                        out.push_str(k);
                        out.push_str("=***");
                    }
                    _ => out.push_str(pair),
                }
            }
        }
    }
    out
}

/// `("scheme://", rest)`; for text without `://`, a leading `name:` followed by at least one
/// `/` counts as a scheme (`postgresql:/u:pw@h`), else there is none.
fn split_scheme(text: &str) -> (&str, &str) {
    let name_end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-' | '_')))
        .unwrap_or(text.len());
    let after = &text[name_end..];
    if after.starts_with("://") {
        return text.split_at(name_end + 3);
    }
    if name_end > 0 && after.starts_with(":/") {
        let slashes = after[1..].len() - after[1..].trim_start_matches('/').len();
        return text.split_at(name_end + 1 + slashes);
    }
    ("", text)
}

/// Percent-decode what decodes, keep the rest.
fn lenient_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%')
            .then(|| b.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-decode `s`; `part` names the URL part for the error.
pub(super) fn decode(s: &str, part: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-escape in the {part} at byte {i}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| format!("the {part} is not valid UTF-8 once percent-decoded"))
}

/// Which characters a part of a URL keeps as they are when written.
#[derive(Clone, Copy)]
pub(super) enum Encode {
    /// User, password, host, query: the unreserved `A-Z a-z 0-9 - . _ ~`.
    Part,
    /// A bracketed IPv6 host: also `:`.
    Ipv6,
    /// The database (a SQLite path): also `/` and `:`.
    Path,
}

/// Append `s` percent-encoded.
pub(super) fn encode(out: &mut String, s: &str, keep: Encode) {
    for b in s.bytes() {
        let kept = b.is_ascii_alphanumeric()
            || b"-._~".contains(&b)
            || match keep {
                Encode::Part => false,
                Encode::Ipv6 => b == b':',
                Encode::Path => b == b'/' || b == b':',
            };
        if kept {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b >> 4)]));
            out.push(char::from(b"0123456789ABCDEF"[usize::from(b & 15)]));
        }
    }
}
