//! Decoding: a result row read by index, each value interpreted with its column's type so the
//! binary protocol (typed values) and the text protocol (every value as bytes) decode alike.

use std::fmt;

use mysql::consts::ColumnType;

use crate::error::{DecodeError, Error, Result};
use crate::value::{RawRow, Value, temporal};

/// The character set number of binary strings (`BINARY`, `VARBINARY`, `BLOB`).
pub(super) const BINARY_CHARSET: u16 = 63;

pub(super) fn column_name(col: &mysql::Column) -> &str {
    std::str::from_utf8(col.name_ref()).unwrap_or("?")
}

/// Values with their columns, by index: a `mysql::Row` (or, in tests, a hand-built row).
pub(super) trait Cells {
    fn count(&self) -> usize;
    fn cell(&self, idx: usize) -> Option<(&mysql::Value, &mysql::Column)>;
    fn column(&self, idx: usize) -> Option<&mysql::Column>;
}

impl Cells for mysql::Row {
    fn count(&self) -> usize {
        self.len()
    }

    fn cell(&self, idx: usize) -> Option<(&mysql::Value, &mysql::Column)> {
        Some((self.as_ref(idx)?, self.columns_ref().get(idx)?))
    }

    fn column(&self, idx: usize) -> Option<&mysql::Column> {
        self.columns_ref().get(idx)
    }
}

/// One result row, read by index without taking the values out.
pub(super) struct MysqlRow<'a, C: Cells + ?Sized = mysql::Row> {
    pub(super) row: &'a C,
}

/// How a column's values are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Integer,
    Decimal,
    Float,
    Date,
    DateTime,
    Time,
    Bit,
    Json,
    /// CHAR, VARCHAR, TEXT, BINARY, VARBINARY, BLOB, ENUM, SET.
    String,
    Null,
    Other,
}

fn family(col: &mysql::Column) -> Family {
    use ColumnType::*;
    match col.column_type() {
        MYSQL_TYPE_TINY | MYSQL_TYPE_SHORT | MYSQL_TYPE_LONG | MYSQL_TYPE_LONGLONG
        | MYSQL_TYPE_INT24 | MYSQL_TYPE_YEAR => Family::Integer,
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => Family::Decimal,
        MYSQL_TYPE_FLOAT | MYSQL_TYPE_DOUBLE => Family::Float,
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => Family::Date,
        MYSQL_TYPE_DATETIME
        | MYSQL_TYPE_DATETIME2
        | MYSQL_TYPE_TIMESTAMP
        | MYSQL_TYPE_TIMESTAMP2 => Family::DateTime,
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => Family::Time,
        MYSQL_TYPE_BIT => Family::Bit,
        MYSQL_TYPE_JSON => Family::Json,
        MYSQL_TYPE_VARCHAR
        | MYSQL_TYPE_VAR_STRING
        | MYSQL_TYPE_STRING
        | MYSQL_TYPE_TINY_BLOB
        | MYSQL_TYPE_MEDIUM_BLOB
        | MYSQL_TYPE_LONG_BLOB
        | MYSQL_TYPE_BLOB
        | MYSQL_TYPE_ENUM
        | MYSQL_TYPE_SET => Family::String,
        MYSQL_TYPE_NULL => Family::Null,
        _ => Family::Other,
    }
}

