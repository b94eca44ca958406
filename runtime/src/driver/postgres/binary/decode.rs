//! Results: each column decoded by index straight from the row's bytes in the binary format, by
//! the column's type (an `INTEGER` read as `i64`, a `NUMERIC` as decimal text, `i64` or `f64`).

use super::types::{Kind, Type};
use super::{PG_EPOCH_DAYS, PG_EPOCH_MICROS, is_text, numeric};
use crate::error::{DecodeError, Error, Result};
use crate::value::{RawRow, Value, temporal};

/// A result row in the binary format, read by index: the client library's row (the blocking
/// driver implements this for `postgres::Row`) or, in tests, one built by hand.
pub(crate) trait BinaryRow {
    /// Number of columns.
    fn len(&self) -> usize;
    /// Column `idx`'s name and type; `None` past the last column.
    fn column(&self, idx: usize) -> Option<(&str, &Type)>;
    /// Column `idx`'s bytes (`None` for `NULL`), for an `idx` below [`BinaryRow::len`].
    fn cell(&self, idx: usize) -> Result<Option<&[u8]>>;
}

/// A [`BinaryRow`] as a [`RawRow`].
pub(crate) struct PgRow<'a, R: ?Sized> {
    row: &'a R,
    /// Every column's bytes, located in advance (`None` for `NULL`); empty for a result wider
    /// than the driver gathers on the stack, whose cells are located on each use.
    cells: &'a [Option<&'a [u8]>],
}

impl<'a, R: BinaryRow + ?Sized> PgRow<'a, R> {
    /// `row`, with the bytes of its first `cells.len()` columns located by [`PgRow::locate`].
    pub(crate) fn new(row: &'a R, cells: &'a [Option<&'a [u8]>]) -> Self {
        PgRow { row, cells }
    }

    /// Column `idx`'s bytes in `row` (`None` for `NULL`).
    pub(crate) fn locate(row: &'a R, idx: usize) -> Result<Option<&'a [u8]>> {
        if idx >= row.len() {
            return Err(Error::NoSuchColumn(format!(
                "result has no column {idx} (it has {})",
                row.len()
            )));
        }
        row.cell(idx)
    }

    /// The column's type and bytes (`None` for `NULL`).
    fn raw(&self, idx: usize) -> Result<(&Type, Option<&'a [u8]>)> {
        let cell = match self.cells.get(idx) {
            Some(cell) => *cell,
            None => Self::locate(self.row, idx)?,
        };
        match self.row.column(idx) {
            Some((_, ty)) => Ok((ty, cell)),
            // Unreachable: `locate` checked the index, and `cells` is no longer than the row.
            None => Err(Error::NoSuchColumn(format!(
                "result has no column {idx} (it has {})",
                self.row.len()
            ))),
        }
    }

    fn mismatch(&self, idx: usize, expected: &'static str, ty: &Type) -> Error {
        DecodeError::new(
            self.name(idx),
            expected,
            format!("a {} value", ty.name().to_uppercase()),
        )
        .into_error()
    }

    fn corrupt(&self, idx: usize, ty: &Type) -> Error {
        DecodeError::new(
            self.name(idx),
            "a value",
            format!("malformed {} bytes from the server", ty.name()),
        )
        .into_error()
    }

    fn fixed<const N: usize>(&self, idx: usize, ty: &Type, raw: &[u8]) -> Result<[u8; N]> {
        raw.try_into().map_err(|_| self.corrupt(idx, ty))
    }

    /// `Some(true)` for `infinity`, `Some(false)` for `-infinity` in a date or timestamp
    /// column; `None` for any other value (or NULL).
    fn infinity(&self, idx: usize, ty: &Type) -> Result<Option<bool>> {
        let (_, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        Ok(match *ty {
            Type::DATE => match i32::from_be_bytes(self.fixed(idx, ty, raw)?) {
                i32::MAX => Some(true),
                i32::MIN => Some(false),
                _ => None,
            },
            _ => match i64::from_be_bytes(self.fixed(idx, ty, raw)?) {
                i64::MAX => Some(true),
                i64::MIN => Some(false),
                _ => None,
            },
        })
    }

    fn utf8<'b>(&self, idx: usize, raw: &'b [u8]) -> Result<&'b str> {
        std::str::from_utf8(raw).map_err(|_| {
            DecodeError::new(self.name(idx), "String", "text that is not valid UTF-8").into_error()
        })
    }
}

impl<R: BinaryRow + ?Sized> RawRow for PgRow<'_, R> {
    fn len(&self) -> usize {
        self.row.len()
    }

