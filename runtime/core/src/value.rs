//! Values crossing the boundary between Rust and the database.
//!
//! - [`Value`] is a bound parameter, owned and backend-neutral.
//! - [`ColumnType`] maps a Rust field type to its SQL type and nullability (used by the derive).
//! - [`ToSql`] turns a Rust value into a [`Value`]; [`FromSql`] decodes one column of a
//!   [`RawRow`] (a driver's current row, read by index) into a Rust value.

use std::fmt;

use crate::error::{DecodeError, Result};

#[cfg(any(
    feature = "chrono",
    feature = "time",
    feature = "uuid",
    feature = "serde_json",
    feature = "rust_decimal"
))]
mod ext;

/// `$m!(type, …)` for the column types of each enabled optional feature (see `value/ext.rs`):
/// the one list that every per-type impl elsewhere (`AsExpr`, `FromRow`, `Nullability`,
/// `NullableRow`) expands, so that a new type cannot be forgotten at one of them.
macro_rules! feature_types {
    ($m:ident) => {
        #[cfg(feature = "chrono")]
        $m!(
            ::chrono::NaiveDate,
            ::chrono::NaiveTime,
            ::chrono::NaiveDateTime,
            ::chrono::DateTime<::chrono::Utc>,
            ::chrono::DateTime<::chrono::FixedOffset>
        );
        #[cfg(feature = "time")]
        $m!(
            ::time::Date,
            ::time::Time,
            ::time::PrimitiveDateTime,
            ::time::OffsetDateTime
        );
        #[cfg(feature = "uuid")]
        $m!(::uuid::Uuid);
        #[cfg(feature = "serde_json")]
        $m!(::serde_json::Value);
        #[cfg(feature = "rust_decimal")]
        $m!(::rust_decimal::Decimal);
    };
}
pub(crate) use feature_types;
mod array;
mod sql_enum;
#[doc(hidden)]
pub mod temporal;

pub(crate) use array::array_types;
pub use array::{ArrayElement, ArrayExpression};
pub use sql_enum::{EnumType, SqlEnum, decode_enum};

/// A bound parameter or a dynamically decoded column value.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 16-bit integer (`SMALLINT`).
    I16(i16),
    /// A 32-bit integer (`INTEGER`).
    I32(i32),
    /// A 64-bit integer (`BIGINT`).
    I64(i64),
    /// A single-precision float (`REAL`).
    F32(f32),
    /// A double-precision float (`DOUBLE`). NaN is refused where it would be stored as
    /// something else (SQLite: NULL) or not at all (MySQL, which refuses infinities too).
    F64(f64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// A calendar date: days since 1970-01-01 (negative before).
    Date(i32),
    /// A time of day: microseconds since midnight.
    Time(i64),
    /// A date and time without a zone: microseconds since 1970-01-01 00:00:00.
    Timestamp(i64),
    /// An instant: microseconds since the Unix epoch, in UTC.
    TimestampTz(i64),
    /// A UUID, as its 16 bytes.
    Uuid([u8; 16]),
    /// A JSON document, as its text.
    Json(String),
    /// An exact decimal number, as its text (`-12.340`). SQLite keeps a NUMERIC value as a
    /// 64-bit integer or float, so it refuses a decimal of more than 15 significant digits
    /// that is not such an integer, rather than round it; bind it as text to keep it exact.
    Decimal(String),
    /// A PostgreSQL array (one dimension) of values of one kind.
    Array(Vec<Value>),
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::I16(v) => write!(f, "{v}"),
            Value::I32(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::F32(v) => write!(f, "{v:?}"),
            Value::F64(v) => write!(f, "{v:?}"),
            Value::Text(v) => write!(f, "{v:?}"),
            Value::Blob(v) => {
                f.write_str("x'")?;
                for b in v {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("'")
            }
            Value::Date(d) => write!(f, "{}", temporal::Date(*d)),
            Value::Time(t) => write!(f, "{}", temporal::Time(*t)),
            Value::Timestamp(t) => write!(f, "{}", temporal::Timestamp(*t)),
            Value::TimestampTz(t) => write!(f, "{}+00:00", temporal::Timestamp(*t)),
            Value::Uuid(u) => write!(f, "{}", temporal::Hyphenated(u)),
            Value::Json(j) => write!(f, "{j}"),
            Value::Decimal(d) => f.write_str(d),
            Value::Array(items) => f.debug_list().entries(items).finish(),
        }
    }
}