/// The SQL name of a column's type, as error messages show it.
fn type_name(col: &mysql::Column) -> &'static str {
    use ColumnType::*;
    let binary = col.character_set() == BINARY_CHARSET;
    match col.column_type() {
        MYSQL_TYPE_TINY => "TINYINT",
        MYSQL_TYPE_SHORT => "SMALLINT",
        MYSQL_TYPE_LONG => "INT",
        MYSQL_TYPE_INT24 => "MEDIUMINT",
        MYSQL_TYPE_LONGLONG => "BIGINT",
        MYSQL_TYPE_YEAR => "YEAR",
        MYSQL_TYPE_DECIMAL | MYSQL_TYPE_NEWDECIMAL => "DECIMAL",
        MYSQL_TYPE_FLOAT => "FLOAT",
        MYSQL_TYPE_DOUBLE => "DOUBLE",
        MYSQL_TYPE_NULL => "NULL",
        MYSQL_TYPE_DATE | MYSQL_TYPE_NEWDATE => "DATE",
        MYSQL_TYPE_TIME | MYSQL_TYPE_TIME2 => "TIME",
        MYSQL_TYPE_DATETIME | MYSQL_TYPE_DATETIME2 => "DATETIME",
        MYSQL_TYPE_TIMESTAMP | MYSQL_TYPE_TIMESTAMP2 => "TIMESTAMP",
        MYSQL_TYPE_BIT => "BIT",
        MYSQL_TYPE_JSON => "JSON",
        MYSQL_TYPE_ENUM => "ENUM",
        MYSQL_TYPE_SET => "SET",
        MYSQL_TYPE_GEOMETRY => "GEOMETRY",
        MYSQL_TYPE_VECTOR => "VECTOR",
        MYSQL_TYPE_TINY_BLOB | MYSQL_TYPE_MEDIUM_BLOB | MYSQL_TYPE_LONG_BLOB | MYSQL_TYPE_BLOB => {
            if binary {
                "BLOB"
            } else {
                "TEXT"
            }
        }
        MYSQL_TYPE_VARCHAR | MYSQL_TYPE_VAR_STRING => {
            if binary {
                "VARBINARY"
            } else {
                "VARCHAR"
            }
        }
        MYSQL_TYPE_STRING => {
            if binary {
                "BINARY"
            } else {
                "CHAR"
            }
        }
        _ => "unknown-type",
    }
}

/// `an INT value`, `a DATETIME value`.
fn found(col: &mysql::Column) -> String {
    let name = type_name(col);
    let article = if name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name} value")
}

/// Integer text as MySQL sends DECIMAL and (in the text protocol) integer values: `6`, `-6`,
/// `6.0000`. `Ok(None)` for text that is no whole number, `Err(())` for one out of range.
fn parse_integer(text: &str) -> Result<Option<i64>, ()> {
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, f),
        None => (text, ""),
    };
    let digits = int.strip_prefix('-').unwrap_or(int);
    if digits.is_empty()
        || !digits.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b == b'0')
    {
        return Ok(None);
    }
    int.parse::<i64>().map(Some).map_err(|_| ())
}

/// A BIT value: big-endian bytes.
fn bit_value(bytes: &[u8]) -> Option<u64> {
    if bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// MySQL `TIME` text, which is an interval: `-838:59:59.000000` .. `838:59:59.000000`.
fn parse_mysql_time(text: &str) -> Option<i64> {
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (h, rest) = rest.split_once(':')?;
    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i64 = h.parse().ok()?;
    // Reuse the time-of-day parser for minutes, seconds and fraction.
    let within_hour = temporal::parse_time(&format!("00:{rest}"))?;
    let micros = h.checked_mul(3_600_000_000)?.checked_add(within_hour)?;
    Some(if neg { -micros } else { micros })
}

/// Microseconds of a MySQL TIME value (an interval, possibly negative or over 24 hours).
fn time_micros(neg: bool, days: u32, h: u8, m: u8, s: u8, us: u32) -> i64 {
    let secs = ((i64::from(days) * 24 + i64::from(h)) * 60 + i64::from(m)) * 60 + i64::from(s);
    let micros = secs * 1_000_000 + i64::from(us);
    if neg { -micros } else { micros }
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

impl<C: Cells + ?Sized> MysqlRow<'_, C> {
    fn get(&self, idx: usize) -> Result<(&mysql::Value, &mysql::Column)> {
        self.row.cell(idx).ok_or_else(|| {
            Error::NoSuchColumn(format!(
                "result has no column {idx}; it has {}",
                self.row.count()
            ))
        })
    }

    fn mismatch(&self, idx: usize, expected: &'static str, col: &mysql::Column) -> Error {
        DecodeError::new(self.name(idx), expected, found(col)).into_error()
    }

    fn decode_error(&self, idx: usize, expected: &'static str, found: String) -> Error {
        DecodeError::new(self.name(idx), expected, found).into_error()
    }

    fn utf8<'b>(
        &self,
        idx: usize,
        expected: &'static str,
        col: &mysql::Column,
        bytes: &'b [u8],
    ) -> Result<&'b str> {
        std::str::from_utf8(bytes).map_err(|_| {
            self.decode_error(
                idx,
                expected,
                format!("{} that is not valid UTF-8", found(col)),
            )
        })
    }

    /// A DATE or DATETIME value's civil parts, refusing MySQL's zero dates.
    fn civil_days(&self, idx: usize, expected: &'static str, y: u16, m: u8, d: u8) -> Result<i64> {
        if !(1..=12).contains(&m) || d == 0 || d > 31 {
            return Err(self.decode_error(
                idx,
                expected,
                format!("the date {y:04}-{m:02}-{d:02}, which is not a calendar date"),
            ));
        }
        Ok(temporal::days_from_civil(
            i64::from(y),
            u32::from(m),
            u32::from(d),
        ))
    }

    fn date_days(&self, idx: usize, expected: &'static str, days: i64) -> Result<i32> {
        i32::try_from(days)
            .map_err(|_| self.decode_error(idx, expected, format!("{days} days, out of range")))
    }
}

