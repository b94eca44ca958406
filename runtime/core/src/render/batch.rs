//! A multi-row `INSERT` (`insert_many`) with more bound parameters than the backend takes,
//! split into statements under the limit (SQLAlchemy's "insertmanyvalues" batching).
//!
//! The rows are cut into batches of as many rows as fit; the batches of full size share one
//! text (kept across calls by `many.rs`), each with its rows' values as parameters, and the
//! last, shorter batch has its own. The connection runs them in one transaction.

use super::many;
use crate::dialect::Dialect;
use crate::error::Result;
use crate::sql::{Compiled, InsertStmt, SqlExpr};
use crate::value::Value;

/// Statements up to this many bytes need not ask for a size limit (MySQL's smallest
/// `max_allowed_packet`).
const SMALL: usize = 1024;

/// `stmt` as statements of at most `max_params` bound parameters each — and, where
/// `max_bytes` gives a size, of about at most that many bytes — or `None` when it fits as it
/// is (or cannot be split: one row, a build error — then it is compiled and checked as one
/// statement, and a statement over a limit is refused by the driver).
pub(crate) fn insert_batches(
    stmt: &InsertStmt,
    dialect: &dyn Dialect,
    max_params: usize,
    max_bytes: &mut dyn FnMut() -> Result<Option<usize>>,
) -> Result<Option<Vec<Compiled>>> {
    let n = stmt.rows.len();
    if stmt.error.is_some() || n < 2 {
        return Ok(None);
    }
    // Every value a parameter (what `insert_many` builds): the count is known without a
    // render, and most statements are far under the limit.
    let widest = stmt.rows.iter().map(Vec::len).max().unwrap_or(0);
    let plain = stmt
        .rows
        .iter()
        .all(|row| row.iter().all(|e| matches!(e, SqlExpr::Param(_))));
    let (fixed, per_row) = if plain && stmt.on_conflict.is_none() {
        (0, widest)
    } else {
        // The exact count: parameters per row and those of the rest of the statement
        // (`ON CONFLICT … DO UPDATE SET col = ?`), from one- and two-row renders.
        let one = many::insert_rows(stmt, dialect, 0..1)?;
        let two = many::insert_rows(stmt, dialect, 0..2)?;
        let per_row = two.params().len().saturating_sub(one.params().len());
        (one.params().len().saturating_sub(per_row), per_row)
    };
    if per_row == 0 || fixed.saturating_add(per_row) > max_params {
        return Ok(None);
    }
    let mut size = (max_params - fixed) / per_row;
    // The bytes on the wire, over-estimated: the text and the values of the widest row.
    let (head, row) = wire_bytes(stmt);
    let total = head.saturating_add(row.saturating_mul(n));
    if total > SMALL
        && let Some(limit) = max_bytes()?
        && total > limit
    {
        // A row alone over the limit still goes alone: the driver refuses it, unsent.
        size = size.min((limit.saturating_sub(head) / row.max(1)).max(1));
    }
    if size >= n {
        return Ok(None);
    }
    // Full batches of a plain insert share one kept text (`many.rs`), across calls too.
    let mut batches = Vec::with_capacity(n.div_ceil(size));
    let mut start = 0;
    while start < n {
        let end = (start + size).min(n);
        batches.push(many::insert_rows(stmt, dialect, start..end)?);
        start = end;
    }
    Ok(Some(batches))
}

/// Upper bounds of the bytes a multi-row insert takes on the wire: the statement without
/// rows (its text, a packet header), and one row (its text — placeholders of up to 7 bytes
/// and separators — and its largest values, each with a length prefix and type bytes).
fn wire_bytes(stmt: &InsertStmt) -> (usize, usize) {
    let def = stmt.table.def();
    let names: usize = stmt
        .columns
        .iter()
        .filter_map(|i| def.columns().get(*i))
        .map(|c| c.name().len() + 4)
        .sum();
    let head = 64 + def.name().len() + names;
    let row = stmt
        .rows
        .iter()
        .map(|r| {
            let values: usize = r
                .iter()
                .map(|e| match e {
                    SqlExpr::Param(v) => value_bytes(v),
                    _ => 64,
                })
                .sum();
            values + r.len() * 12 + 4
        })
        .max()
        .unwrap_or(0);
    (head, row)
}

/// A value's bytes in a binary protocol, at most (text with a 9-byte length prefix).
fn value_bytes(v: &Value) -> usize {
    match v {
        Value::Text(s) | Value::Json(s) | Value::Decimal(s) => s.len() + 9,
        Value::Blob(b) => b.len() + 9,
        Value::Array(items) => items.iter().map(value_bytes).sum::<usize>() + 24,
        _ => 17,
    }
}