impl Value {
    /// PostgreSQL's `'infinity'::date`, as the day count of a [`Value::Date`]: a date after
    /// every other (decoded from PostgreSQL, sent back as `infinity`; the other backends and
    /// the typed date columns refuse it). `Debug` shows `infinity`.
    pub const DATE_INFINITY: i32 = i32::MAX;
    /// `'-infinity'::date`: a [`Value::Date`] before every other.
    pub const DATE_NEG_INFINITY: i32 = i32::MIN;
    /// `'infinity'::timestamp` (or `timestamptz`), as the microseconds of a
    /// [`Value::Timestamp`] / [`Value::TimestampTz`].
    pub const TIMESTAMP_INFINITY: i64 = i64::MAX;
    /// `'-infinity'::timestamp`.
    pub const TIMESTAMP_NEG_INFINITY: i64 = i64::MIN;

    /// The name of the value's kind, for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Bool(_) => "a boolean",
            Value::I16(_) | Value::I32(_) | Value::I64(_) => "an integer",
            Value::F32(_) | Value::F64(_) => "a float",
            Value::Text(_) => "text",
            Value::Blob(_) => "a blob",
            Value::Date(_) => "a date",
            Value::Time(_) => "a time",
            Value::Timestamp(_) => "a timestamp",
            Value::TimestampTz(_) => "a timestamp with time zone",
            Value::Uuid(_) => "a UUID",
            Value::Json(_) => "JSON",
            Value::Decimal(_) => "a decimal",
            Value::Array(_) => "an array",
        }
    }
}

/// The SQL type of a column, before a dialect names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SqlType {
    /// `SMALLINT` (`i16`).
    SmallInt,
    /// `INTEGER` (`i32`).
    Integer,
    /// `BIGINT` (`i64`).
    BigInt,
    /// `REAL` (`f32`).
    Real,
    /// `DOUBLE` (`f64`).
    Double,
    /// `BOOLEAN` (`bool`).
    Boolean,
    /// `TEXT`, or `VARCHAR(n)` with a `max_length` (`String`).
    Text,
    /// `BLOB` / `BYTEA` (`Vec<u8>`).
    Blob,
    /// `DATE`.
    Date,
    /// `TIME`: a time of day, microsecond precision.
    Time,
    /// `TIMESTAMP` / `DATETIME`: date and time without a zone.
    Timestamp,
    /// `TIMESTAMP WITH TIME ZONE` (stored as UTC where the database has no zones).
    TimestampTz,
    /// `UUID` (`CHAR(32)` where the database has no UUID type).
    Uuid,
    /// `JSON`.
    Json,
    /// `NUMERIC`: an exact decimal.
    Decimal,
    /// A PostgreSQL array of the element type, `BIGINT[]` (`Vec<i64>`); other databases have
    /// none ([`crate::Error::Unsupported`] in their DDL).
    Array(&'static SqlType),
}

impl SqlType {
    /// True for the integer types.
    pub const fn is_integer(self) -> bool {
        matches!(self, SqlType::SmallInt | SqlType::Integer | SqlType::BigInt)
    }
    /// True for [`SqlType::Text`] (strings and text-stored enums).
    pub const fn is_text(self) -> bool {
        matches!(self, SqlType::Text)
    }
}

