//! Database URLs, RFC-1738 style: `dialect[+driver]://user:password@host:port/database?k=v`.
//!
//! The text is cut by the rules of [`lex`], which both the parser and the masking of error
//! messages use, so that whatever the parser would take as a password is what every message
//! hides. `Display` and `Debug` print `***` for the password and for the value of every
//! secret-like query argument (any name containing `pass`, `pwd`, `secret`, `token`,
//! `credential` or `key`, in any case); [`Url::render_as_string`] prints the URL as it is.

use std::fmt;
use std::time::Duration;

use crate::error::{Error, Result};

mod lex;
#[cfg(test)]
mod tests;

pub use lex::is_secret_key;
use lex::{Encode, decode, encode, mask_text};

/// A parsed database URL. `Display` and `Debug` mask the password and secret-like query
/// arguments, and parse back to the same URL when it holds no secret
/// ([`Url::render_as_string`] keeps them).
///
/// ```
/// use quarry::Url;
///
/// let url: Url = "postgresql://scott:ti%40ger@localhost:5433/test?application_name=app".parse()?;
/// assert_eq!(url.dialect_name(), "postgresql");
/// assert_eq!(url.password(), Some("ti@ger"));
/// assert_eq!(url.port(), Some(5433));
/// assert_eq!(url.to_string(), "postgresql://scott:***@localhost:5433/test?application_name=app");
/// assert_eq!(url.render_as_string(false).parse::<Url>()?, url);
///
/// let err = "postgresql://localhost:54x2/test".parse::<Url>().unwrap_err();
/// assert!(err.to_string().contains("port \"54x2\""), "{err}");
/// # Ok::<(), quarry::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Url {
    dialect: String,
    driver: Option<String>,
    username: Option<String>,
    password: Option<String>,
    /// `host[:port]` in order; several for a multi-host URL (`h1:5432,h2:5433`), none when
    /// the URL names no host.
    hosts: Vec<HostPort>,
    database: Option<String>,
    query: Vec<(String, String)>,
}

const DIALECTS: &[&str] = &["sqlite", "postgresql", "mysql", "mariadb"];

