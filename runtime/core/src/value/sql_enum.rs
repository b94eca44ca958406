//! Rust enums as column types: [`SqlEnum`], what `#[derive(SqlEnum)]` implements, and
//! [`EnumType`], the labels and storage a column of the enum gets in DDL.

use std::fmt;

use super::{RawRow, unexpected_null};
use crate::error::{DecodeError, Result};

/// The SQL side of a Rust enum without payloads: its labels in declaration order and how it is
/// stored. Built by `#[derive(SqlEnum)]` in a `static`.
///
/// Stored as text (`VARCHAR(n)`, `n` the longest label unless the column gives `max_length`),
/// as SQLAlchemy's `Enum(native_enum=False)`. With `#[sql_enum(postgres_type = "name")]`,
/// PostgreSQL gets a type of its own, `CREATE TYPE name AS ENUM (…)`, which `create_all`
/// creates before the tables using it and `drop_all` drops after them; the other databases
/// keep the text column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumType {
    rust_name: &'static str,
    labels: &'static [&'static str],
    postgres_type: Option<&'static str>,
}

impl EnumType {
    /// The enum `rust_name` whose variants are stored as `labels`, in declaration order.
    pub const fn new(rust_name: &'static str, labels: &'static [&'static str]) -> Self {
        EnumType {
            rust_name,
            labels,
            postgres_type: None,
        }
    }
    /// A native PostgreSQL enum type named `name`.
    pub const fn postgres_type(mut self, name: &'static str) -> Self {
        self.postgres_type = Some(name);
        self
    }
    /// The Rust enum's name.
    pub fn rust_name(&self) -> &'static str {
        self.rust_name
    }
    /// The stored labels, in declaration order.
    pub fn labels(&self) -> &'static [&'static str] {
        self.labels
    }
    /// The PostgreSQL type's name, when the enum has one.
    pub fn native_name(&self) -> Option<&'static str> {
        self.postgres_type
    }
    /// The length of the longest label, in characters: the `VARCHAR` length of a text column.
    pub fn max_label_len(&self) -> u32 {
        self.labels
            .iter()
            .map(|l| u32::try_from(l.chars().count()).unwrap_or(u32::MAX))
            .max()
            .unwrap_or(1)
            .max(1)
    }
}

/// A Rust enum without payloads stored as one of its labels: `#[derive(SqlEnum)]`.
///
/// ```
/// use quarry::prelude::*;
///
/// static META: MetaData = MetaData::new();
///
/// #[derive(SqlEnum, Debug, Clone, Copy, PartialEq)]
/// #[sql_enum(rename_all = "snake_case")]
/// enum LoanStatus {
///     Active,
///     Returned,
///     LostForGood,
/// }
///
/// #[derive(Table, Debug, PartialEq)]
/// #[table(metadata = META)]
/// struct Loan {
///     #[column(primary_key)]
///     id: i64,
///     status: LoanStatus,
///     previous: Option<LoanStatus>,
/// }
///
/// assert_eq!(LoanStatus::LostForGood.label(), "lost_for_good");
/// let engine = create_engine("sqlite://")?;
/// META.create_all(&engine)?;
/// let mut conn = engine.connect()?;
/// conn.execute(insert!(Loan { status: LoanStatus::Active, previous: None }))?;
/// let active: Vec<Loan> = conn
///     .execute(select!(Loan WHERE Loan::status == LoanStatus::Active))?
///     .all()?;
/// assert_eq!(active.len(), 1);
/// # Ok::<(), quarry::Error>(())
/// ```
pub trait SqlEnum: Copy + Sized + 'static {
    /// The labels and storage of the enum.
    const TYPE: &'static EnumType;
    /// The label stored for this variant.
    fn label(&self) -> &'static str;
    /// The variant stored as `label`, if any.
    fn from_label(label: &str) -> Option<Self>;
}

/// Decode column `idx` as the enum `E`; a label of no variant is a decode error naming the
/// column and listing the labels.
#[doc(hidden)]
pub fn decode_enum<E: SqlEnum>(row: &dyn RawRow, idx: usize) -> Result<E> {
    let name = E::TYPE.rust_name;
    let text = match row.get_text(idx) {
        Ok(Some(text)) => text,
        Ok(None) => return Err(unexpected_null(row, idx, name)),
        Err(crate::Error::Decode(mut d)) => {
            d.expected = name;
            return Err(crate::Error::Decode(d));
        }
        Err(e) => return Err(e),
    };
    E::from_label(&text).ok_or_else(|| {
        DecodeError::new(
            row.name(idx),
            name,
            format!(
                "{text:?}, which is none of its labels ({})",
                Labels(E::TYPE.labels)
            ),
        )
        .into_error()
    })
}

struct Labels(&'static [&'static str]);

impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{l:?}")?;
        }
        Ok(())
    }
}