/// A Rust type that can be the type of a column.
///
/// `Option<T>` is the nullable form of `T`; [`ColumnType::Base`] strips it, so that a nullable
/// and a non-null column of the same base type can be compared.
///
/// # Types from optional crates
///
/// Each behind the cargo feature of its crate's name (on `quarry` and `quarry-runtime`):
///
/// | feature | Rust type | SQL type |
/// |---|---|---|
/// | `chrono` | `NaiveDate`, `NaiveTime`, `NaiveDateTime` | [`SqlType::Date`], [`SqlType::Time`], [`SqlType::Timestamp`] |
/// | `chrono` | `DateTime<Utc>`, `DateTime<FixedOffset>` | [`SqlType::TimestampTz`] |
/// | `time` | `Date`, `Time`, `PrimitiveDateTime` | [`SqlType::Date`], [`SqlType::Time`], [`SqlType::Timestamp`] |
/// | `time` | `OffsetDateTime` | [`SqlType::TimestampTz`] |
/// | `uuid` | `Uuid` | [`SqlType::Uuid`] |
/// | `serde_json` | `serde_json::Value` | [`SqlType::Json`] |
/// | `rust_decimal` | `Decimal` | [`SqlType::Decimal`] |
///
/// Times are exact to the microsecond: nanoseconds below it are truncated when a value is
/// bound. Instants are stored in UTC, so a `DateTime<FixedOffset>` or an `OffsetDateTime`
/// comes back with offset `+00:00` (the same instant). A database value the Rust type cannot
/// hold (a year past 9999 for the time crate, a decimal with more than 28 digits after the
/// point) is a [`crate::Error::Decode`] naming the column, never a rounded or clamped value.
/// On SQLite, dates and times are ISO 8601 text and UUIDs 32 hex digits; decimals go through
/// SQLite's `NUMERIC` affinity, which keeps 15 significant digits of a fraction.
///
/// ```
/// # #[cfg(all(feature = "chrono", feature = "uuid", feature = "rust_decimal"))] {
/// use chrono::NaiveDate;
/// use quarry::prelude::*;
/// use rust_decimal::Decimal;
/// use uuid::Uuid;
///
/// static META: MetaData = MetaData::new();
///
/// #[derive(Table, Debug, PartialEq)]
/// #[table(name = "invoices", metadata = META)]
/// struct Invoice {
///     #[column(primary_key)]
///     id: Uuid,
///     due: NaiveDate,
///     amount: Decimal,
///     paid: Option<NaiveDate>,
/// }
///
/// let engine = create_engine("sqlite://")?;
/// META.create_all(&engine)?;
/// let mut conn = engine.connect()?;
/// let invoice = Invoice {
///     id: Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8),
///     due: NaiveDate::from_ymd_opt(2024, 2, 29).expect("a leap day"),
///     amount: Decimal::new(-1999, 2),
///     paid: None,
/// };
/// conn.execute(Invoice::insert(&invoice))?;
/// let due = invoice.due;
/// let back: Invoice = conn.execute(select!(Invoice WHERE Invoice::due == due))?.one()?;
/// assert_eq!(back, invoice);
/// # }
/// # Ok::<(), quarry::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the type of a column",
    label = "unsupported column type",
    note = "supported: i16, i32, i64, f32, f64, bool, String, Vec<u8>, #[derive(SqlEnum)] enums, \
            PostgreSQL arrays (Vec<i16>, Vec<i32>, Vec<i64>, Vec<f32>, Vec<f64>, Vec<bool>, \
            Vec<String>), and Option of each",
    note = "with cargo features: chrono (NaiveDate, NaiveTime, NaiveDateTime, DateTime<Utc>, \
            DateTime<FixedOffset>), time (Date, Time, PrimitiveDateTime, OffsetDateTime), \
            uuid (Uuid), serde_json (Value), rust_decimal (Decimal)"
)]
pub trait ColumnType: ToSql + FromSql {
    /// The SQL type the column gets in DDL.
    const SQL_TYPE: SqlType;
    /// True for `Option<T>`.
    const NULLABLE: bool;
    /// The type with any `Option` removed.
    type Base: ColumnType;
    /// The enum a `#[derive(SqlEnum)]` type stores (its labels and storage); `None` for
    /// every other type.
    const ENUM: Option<&'static EnumType> = None;
}

/// Turns a Rust value into a bound parameter.
pub trait ToSql {
    /// The value as a parameter.
    fn to_value(&self) -> Value;
}

/// Decodes a Rust value from one column of a row.
pub trait FromSql: Sized {
    /// Decode column `idx` of `row`.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] naming the column when the value does not fit the type.
    fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self>;

    /// Decode column `idx` of `row`, `None` for `NULL` (what `Option<Self>` decodes). The
    /// default asks [`RawRow::is_null`] first; the plain types read their getter once, which
    /// answers `None` for `NULL` itself (half the driver calls of a nullable column).
    ///
    /// # Errors
    /// As [`FromSql::from_sql`].
    fn from_sql_nullable(row: &dyn RawRow, idx: usize) -> Result<Option<Self>> {
        if row.is_null(idx)? {
            Ok(None)
        } else {
            Self::from_sql(row, idx).map(Some)
        }
    }
}

