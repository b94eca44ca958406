//! Backend-neutral dates, times, UUIDs and decimals: conversions between the counts kept in
//! [`Value`] and the civil calendar, ISO 8601 text, and hex.
//!
//! The calendar arithmetic is Howard Hinnant's `days_from_civil` / `civil_from_days`
//! (proleptic Gregorian, exact for every `i32` day count used here).

use std::fmt;

use super::{RawRow, Value};
use crate::error::{DecodeError, Result};

pub const MICROS_PER_SEC: i64 = 1_000_000;
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month 1-12, day 1-31) of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Split microseconds since the epoch into (days, microseconds into the day).
pub fn split_timestamp(micros: i64) -> (i64, i64) {
    (
        micros.div_euclid(MICROS_PER_DAY),
        micros.rem_euclid(MICROS_PER_DAY),
    )
}

/// Microseconds since the epoch of a day count and a time of day.
pub fn join_timestamp(days: i64, time_micros: i64) -> i64 {
    days * MICROS_PER_DAY + time_micros
}

/// (hour, minute, second, microsecond) of microseconds since midnight.
pub fn hms(micros: i64) -> (u32, u32, u32, u32) {
    let secs = micros.div_euclid(MICROS_PER_SEC);
    (
        (secs / 3600) as u32,
        (secs / 60 % 60) as u32,
        (secs % 60) as u32,
        micros.rem_euclid(MICROS_PER_SEC) as u32,
    )
}

