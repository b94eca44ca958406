//! The destructive-step lint: what a plan may lose or fail on, said per step.

use std::fmt;

use super::types::column_default;
use super::{Change, Op, Plan};
use crate::schema::ColumnDef;
use crate::value::SqlType;

/// A step that may lose data, or fail on the rows a table already has.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hazard {
    /// The table and its rows go.
    DropTable {
        /// The table.
        table: String,
    },
    /// The column and its values go.
    DropColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// The new type may not hold every value of the old one.
    NarrowType {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// `NOT NULL` without a default on a table that has (or may have) rows: the step fails on
    /// the first `NULL`.
    NotNullWithoutDefault {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// The table's rows, when known.
        rows: Option<u64>,
    },
    /// Labels leave a native enum type: the columns are converted to the new type, and a row
    /// holding one of those labels makes the step fail.
    DropEnumLabels {
        /// The type.
        name: String,
        /// The labels that go.
        labels: Vec<String>,
    },
}

impl fmt::Display for Hazard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Hazard::DropTable { table } => write!(f, "drop table {table} loses its rows"),
            Hazard::DropColumn { table, column } => {
                write!(f, "drop column {table}.{column} loses its values")
            }
            Hazard::NarrowType { table, column } => write!(
                f,
                "column {table}.{column} changes to a type that may not hold every value"
            ),
            Hazard::NotNullWithoutDefault {
                table,
                column,
                rows,
            } => {
                let rows = match rows {
                    Some(n) => format!("{n} rows"),
                    None => "rows not counted".to_owned(),
                };
                write!(
                    f,
                    "column {table}.{column} becomes NOT NULL without a default ({rows}); \
                     give it a default or fill it first"
                )
            }
            Hazard::DropEnumLabels { name, labels } => write!(
                f,
                "enum type {name} loses label(s) {}: rows holding them make the conversion \
                 fail; update those rows first",
                labels.join(", ")
            ),
        }
    }
}

pub(super) fn hazards(plan: &Plan) -> Vec<Hazard> {
    let mut out = Vec::new();
    for op in plan.ops() {
        match op {
            Op::DropTable { table } => out.push(Hazard::DropTable {
                table: table.name().to_owned(),
            }),
            Op::DropColumn { table, column } => out.push(Hazard::DropColumn {
                table: table.clone(),
                column: column.name().to_owned(),
            }),
            Op::AddColumn { table, column } => {
                let rows = plan.row_count(table);
                if !column.is_nullable()
                    && column_default(column).is_none()
                    && !column.is_autoincrement()
                    && rows != Some(0)
                {
                    out.push(Hazard::NotNullWithoutDefault {
                        table: table.clone(),
                        column: column.name().to_owned(),
                        rows,
                    });
                }
            }
            Op::AlterColumn {
                table,
                from,
                to,
                changes,
            } => {
                if changes.contains(&Change::Type) && !widens(from, to) {
                    out.push(Hazard::NarrowType {
                        table: table.clone(),
                        column: to.name().to_owned(),
                    });
                }
                let rows = plan.row_count(table);
                if changes.contains(&Change::Nullability)
                    && !to.is_nullable()
                    && column_default(to).is_none()
                    && rows != Some(0)
                {
                    out.push(Hazard::NotNullWithoutDefault {
                        table: table.clone(),
                        column: to.name().to_owned(),
                        rows,
                    });
                }
            }
            Op::AlterEnum { name, from, to, .. } => {
                let gone: Vec<String> = from.iter().filter(|l| !to.contains(l)).cloned().collect();
                if !gone.is_empty() {
                    out.push(Hazard::DropEnumLabels {
                        name: name.clone(),
                        labels: gone,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// True when every value of `from`'s type fits `to`'s: a wider integer or float, a longer
/// `VARCHAR`, `TEXT` from any text.
fn widens(from: &ColumnDef, to: &ColumnDef) -> bool {
    use SqlType::*;
    if from.custom_type_name().is_some() || to.custom_type_name().is_some() {
        return false;
    }
    match (from.sql_type(), to.sql_type()) {
        (SmallInt, Integer | BigInt) | (Integer, BigInt) | (Real, Double) => true,
        (Text, Text) => match (from.max_length_value(), to.max_length_value()) {
            (_, None) => true,
            (Some(a), Some(b)) => b >= a,
            (None, Some(_)) => false,
        },
        (a, b) => a == b,
    }
}