/// A driver's current row, read by column index.
///
/// Drivers implement the typed getters by reading their native row directly, so decoding a row
/// into a struct goes straight from the driver's buffers into the fields. Each getter returns
/// `Ok(None)` for `NULL`.
pub trait RawRow {
    /// Number of columns.
    fn len(&self) -> usize;
    /// True when the row has no columns.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Name of column `idx`.
    fn name(&self, idx: usize) -> &str;
    /// Column `idx` as an integer.
    fn get_i64(&self, idx: usize) -> Result<Option<i64>>;
    /// Column `idx` as a float.
    fn get_f64(&self, idx: usize) -> Result<Option<f64>>;
    /// Column `idx` as a boolean.
    fn get_bool(&self, idx: usize) -> Result<Option<bool>>;
    /// Column `idx` as text.
    fn get_text(&self, idx: usize) -> Result<Option<String>>;
    /// Column `idx` as bytes.
    fn get_blob(&self, idx: usize) -> Result<Option<Vec<u8>>>;
    /// Column `idx` as whatever the database sent.
    fn get_value(&self, idx: usize) -> Result<Value>;
    /// True when column `idx` is `NULL`.
    fn is_null(&self, idx: usize) -> Result<bool>;
    /// Column `idx` as a date: days since 1970-01-01. The default reads [`RawRow::get_value`]
    /// and accepts a date value or ISO 8601 text (`2024-02-29`).
    fn get_date(&self, idx: usize) -> Result<Option<i32>> {
        temporal::date_from(self, idx)
    }
    /// Column `idx` as a time of day: microseconds since midnight (default: a time value or
    /// ISO text `13:45:00.25`).
    fn get_time(&self, idx: usize) -> Result<Option<i64>> {
        temporal::time_from(self, idx)
    }
    /// Column `idx` as a timestamp: microseconds since 1970-01-01 00:00:00 (default: a
    /// timestamp value or ISO text `2024-02-29 13:45:00`, a zone offset converting to UTC).
    fn get_timestamp(&self, idx: usize) -> Result<Option<i64>> {
        temporal::timestamp_from(self, idx)
    }
    /// Column `idx` as UUID bytes (default: a UUID value, 16 bytes, or text in hex with or
    /// without hyphens).
    fn get_uuid(&self, idx: usize) -> Result<Option<[u8; 16]>> {
        temporal::uuid_from(self, idx)
    }
    /// Column `idx` as decimal text (default: a decimal, integer or text value).
    fn get_decimal(&self, idx: usize) -> Result<Option<String>> {
        temporal::decimal_from(self, idx)
    }
    /// Column `idx` as the elements of an array (default: an array value, which only the
    /// PostgreSQL driver produces).
    fn get_array(&self, idx: usize) -> Result<Option<Vec<Value>>> {
        match self.get_value(idx)? {
            Value::Null => Ok(None),
            Value::Array(items) => Ok(Some(items)),
            other => {
                Err(DecodeError::new(self.name(idx), "an array", other.kind_name()).into_error())
            }
        }
    }
    /// Column `idx` as JSON text (default: a JSON or text value, or a number as its text).
    fn get_json(&self, idx: usize) -> Result<Option<String>> {
        temporal::json_from(self, idx)
    }
}

/// The error for a `NULL` found where the Rust type has no `None`.
pub(crate) fn unexpected_null(
    row: &dyn RawRow,
    idx: usize,
    expected: &'static str,
) -> crate::Error {
    DecodeError::new(row.name(idx), expected, "NULL").into_error()
}

/// A driver's decode error restated with the exact Rust type asked for (drivers only know the
/// kind of value they were asked to read).
fn expecting<T>(r: Result<T>, expected: &'static str) -> Result<T> {
    r.map_err(|e| match e {
        crate::Error::Decode(mut d) => {
            d.expected = expected;
            crate::Error::Decode(d)
        }
        other => other,
    })
}

fn decode_int<T: TryFrom<i64>>(row: &dyn RawRow, idx: usize, expected: &'static str) -> Result<T> {
    decode_int_nullable(row, idx, expected)?.ok_or_else(|| unexpected_null(row, idx, expected))
}

fn decode_int_nullable<T: TryFrom<i64>>(
    row: &dyn RawRow,
    idx: usize,
    expected: &'static str,
) -> Result<Option<T>> {
    let Some(v) = expecting(row.get_i64(idx), expected)? else {
        return Ok(None);
    };
    T::try_from(v).map(Some).map_err(|_| {
        DecodeError::new(
            row.name(idx),
            expected,
            format!("{v}, which is out of range"),
        )
        .into_error()
    })
}

macro_rules! int_types {
    ($($t:ty => $variant:ident, $sql:ident;)*) => {$(
        impl ToSql for $t {
            fn to_value(&self) -> Value { Value::$variant(*self) }
        }
        impl FromSql for $t {
            fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
                decode_int(row, idx, stringify!($t))
            }
            fn from_sql_nullable(row: &dyn RawRow, idx: usize) -> Result<Option<Self>> {
                decode_int_nullable(row, idx, stringify!($t))
            }
        }
        impl ColumnType for $t {
            const SQL_TYPE: SqlType = SqlType::$sql;
            const NULLABLE: bool = false;
            type Base = $t;
        }
    )*};
}

