//! Column types from optional crates, each behind the cargo feature of the crate's name:
//! `chrono`, `time`, `uuid`, `serde_json`, `rust_decimal`.
//!
//! Every type converts to and from one of the neutral [`Value`] forms, so each driver handles
//! it as it handles that form (PostgreSQL natively, SQLite as ISO 8601 or hex text).
//!
//! # Precision and range of dates and times
//!
//! - Times and timestamps are kept in microseconds. Nanoseconds below a microsecond are
//!   truncated on encode, towards the past (`23:59:59.9999999` → `23:59:59.999999`, also
//!   before 1970): exactly what a database with microsecond precision stores.
//! - An `i64` of microseconds spans ±292,277 years around 1970 and an `i32` of days ±5.8 million
//!   years, so every chrono value encodes exactly: chrono's dates end at years −262,144 and
//!   262,142, whose microsecond counts are about −8.33 × 10¹⁸ and 8.21 × 10¹⁸, inside
//!   `i64::MAX` ≈ 9.22 × 10¹⁸
//!   (the unit tests encode `NaiveDateTime::MIN` and `MAX` and decode them back). The time
//!   crate's years end at ±9999, which fit likewise; only its `large-dates` feature reaches
//!   ±999,999, beyond an `i64`: such a date-time is bound as its ISO 8601 text (nothing is
//!   clamped), which PostgreSQL refuses and SQLite stores as given.
//! - Decoding is checked: a database value outside the Rust type's range (a PostgreSQL
//!   `DATE` of year 300,000 read as a `chrono::NaiveDate`, a year past 9999 read as a
//!   `time::Date`) is a [`DecodeError`] naming the column and the value.
//! - chrono writes a leap second as a nanosecond count of a second or more; like chrono's own
//!   `timestamp_micros`, it is counted into the following second. On a `NaiveTime` that is
//!   past `23:59:59.999999`, which databases refuse or do not read back.
//! - `DateTime<FixedOffset>` is stored as its instant in UTC and decoded with offset `+00:00`
//!   (equal, as an instant, to what was stored; the original offset is not kept).

#[cfg(any(feature = "chrono", feature = "time"))]
use super::temporal::{MICROS_PER_DAY, MICROS_PER_SEC, hms};
#[cfg(feature = "time")]
use super::temporal::{civil_from_days, split_timestamp};
use super::{
    ColumnType, FromSql, NonNullColumnType, RawRow, SqlType, ToSql, Value, expecting,
    unexpected_null,
};
#[cfg(any(
    feature = "chrono",
    feature = "time",
    feature = "serde_json",
    feature = "rust_decimal"
))]
use crate::error::DecodeError;
use crate::error::Result;

/// `ColumnType` (non-null, of the given SQL type) and `NonNullColumnType` for a type.
macro_rules! column_type {
    ($($t:ty => $sql:ident;)*) => {$(
        impl ColumnType for $t {
            const SQL_TYPE: SqlType = SqlType::$sql;
            const NULLABLE: bool = false;
            type Base = $t;
        }
        impl NonNullColumnType for $t {}
    )*};
}

/// The non-null value a getter read, restated for the Rust type `expected`.
fn required<T>(
    row: &dyn RawRow,
    idx: usize,
    got: Result<Option<T>>,
    expected: &'static str,
) -> Result<T> {
    expecting(got, expected)?.ok_or_else(|| unexpected_null(row, idx, expected))
}

/// A value the database holds that the Rust type cannot: `found 300000-01-01, which is out of
/// range`.
#[cfg(any(feature = "chrono", feature = "time"))]
fn out_of_range(row: &dyn RawRow, idx: usize, expected: &'static str, v: Value) -> crate::Error {
    DecodeError::new(
        row.name(idx),
        expected,
        format!("{v:?}, which is out of range"),
    )
    .into_error()
}

