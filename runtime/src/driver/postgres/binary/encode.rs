//! Parameters: a [`Value`] encoded in the binary format of the type the server inferred for its
//! placeholder, so that an `i64` binds to an `INTEGER` column and a decimal to `NUMERIC`; a value
//! the type cannot hold is refused with a message naming the parameter.

use bytes::{BufMut, BytesMut};

use super::types::{IsNull, Kind, ToSql, Type, to_sql_checked};
use super::{BoxError, PG_EPOCH_DAYS, PG_EPOCH_MICROS, is_text, numeric};
use crate::value::{Value, temporal};

/// A [`Value`] bound to placeholder `$position`, encoded for the type the server inferred.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param<'a> {
    value: &'a Value,
    position: usize,
}

impl<'a> Param<'a> {
    /// `value` bound to placeholder `$position` (counted from 1).
    pub(crate) const fn new(value: &'a Value, position: usize) -> Self {
        Param { value, position }
    }
}

impl Param<'_> {
    fn refuse(&self, ty: &Type) -> BoxError {
        format!(
            "cannot bind {} to parameter ${}, which has type {}",
            self.value.kind_name(),
            self.position,
            ty.name()
        )
        .into()
    }

    fn int(&self, v: i64, ty: &Type, out: &mut BytesMut) -> std::result::Result<(), BoxError> {
        let range = |bits: &str| -> BoxError {
            format!(
                "the integer {v} is out of range for parameter ${} of type {bits}",
                self.position
            )
            .into()
        };
        match *ty {
            Type::INT2 => out.put_i16(i16::try_from(v).map_err(|_| range("int2"))?),
            Type::INT4 => out.put_i32(i32::try_from(v).map_err(|_| range("int4"))?),
            Type::INT8 => out.put_i64(v),
            Type::OID => out.put_u32(u32::try_from(v).map_err(|_| range("oid"))?),
            Type::FLOAT4 => out.put_f32(v as f32),
            Type::FLOAT8 => out.put_f64(v as f64),
            Type::NUMERIC => numeric::encode(&v.to_string(), out)?,
            _ if is_text(ty) => out.put_slice(v.to_string().as_bytes()),
            _ => return Err(self.refuse(ty)),
        }
        Ok(())
    }
}

impl Param<'_> {
    /// A one-dimensional array in the binary format: dimensions, a has-NULL flag, the
    /// element type's OID, the length and lower bound (1), then each element (its length,
    /// `-1` for `NULL`, and its bytes in the element type's format).
    fn array(
        &self,
        items: &[Value],
        element: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<(), BoxError> {
        let len = i32::try_from(items.len())
            .map_err(|_| format!("the array for parameter ${} is too long", self.position))?;
        out.put_i32(1);
        out.put_i32(i32::from(items.contains(&Value::Null)));
        out.put_u32(element.oid());
        out.put_i32(len);
        out.put_i32(1);
        for item in items {
            let at = out.len();
            out.put_i32(0);
            match Param::new(item, self.position).to_sql(element, out)? {
                IsNull::Yes => out[at..at + 4].copy_from_slice(&(-1i32).to_be_bytes()),
                IsNull::No => {
                    let size = i32::try_from(out.len() - at - 4).map_err(|_| {
                        format!("an element of parameter ${} is too long", self.position)
                    })?;
                    out[at..at + 4].copy_from_slice(&size.to_be_bytes());
                }
            }
        }
        Ok(())
    }
}

