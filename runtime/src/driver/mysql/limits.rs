//! What MySQL and MariaDB refuse by size, checked before anything is sent.
//!
//! A packet over the session's `max_allowed_packet` is not an error the server answers: it
//! drops the connection (and the `mysql` crate cuts such a packet into pieces the protocol
//! cannot read back). So a statement that would need one is refused here with
//! [`Error::TooLarge`], the connection untouched.

use mysql::prelude::Queryable;

use super::convert;
use crate::error::{Error, Result};

/// The prepared statement protocol counts parameters in two bytes.
pub(super) const MAX_PARAMETERS: usize = 65_535;

/// The largest payload of one protocol packet; a larger `COM_STMT_EXECUTE` sends its string
/// and byte values ahead as `COM_STMT_SEND_LONG_DATA`.
const MAX_PAYLOAD_LEN: usize = 16_777_215;

/// The smallest `max_allowed_packet` a server accepts: statements up to this size need not ask.
const MIN_MAX_ALLOWED_PACKET: usize = 1024;

/// The header of a `COM_STMT_SEND_LONG_DATA` packet: command, statement id, parameter.
const LONG_DATA_HEADER: usize = 7;

const HINT: &str = "raise max_allowed_packet on the server (SET GLOBAL max_allowed_packet = …, \
                    for new connections), or send less in one statement";

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
    // COM_QUERY / COM_STMT_PREPARE: the command byte and the text.
    let text = 1 + sql.len();
    let lengths = values
        .iter()
        .map(|v| usize::try_from(v.bin_len()).unwrap_or(usize::MAX));
    let data: usize = lengths.clone().fold(0, usize::saturating_add);
    let n = values.len();
    // COM_STMT_EXECUTE: id, flags, iteration count, NULL bitmap, bound flag, types, values.
    let execute = (10 + n.div_ceil(8) + 1 + 2 * n).saturating_add(data);
    let long_data = execute > MAX_PAYLOAD_LEN;
    let largest = if long_data {
        // Each string or byte value goes ahead on its own, in packets of at most 16 MiB,
        // and the server holds it whole against max_allowed_packet.
        let value = lengths.max().unwrap_or(0);
        text.max(value.saturating_add(LONG_DATA_HEADER))
    } else {
        text.max(execute)
    };
    if largest <= MIN_MAX_ALLOWED_PACKET {
        return Ok(());
    }
    let limit = max_allowed_packet(conn, max_packet)?;
    if largest <= limit {
        return Ok(());
    }
    Err(Error::TooLarge {
        what: if largest == text {
            "bytes of SQL text (max_allowed_packet)"
        } else if long_data {
            "bytes in one value (max_allowed_packet)"
        } else {
            "bytes in one packet (max_allowed_packet)"
        },
        count: largest,
        limit,
        dialect: "mysql",
        hint: HINT,
    })
}