/// (hour, minute, second, microsecond) of microseconds since midnight; `None` outside
/// `00:00:00..24:00:00`.
#[cfg(any(feature = "chrono", feature = "time"))]
fn time_of_day(micros: i64) -> Option<(u32, u32, u32, u32)> {
    (0..MICROS_PER_DAY).contains(&micros).then(|| hms(micros))
}

/// A date-time beyond an `i64` of microseconds as ISO 8601 text with a signed year.
#[cfg(feature = "time")]
fn iso_text(days: i64, time_micros: i64, zone: &str) -> String {
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s, us) = hms(time_micros);
    format!("{y:+05}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}.{us:06}{zone}")
}

#[cfg(feature = "chrono")]
mod chrono_impls {
    use chrono::{
        DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc,
    };

    use super::*;

    /// `num_days_from_ce` of 1970-01-01 (0001-01-01 is day 1).
    const EPOCH_DAYS_FROM_CE: i32 = 719_163;

    column_type! {
        NaiveDate => Date;
        NaiveTime => Time;
        NaiveDateTime => Timestamp;
        DateTime<Utc> => TimestampTz;
        DateTime<FixedOffset> => TimestampTz;
    }

    impl ToSql for NaiveDate {
        fn to_value(&self) -> Value {
            // chrono's day numbers stay within ±96 million: no overflow.
            Value::Date(self.num_days_from_ce() - EPOCH_DAYS_FROM_CE)
        }
    }
    impl FromSql for NaiveDate {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "chrono::NaiveDate";
            let days = required(row, idx, row.get_date(idx), T)?;
            days.checked_add(EPOCH_DAYS_FROM_CE)
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .ok_or_else(|| out_of_range(row, idx, T, Value::Date(days)))
        }
    }

    impl ToSql for NaiveTime {
        fn to_value(&self) -> Value {
            Value::Time(
                i64::from(self.num_seconds_from_midnight()) * MICROS_PER_SEC
                    + i64::from(self.nanosecond() / 1_000),
            )
        }
    }
    impl FromSql for NaiveTime {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "chrono::NaiveTime";
            let micros = required(row, idx, row.get_time(idx), T)?;
            time_of_day(micros)
                .and_then(|(h, m, s, us)| NaiveTime::from_hms_micro_opt(h, m, s, us))
                .ok_or_else(|| out_of_range(row, idx, T, Value::Time(micros)))
        }
    }

    impl ToSql for NaiveDateTime {
        fn to_value(&self) -> Value {
            // Every NaiveDateTime has an i64 microsecond count (see the module docs).
            Value::Timestamp(self.and_utc().timestamp_micros())
        }
    }
    impl FromSql for NaiveDateTime {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "chrono::NaiveDateTime";
            let micros = required(row, idx, row.get_timestamp(idx), T)?;
            DateTime::from_timestamp_micros(micros)
                .map(|t| t.naive_utc())
                .ok_or_else(|| out_of_range(row, idx, T, Value::Timestamp(micros)))
        }
    }

    impl ToSql for DateTime<Utc> {
        fn to_value(&self) -> Value {
            Value::TimestampTz(self.timestamp_micros())
        }
    }
    impl FromSql for DateTime<Utc> {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "chrono::DateTime<Utc>";
            let micros = required(row, idx, row.get_timestamp(idx), T)?;
            DateTime::from_timestamp_micros(micros)
                .ok_or_else(|| out_of_range(row, idx, T, Value::TimestampTz(micros)))
        }
    }

    /// Stored as the instant in UTC; decoded with offset `+00:00`.
    impl ToSql for DateTime<FixedOffset> {
        fn to_value(&self) -> Value {
            Value::TimestampTz(self.timestamp_micros())
        }
    }
    impl FromSql for DateTime<FixedOffset> {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "chrono::DateTime<FixedOffset>";
            let micros = required(row, idx, row.get_timestamp(idx), T)?;
            DateTime::from_timestamp_micros(micros)
                .map(|t| t.fixed_offset())
                .ok_or_else(|| out_of_range(row, idx, T, Value::TimestampTz(micros)))
        }
    }
}

