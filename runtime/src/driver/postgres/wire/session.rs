//! The protocol exchanges of one connection: Bind/Execute/Sync of a prepared statement with
//! its rows decoded where they lie in the read buffer, the simple protocol, COPY, Sync.

use postgres::types::{ToSql, Type};
use postgres_protocol::IsNull;
use postgres_protocol::message::frontend::{self, BindError};

use super::super::INLINE;
use super::super::binary::{BinaryRow, Param, PgRow};
use super::io::{Body, Wire};
use super::{Failure, server_error};
use crate::driver::{Outcome, RowSink, send_column_names};
use crate::error::{DatabaseError, DatabaseErrorKind, Error, Result};
use crate::value::Value;

/// Bytes of COPY data sent in one CopyData message (and one write).
const COPY_CHUNK: usize = 64 * 1024;

/// ReadyForQuery's status outside a transaction.
pub(super) const IDLE: u8 = b'I';

/// A result column: its name and type.
pub(super) struct Column {
    pub(super) name: String,
    pub(super) ty: Type,
}

/// A statement prepared on the server under `name`.
pub(super) struct Prepared {
    pub(super) name: String,
    pub(super) params: Vec<Type>,
    pub(super) columns: Vec<Column>,
}

/// The socket and what the server last said of the transaction.
pub(super) struct Session {
    pub(super) wire: Wire,
    /// ReadyForQuery's transaction status: `I` idle, `T` in a transaction, `E` in a failed
    /// one.
    pub(super) status: u8,
}

impl Session {
    /// Bind, Execute and Sync `stmt` in one write, and feed its rows to `sink` as they are
    /// read.
    pub(super) fn execute(
        &mut self,
        stmt: &Prepared,
        sql: &str,
        params: &[Value],
        sink: &mut dyn RowSink,
    ) -> std::result::Result<Outcome, Failure> {
        if stmt.params.len() != params.len() {
            return Err(Failure::Quarry(Error::config(format!(
                "statement expects {} parameters but {} were given: {sql}",
                stmt.params.len(),
                params.len()
            ))));
        }
        let out = &mut self.wire.out;
        let mut position = 0;
        let bound = frontend::bind(
            "",
            &stmt.name,
            // One format code: all parameters binary (none for no parameters).
            (!params.is_empty()).then_some(1),
            params.iter().zip(&stmt.params),
            |(value, ty), buf| {
                position += 1;
                match Param::new(value, position).to_sql_checked(ty, buf)? {
                    postgres::types::IsNull::Yes => Ok(IsNull::Yes),
                    postgres::types::IsNull::No => Ok(IsNull::No),
                }
            },
            Some(1),
            out,
        );
        if let Err(e) = bound {
            out.clear();
            return Err(match e {
                BindError::Conversion(e) => {
                    // As the `postgres` crate words it (counted from 0).
                    let err = DatabaseError::new(
                        DatabaseErrorKind::Other,
                        format!(
                            "error serializing parameter {}: {e}",
                            position.saturating_sub(1)
                        ),
                    );
                    Failure::Quarry(err.into_error())
                }
                BindError::Serialization(e) => Failure::Io(e),
            });
        }
        frontend::execute("", 0, out)?;
        frontend::sync(out);
        self.wire.send()?;
        send_column_names(
            stmt.columns.len(),
            |i| Ok::<_, std::convert::Infallible>(stmt.columns[i].name.as_str()),
            sink,
        )
        .unwrap_or_else(|never| match never {});
        let mut failure = None;
        let mut fetched = 0u64;
        let mut tagged = 0u64;
        loop {
            let (tag, body) = next(&mut self.wire, &mut failure)?;
            match tag {
                b'D' => {
                    fetched += 1;
                    if failure.is_none() {
                        // A row the sink refuses: the rest are read and dropped, so that the
                        // connection is ready for the next statement.
                        if let Err(e) = feed(stmt, body, sink)? {
                            failure = Some(Failure::Quarry(e));
                        }
                    }
                }
                b'C' => tagged = command_count(body),
                b'E' => {
                    if failure.is_none() {
                        failure = Some(server_error(body)?);
                    }
                }
                b'Z' => {
                    self.status = Body::new(body).u8()?;
                    break;
                }
                // BindComplete, CloseComplete, EmptyQueryResponse, notices, parameter
                // changes, notifications.
                b'2' | b'3' | b'I' | b'N' | b'S' | b'A' => {}
                other => return Err(unexpected(other)),
            }
        }
        if let Some(failure) = failure {
            return Err(failure);
        }
        // With result columns the count is that of the rows returned (as the `postgres`
        // driver reports it); without, the command tag's.
        Ok(Outcome {
            rows_affected: if stmt.columns.is_empty() {
                tagged
            } else {
                fetched
            },
            last_insert_id: None,
        })
    }