    fn name(&self, idx: usize) -> &str {
        self.row.column(idx).map_or("?", |(name, _)| name)
    }

    fn get_i64(&self, idx: usize) -> Result<Option<i64>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        Ok(Some(match *ty {
            Type::INT2 => i64::from(i16::from_be_bytes(self.fixed(idx, ty, raw)?)),
            Type::INT4 => i64::from(i32::from_be_bytes(self.fixed(idx, ty, raw)?)),
            Type::INT8 => i64::from_be_bytes(self.fixed(idx, ty, raw)?),
            Type::OID => i64::from(u32::from_be_bytes(self.fixed(idx, ty, raw)?)),
            // sum() of integers is NUMERIC on PostgreSQL.
            Type::NUMERIC => {
                let text = numeric::decode(raw).ok_or_else(|| self.corrupt(idx, ty))?;
                numeric::to_i64(&text).ok_or_else(|| {
                    crate::error::DecodeError::into_error(DecodeError::new(
                        self.name(idx),
                        "an integer",
                        format!("the NUMERIC {text}, which is not an integer in range"),
                    ))
                })?
            }
            _ => return Err(self.mismatch(idx, "an integer", ty)),
        }))
    }

    fn get_f64(&self, idx: usize) -> Result<Option<f64>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        Ok(Some(match *ty {
            Type::FLOAT4 => f64::from(f32::from_be_bytes(self.fixed(idx, ty, raw)?)),
            Type::FLOAT8 => f64::from_be_bytes(self.fixed(idx, ty, raw)?),
            Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => {
                self.get_i64(idx)?.map_or(0.0, |v| v as f64)
            }
            // avg() is NUMERIC on PostgreSQL.
            Type::NUMERIC => {
                let text = numeric::decode(raw).ok_or_else(|| self.corrupt(idx, ty))?;
                text.parse().map_err(|_| self.corrupt(idx, ty))?
            }
            _ => return Err(self.mismatch(idx, "a float", ty)),
        }))
    }

    fn get_bool(&self, idx: usize) -> Result<Option<bool>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::BOOL => Ok(Some(raw.first().is_some_and(|b| *b != 0))),
            _ => Err(self.mismatch(idx, "bool", ty)),
        }
    }

    fn get_text(&self, idx: usize) -> Result<Option<String>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        let bytes = match *ty {
            Type::JSONB => raw.get(1..).unwrap_or_default(),
            Type::JSON | Type::XML => raw,
            _ if is_text(ty) || matches!(ty.kind(), Kind::Enum(_)) => raw,
            _ => return Err(self.mismatch(idx, "String", ty)),
        };
        self.utf8(idx, bytes).map(|s| Some(s.to_owned()))
    }

    fn get_blob(&self, idx: usize) -> Result<Option<Vec<u8>>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::BYTEA => Ok(Some(raw.to_vec())),
            _ => Err(self.mismatch(idx, "Vec<u8>", ty)),
        }
    }

    fn get_value(&self, idx: usize) -> Result<Value> {
        let (ty, raw) = self.raw(idx)?;
        if raw.is_none() {
            return Ok(Value::Null);
        }
        let or_null = |v: Option<Value>| v.unwrap_or(Value::Null);
        Ok(match *ty {
            Type::BOOL => or_null(self.get_bool(idx)?.map(Value::Bool)),
            Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => {
                or_null(self.get_i64(idx)?.map(Value::I64))
            }
            Type::FLOAT4 | Type::FLOAT8 => or_null(self.get_f64(idx)?.map(Value::F64)),
            Type::NUMERIC => or_null(self.get_decimal(idx)?.map(Value::Decimal)),
            Type::BYTEA => or_null(self.get_blob(idx)?.map(Value::Blob)),
            Type::JSON | Type::JSONB => or_null(self.get_json(idx)?.map(Value::Json)),
            Type::DATE => or_null(self.infinity(idx, ty)?.map_or_else(
                || self.get_date(idx).map(|d| d.map(Value::Date)),
                |positive| Ok(Some(Value::Date(infinite_date(positive)))),
            )?),
            Type::TIME => or_null(self.get_time(idx)?.map(Value::Time)),
            Type::TIMESTAMP | Type::TIMESTAMPTZ => {
                let micros = match self.infinity(idx, ty)? {
                    Some(positive) => Some(infinite_timestamp(positive)),
                    None => self.get_timestamp(idx)?,
                };
                let wrap = if *ty == Type::TIMESTAMP {
                    Value::Timestamp
                } else {
                    Value::TimestampTz
                };
                or_null(micros.map(wrap))
            }
            Type::UUID => or_null(self.get_uuid(idx)?.map(Value::Uuid)),
            Type::VOID => Value::Null,
            _ if matches!(ty.kind(), Kind::Array(_)) => {
                or_null(self.get_array(idx)?.map(Value::Array))
            }
            _ => match self.get_text(idx) {
                Ok(v) => or_null(v.map(Value::Text)),
                Err(_) => {
                    return Err(DecodeError::new(
                        self.name(idx),
                        "a value",
                        format!(
                            "a value of SQL type {}, which quarry does not decode; cast it in                              the query (::text)",
                            ty.name().to_uppercase()
                        ),
                    )
                    .into_error());
                }
            },
        })
    }

    fn is_null(&self, idx: usize) -> Result<bool> {
        Ok(self.raw(idx)?.1.is_none())
    }

    fn get_array(&self, idx: usize) -> Result<Option<Vec<Value>>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        let Kind::Array(element) = ty.kind() else {
            return Err(self.mismatch(idx, "an array", ty));
        };
        let corrupt = || self.corrupt(idx, ty);
        let int = |at: usize| -> Result<i32> {
            raw.get(at..at + 4)
                .and_then(|b| b.try_into().ok())
                .map(i32::from_be_bytes)
                .ok_or_else(corrupt)
        };
        let dims = int(0)?;
        if dims == 0 {
            return Ok(Some(Vec::new()));
        }
        if dims != 1 {
            return Err(DecodeError::new(
                self.name(idx),
                "a one-dimensional array",
                format!("an array of {dims} dimensions"),
            )
            .into_error());
        }
        let len = usize::try_from(int(12)?).map_err(|_| corrupt())?;
        let mut at = 20;
        let mut items = Vec::with_capacity(len);
        for _ in 0..len {
            let size = int(at)?;
            at += 4;
            let cell = match usize::try_from(size) {
                Ok(size) => {
                    let bytes = raw.get(at..at + size).ok_or_else(corrupt)?;
                    at += size;
                    Some(bytes)
                }
                Err(_) => None,
            };
            let element_row = Element {
                name: self.name(idx),
                ty: element,
                cell,
            };
            items.push(PgRow::new(&element_row, &[cell]).get_value(0)?);
        }
        Ok(Some(items))
    }

    fn get_date(&self, idx: usize) -> Result<Option<i32>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::DATE => {
                let d = i32::from_be_bytes(self.fixed(idx, ty, raw)?);
                if d == i32::MAX || d == i32::MIN {
                    return Err(DecodeError::new(self.name(idx), "a date", "infinity").into_error());
                }
                Ok(Some(d.saturating_add(PG_EPOCH_DAYS as i32)))
            }
            _ => Err(self.mismatch(idx, "a date", ty)),
        }
    }

    fn get_time(&self, idx: usize) -> Result<Option<i64>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::TIME => Ok(Some(i64::from_be_bytes(self.fixed(idx, ty, raw)?))),
            _ => Err(self.mismatch(idx, "a time", ty)),
        }
    }

    fn get_timestamp(&self, idx: usize) -> Result<Option<i64>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::TIMESTAMP | Type::TIMESTAMPTZ => {
                let t = i64::from_be_bytes(self.fixed(idx, ty, raw)?);
                if t == i64::MAX || t == i64::MIN {
                    return Err(
                        DecodeError::new(self.name(idx), "a timestamp", "infinity").into_error()
                    );
                }
                t.checked_add(PG_EPOCH_MICROS).map(Some).ok_or_else(|| {
                    DecodeError::new(self.name(idx), "a timestamp", "a timestamp out of range")
                        .into_error()
                })
            }
            Type::DATE => Ok(self
                .get_date(idx)?
                .map(|d| temporal::join_timestamp(i64::from(d), 0))),
            _ => Err(self.mismatch(idx, "a timestamp", ty)),
        }
    }

    fn get_uuid(&self, idx: usize) -> Result<Option<[u8; 16]>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::UUID => Ok(Some(self.fixed(idx, ty, raw)?)),
            _ if is_text(ty) => temporal::parse_uuid(self.utf8(idx, raw)?.trim())
                .map(Some)
                .ok_or_else(|| self.mismatch(idx, "a UUID", ty)),
            _ => Err(self.mismatch(idx, "a UUID", ty)),
        }
    }

    fn get_decimal(&self, idx: usize) -> Result<Option<String>> {
        let (ty, Some(raw)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::NUMERIC => numeric::decode(raw)
                .map(Some)
                .ok_or_else(|| self.corrupt(idx, ty)),
            Type::INT2 | Type::INT4 | Type::INT8 => Ok(self.get_i64(idx)?.map(|v| v.to_string())),
            _ => Err(self.mismatch(idx, "a decimal", ty)),
        }
    }

    fn get_json(&self, idx: usize) -> Result<Option<String>> {
        let (ty, Some(_)) = self.raw(idx)? else {
            return Ok(None);
        };
        match *ty {
            Type::JSON | Type::JSONB => self.get_text(idx),
            _ if is_text(ty) => self.get_text(idx),
            _ => Err(self.mismatch(idx, "JSON", ty)),
        }
    }
}

/// [`Value::DATE_INFINITY`] or [`Value::DATE_NEG_INFINITY`].
fn infinite_date(positive: bool) -> i32 {
    if positive {
        Value::DATE_INFINITY
    } else {
        Value::DATE_NEG_INFINITY
    }
}

/// [`Value::TIMESTAMP_INFINITY`] or [`Value::TIMESTAMP_NEG_INFINITY`].
fn infinite_timestamp(positive: bool) -> i64 {
    if positive {
        Value::TIMESTAMP_INFINITY
    } else {
        Value::TIMESTAMP_NEG_INFINITY
    }
}

/// One element of an array column, as a one-column row, so that it decodes as a column would.
struct Element<'a> {
    name: &'a str,
    ty: &'a Type,
    cell: Option<&'a [u8]>,
}

impl BinaryRow for Element<'_> {
    fn len(&self) -> usize {
        1
    }
    fn column(&self, idx: usize) -> Option<(&str, &Type)> {
        (idx == 0).then_some((self.name, self.ty))
    }
    fn cell(&self, _: usize) -> Result<Option<&[u8]>> {
        Ok(self.cell)
    }
}