#[cfg(feature = "time")]
mod time_impls {
    use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

    use super::*;

    /// Julian day number of 1970-01-01.
    const EPOCH_JULIAN_DAY: i32 = 2_440_588;

    column_type! {
        Date => Date;
        Time => Time;
        PrimitiveDateTime => Timestamp;
        OffsetDateTime => TimestampTz;
    }

    fn days(date: Date) -> i32 {
        // Julian days stay within ±366 million even with `large-dates`: no overflow.
        date.to_julian_day() - EPOCH_JULIAN_DAY
    }

    fn micros_of_day(time: Time) -> i64 {
        let (h, m, s, ns) = time.as_hms_nano();
        ((i64::from(h) * 60 + i64::from(m)) * 60 + i64::from(s)) * MICROS_PER_SEC
            + i64::from(ns / 1_000)
    }

    fn date_of(days: i32) -> Option<Date> {
        Date::from_julian_day(days.checked_add(EPOCH_JULIAN_DAY)?).ok()
    }

    fn time_of(micros: i64) -> Option<Time> {
        let (h, m, s, us) = time_of_day(micros)?;
        Time::from_hms_micro(
            u8::try_from(h).ok()?,
            u8::try_from(m).ok()?,
            u8::try_from(s).ok()?,
            us,
        )
        .ok()
    }

    impl ToSql for Date {
        fn to_value(&self) -> Value {
            Value::Date(days(*self))
        }
    }
    impl FromSql for Date {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "time::Date";
            let d = required(row, idx, row.get_date(idx), T)?;
            date_of(d).ok_or_else(|| out_of_range(row, idx, T, Value::Date(d)))
        }
    }

    impl ToSql for Time {
        fn to_value(&self) -> Value {
            Value::Time(micros_of_day(*self))
        }
    }
    impl FromSql for Time {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "time::Time";
            let t = required(row, idx, row.get_time(idx), T)?;
            time_of(t).ok_or_else(|| out_of_range(row, idx, T, Value::Time(t)))
        }
    }

    impl ToSql for PrimitiveDateTime {
        fn to_value(&self) -> Value {
            let days = i64::from(days(self.date()));
            let time = micros_of_day(self.time());
            match days
                .checked_mul(MICROS_PER_DAY)
                .and_then(|d| d.checked_add(time))
            {
                Some(micros) => Value::Timestamp(micros),
                // Only with time's `large-dates`: see the module docs.
                None => Value::Text(iso_text(days, time, "")),
            }
        }
    }
    impl FromSql for PrimitiveDateTime {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "time::PrimitiveDateTime";
            let micros = required(row, idx, row.get_timestamp(idx), T)?;
            let (days, time) = split_timestamp(micros);
            i32::try_from(days)
                .ok()
                .and_then(date_of)
                .zip(time_of(time))
                .map(|(d, t)| PrimitiveDateTime::new(d, t))
                .ok_or_else(|| out_of_range(row, idx, T, Value::Timestamp(micros)))
        }
    }

    /// Stored as the instant in UTC; decoded with offset `+00:00`.
    impl ToSql for OffsetDateTime {
        fn to_value(&self) -> Value {
            // Floor division: sub-microsecond digits are cut off the time of day, also
            // before 1970.
            let micros = self.unix_timestamp_nanos().div_euclid(1_000);
            match i64::try_from(micros) {
                Ok(micros) => Value::TimestampTz(micros),
                // Only with time's `large-dates`: see the module docs.
                Err(_) => {
                    let utc = self.to_offset(time::UtcOffset::UTC);
                    Value::Text(iso_text(
                        i64::from(days(utc.date())),
                        micros_of_day(utc.time()),
                        "+00:00",
                    ))
                }
            }
        }
    }
    impl FromSql for OffsetDateTime {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "time::OffsetDateTime";
            let micros = required(row, idx, row.get_timestamp(idx), T)?;
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000)
                .map_err(|_| out_of_range(row, idx, T, Value::TimestampTz(micros)))
        }
    }
}