impl Url {
    /// Parse a URL.
    ///
    /// A password may hold `/`, `?`, `:` and `@` as they are (as in SQLAlchemy): it runs from
    /// the first `:` after the user name to the last `@` before the first `?` that follows an
    /// `@`. Percent-encode them anyway where a URL is written by hand.
    ///
    /// # Errors
    /// [`Error::Url`] naming the part that is wrong and what is allowed there; the URL in it
    /// has its password and secret-like query arguments masked.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |message: String| Error::Url {
            url: mask_text(s),
            message,
        };
        let (scheme, rest) = s.split_once("://").ok_or_else(|| {
            bad(
                "expected dialect[+driver]://[user[:password]@][host][:port][/database], \
                 e.g. sqlite:// or postgresql://user@localhost/db"
                    .into(),
            )
        })?;
        let (dialect, driver) = match scheme.split_once('+') {
            Some((d, drv)) => (d, Some(drv)),
            None => (scheme, None),
        };
        let dialect = canonical_dialect(dialect);
        // Any well-formed name: whether a dialect of that name exists (built in or
        // registered) is for `driver::for_url` to say.
        if !is_name(dialect) {
            return Err(bad(format!(
                "dialect name {dialect:?} must be ASCII letters, digits and '_', starting with a \
                 letter (e.g. {})",
                DIALECTS.join(", ")
            )));
        }
        if driver == Some("") {
            return Err(bad("empty driver name after '+'".into()));
        }
        if let Some(d) = driver.filter(|d| !is_name(d)) {
            return Err(bad(format!(
                "driver name {d:?} must be ASCII letters, digits and '_', starting with a letter"
            )));
        }
        let parts = lex::split(rest);
        let (username, password) = match parts.userinfo {
            None => (None, None),
            Some((user, pw)) => (
                Some(decode(user, "username").map_err(&bad)?),
                pw.map(|pw| decode(pw, "password"))
                    .transpose()
                    .map_err(&bad)?,
            ),
        };
        let query = match parts.query {
            Some(q) => parse_query(q).map_err(&bad)?,
            None => Vec::new(),
        };
        let hosts = split_hosts(parts.hostport).map_err(&bad)?;
        let database = match parts.database {
            None | Some("") => None,
            Some(db) => Some(decode(db, "database").map_err(&bad)?),
        };
        Ok(Url {
            dialect: dialect.to_owned(),
            driver: driver.map(str::to_owned),
            username: username.filter(|u| !u.is_empty()),
            password,
            hosts,
            database,
            query,
        })
    }

    /// The dialect: `sqlite`, `postgresql` (also spelled `postgres`), `mysql`, `mariadb`, or
    /// a name registered with [`crate::dialect::register`].
    pub fn dialect_name(&self) -> &str {
        &self.dialect
    }
    /// The driver after `+`, if given.
    pub fn driver_name(&self) -> Option<&str> {
        self.driver.as_deref()
    }
    /// The user name, percent-decoded.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }
    /// The password, percent-decoded.
    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }
    /// The host, percent-decoded (the first of a multi-host URL).
    pub fn host(&self) -> Option<&str> {
        self.hosts.first().and_then(|(h, _)| h.as_deref())
    }
    /// The port (the first host's, in a multi-host URL).
    pub fn port(&self) -> Option<u16> {
        self.hosts.first().and_then(|(_, p)| *p)
    }
    /// Every `host[:port]` in order: one for `postgresql://h:5432/db`, several for a
    /// multi-host URL as libpq reads it, `postgresql://h1:5432,h2:5433/db` (drivers try them
    /// in order), none without a host.
    ///
    /// ```
    /// use quarry::Url;
    ///
    /// let url: Url = "postgresql://app@h1:5432,h2,[::1]:5433/db".parse()?;
    /// let hosts: Vec<_> = url.hosts().collect();
    /// assert_eq!(hosts, [(Some("h1"), Some(5432)), (Some("h2"), None), (Some("::1"), Some(5433))]);
    /// assert_eq!(url.to_string(), "postgresql://app@h1:5432,h2,[::1]:5433/db");
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn hosts(&self) -> impl Iterator<Item = (Option<&str>, Option<u16>)> {
        self.hosts.iter().map(|(h, p)| (h.as_deref(), *p))
    }
    /// The database (for SQLite, the file path), percent-decoded.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }
    /// The query arguments, in order, percent-decoded.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// The URL as text, percent-encoded so that it parses back to the same URL; with
    /// `hide_password`, the password and secret-like query arguments are `***` (that is what
    /// `Display` writes). SQLAlchemy's `URL.render_as_string`.
    ///
    /// ```
    /// use quarry::Url;
    ///
    /// let url: Url = "mysql://app:p%2Fw@db/shop?ssl_password=x".parse()?;
    /// assert_eq!(url.render_as_string(true), "mysql://app:***@db/shop?ssl_password=***");
    /// assert_eq!(url.render_as_string(false), "mysql://app:p%2Fw@db/shop?ssl_password=x");
    /// # Ok::<(), quarry::Error>(())
    /// ```
    pub fn render_as_string(&self, hide_password: bool) -> String {
        let mut out = String::new();
        self.write(&mut out, hide_password);
        out
    }

    fn write(&self, out: &mut String, hide: bool) {
        out.push_str(&self.dialect);
        if let Some(d) = &self.driver {
            out.push('+');
            out.push_str(d);
        }
        out.push_str("://");
        if self.username.is_some() || self.password.is_some() {
            encode(out, self.username.as_deref().unwrap_or(""), Encode::Part);
            if let Some(pw) = &self.password {
                out.push(':');
                if hide {
                    out.push_str("***");
                } else {
                    encode(out, pw, Encode::Part);
                }
            }
            out.push('@');
        }
        for (i, (host, port)) in self.hosts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match host {
                Some(h) if h.contains(':') => {
                    out.push('[');
                    encode(out, h, Encode::Ipv6);
                    out.push(']');
                }
                Some(h) => encode(out, h, Encode::Part),
                None => {}
            }
            if let Some(p) = port {
                out.push(':');
                out.push_str(&p.to_string());
            }
        }
        if let Some(db) = &self.database {
            out.push('/');
            encode(out, db, Encode::Path);
        }
        for (i, (k, v)) in self.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            encode(out, k, Encode::Part);
            out.push('=');
            if hide && is_secret_key(k) {
                out.push_str("***");
            } else {
                encode(out, v, Encode::Part);
            }
        }
    }

    /// Set a query argument, replacing one of the same name (the engine's `connect_arg`).
    #[doc(hidden)]
    pub fn set_query_arg(&mut self, key: String, value: String) {
        match self.query.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.query.push((key, value)),
        }
    }

    /// An [`Error::Url`] about this URL (masked). `message` must not quote a secret: drivers
    /// quote query values through [`Url::arg_error`], which masks them.
    #[doc(hidden)]
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::Url {
            url: self.to_string(),
            message: message.into(),
        }
    }

    /// `key=value is …: <expected>`, the value masked when `key` is secret-like.
    #[doc(hidden)]
    pub fn arg_error(&self, key: &str, value: &str, problem: &str) -> Error {
        let shown = if is_secret_key(key) { "***" } else { value };
        self.error(format!("{key}={shown} {problem}"))
    }

    /// Query argument `key` (given `value`) as a number of seconds from `min` to `max`
    /// inclusive; fractions only when `whole` is false. `min` = 0 with `zero_is_none` reads
    /// 0 as "no limit" (`None`).
    ///
    /// # Errors
    /// [`Error::Url`] naming the argument and the allowed range, for anything else: not a
    /// number, NaN, infinite, negative, a fraction where whole seconds are asked, too large.
    #[doc(hidden)]
    pub fn seconds_arg(&self, key: &str, value: &str, range: SecondsRange) -> Result<Duration> {
        let secs = value.trim().parse::<f64>().ok().filter(|s| {
            s.is_finite()
                && *s >= range.min
                && *s <= range.max
                && (*s > 0.0 || range.min_inclusive)
                && (!range.whole || s.fract() == 0.0)
        });
        match secs.and_then(|s| Duration::try_from_secs_f64(s).ok()) {
            Some(d) => Ok(d),
            None => Err(self.arg_error(
                key,
                value,
                &format!("is not allowed: {}", range.explain(key)),
            )),
        }
    }
}

