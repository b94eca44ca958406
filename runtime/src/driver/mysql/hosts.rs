//! Multi-host URLs for MySQL and MariaDB (`mysql://h1:3306,h2:3307/db`), as libpq has them
//! for PostgreSQL: hosts tried in order, each within `connect_timeout`, the first that answers
//! and has the `target_session_attrs` asked for is used.

use mysql::prelude::Queryable;

use super::{Settings, convert};
use crate::error::{DatabaseErrorKind, Result};

/// Which server of a multi-host URL will do, read from its `@@global.read_only`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SessionAttrs {
    /// The first that answers.
    Any,
    /// One that takes writes (`read_only = 0`).
    ReadWrite,
    /// One that is read-only (a replica with `read_only = 1`).
    ReadOnly,
    /// A read-only one if there is any, else any.
    PreferStandby,
}

impl SessionAttrs {
    /// The spellings of `target_session_attrs` (libpq's).
    pub(super) const NAMES: &[&str] = &["any", "read-write", "read-only", "prefer-standby"];

    pub(super) fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "any" => SessionAttrs::Any,
            "read-write" => SessionAttrs::ReadWrite,
            "read-only" => SessionAttrs::ReadOnly,
            "prefer-standby" => SessionAttrs::PreferStandby,
            _ => return None,
        })
    }
}

/// `host:port`, IPv6 in brackets.
pub(super) fn address(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Connect to the first host that answers and suits `settings.session_attrs`; the error
/// names every host tried and why each was passed over.
pub(super) fn connect(settings: &Settings) -> Result<mysql::Conn> {
    let wanted = match settings.session_attrs {
        SessionAttrs::PreferStandby => {
            match pass(settings, Some(true)) {
                Ok(conn) => return Ok(conn),
                // No read-only server: any will do.
                Err(_) => None,
            }
        }
        SessionAttrs::Any => None,
        SessionAttrs::ReadWrite => Some(false),
        SessionAttrs::ReadOnly => Some(true),
    };
    pass(settings, wanted)
}

/// One pass over the hosts, wanting `read_only` to be `wanted` (`None`: either).
fn pass(settings: &Settings, wanted: Option<bool>) -> Result<mysql::Conn> {
    let mut failures = Vec::new();
    let mut last = None;
    for (host, port) in settings.hosts() {
        let at = address(host, port);
        let mut conn = match mysql::Conn::new(settings.opts_at(host, port)) {
            Ok(conn) => conn,
            Err(e) => {
                let err = convert(e, None, &[]);
                failures.push(format!("{at}: {}", err.message));
                last = Some(err);
                continue;
            }
        };
        let Some(wanted) = wanted else {
            return Ok(conn);
        };
        match conn.query_first::<i64, _>("SELECT @@global.read_only") {
            Ok(Some(v)) if (v != 0) == wanted => return Ok(conn),
            Ok(_) => failures.push(format!(
                "{at}: the server is {} (target_session_attrs={})",
                if wanted { "not read-only" } else { "read-only" },
                if wanted { "read-only" } else { "read-write" }
            )),
            Err(e) => {
                let err = convert(e, None, &[]);
                failures.push(format!("{at}: {}", err.message));
                last = Some(err);
            }
        }
    }
    let mut err = last.unwrap_or_else(|| {
        crate::error::DatabaseError::new(DatabaseErrorKind::Connection, String::new())
    });
    err.kind = DatabaseErrorKind::Connection;
    err.disconnect = true;
    err.message = if settings.fallbacks.is_empty() {
        let only = failures.pop().unwrap_or_default();
        let reason = only.split_once(": ").map_or(only.as_str(), |(_, r)| r);
        format!(
            "cannot connect to MySQL at {}: {reason}",
            settings.address()
        )
    } else {
        format!(
            "cannot connect to MySQL at any of {}: {}",
            settings.address(),
            failures.join("; ")
        )
    };
    Err(err.into_error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::url::Url;

    #[test]
    fn hosts_and_session_attrs_come_from_the_url() {
        let url = Url::parse("mysql://u@h1:3307,h2,[::1]:3309/db?target_session_attrs=read-write")
            .unwrap();
        let s = Settings::from_url(&url).unwrap();
        let hosts: Vec<_> = s.hosts().collect();
        assert_eq!(hosts, [("h1", 3307), ("h2", 3306), ("::1", 3309)]);
        assert_eq!(s.session_attrs, SessionAttrs::ReadWrite);
        assert_eq!(s.address(), "h1:3307,h2:3306,[::1]:3309");
        let e =
            Settings::from_url(&Url::parse("mysql://h/db?target_session_attrs=primary").unwrap())
                .unwrap_err()
                .to_string();
        assert!(
            e.contains("target_session_attrs=primary is not one of any, read-write"),
            "{e}"
        );
    }

    #[test]
    fn every_host_that_failed_is_named() {
        // Nothing listens on port 1 of the loopback: refused at once.
        let url = Url::parse("mysql://root@127.0.0.1:1,127.0.0.1:2/test").unwrap();
        let s = Settings::from_url(&url).unwrap();
        let e = connect(&s).map(|_| ()).unwrap_err();
        let msg = e.to_string();
        assert!(e.is_disconnect(), "{msg}");
        assert!(msg.contains("any of 127.0.0.1:1,127.0.0.1:2"), "{msg}");
        assert!(
            msg.contains("127.0.0.1:1: ") && msg.contains("; 127.0.0.1:2: "),
            "{msg}"
        );
    }
}
