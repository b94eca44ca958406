//! A multi-row `INSERT` (`insert_many`) with more bound parameters than the backend takes,
//! split into statements under the limit (SQLAlchemy's "insertmanyvalues" batching).
//!
//! The rows are cut into batches of as many rows as fit; the batches of full size share one
//! rendered text (rendered once per call), each with its rows' values as parameters, and the
//! last, shorter batch is rendered on its own. The connection runs them in one transaction.

use std::ops::Range;

use super::{Renderer, query};
use crate::dialect::Dialect;
use crate::error::Result;
use crate::sql::{Compiled, InsertStmt, SqlExpr};
use crate::value::Value;

/// `stmt` as statements of at most `max_params` bound parameters each, or `None` when it
/// fits as it is (or cannot be split: one row, a build error — then it is compiled and
/// checked as one statement, and a statement over the limit is refused by the driver).
pub(crate) fn insert_batches(
    stmt: &InsertStmt,
    dialect: &dyn Dialect,
    max_params: usize,
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
    if plain && n.saturating_mul(widest) <= max_params && stmt.on_conflict.is_none() {
        return Ok(None);
    }
    // The exact count: parameters per row and those of the rest of the statement
    // (`ON CONFLICT … DO UPDATE SET col = ?`), from one- and two-row renders.
    let one = render(stmt, dialect, 0..1)?;
    let two = render(stmt, dialect, 0..2)?;
    let per_row = two.params().len().saturating_sub(one.params().len());
    let fixed = one.params().len().saturating_sub(per_row);
    if per_row == 0
        || fixed.saturating_add(per_row.saturating_mul(n)) <= max_params
        || fixed.saturating_add(per_row) > max_params
    {
        return Ok(None);
    }
    let size = (max_params - fixed) / per_row;
    let mut batches = Vec::with_capacity(n.div_ceil(size));
    // The text of a full batch, kept when its parameters are exactly its rows' values in
    // order (then every full batch is that text with its own rows' values).
    let mut shared: Option<String> = None;
    let mut start = 0;
    while start < n {
        let end = (start + size).min(n);
        let reused = match &shared {
            Some(sql) if end - start == size => Some(Compiled::new(
                sql.clone(),
                row_values(&stmt.rows[start..end]),
            )),
            _ => None,
        };
        let compiled = match reused {
            Some(c) => c,
            None => {
                let c = render(stmt, dialect, start..end)?;
                if shared.is_none()
                    && end - start == size
                    && plain
                    && fixed == 0
                    && c.params() == row_values(&stmt.rows[start..end]).as_slice()
                {
                    shared = Some(c.sql().to_owned());
                }
                c
            }
        };
        batches.push(compiled);
        start = end;
    }
    Ok(Some(batches))
}

/// `stmt` with only the rows in `rows`, rendered.
fn render(stmt: &InsertStmt, dialect: &dyn Dialect, rows: Range<usize>) -> Result<Compiled> {
    let part = InsertStmt {
        table: stmt.table.clone(),
        columns: stmt.columns.clone(),
        rows: stmt.rows[rows].to_vec(),
        on_conflict: stmt.on_conflict.clone(),
        returning: stmt.returning.clone(),
        error: None,
        // Only a VALUES insert has rows to split.
        select: None,
    };
    let mut r = Renderer::new(dialect);
    query::insert(&mut r, &part)?;
    Ok(r.finish())
}

/// The values of rows whose every item is a parameter, row by row.
fn row_values(rows: &[Vec<SqlExpr>]) -> Vec<Value> {
    rows.iter()
        .flatten()
        .filter_map(|e| match e {
            SqlExpr::Param(v) => Some(v.clone()),
            _ => None,
        })
        .collect()
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

    fn insert(rows: usize) -> Insert<()> {
        let data: Vec<Pair> = (0..rows).map(|i| Pair(i as i64, format!("r{i}"))).collect();
        Insert::from_rows(&TABLE, &data)
    }

    #[test]
    fn a_statement_under_the_limit_is_not_split() {
        let stmt = insert(10);
        assert!(insert_batches(&stmt.stmt, &Sqlite, 20).unwrap().is_none());
    }

    #[test]
    fn rows_over_the_limit_are_split_into_batches_under_it_in_order() {
        let stmt = insert(11);
        for dialect in [&Sqlite as &dyn crate::dialect::Dialect, &Postgres, &Mysql] {
            let batches = insert_batches(&stmt.stmt, dialect, 9).unwrap().unwrap();
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
        assert!(insert_batches(&stmt.stmt, &Sqlite, 1).unwrap().is_none());
    }
}