/// The numbers of seconds a URL query argument accepts; see [`Url::seconds_arg`].
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SecondsRange {
    /// The smallest value.
    pub min: f64,
    /// Whether `min` itself is allowed (`false`: strictly greater).
    pub min_inclusive: bool,
    /// The largest value, inclusive.
    pub max: f64,
    /// Whole seconds only.
    pub whole: bool,
}

impl SecondsRange {
    fn explain(self, key: &str) -> String {
        let low = if self.min_inclusive {
            format!("from {}", self.min)
        } else {
            format!("greater than {}", self.min)
        };
        let kind = if self.whole {
            "a whole number of seconds"
        } else {
            "a number of seconds"
        };
        let to = if self.min_inclusive {
            "to"
        } else {
            "and at most"
        };
        format!(
            "{key} must be {kind} {low} {to} {} (e.g. {key}=5)",
            self.max
        )
    }
}

impl std::str::FromStr for Url {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Url::parse(s)
    }
}

impl fmt::Display for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render_as_string(true))
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({})", self.render_as_string(true))
    }
}

/// `text` with everything that [`Url::parse`] would take as a password, and the value of every
/// secret-like query argument, replaced by `***` — for any text, a URL that does not parse
/// included. The one masking rule of error messages.
///
/// ```
/// assert_eq!(
///     quarry::url::mask("postgresql://u:pa/sekrit@h/db?PassWord=x"),
///     "postgresql://u:***@h/db?PassWord=***"
/// );
/// ```
pub fn mask(text: &str) -> String {
    mask_text(text)
}

/// A dialect's one spelling: `postgres` is `postgresql`.
#[doc(hidden)]
pub fn canonical_dialect(dialect: &str) -> &str {
    match dialect {
        "postgres" => "postgresql",
        d => d,
    }
}

/// A dialect or driver name: `[A-Za-z][A-Za-z0-9_]*`.
#[doc(hidden)]
pub fn is_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `h1:5432,h2:5433` into its hosts; none for the empty text.
fn split_hosts(s: &str) -> std::result::Result<Vec<HostPort>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    let hosts = s
        .split(',')
        .map(split_host_port)
        .collect::<std::result::Result<Vec<_>, String>>()?;
    if hosts.len() > 1 && hosts.contains(&(None, None)) {
        return Err(format!(
            "the host list {s:?} has an empty entry; write host[:port] between the commas"
        ));
    }
    Ok(hosts)
}

/// A host and its port, either left out.
type HostPort = (Option<String>, Option<u16>);

fn split_host_port(s: &str) -> std::result::Result<HostPort, String> {
    if s.is_empty() {
        return Ok((None, None));
    }
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("host {s:?} opens '[' but never closes it"))?;
        match after.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if after.is_empty() => (h, None),
            None => return Err(format!("unexpected {after:?} after the host [{h}]")),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("port {p:?} is not a number from 0 to 65535"))?,
        ),
    };
    if host.contains('@') {
        return Err(format!(
            "host {host:?} holds an '@': write an '@' of the user name or password as %40"
        ));
    }
    let host = if host.is_empty() {
        None
    } else {
        Some(decode(host, "host")?)
    };
    Ok((host, port))
}

fn parse_query(q: &str) -> std::result::Result<Vec<(String, String)>, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').ok_or_else(|| {
                format!(
                    "query argument {:?} has no '=value'",
                    if is_secret_key(pair) { "***" } else { pair }
                )
            })?;
            Ok((decode(k, "query argument")?, decode(v, "query argument")?))
        })
        .collect()
}