impl<C: Cells + ?Sized> RawRow for MysqlRow<'_, C> {
    fn len(&self) -> usize {
        self.row.count()
    }

    fn name(&self, idx: usize) -> &str {
        self.row.column(idx).map_or("?", column_name)
    }

    fn get_i64(&self, idx: usize) -> Result<Option<i64>> {
        const EXPECTED: &str = "an integer";
        let (v, col) = self.get(idx)?;
        let out_of_range = |shown: &dyn fmt::Display| {
            self.decode_error(idx, EXPECTED, format!("{shown}, which is out of range"))
        };
        match v {
            mysql::Value::NULL => Ok(None),
            mysql::Value::Int(v) => Ok(Some(*v)),
            mysql::Value::UInt(u) => i64::try_from(*u).map(Some).map_err(|_| out_of_range(u)),
            mysql::Value::Bytes(b) => match family(col) {
                Family::Bit => {
                    let v = bit_value(b).ok_or_else(|| out_of_range(&"a BIT value"))?;
                    i64::try_from(v).map(Some).map_err(|_| out_of_range(&v))
                }
                Family::Integer | Family::Decimal => {
                    let text = self.utf8(idx, EXPECTED, col, b)?;
                    match parse_integer(text) {
                        Ok(Some(v)) => Ok(Some(v)),
                        Ok(None) => Err(self.decode_error(
                            idx,
                            EXPECTED,
                            format!("{} with a fraction ({text})", found(col)),
                        )),
                        Err(()) => Err(out_of_range(&text)),
                    }
                }
                _ => Err(self.mismatch(idx, EXPECTED, col)),
            },
            _ => Err(self.mismatch(idx, EXPECTED, col)),
        }
    }

    fn get_f64(&self, idx: usize) -> Result<Option<f64>> {
        const EXPECTED: &str = "a float";
        let (v, col) = self.get(idx)?;
        match v {
            mysql::Value::NULL => Ok(None),
            mysql::Value::Float(v) => Ok(Some(f64::from(*v))),
            mysql::Value::Double(v) => Ok(Some(*v)),
            mysql::Value::Int(v) => Ok(Some(*v as f64)),
            mysql::Value::UInt(v) => Ok(Some(*v as f64)),
            mysql::Value::Bytes(b)
                if matches!(
                    family(col),
                    Family::Float | Family::Decimal | Family::Integer
                ) =>
            {
                let text = self.utf8(idx, EXPECTED, col, b)?;
                text.parse::<f64>()
                    .map(Some)
                    .map_err(|_| self.mismatch(idx, EXPECTED, col))
            }
            _ => Err(self.mismatch(idx, EXPECTED, col)),
        }
    }

    fn get_bool(&self, idx: usize) -> Result<Option<bool>> {
        const EXPECTED: &str = "bool";
        let (v, col) = self.get(idx)?;
        let int = match v {
            mysql::Value::NULL => return Ok(None),
            mysql::Value::Int(v) => i128::from(*v),
            mysql::Value::UInt(v) => i128::from(*v),
            mysql::Value::Bytes(b) if family(col) == Family::Bit && b.len() <= 8 => {
                i128::from(bit_value(b).unwrap_or(u64::MAX))
            }
            mysql::Value::Bytes(b) if matches!(family(col), Family::Integer | Family::Decimal) => {
                let text = self.utf8(idx, EXPECTED, col, b)?;
                match parse_integer(text) {
                    Ok(Some(v)) => i128::from(v),
                    _ => {
                        return Err(self.decode_error(
                            idx,
                            EXPECTED,
                            format!("the {} {text}, which is neither 0 nor 1", type_name(col)),
                        ));
                    }
                }
            }
            _ => return Err(self.mismatch(idx, EXPECTED, col)),
        };
        match int {
            0 => Ok(Some(false)),
            1 => Ok(Some(true)),
            v => Err(self.decode_error(
                idx,
                EXPECTED,
                format!("the {} {v}, which is neither 0 nor 1", type_name(col)),
            )),
        }
    }

    fn get_text(&self, idx: usize) -> Result<Option<String>> {
        const EXPECTED: &str = "String";
        let (v, col) = self.get(idx)?;
        match v {
            mysql::Value::NULL => Ok(None),
            mysql::Value::Bytes(b) if matches!(family(col), Family::String | Family::Json) => {
                Ok(Some(self.utf8(idx, EXPECTED, col, b)?.to_owned()))
            }
            _ => Err(self.mismatch(idx, EXPECTED, col)),
        }
    }

    fn get_blob(&self, idx: usize) -> Result<Option<Vec<u8>>> {
        let (v, col) = self.get(idx)?;
        match v {
            mysql::Value::NULL => Ok(None),
            mysql::Value::Bytes(b)
                if matches!(family(col), Family::String | Family::Json | Family::Bit)
                    || col.column_type() == ColumnType::MYSQL_TYPE_GEOMETRY =>
            {
                Ok(Some(b.clone()))
            }
            _ => Err(self.mismatch(idx, "Vec<u8>", col)),
        }
    }

    fn get_value(&self, idx: usize) -> Result<Value> {
        let (v, col) = self.get(idx)?;
        Ok(match v {
            mysql::Value::NULL => Value::Null,
            mysql::Value::Int(v) => Value::I64(*v),
            mysql::Value::UInt(v) => match i64::try_from(*v) {
                Ok(v) => Value::I64(v),
                Err(_) => Value::Decimal(v.to_string()),
            },
            mysql::Value::Float(v) => Value::F32(*v),
            mysql::Value::Double(v) => Value::F64(*v),
            mysql::Value::Date(y, m, d, h, mi, s, us) => {
                if *m == 0 || *d == 0 {
                    // MySQL's zero date has no calendar value; show it as MySQL writes it.
                    return Ok(Value::Text(if family(col) == Family::Date {
                        format!("{y:04}-{m:02}-{d:02}")
                    } else {
                        format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}")
                    }));
                }
                let days = temporal::days_from_civil(i64::from(*y), u32::from(*m), u32::from(*d));
                let time = time_micros(false, 0, *h, *mi, *s, *us);
                if family(col) == Family::Date && time == 0 {
                    Value::Date(self.date_days(idx, "a date", days)?)
                } else {
                    Value::Timestamp(temporal::join_timestamp(days, time))
                }
            }
            mysql::Value::Time(neg, days, h, m, s, us) => {
                Value::Time(time_micros(*neg, *days, *h, *m, *s, *us))
            }
            mysql::Value::Bytes(b) => bytes_value(col, b),
        })
    }

    fn is_null(&self, idx: usize) -> Result<bool> {
        Ok(matches!(self.get(idx)?.0, mysql::Value::NULL))
    }

    fn get_date(&self, idx: usize) -> Result<Option<i32>> {
        const EXPECTED: &str = "a date";
        let (v, col) = self.get(idx)?;
        let fam = family(col);
        // A DATETIME at midnight is a date: the crate binds dates as DATETIME, so `SELECT ?`
        // or `COALESCE(d, ?)` with a date parameter yields one.
        let (days, time) = match v {
            mysql::Value::NULL => return Ok(None),
            mysql::Value::Date(y, m, d, h, mi, s, us) => (
                self.civil_days(idx, EXPECTED, *y, *m, *d)?,
                time_micros(false, 0, *h, *mi, *s, *us),
            ),
            mysql::Value::Bytes(b)
                if matches!(fam, Family::Date | Family::DateTime | Family::String) =>
            {
                let text = self.utf8(idx, EXPECTED, col, b)?.trim();
                match temporal::parse_date(text) {
                    Some(d) => (i64::from(d), 0),
                    None => match temporal::parse_timestamp(text) {
                        Some(t) if fam != Family::Date => temporal::split_timestamp(t),
                        _ => {
                            return Err(self.decode_error(
                                idx,
                                EXPECTED,
                                format!("{} that is not a calendar date ({text})", found(col)),
                            ));
                        }
                    },
                }
            }
            _ => return Err(self.mismatch(idx, EXPECTED, col)),
        };
        if time != 0 {
            return Err(self.decode_error(
                idx,
                EXPECTED,
                format!("{} with a time of day", found(col)),
            ));
        }
        self.date_days(idx, EXPECTED, days).map(Some)
    }

    fn get_time(&self, idx: usize) -> Result<Option<i64>> {
        const EXPECTED: &str = "a time";
        let (v, col) = self.get(idx)?;
        let micros = match v {
            mysql::Value::NULL => return Ok(None),
            mysql::Value::Time(neg, days, h, m, s, us) => time_micros(*neg, *days, *h, *m, *s, *us),
            mysql::Value::Bytes(b) if matches!(family(col), Family::Time | Family::String) => {
                let text = self.utf8(idx, EXPECTED, col, b)?.trim();
                parse_mysql_time(text).ok_or_else(|| {
                    self.decode_error(
                        idx,
                        EXPECTED,
                        format!("{} that is not a time ({text})", found(col)),
                    )
                })?
            }
            _ => return Err(self.mismatch(idx, EXPECTED, col)),
        };
        if !(0..MICROS_PER_DAY).contains(&micros) {
            let sign = if micros < 0 { "-" } else { "" };
            let abs = micros.unsigned_abs();
            let secs = abs / 1_000_000;
            return Err(self.decode_error(
                idx,
                EXPECTED,
                format!(
                    "the TIME {sign}{:02}:{:02}:{:02}, which is not a time of day",
                    secs / 3600,
                    secs / 60 % 60,
                    secs % 60
                ),
            ));
        }
        Ok(Some(micros))
    }

    fn get_timestamp(&self, idx: usize) -> Result<Option<i64>> {
        const EXPECTED: &str = "a timestamp";
        let (v, col) = self.get(idx)?;
        let fam = family(col);
        match v {
            mysql::Value::NULL => Ok(None),
            mysql::Value::Date(y, m, d, h, mi, s, us) if fam != Family::Date => {
                let days = self.civil_days(idx, EXPECTED, *y, *m, *d)?;
                let time = time_micros(false, 0, *h, *mi, *s, *us);
                Ok(Some(temporal::join_timestamp(days, time)))
            }
            mysql::Value::Bytes(b) if matches!(fam, Family::DateTime | Family::String) => {
                let text = self.utf8(idx, EXPECTED, col, b)?;
                match temporal::parse_timestamp(text) {
                    Some(t) => Ok(Some(t)),
                    None => Err(self.decode_error(
                        idx,
                        EXPECTED,
                        format!("{} that is not a timestamp ({})", found(col), text.trim()),
                    )),
                }
            }
            _ => Err(self.mismatch(idx, EXPECTED, col)),
        }
    }

    fn get_uuid(&self, idx: usize) -> Result<Option<[u8; 16]>> {
        const EXPECTED: &str = "a UUID";
        let (v, col) = self.get(idx)?;
        match v {
            mysql::Value::NULL => Ok(None),
            mysql::Value::Bytes(b) if family(col) == Family::String => {
                if b.len() == 16 && col.character_set() == BINARY_CHARSET {
                    let mut u = [0u8; 16];
                    u.copy_from_slice(b);
                    return Ok(Some(u));
                }
                std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| temporal::parse_uuid(s.trim()))
                    .map(Some)
                    .ok_or_else(|| {
                        self.decode_error(
                            idx,
                            EXPECTED,
                            format!("{} that is not a UUID", found(col)),
                        )
                    })
            }
            _ => Err(self.mismatch(idx, EXPECTED, col)),
        }
    }

    fn get_decimal(&self, idx: usize) -> Result<Option<String>> {
        const EXPECTED: &str = "a decimal";
        let (v, col) = self.get(idx)?;
        match v {
            mysql::Value::NULL => Ok(None),
            mysql::Value::Int(v) => Ok(Some(v.to_string())),
            mysql::Value::UInt(v) => Ok(Some(v.to_string())),
            mysql::Value::Float(v) if v.is_finite() => Ok(Some(v.to_string())),
            mysql::Value::Double(v) if v.is_finite() => Ok(Some(v.to_string())),
            mysql::Value::Bytes(b)
                if matches!(
                    family(col),
                    Family::Decimal | Family::Integer | Family::Float | Family::String
                ) =>
            {
                let text = self.utf8(idx, EXPECTED, col, b)?.trim();
                if temporal::is_decimal_text(text) {
                    Ok(Some(text.to_owned()))
                } else {
                    Err(self.decode_error(
                        idx,
                        EXPECTED,
                        format!("{} that is not a decimal number", found(col)),
                    ))
                }
            }
            _ => Err(self.mismatch(idx, EXPECTED, col)),
        }
    }

    fn get_json(&self, idx: usize) -> Result<Option<String>> {
        const EXPECTED: &str = "JSON";
        let (v, col) = self.get(idx)?;
        match v {
            mysql::Value::NULL => Ok(None),
            mysql::Value::Bytes(b) if matches!(family(col), Family::Json | Family::String) => {
                Ok(Some(self.utf8(idx, EXPECTED, col, b)?.to_owned()))
            }
            _ => Err(self.mismatch(idx, EXPECTED, col)),
        }
    }
}