#[cfg(feature = "uuid")]
mod uuid_impls {
    use uuid::Uuid;

    use super::*;

    column_type! {
        Uuid => Uuid;
    }

    impl ToSql for Uuid {
        fn to_value(&self) -> Value {
            Value::Uuid(*self.as_bytes())
        }
    }
    impl FromSql for Uuid {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            required(row, idx, row.get_uuid(idx), "uuid::Uuid").map(Uuid::from_bytes)
        }
    }
}

#[cfg(feature = "serde_json")]
mod json_impls {
    use super::*;

    column_type! {
        serde_json::Value => Json;
    }

    impl ToSql for serde_json::Value {
        fn to_value(&self) -> Value {
            Value::Json(self.to_string())
        }
    }
    impl FromSql for serde_json::Value {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "serde_json::Value";
            let text = required(row, idx, row.get_json(idx), T)?;
            serde_json::from_str(&text).map_err(|e| {
                DecodeError::new(row.name(idx), T, format!("text that is not JSON ({e})"))
                    .into_error()
            })
        }
    }
}

#[cfg(feature = "rust_decimal")]
mod decimal_impls {
    use rust_decimal::Decimal;

    use super::*;
    use crate::value::temporal::is_decimal_text;

    column_type! {
        Decimal => Decimal;
    }