int_types! {
    i16 => I16, SmallInt;
    i32 => I32, Integer;
    i64 => I64, BigInt;
}

impl ToSql for f32 {
    fn to_value(&self) -> Value {
        Value::F32(*self)
    }
}
impl FromSql for f32 {
    fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
        let v =
            expecting(row.get_f64(idx), "f32")?.ok_or_else(|| unexpected_null(row, idx, "f32"))?;
        // Narrowing is the documented meaning of an f32 column: REAL holds single precision.
        Ok(v as f32)
    }
    fn from_sql_nullable(row: &dyn RawRow, idx: usize) -> Result<Option<Self>> {
        Ok(expecting(row.get_f64(idx), "f32")?.map(|v| v as f32))
    }
}
impl ColumnType for f32 {
    const SQL_TYPE: SqlType = SqlType::Real;
    const NULLABLE: bool = false;
    type Base = f32;
}

impl ToSql for f64 {
    fn to_value(&self) -> Value {
        Value::F64(*self)
    }
}
impl FromSql for f64 {
    fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
        expecting(row.get_f64(idx), "f64")?.ok_or_else(|| unexpected_null(row, idx, "f64"))
    }
    fn from_sql_nullable(row: &dyn RawRow, idx: usize) -> Result<Option<Self>> {
        expecting(row.get_f64(idx), "f64")
    }
}
impl ColumnType for f64 {
    const SQL_TYPE: SqlType = SqlType::Double;
    const NULLABLE: bool = false;
    type Base = f64;
}

impl ToSql for bool {
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
}
impl FromSql for bool {
    fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
        expecting(row.get_bool(idx), "bool")?.ok_or_else(|| unexpected_null(row, idx, "bool"))
    }
    fn from_sql_nullable(row: &dyn RawRow, idx: usize) -> Result<Option<Self>> {
        expecting(row.get_bool(idx), "bool")
    }
}
impl ColumnType for bool {
    const SQL_TYPE: SqlType = SqlType::Boolean;
    const NULLABLE: bool = false;
    type Base = bool;
}

impl ToSql for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToSql for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl FromSql for String {
    fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
        expecting(row.get_text(idx), "String")?.ok_or_else(|| unexpected_null(row, idx, "String"))
    }
    fn from_sql_nullable(row: &dyn RawRow, idx: usize) -> Result<Option<Self>> {
        expecting(row.get_text(idx), "String")
    }
}
impl ColumnType for String {
    const SQL_TYPE: SqlType = SqlType::Text;
    const NULLABLE: bool = false;
    type Base = String;
}

impl ToSql for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl ToSql for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl FromSql for Vec<u8> {
    fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
        expecting(row.get_blob(idx), "Vec<u8>")?.ok_or_else(|| unexpected_null(row, idx, "Vec<u8>"))
    }
    fn from_sql_nullable(row: &dyn RawRow, idx: usize) -> Result<Option<Self>> {
        expecting(row.get_blob(idx), "Vec<u8>")
    }
}
impl ColumnType for Vec<u8> {
    const SQL_TYPE: SqlType = SqlType::Blob;
    const NULLABLE: bool = false;
    type Base = Vec<u8>;
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}
impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
        T::from_sql_nullable(row, idx)
    }
}

/// Only one level of `Option`: `Option<Option<T>>` is not a column type.
pub trait NonNullColumnType: ColumnType {}
impl NonNullColumnType for i16 {}
impl NonNullColumnType for i32 {}
impl NonNullColumnType for i64 {}
impl NonNullColumnType for f32 {}
impl NonNullColumnType for f64 {}
impl NonNullColumnType for bool {}
impl NonNullColumnType for String {}
impl NonNullColumnType for Vec<u8> {}

impl<T: NonNullColumnType> ColumnType for Option<T> {
    const SQL_TYPE: SqlType = T::SQL_TYPE;
    const NULLABLE: bool = true;
    type Base = T;
    const ENUM: Option<&'static EnumType> = T::ENUM;
}

impl ToSql for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

impl FromSql for Value {
    fn from_sql(row: &dyn RawRow, idx: usize) -> Result<Self> {
        row.get_value(idx)
    }
}