    /// Run `sql` with the simple protocol; its rows as text when `keep_rows` (for the type
    /// lookup), else dropped.
    pub(super) fn simple(
        &mut self,
        sql: &str,
        keep_rows: bool,
    ) -> std::result::Result<Vec<Vec<Option<String>>>, Failure> {
        frontend::query(sql, &mut self.wire.out)?;
        self.wire.send()?;
        let mut failure = None;
        let mut rows = Vec::new();
        loop {
            let (tag, body) = next(&mut self.wire, &mut failure)?;
            match tag {
                b'D' if keep_rows => {
                    let mut body = Body::new(body);
                    let n = body.u16()?;
                    let mut row = Vec::with_capacity(usize::from(n));
                    for _ in 0..n {
                        row.push(
                            body.value()?
                                .map(|v| String::from_utf8_lossy(v).into_owned()),
                        );
                    }
                    rows.push(row);
                }
                b'E' => {
                    if failure.is_none() {
                        failure = Some(server_error(body)?);
                    }
                }
                b'Z' => {
                    self.status = Body::new(body).u8()?;
                    break;
                }
                b'G' => {
                    // COPY … FROM STDIN has no data to read here: refuse it, and the server
                    // answers with an error.
                    frontend::copy_fail(
                        "COPY FROM STDIN is not available through batch(); use copy_in",
                        &mut self.wire.out,
                    )?;
                    self.wire.send()?;
                }
                // RowDescription, DataRow, CommandComplete, EmptyQueryResponse, COPY TO
                // STDOUT's CopyOutResponse/CopyData/CopyDone, notices, parameter changes,
                // notifications.
                b'T' | b'D' | b'C' | b'I' | b'H' | b'd' | b'c' | b'N' | b'S' | b'A' => {}
                other => return Err(unexpected(other)),
            }
        }
        match failure {
            Some(failure) => Err(failure),
            None => Ok(rows),
        }
    }

    /// `COPY … FROM STDIN` of `data` (already in the binary COPY format); the rows written.
    pub(super) fn copy(&mut self, sql: &str, data: &[u8]) -> std::result::Result<u64, Failure> {
        frontend::query(sql, &mut self.wire.out)?;
        self.wire.send()?;
        let mut failure = None;
        let mut copied = 0;
        loop {
            let (tag, body) = next(&mut self.wire, &mut failure)?;
            match tag {
                b'G' => {
                    for chunk in data.chunks(COPY_CHUNK) {
                        frontend::CopyData::new(chunk)?.write(&mut self.wire.out);
                        if self.wire.out.len() >= COPY_CHUNK {
                            self.wire.send()?;
                        }
                    }
                    frontend::copy_done(&mut self.wire.out);
                    self.wire.send()?;
                }
                b'C' => copied = command_count(body),
                b'E' => {
                    if failure.is_none() {
                        failure = Some(server_error(body)?);
                    }
                }
                b'Z' => {
                    self.status = Body::new(body).u8()?;
                    break;
                }
                b'N' | b'S' | b'A' => {}
                other => return Err(unexpected(other)),
            }
        }
        match failure {
            Some(failure) => Err(failure),
            None => Ok(copied),
        }
    }