#[cfg(test)]
mod tests {
    use super::insert_batches;
    use crate::dialect::{Mysql, Postgres, Sqlite};
    use crate::schema::{ColumnDef, DEFAULT_METADATA, Insertable, TableDef};
    use crate::sql::Insert;
    use crate::value::{SqlType, Value};

    static COLUMNS: [ColumnDef; 2] = [
        ColumnDef::new("a", "a", SqlType::BigInt, false),
        ColumnDef::new("b", "b", SqlType::Text, true),
    ];
    static TABLE: TableDef = TableDef::new("batch_t", &COLUMNS, &DEFAULT_METADATA);

    struct Pair(i64, String);

    impl Insertable for Pair {
        fn values(&self, out: &mut Vec<(usize, Value)>) {
            out.push((0, Value::I64(self.0)));
            out.push((1, Value::Text(self.1.clone())));
        }
    }

    fn no_size() -> crate::error::Result<Option<usize>> {
        Ok(None)
    }

    fn insert(rows: usize) -> Insert<()> {
        let data: Vec<Pair> = (0..rows).map(|i| Pair(i as i64, format!("r{i}"))).collect();
        Insert::from_rows(&TABLE, &data)
    }

    #[test]
    fn a_statement_under_the_limit_is_not_split() {
        let stmt = insert(10);
        assert!(
            insert_batches(&stmt.stmt, &Sqlite, 20, &mut no_size)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn rows_over_the_limit_are_split_into_batches_under_it_in_order() {
        let stmt = insert(11);
        for dialect in [&Sqlite as &dyn crate::dialect::Dialect, &Postgres, &Mysql] {
            let batches = insert_batches(&stmt.stmt, dialect, 9, &mut no_size)
                .unwrap()
                .unwrap();
            // 4 rows (8 params) per batch: 4 + 4 + 3.
            let sizes: Vec<usize> = batches.iter().map(|b| b.params().len()).collect();
            assert_eq!(sizes, [8, 8, 6], "{}", dialect.name());
            let values: Vec<Value> = batches.iter().flat_map(|b| b.params().to_vec()).collect();
            let whole = crate::sql::Compile::compile(&stmt, dialect).unwrap();
            assert_eq!(values, whole.params(), "{}", dialect.name());
            // The full batches share one text, the same a render of 4 rows gives.
            assert_eq!(batches[0].sql(), batches[1].sql());
            let four = crate::sql::Compile::compile(&insert(4), dialect).unwrap();
            assert_eq!(batches[0].sql(), four.sql(), "{}", dialect.name());
            let three = crate::sql::Compile::compile(&insert(3), dialect).unwrap();
            assert_eq!(batches[2].sql(), three.sql(), "{}", dialect.name());
        }
    }

    #[test]
    fn a_row_wider_than_the_limit_is_left_to_the_driver_check() {
        let stmt = insert(3);
        assert!(
            insert_batches(&stmt.stmt, &Sqlite, 1, &mut no_size)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn rows_over_the_packet_size_are_split_under_it_and_small_ones_do_not_ask() {
        let wide = |rows: usize| {
            let data: Vec<Pair> = (0..rows).map(|i| Pair(i as i64, "x".repeat(200))).collect();
            Insert::from_rows(&TABLE, &data)
        };
        let mut asked = 0;
        let mut size = || {
            asked += 1;
            Ok(Some(2_000))
        };
        assert!(
            insert_batches(&insert(3).stmt, &Mysql, 65_535, &mut size)
                .unwrap()
                .is_none()
        );
        assert!(
            insert_batches(&wide(5).stmt, &Mysql, 65_535, &mut size)
                .unwrap()
                .is_none()
        );
        let batches = insert_batches(&wide(40).stmt, &Mysql, 65_535, &mut size)
            .unwrap()
            .unwrap();
        assert_eq!(asked, 2, "the 3-row statement is too small to ask");
        for b in &batches {
            let bytes = b.sql().len() + b.params().len() * 9 + 200 * b.params().len() / 2;
            assert!(
                bytes <= 2_000,
                "{bytes} bytes in {} params",
                b.params().len()
            );
        }
        let values: Vec<Value> = batches.iter().flat_map(|b| b.params().to_vec()).collect();
        assert_eq!(values.len(), 80);
        assert_eq!(values[78], Value::I64(39));
    }
}