/// The closest [`Value`] of bytes in a column: in the binary protocol these are strings,
/// decimals, JSON and bits; in the text protocol every value arrives as bytes.
fn bytes_value(col: &mysql::Column, b: &[u8]) -> Value {
    let Ok(text) = std::str::from_utf8(b) else {
        return Value::Blob(b.to_vec());
    };
    let parsed = match family(col) {
        Family::Decimal => Some(Value::Decimal(text.to_owned())),
        Family::Json => Some(Value::Json(text.to_owned())),
        Family::Integer => match text.parse::<i64>() {
            Ok(v) => Some(Value::I64(v)),
            Err(_) => Some(Value::Decimal(text.to_owned())),
        },
        Family::Float if col.column_type() == ColumnType::MYSQL_TYPE_FLOAT => {
            text.parse().ok().map(Value::F32)
        }
        Family::Float => text.parse().ok().map(Value::F64),
        Family::Date => temporal::parse_date(text).map(Value::Date),
        Family::DateTime => temporal::parse_timestamp(text).map(Value::Timestamp),
        Family::Time => parse_mysql_time(text).map(Value::Time),
        Family::Bit => return Value::Blob(b.to_vec()),
        Family::String | Family::Other if col.character_set() == BINARY_CHARSET => {
            return Value::Blob(b.to_vec());
        }
        Family::String | Family::Null | Family::Other => None,
    };
    parsed.unwrap_or_else(|| Value::Text(text.to_owned()))
}

#[cfg(test)]
mod tests;