/// `YYYY-MM-DD`.
#[derive(Debug)]
pub struct Date(pub i32);

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            crate::Value::DATE_INFINITY => return f.write_str("infinity"),
            crate::Value::DATE_NEG_INFINITY => return f.write_str("-infinity"),
            _ => {}
        }
        let (y, m, d) = civil_from_days(i64::from(self.0));
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// `HH:MM:SS[.ffffff]`.
#[derive(Debug)]
pub struct Time(pub i64);

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, mi, s, us) = hms(self.0);
        write!(f, "{h:02}:{mi:02}:{s:02}")?;
        if us != 0 {
            write!(f, ".{us:06}")?;
        }
        Ok(())
    }
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]`.
#[derive(Debug)]
pub struct Timestamp(pub i64);

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            crate::Value::TIMESTAMP_INFINITY => return f.write_str("infinity"),
            crate::Value::TIMESTAMP_NEG_INFINITY => return f.write_str("-infinity"),
            _ => {}
        }
        let (days, time) = split_timestamp(self.0);
        // A day count of an i64 microsecond timestamp always fits an i32.
        let days = i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX });
        write!(f, "{} {}", Date(days), Time(time))
    }
}

/// A UUID as `8-4-4-4-12` lower-case hex.
#[derive(Debug)]
pub struct Hyphenated<'a>(pub &'a [u8; 16]);

impl fmt::Display for Hyphenated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A UUID as 32 lower-case hex digits (SQLAlchemy's `CHAR(32)` storage).
pub fn uuid_hex(u: &[u8; 16]) -> String {
    let mut s = String::with_capacity(32);
    for b in u {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parse `YYYY-MM-DD` into days since the epoch.
pub fn parse_date(s: &str) -> Option<i32> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let mut parts = s.splitn(3, '-');
    let y = digits(parts.next()?)?;
    let m = u32::try_from(digits(parts.next()?)?).ok()?;
    let d = u32::try_from(digits(parts.next()?)?).ok()?;
    let y = if neg { -y } else { y };
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    i32::try_from(days_from_civil(y, m, d)).ok()
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parse `HH:MM[:SS[.f…]]` into microseconds since midnight.
pub fn parse_time(s: &str) -> Option<i64> {
    let (hms, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let mut parts = hms.split(':');
    let h = digits(parts.next()?)?;
    let m = digits(parts.next()?)?;
    let sec = match parts.next() {
        Some(p) => digits(p)?,
        None => 0,
    };
    if parts.next().is_some() || h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let mut micros = 0;
    if let Some(f) = frac {
        if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let padded = format!("{f:0<6}");
        micros = padded[..6].parse::<i64>().ok()?;
    }
    Some(((h * 60 + m) * 60 + sec) * MICROS_PER_SEC + micros)
}

/// Parse `YYYY-MM-DD[ T]HH:MM[:SS[.f]][Z|±HH[:MM]]` into microseconds since the epoch, in UTC
/// when an offset is given.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find([' ', 'T'])?;
    let days = parse_date(&s[..split])?;
    let rest = &s[split + 1..];
    let (time, offset_secs) = if let Some(t) = rest.strip_suffix('Z') {
        (t, 0)
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let (t, off) = rest.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (oh, om) = match off.split_once(':') {
            Some((h, m)) => (digits(h)?, digits(m)?),
            None if off.len() == 4 => (digits(&off[..2])?, digits(&off[2..])?),
            None => (digits(off)?, 0),
        };
        (
            t,
            sign * oh.checked_mul(3600)?.checked_add(om.checked_mul(60)?)?,
        )
    } else {
        (rest, 0)
    };
    let t = parse_time(time)?;
    // Checked: a year beyond ±292,277 has no microsecond count in an i64.
    i64::from(days)
        .checked_mul(MICROS_PER_DAY)?
        .checked_add(t)?
        .checked_sub(offset_secs.checked_mul(MICROS_PER_SEC)?)
}

/// Parse hex with or without hyphens (and optional braces) into UUID bytes.
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let hex: Vec<u8> = s
        .trim_matches(|c| c == '{' || c == '}')
        .bytes()
        .filter(|b| *b != b'-')
        .collect();
    if hex.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, pair) in hex.chunks(2).enumerate() {
        let pair = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// True for `-?digits[.digits]`.
pub fn is_decimal_text(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn mismatch(
    row: &(impl RawRow + ?Sized),
    idx: usize,
    expected: &'static str,
    v: &Value,
) -> crate::Error {
    DecodeError::new(
        row.name(idx),
        expected,
        format!("{} ({v:?})", v.kind_name()),
    )
    .into_error()
}

pub(super) fn date_from(row: &(impl RawRow + ?Sized), idx: usize) -> Result<Option<i32>> {
    match row.get_value(idx)? {
        Value::Null => Ok(None),
        Value::Date(d) => Ok(Some(d)),
        Value::Text(ref s) => match parse_date(s.trim()) {
            Some(d) => Ok(Some(d)),
            None => Err(mismatch(row, idx, "a date", &Value::Text(s.clone()))),
        },
        other => Err(mismatch(row, idx, "a date", &other)),
    }
}

pub(super) fn time_from(row: &(impl RawRow + ?Sized), idx: usize) -> Result<Option<i64>> {
    match row.get_value(idx)? {
        Value::Null => Ok(None),
        Value::Time(t) => Ok(Some(t)),
        Value::Text(ref s) if parse_time(s.trim()).is_some() => Ok(parse_time(s.trim())),
        other => Err(mismatch(row, idx, "a time", &other)),
    }
}

pub(super) fn timestamp_from(row: &(impl RawRow + ?Sized), idx: usize) -> Result<Option<i64>> {
    match row.get_value(idx)? {
        Value::Null => Ok(None),
        Value::Timestamp(t) | Value::TimestampTz(t) => Ok(Some(t)),
        Value::Text(ref s) if parse_timestamp(s).is_some() => Ok(parse_timestamp(s)),
        other => Err(mismatch(row, idx, "a timestamp", &other)),
    }
}

pub(super) fn uuid_from(row: &(impl RawRow + ?Sized), idx: usize) -> Result<Option<[u8; 16]>> {
    match row.get_value(idx)? {
        Value::Null => Ok(None),
        Value::Uuid(u) => Ok(Some(u)),
        Value::Blob(ref b) if b.len() == 16 => {
            let mut u = [0u8; 16];
            u.copy_from_slice(b);
            Ok(Some(u))
        }
        Value::Text(ref s) if parse_uuid(s.trim()).is_some() => Ok(parse_uuid(s.trim())),
        other => Err(mismatch(row, idx, "a UUID", &other)),
    }
}

pub(super) fn decimal_from(row: &(impl RawRow + ?Sized), idx: usize) -> Result<Option<String>> {
    match row.get_value(idx)? {
        Value::Null => Ok(None),
        Value::Decimal(d) => Ok(Some(d)),
        Value::I16(v) => Ok(Some(v.to_string())),
        Value::I32(v) => Ok(Some(v.to_string())),
        Value::I64(v) => Ok(Some(v.to_string())),
        Value::Text(s) if is_decimal_text(s.trim()) => Ok(Some(s.trim().to_owned())),
        // SQLite keeps NUMERIC values with a fraction as REAL.
        Value::F64(v) if v.is_finite() => Ok(Some(format!("{v}"))),
        other => Err(mismatch(row, idx, "a decimal", &other)),
    }
}

pub(super) fn json_from(row: &(impl RawRow + ?Sized), idx: usize) -> Result<Option<String>> {
    match row.get_value(idx)? {
        Value::Null => Ok(None),
        Value::Json(j) | Value::Text(j) => Ok(Some(j)),
        // SQLite's `JSON` columns have NUMERIC affinity: a document that is just a number is
        // kept as one.
        Value::I64(v) => Ok(Some(v.to_string())),
        Value::F64(v) if v.is_finite() => Ok(Some(format!("{v}"))),
        Value::Blob(b) => String::from_utf8(b).map(Some).map_err(|_| {
            DecodeError::new(row.name(idx), "JSON", "bytes that are not UTF-8").into_error()
        }),
        other => Err(mismatch(row, idx, "JSON", &other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        for days in [-719_468, -1, 0, 1, 11_016, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(Date(19_782).to_string(), "2024-02-29");
    }

    #[test]
    fn times_and_timestamps_parse_and_print() {
        assert_eq!(parse_time("13:45:00.25"), Some(49_500_250_000));
        assert_eq!(Time(49_500_250_000).to_string(), "13:45:00.250000");
        let t = parse_timestamp("2024-02-29 13:45:00").unwrap();
        assert_eq!(Timestamp(t).to_string(), "2024-02-29 13:45:00");
        assert_eq!(parse_timestamp("2024-02-29T15:45:00+02:00"), Some(t));
        assert_eq!(parse_timestamp("2024-02-29 13:45:00Z"), Some(t));
        assert_eq!(Timestamp(-1).to_string(), "1969-12-31 23:59:59.999999");
    }

    #[test]
    fn uuids_and_decimals() {
        let u = parse_uuid("67e55044-10b1-426f-9247-bb680e5fe0c8").unwrap();
        assert_eq!(
            Hyphenated(&u).to_string(),
            "67e55044-10b1-426f-9247-bb680e5fe0c8"
        );
        assert_eq!(uuid_hex(&u), "67e5504410b1426f9247bb680e5fe0c8");
        assert!(is_decimal_text("-12.340"));
        assert!(!is_decimal_text("1e5"));
        assert!(!is_decimal_text("1."));
    }
}
