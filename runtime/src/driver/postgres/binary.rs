//! PostgreSQL's binary format for Quarry's values: a [`Param`] encodes a [`Value`] for the type
//! the server inferred for its placeholder (`encode.rs`), a [`PgRow`] decodes a result row's
//! columns by index straight from their bytes (`decode.rs`), and `numeric.rs` converts NUMERIC
//! both ways.
//!
//! Self-contained on purpose: this module and its children use `postgres-types` (as
//! [`types`], the one line naming where it comes from), `bytes`, and Quarry's values and errors
//! — never the `postgres` client or its row — so that a driver on `tokio-postgres`, whose types
//! are the same crate, can share it. A client library's row reaches the decoder through
//! [`BinaryRow`].
//!
//! [`Value`]: crate::value::Value

// `postgres` re-exports `postgres-types` here; the runtime has no direct dependency on it.
use postgres::types;
use types::Type;

mod decode;
mod encode;
mod numeric;
#[cfg(test)]
mod tests;

pub(crate) use decode::{BinaryRow, PgRow};
pub(crate) use encode::Param;

type BoxError = Box<dyn std::error::Error + Sync + Send>;

/// Days and microseconds between 1970-01-01 (ours) and 2000-01-01 (PostgreSQL's epoch).
const PG_EPOCH_DAYS: i64 = 10_957;
const PG_EPOCH_MICROS: i64 = PG_EPOCH_DAYS * 86_400_000_000;

/// Types whose binary format is the text itself.
fn is_text(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    ) || ty.name() == "citext"
}
