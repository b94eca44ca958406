//! What MySQL and MariaDB refuse by size, checked before anything is sent.
//!
//! A packet over the session's `max_allowed_packet` is not an error the server answers: it
//! drops the connection (and the `mysql` crate cuts such a packet into pieces the protocol
//! cannot read back). So a statement that would need one is refused here with
//! [`Error::TooLarge`](crate::Error::TooLarge), the connection untouched (the sizes:
//! `packet.rs`).

use mysql::prelude::Queryable;

use super::convert;
use crate::error::Result;

/// The prepared statement protocol counts parameters in two bytes.
pub(super) const MAX_PARAMETERS: usize = 65_535;

/// The session's `max_allowed_packet`, asked once per connection and kept in `max_packet`.
pub(super) fn max_allowed_packet(
    conn: &mut mysql::Conn,
    max_packet: &mut Option<usize>,
) -> Result<usize> {
    if let Some(limit) = *max_packet {
        return Ok(limit);
    }
    let sql = "SELECT @@max_allowed_packet";
    let asked: Option<u64> = conn
        .query_first(sql)
        .map_err(|e| crate::error::DatabaseError::into_error(convert(e, Some(sql), &[])))?;
    let limit = asked
        .and_then(|v| usize::try_from(v).ok())
        .unwrap_or(usize::MAX);
    *max_packet = Some(limit);
    Ok(limit)
}

/// Refuse `sql` with `values` when a packet it needs is larger than the session's
/// `max_allowed_packet` (asked once per connection, the first time a statement is large
/// enough for it to matter, and kept in `max_packet`).
pub(super) fn check_packets(
    conn: &mut mysql::Conn,
    max_packet: &mut Option<usize>,
    sql: &str,
    values: &[mysql::Value],
) -> Result<()> {
    let (largest, what) = super::packet::largest(sql, values);
    if largest <= super::packet::MIN_MAX_ALLOWED_PACKET {
        return Ok(());
    }
    let limit = max_allowed_packet(conn, max_packet)?;
    super::packet::refuse(largest, what, limit)
}
