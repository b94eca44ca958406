//! Database URLs, RFC-1738 style: `dialect[+driver]://user:password@host:port/database?k=v`.

use std::fmt;

use crate::error::{Error, Result};

/// A parsed database URL. `Display` and `Debug` mask the password.
///
/// ```
/// use quarry::Url;
///
/// let url: Url = "postgresql://scott:ti%40ger@localhost:5433/test?application_name=app".parse()?;
/// assert_eq!(url.dialect_name(), "postgresql");
/// assert_eq!(url.password(), Some("ti@ger"));
/// assert_eq!(url.port(), Some(5433));
/// assert_eq!(url.to_string(), "postgresql://scott:***@localhost:5433/test?application_name=app");
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
    host: Option<String>,
    port: Option<u16>,
    database: Option<String>,
    query: Vec<(String, String)>,
}

const DIALECTS: &[&str] = &["sqlite", "postgresql", "mysql", "mariadb"];

impl Url {
    /// Parse a URL.
    ///
    /// # Errors
    /// [`Error::Url`] naming the part that is wrong and what is allowed there.
    pub fn parse(s: &str) -> Result<Self> {
        let masked = mask_password(s);
        let bad = |message: String| Error::Url {
            url: masked.clone(),
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
        if driver.is_some_and(|d| !d.is_empty() && !is_name(d)) {
            return Err(bad(format!(
                "driver name {:?} must be ASCII letters, digits and '_', starting with a letter",
                driver.unwrap_or_default()
            )));
        }
        if driver == Some("") {
            return Err(bad("empty driver name after '+'".into()));
        }
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, parse_query(q).map_err(&bad)?),
            None => (rest, Vec::new()),
        };
        let (authority, database) = match rest.split_once('/') {
            Some((a, db)) => (a, Some(db)),
            None => (rest, None),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            None => (None, None),
            Some(u) => match u.split_once(':') {
                Some((user, pw)) => (
                    Some(decode(user, "username").map_err(&bad)?),
                    Some(decode(pw, "password").map_err(&bad)?),
                ),
                None => (Some(decode(u, "username").map_err(&bad)?), None),
            },
        };
        let (host, port) = split_host_port(hostport).map_err(&bad)?;
        let database = match database {
            None | Some("") => None,
            Some(db) => Some(decode(db, "database").map_err(&bad)?),
        };
        Ok(Url {
            dialect: dialect.to_owned(),
            driver: driver.map(str::to_owned),
            username: username.filter(|u| !u.is_empty()),
            password,
            host,
            port,
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
    /// The host.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }
    /// The port.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
    /// The database (for SQLite, the file path), percent-decoded.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }
    /// The query arguments, in order.
    pub fn query(&self) -> &[(String, String)] {
        &self.query
    }

    /// Set a query argument, replacing one of the same name (the engine's `connect_arg`).
    #[doc(hidden)]
    pub fn set_query_arg(&mut self, key: String, value: String) {
        match self.query.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.query.push((key, value)),
        }
    }

    /// An [`Error::Url`] about this URL.
    #[doc(hidden)]
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::Url {
            url: self.to_string(),
            message: message.into(),
        }
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
        f.write_str(&self.dialect)?;
        if let Some(d) = &self.driver {
            write!(f, "+{d}")?;
        }
        f.write_str("://")?;
        if let Some(u) = &self.username {
            f.write_str(&encode(u))?;
            if self.password.is_some() {
                f.write_str(":***")?;
            }
            f.write_str("@")?;
        }
        if let Some(h) = &self.host {
            if h.contains(':') {
                write!(f, "[{h}]")?;
            } else {
                f.write_str(h)?;
            }
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        if let Some(db) = &self.database {
            write!(f, "/{db}")?;
        }
        for (i, (k, v)) in self.query.iter().enumerate() {
            let shown = if k.contains("password") {
                "***".to_owned()
            } else {
                encode(v)
            };
            write!(f, "{}{}={shown}", if i == 0 { '?' } else { '&' }, encode(k),)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Url({self})")
    }
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

fn split_host_port(s: &str) -> std::result::Result<(Option<String>, Option<u16>), String> {
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
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("query argument {pair:?} has no '=value'"))?;
            Ok((decode(k, "query argument")?, decode(v, "query argument")?))
        })
        .collect()
}

/// Percent-decode `s`; `part` names the URL part for the error.
fn decode(s: &str, part: &str) -> std::result::Result<String, String> {
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

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `s` with anything between `user:` and `@` replaced by `***`, for error messages.
fn mask_password(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else {
        return s.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..]),
            None => s.to_owned(),
        },
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_follow_sqlalchemy_slashes() {
        assert_eq!(Url::parse("sqlite://").unwrap().database(), None);
        assert_eq!(
            Url::parse("sqlite:///rel.db").unwrap().database(),
            Some("rel.db")
        );
        assert_eq!(
            Url::parse("sqlite:////abs/x.db").unwrap().database(),
            Some("/abs/x.db")
        );
    }

    #[test]
    fn full_url_parts_are_decoded() {
        let u =
            Url::parse("mysql+mysql://us%20er:p%3Aw@db.example:3307/test?charset=utf8mb4").unwrap();
        assert_eq!(u.dialect_name(), "mysql");
        assert_eq!(u.driver_name(), Some("mysql"));
        assert_eq!(u.username(), Some("us er"));
        assert_eq!(u.password(), Some("p:w"));
        assert_eq!(u.host(), Some("db.example"));
        assert_eq!(u.port(), Some(3307));
        assert_eq!(u.query(), &[("charset".to_owned(), "utf8mb4".to_owned())]);
    }

    #[test]
    fn any_well_formed_dialect_name_parses_and_others_are_named() {
        // Whether "oracle" exists is the registry's question (driver::for_url).
        let u = Url::parse("oracle+cx_oracle://x").unwrap();
        assert_eq!(
            (u.dialect_name(), u.driver_name()),
            ("oracle", Some("cx_oracle"))
        );
        let e = Url::parse("ora-cle://x").unwrap_err().to_string();
        assert!(e.contains("dialect name \"ora-cle\""), "{e}");
        assert!(e.contains("sqlite, postgresql, mysql, mariadb"), "{e}");
        let e = Url::parse("oracle+cx.oracle://x").unwrap_err().to_string();
        assert!(e.contains("driver name \"cx.oracle\""), "{e}");
    }

    #[test]
    fn password_never_shows_in_errors_or_display() {
        let e = Url::parse("postgresql://u:sekrit@h:99999/db")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("sekrit"), "{e}");
        assert!(e.contains("port \"99999\""), "{e}");
        let u = Url::parse("postgresql://u:sekrit@h/db").unwrap();
        assert!(!format!("{u} {u:?}").contains("sekrit"));
    }

    #[test]
    fn missing_scheme_separator_explains_the_form() {
        let e = Url::parse("sqlite:memory").unwrap_err().to_string();
        assert!(e.contains("expected dialect[+driver]://"), "{e}");
    }
}
