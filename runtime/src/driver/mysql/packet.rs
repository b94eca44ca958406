//! The largest packet a statement needs on MySQL's wire, and the refusal of one over the
//! session's `max_allowed_packet`: pure, shared by the blocking driver (`limits.rs`) and the
//! async one (both name their client crate `mysql`, whose `Value` is `mysql_common`'s).

use crate::error::{Error, Result};

/// The largest payload of one protocol packet; a larger `COM_STMT_EXECUTE` sends its string
/// and byte values ahead as `COM_STMT_SEND_LONG_DATA`.
const MAX_PAYLOAD_LEN: usize = 16_777_215;

/// The smallest `max_allowed_packet` a server accepts: statements up to this size need not ask.
pub(super) const MIN_MAX_ALLOWED_PACKET: usize = 1024;

/// The header of a `COM_STMT_SEND_LONG_DATA` packet: command, statement id, parameter.
const LONG_DATA_HEADER: usize = 7;

const HINT: &str = "raise max_allowed_packet on the server (SET GLOBAL max_allowed_packet = …, \
                    for new connections), or send less in one statement";

/// The largest packet `sql` with `values` needs, and what it holds.
pub(super) fn largest(sql: &str, values: &[mysql::Value]) -> (usize, &'static str) {
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
    let what = if largest == text {
        "bytes of SQL text (max_allowed_packet)"
    } else if long_data {
        "bytes in one value (max_allowed_packet)"
    } else {
        "bytes in one packet (max_allowed_packet)"
    };
    (largest, what)
}

/// [`Error::TooLarge`] when `largest` is over `limit`.
pub(super) fn refuse(largest: usize, what: &'static str, limit: usize) -> Result<()> {
    if largest <= limit {
        return Ok(());
    }
    Err(Error::TooLarge {
        what,
        count: largest,
        limit,
        dialect: "mysql",
        hint: HINT,
    })
}