    impl ToSql for Decimal {
        fn to_value(&self) -> Value {
            Value::Decimal(self.to_string())
        }
    }
    impl FromSql for Decimal {
        fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
            const T: &str = "rust_decimal::Decimal";
            let text = required(row, idx, row.get_decimal(idx), T)?;
            parse(&text).ok_or_else(|| {
                let why = if is_decimal_text(&text) {
                    "which is beyond what the type holds (a 96-bit integer with at most 28 digits after the point)"
                } else {
                    "which is not a decimal number"
                };
                DecodeError::new(row.name(idx), T, format!("{text}, {why}")).into_error()
            })
        }
    }

    /// The exact value of decimal text, never rounded. Zeros that only pad the scale
    /// (`1.5000…0` from a `NUMERIC(40, 30)`) are dropped when the text has more than 28 digits
    /// after the point.
    fn parse(text: &str) -> Option<Decimal> {
        if let Ok(d) = Decimal::from_str_exact(text) {
            return Some(d);
        }
        let (int, frac) = text.split_once('.')?;
        let frac = frac.trim_end_matches('0');
        if frac.is_empty() {
            Decimal::from_str_exact(int).ok()
        } else {
            Decimal::from_str_exact(&format!("{int}.{frac}")).ok()
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::super::{FromSql, RawRow, ToSql, Value};
    use crate::error::Result;

    /// A one-column row holding `Value`, read through the default getters (as SQLite's rows
    /// are).
    struct Row(Value);

    impl RawRow for Row {
        fn len(&self) -> usize {
            1
        }
        fn name(&self, _: usize) -> &str {
            "col"
        }
        fn get_i64(&self, _: usize) -> Result<Option<i64>> {
            unimplemented!("not read by these types")
        }
        fn get_f64(&self, _: usize) -> Result<Option<f64>> {
            unimplemented!("not read by these types")
        }
        fn get_bool(&self, _: usize) -> Result<Option<bool>> {
            unimplemented!("not read by these types")
        }
        fn get_text(&self, _: usize) -> Result<Option<String>> {
            unimplemented!("not read by these types")
        }
        fn get_blob(&self, _: usize) -> Result<Option<Vec<u8>>> {
            unimplemented!("not read by these types")
        }
        fn get_value(&self, _: usize) -> Result<Value> {
            Ok(self.0.clone())
        }
        fn is_null(&self, _: usize) -> Result<bool> {
            Ok(self.0 == Value::Null)
        }
    }

    fn decode<T: FromSql>(v: Value) -> Result<T> {
        T::from_sql(&Row(v), 0)
    }

    /// Encode, check the neutral value, decode it back.
    #[track_caller]
    fn round_trip<T: ToSql + FromSql + PartialEq + std::fmt::Debug>(x: T, neutral: Value) {
        assert_eq!(x.to_value(), neutral, "{x:?}");
        assert_eq!(decode::<T>(neutral).unwrap(), x);
    }

    #[cfg(any(
        feature = "chrono",
        feature = "time",
        feature = "serde_json",
        feature = "rust_decimal"
    ))]
    #[track_caller]
    fn decode_error<T: FromSql + std::fmt::Debug>(v: Value) -> String {
        match decode::<T>(v) {
            Err(e @ crate::Error::Decode(_)) => e.to_string(),
            other => panic!("expected a decode error, got {other:?}"),
        }
    }

    #[cfg(feature = "chrono")]
    mod chrono {
        use ::chrono::{
            DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
        };

        use super::*;

        fn date(y: i32, m: u32, d: u32) -> NaiveDate {
            NaiveDate::from_ymd_opt(y, m, d).unwrap()
        }
        fn time(h: u32, m: u32, s: u32, ns: u32) -> NaiveTime {
            NaiveTime::from_hms_nano_opt(h, m, s, ns).unwrap()
        }

        #[test]
        fn dates_count_days_from_the_epoch() {
            round_trip(date(1970, 1, 1), Value::Date(0));
            round_trip(date(1969, 12, 31), Value::Date(-1));
            round_trip(date(1, 1, 1), Value::Date(-719_162));
            round_trip(date(2024, 2, 29), Value::Date(19_782));
            round_trip(date(9999, 12, 31), Value::Date(2_932_896));
            round_trip(NaiveDate::MIN, NaiveDate::MIN.to_value());
            round_trip(NaiveDate::MAX, NaiveDate::MAX.to_value());
            assert_eq!(
                decode::<NaiveDate>(Value::Text("2000-02-29".into())).unwrap(),
                date(2000, 2, 29)
            );
        }

        #[test]
        fn times_keep_microseconds_and_truncate_nanoseconds() {
            round_trip(time(0, 0, 0, 0), Value::Time(0));
            round_trip(time(23, 59, 59, 999_999_000), Value::Time(86_399_999_999));
            assert_eq!(
                time(13, 45, 0, 123_456_789).to_value(),
                Value::Time(49_500_123_456)
            );
            assert_eq!(
                decode::<NaiveTime>(Value::Text("13:45:00.123456".into())).unwrap(),
                time(13, 45, 0, 123_456_000)
            );
        }

        #[test]
        fn timestamps_are_exact_over_chronos_whole_range() {
            let epoch = date(1970, 1, 1).and_hms_opt(0, 0, 0).unwrap();
            round_trip(epoch, Value::Timestamp(0));
            let before = date(1969, 12, 31).and_time(time(23, 59, 59, 999_999_999));
            assert_eq!(before.to_value(), Value::Timestamp(-1));
            let leap = date(2024, 2, 29).and_time(time(13, 45, 0, 250_000));
            round_trip(leap, Value::Timestamp(1_709_214_300_000_250));
            // The extremes fit an i64 of microseconds: nothing chrono holds is out of range.
            for extreme in [NaiveDateTime::MIN, NaiveDateTime::MAX] {
                let truncated = extreme
                    .with_nanosecond(extreme.nanosecond() / 1_000 * 1_000)
                    .unwrap();
                let v = extreme.to_value();
                assert!(
                    matches!(v, Value::Timestamp(t) if t.unsigned_abs() > 8_200_000_000_000_000_000)
                );
                assert_eq!(decode::<NaiveDateTime>(v).unwrap(), truncated);
            }
        }

        #[test]
        fn instants_are_utc_and_fixed_offsets_come_back_as_utc() {
            let utc = Utc.with_ymd_and_hms(2024, 2, 29, 13, 45, 0).unwrap();
            round_trip(utc, Value::TimestampTz(1_709_214_300_000_000));
            let plus_two = FixedOffset::east_opt(2 * 3600).unwrap();
            let local = plus_two.with_ymd_and_hms(2024, 2, 29, 15, 45, 0).unwrap();
            assert_eq!(local.to_value(), utc.to_value());
            let back: DateTime<FixedOffset> = decode(local.to_value()).unwrap();
            assert_eq!(back, local);
            assert_eq!(back.offset().local_minus_utc(), 0);
            assert_eq!(back.to_rfc3339(), "2024-02-29T13:45:00+00:00");
            let text: DateTime<Utc> =
                decode(Value::Text("2024-02-29T15:45:00+02:00".into())).unwrap();
            assert_eq!(text, utc);
        }

        #[test]
        fn values_beyond_chrono_are_decode_errors() {
            assert_eq!(
                decode_error::<NaiveDate>(Value::Date(i32::MAX - 1)),
                "cannot decode column \"col\" as chrono::NaiveDate: found 5881580-07-10, \
                 which is out of range"
            );
            // PostgreSQL's infinity (Value::DATE_INFINITY) is named as such.
            assert_eq!(
                decode_error::<NaiveDate>(Value::Date(Value::DATE_INFINITY)),
                "cannot decode column \"col\" as chrono::NaiveDate: found infinity, \
                 which is out of range"
            );
            assert!(
                decode_error::<NaiveDateTime>(Value::Timestamp(i64::MAX))
                    .ends_with("which is out of range")
            );
            assert_eq!(
                decode_error::<NaiveTime>(Value::Time(86_400_000_000)),
                "cannot decode column \"col\" as chrono::NaiveTime: found 24:00:00, \
                 which is out of range"
            );
            assert_eq!(
                decode_error::<NaiveDate>(Value::Null),
                "cannot decode column \"col\" as chrono::NaiveDate: found NULL"
            );
            assert_eq!(decode::<Option<NaiveDate>>(Value::Null).unwrap(), None);
            assert!(
                decode_error::<DateTime<Utc>>(Value::Text("noon".into())).starts_with(
                    "cannot decode column \"col\" as chrono::DateTime<Utc>: found text"
                )
            );
        }
    }

    #[cfg(feature = "time")]
    mod time {
        use ::time::macros::{date, datetime, time};
        use ::time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

        use super::*;

        #[test]
        fn dates_count_days_from_the_epoch() {
            round_trip(date!(1970 - 01 - 01), Value::Date(0));
            round_trip(date!(1969 - 12 - 31), Value::Date(-1));
            round_trip(date!(0001 - 01 - 01), Value::Date(-719_162));
            round_trip(date!(2024 - 02 - 29), Value::Date(19_782));
            round_trip(Date::MIN, Date::MIN.to_value());
            round_trip(Date::MAX, Date::MAX.to_value());
        }

        #[test]
        fn times_keep_microseconds_and_truncate_nanoseconds() {
            round_trip(Time::MIDNIGHT, Value::Time(0));
            round_trip(time!(23:59:59.999_999), Value::Time(86_399_999_999));
            assert_eq!(
                time!(13:45:00.123_456_789).to_value(),
                Value::Time(49_500_123_456)
            );
        }

        #[test]
        fn timestamps_and_instants_are_exact_to_the_microsecond() {
            round_trip(datetime!(1970-01-01 0:00), Value::Timestamp(0));
            round_trip(
                datetime!(2024-02-29 13:45:00.000_250),
                Value::Timestamp(1_709_214_300_000_250),
            );
            round_trip(datetime!(1969-12-31 23:59:59.999_999), Value::Timestamp(-1));
            round_trip(OffsetDateTime::UNIX_EPOCH, Value::TimestampTz(0));
            // Truncation cuts the time of day, towards the past, also before 1970.
            let just_before = OffsetDateTime::UNIX_EPOCH - Duration::nanoseconds(500);
            assert_eq!(just_before.to_value(), Value::TimestampTz(-1));
            for extreme in [PrimitiveDateTime::MIN, PrimitiveDateTime::MAX] {
                let v = extreme.to_value();
                assert!(matches!(v, Value::Timestamp(_)), "{v:?}");
                let back: PrimitiveDateTime = decode(v).unwrap();
                assert_eq!(back.date(), extreme.date());
            }
        }

        #[test]
        fn offsets_are_normalised_to_utc() {
            let local = datetime!(2024-02-29 15:45 +02:00);
            assert_eq!(local.to_value(), datetime!(2024-02-29 13:45 UTC).to_value());
            let back: OffsetDateTime = decode(local.to_value()).unwrap();
            assert_eq!(back, local);
            assert_eq!(back.offset(), UtcOffset::UTC);
        }

        #[test]
        fn values_beyond_time_are_decode_errors() {
            let year_10000 = Value::Date(2_932_897);
            assert_eq!(
                decode_error::<Date>(year_10000),
                "cannot decode column \"col\" as time::Date: found 10000-01-01, \
                 which is out of range"
            );
            assert!(
                decode_error::<OffsetDateTime>(Value::TimestampTz(i64::MIN))
                    .ends_with("which is out of range")
            );
            assert!(decode_error::<Time>(Value::Time(-1)).ends_with("which is out of range"));
        }
    }

    #[cfg(feature = "uuid")]
    #[test]
    fn uuids_are_their_bytes() {
        let u = uuid::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);
        round_trip(u, Value::Uuid(*u.as_bytes()));
        let hex: uuid::Uuid =
            decode(Value::Text("67e5504410b1426f9247bb680e5fe0c8".into())).unwrap();
        assert_eq!(hex, u);
    }

    #[cfg(feature = "serde_json")]
    #[test]
    fn json_is_its_text() {
        let doc = serde_json::json!({"name": "Zoë 🦀", "tags": ["a", {"b": null}], "n": -1.5});
        round_trip(doc.clone(), Value::Json(doc.to_string()));
        round_trip(serde_json::json!({}), Value::Json("{}".into()));
        assert_eq!(
            decode_error::<serde_json::Value>(Value::Text("{oops".into())),
            "cannot decode column \"col\" as serde_json::Value: found text that is not JSON \
             (key must be a string at line 1 column 2)"
        );
    }

    #[cfg(feature = "rust_decimal")]
    #[test]
    fn decimals_are_exact_or_an_error() {
        use rust_decimal::Decimal;
        let d = |s: &str| Decimal::from_str_exact(s).unwrap();
        round_trip(d("-0.0001"), Value::Decimal("-0.0001".into()));
        round_trip(
            d("1234567890.123456789012345678"),
            Value::Decimal("1234567890.123456789012345678".into()),
        );
        round_trip(
            d("0.0000000000000000000000000001"),
            Value::Decimal("0.0000000000000000000000000001".into()),
        );
        // Padding zeros past the 28th digit after the point lose nothing.
        let padded = format!("1.5{}", "0".repeat(30));
        assert_eq!(decode::<Decimal>(Value::Decimal(padded)).unwrap(), d("1.5"));
        assert_eq!(
            decode_error::<Decimal>(Value::Decimal(format!("0.{}1", "0".repeat(28)))),
            "cannot decode column \"col\" as rust_decimal::Decimal: \
             found 0.00000000000000000000000000001, which is beyond what the type holds \
             (a 96-bit integer with at most 28 digits after the point)"
        );
        assert_eq!(
            decode_error::<Decimal>(Value::Decimal("NaN".into())),
            "cannot decode column \"col\" as rust_decimal::Decimal: found NaN, \
             which is not a decimal number"
        );
    }
}