    /// A Sync and its ReadyForQuery: one round trip.
    pub(super) fn sync(&mut self) -> std::result::Result<(), Failure> {
        frontend::sync(&mut self.wire.out);
        self.wire.send()?;
        loop {
            let (tag, body) = self.wire.next()?;
            match tag {
                b'Z' => {
                    self.status = Body::new(body).u8()?;
                    return Ok(());
                }
                // A FATAL error before the server closes (a terminated backend).
                b'E' => return Err(server_error(body)?),
                b'N' | b'S' | b'A' => {}
                other => return Err(unexpected(other)),
            }
        }
    }
}

/// The next message; when the socket fails after the server said why (a FATAL error before
/// it closed: the backend was terminated, the server shuts down), that error.
pub(super) fn next<'w>(
    wire: &'w mut Wire,
    failure: &mut Option<Failure>,
) -> std::result::Result<(u8, &'w [u8]), Failure> {
    wire.next().map_err(|e| match failure.take() {
        Some(said) if said.is_lost() => said,
        _ => Failure::Io(e),
    })
}

/// Hand one DataRow to `sink`: the outer `Err` for a malformed message (the connection is
/// lost), the inner one for the sink's refusal.
fn feed(
    stmt: &Prepared,
    body: &[u8],
    sink: &mut dyn RowSink,
) -> std::result::Result<Result<()>, Failure> {
    let mut body = Body::new(body);
    let width = usize::from(body.u16()?);
    if width != stmt.columns.len() {
        return Err(Failure::Protocol(format!(
            "a row of {width} columns for a statement of {}",
            stmt.columns.len()
        )));
    }
    let columns = &stmt.columns;
    if width <= INLINE {
        let mut cells: [Option<&[u8]>; INLINE] = [None; INLINE];
        for cell in cells.iter_mut().take(width) {
            *cell = body.value()?;
        }
        let row = WireRow {
            columns,
            cells: &cells[..width],
        };
        return Ok(sink.row(&PgRow::new(&row, &cells[..width])));
    }
    let mut cells = Vec::with_capacity(width);
    for _ in 0..width {
        cells.push(body.value()?);
    }
    let row = WireRow {
        columns,
        cells: &cells,
    };
    Ok(sink.row(&PgRow::new(&row, &cells)))
}

/// A DataRow's cells, borrowed from the read buffer, with its statement's columns.
struct WireRow<'a> {
    columns: &'a [Column],
    cells: &'a [Option<&'a [u8]>],
}

impl BinaryRow for WireRow<'_> {
    fn len(&self) -> usize {
        self.columns.len()
    }

    fn column(&self, idx: usize) -> Option<(&str, &Type)> {
        self.columns.get(idx).map(|c| (c.name.as_str(), &c.ty))
    }

    fn cell(&self, idx: usize) -> Result<Option<&[u8]>> {
        Ok(self.cells.get(idx).copied().flatten())
    }
}

/// The row count at the end of a CommandComplete tag (`INSERT 0 3`, `UPDATE 2`), 0 for none.
pub(super) fn command_count(body: &[u8]) -> u64 {
    let tag = body.strip_suffix(&[0]).unwrap_or(body);
    let last = tag.rsplit(|b| *b == b' ').next().unwrap_or_default();
    std::str::from_utf8(last)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

pub(super) fn unexpected(tag: u8) -> Failure {
    Failure::Protocol(format!("unexpected message {:?}", char::from(tag)))
}

#[cfg(test)]
mod tests {
    use super::command_count;

    #[test]
    fn command_tags_give_their_row_count() {
        assert_eq!(command_count(b"INSERT 0 3\0"), 3);
        assert_eq!(command_count(b"UPDATE 12\0"), 12);
        assert_eq!(command_count(b"SELECT 0\0"), 0);
        assert_eq!(command_count(b"CREATE TABLE\0"), 0);
        assert_eq!(command_count(b"\0"), 0);
    }
}