impl Param<'_> {
    /// An array as PostgreSQL's text literal, `{"a","b\\"c",NULL}`, for a parameter declared
    /// `unknown` (through a transaction pooler, where no server-side statement says its type):
    /// the server reads it as the array type the context asks for, as it would a quoted
    /// literal — `text[]`, `integer[]`, an enum's array, an empty `'{}'`. Every element is
    /// quoted, `"` and `\` escaped; nested arrays nest.
    fn array_literal(
        &self,
        items: &[Value],
        out: &mut BytesMut,
    ) -> std::result::Result<(), BoxError> {
        out.put_u8(b'{');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.put_u8(b',');
            }
            match item {
                Value::Null => out.put_slice(b"NULL"),
                Value::Array(inner) => self.array_literal(inner, out)?,
                _ => {
                    let mut text = BytesMut::new();
                    Param::new(item, self.position).to_sql(&Type::TEXT, &mut text)?;
                    out.put_u8(b'"');
                    for &b in text.iter() {
                        if b == b'"' || b == b'\\' {
                            out.put_u8(b'\\');
                        }
                        out.put_u8(b);
                    }
                    out.put_u8(b'"');
                }
            }
        }
        out.put_u8(b'}');
        Ok(())
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        match self.value {
            Value::Null => return Ok(IsNull::Yes),
            Value::Bool(b) => match *ty {
                Type::BOOL => out.put_u8(u8::from(*b)),
                _ if is_text(ty) => out.put_slice(if *b { b"true" } else { b"false" }),
                _ => return Err(self.refuse(ty)),
            },
            Value::I16(v) => self.int(i64::from(*v), ty, out)?,
            Value::I32(v) => self.int(i64::from(*v), ty, out)?,
            Value::I64(v) => self.int(*v, ty, out)?,
            Value::F32(v) => match *ty {
                Type::FLOAT4 => out.put_f32(*v),
                Type::FLOAT8 => out.put_f64(f64::from(*v)),
                Type::NUMERIC => numeric::encode(&v.to_string(), out)?,
                _ if is_text(ty) => out.put_slice(v.to_string().as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::F64(v) => match *ty {
                // Narrowing to the column's single precision is what REAL means.
                Type::FLOAT4 => out.put_f32(*v as f32),
                Type::FLOAT8 => out.put_f64(*v),
                Type::NUMERIC => numeric::encode(&v.to_string(), out)?,
                _ if is_text(ty) => out.put_slice(v.to_string().as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::Text(s) => match *ty {
                Type::JSON | Type::XML => out.put_slice(s.as_bytes()),
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(s.as_bytes());
                }
                Type::BYTEA => out.put_slice(s.as_bytes()),
                _ if is_text(ty) || matches!(ty.kind(), Kind::Enum(_)) => {
                    out.put_slice(s.as_bytes());
                }
                _ => return Err(self.refuse(ty)),
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => out.put_slice(b),
                _ => return Err(self.refuse(ty)),
            },
            Value::Json(s) => match *ty {
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(s.as_bytes());
                }
                Type::JSON => out.put_slice(s.as_bytes()),
                _ if is_text(ty) => out.put_slice(s.as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::Decimal(s) => match *ty {
                Type::NUMERIC => numeric::encode(s, out)?,
                Type::FLOAT8 => out.put_f64(s.parse().map_err(|_| self.refuse(ty))?),
                _ if is_text(ty) => out.put_slice(s.as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            // Infinities travel as PostgreSQL's own: the extreme values.
            Value::Date(d @ (Value::DATE_INFINITY | Value::DATE_NEG_INFINITY)) => match *ty {
                Type::DATE => out.put_i32(*d),
                Type::TIMESTAMP | Type::TIMESTAMPTZ if *d > 0 => out.put_i64(i64::MAX),
                Type::TIMESTAMP | Type::TIMESTAMPTZ => out.put_i64(i64::MIN),
                _ if is_text(ty) => out.put_slice(temporal::Date(*d).to_string().as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::Timestamp(t @ (Value::TIMESTAMP_INFINITY | Value::TIMESTAMP_NEG_INFINITY))
            | Value::TimestampTz(t @ (Value::TIMESTAMP_INFINITY | Value::TIMESTAMP_NEG_INFINITY)) => {
                match *ty {
                    Type::TIMESTAMP | Type::TIMESTAMPTZ => out.put_i64(*t),
                    _ if is_text(ty) => {
                        out.put_slice(temporal::Timestamp(*t).to_string().as_bytes());
                    }
                    _ => return Err(self.refuse(ty)),
                }
            }
            Value::Date(d) => match *ty {
                Type::DATE => out.put_i32(d - PG_EPOCH_DAYS as i32),
                Type::TIMESTAMP | Type::TIMESTAMPTZ => {
                    out.put_i64(temporal::join_timestamp(i64::from(*d), 0) - PG_EPOCH_MICROS);
                }
                _ if is_text(ty) => out.put_slice(temporal::Date(*d).to_string().as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::Time(t) => match *ty {
                Type::TIME => out.put_i64(*t),
                _ if is_text(ty) => out.put_slice(temporal::Time(*t).to_string().as_bytes()),
                _ => return Err(self.refuse(ty)),
            },
            Value::Timestamp(t) | Value::TimestampTz(t) => match *ty {
                Type::TIMESTAMP | Type::TIMESTAMPTZ => out.put_i64(t - PG_EPOCH_MICROS),
                _ if is_text(ty) => {
                    out.put_slice(format!("{:?}", self.value).as_bytes());
                }
                _ => return Err(self.refuse(ty)),
            },
            Value::Uuid(u) => match *ty {
                Type::UUID => out.put_slice(u),
                _ if is_text(ty) => {
                    out.put_slice(temporal::Hyphenated(u).to_string().as_bytes());
                }
                _ => return Err(self.refuse(ty)),
            },
            Value::Array(items) => match ty.kind() {
                Kind::Array(element) => self.array(items, element, out)?,
                _ if *ty == Type::UNKNOWN => self.array_literal(items, out)?,
                _ => return Err(self.refuse(ty)),
            },
            _ => return Err(self.refuse(ty)),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        // Every type is attempted; `to_sql` refuses with a message naming the parameter.
        true
    }

    fn encode_format(&self, ty: &Type) -> super::types::Format {
        // A parameter declared `unknown` (no server-side statement inferred its type: a
        // transaction pooler) is sent as text, which the server parses as the type it infers.
        if *ty == Type::UNKNOWN {
            super::types::Format::Text
        } else {
            super::types::Format::Binary
        }
    }

    to_sql_checked!();
}
