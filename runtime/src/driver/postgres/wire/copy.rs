//! PostgreSQL's binary COPY format: a signature and two zero words, then each row as its field
//! count and each field as its length (`-1` for `NULL`) and bytes, then `-1`.

use bytes::{BufMut, BytesMut};
use postgres::types::{IsNull, ToSql, Type};

use super::super::binary::Param;
use crate::value::Value;

/// The header of the binary COPY format: its signature, no flags, no extension.
const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// `values`, `types.len()` a row, in the binary COPY format; an error names the column whose
/// type cannot hold its value.
pub(super) fn encode(types: &[Type], values: &[Value]) -> Result<BytesMut, String> {
    let width = types.len();
    if width == 0 || !values.len().is_multiple_of(width) {
        return Err(format!(
            "copy_in got {} values for {width} columns: not a whole number of rows",
            values.len()
        ));
    }
    let fields = i16::try_from(width)
        .map_err(|_| format!("copy_in cannot write {width} columns (at most 32767)"))?;
    let mut out = BytesMut::with_capacity(HEADER.len() + values.len() * 12 + 2);
    out.put_slice(HEADER);
    for (i, value) in values.iter().enumerate() {
        if i % width == 0 {
            out.put_i16(fields);
        }
        let at = out.len();
        out.put_i32(0);
        let ty = &types[i % width];
        // As the `postgres` driver words it: the column's position, counted from 0.
        let null = Param::new(value, i % width + 1)
            .to_sql_checked(ty, &mut out)
            .map_err(|e| format!("error serializing parameter {}: {e}", i % width))?;
        let len = match null {
            IsNull::Yes => -1,
            IsNull::No => i32::try_from(out.len() - at - 4)
                .map_err(|_| format!("value {} is larger than 2 GiB", i + 1))?,
        };
        out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }
    out.put_i16(-1);
    Ok(out)
}
