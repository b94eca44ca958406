//! PostgreSQL's binary format, shared with the blocking driver: its
//! `runtime/src/driver/postgres/binary/` children are included as they are (written free of
//! the client crate for this); the few constants of its `binary.rs` are repeated here, since a
//! `#[path]` file's own `mod`s would be looked for beside it, not in `binary/`.

use postgres::types;
use types::Type;

#[path = "../../../../src/driver/postgres/binary/decode.rs"]
mod decode;
#[path = "../../../../src/driver/postgres/binary/encode.rs"]
mod encode;
#[path = "../../../../src/driver/postgres/binary/numeric.rs"]
mod numeric;

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
