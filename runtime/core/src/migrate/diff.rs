//! Declared tables against live ones: the ordered [`Op`]s between them.

use std::sync::Arc;

use super::types::column_default;
use super::{Change, Op, Plan, Renames};
use crate::constraint::{FkAction, IndexDef};
use crate::dialect::Dialect;
use crate::render::index_name;
use crate::schema::{ColumnDef, TableDef};

/// The plan that takes the `live` tables to the `declared` ones on `dialect`, with the
/// renames a human said. Live tables that are not declared are dropped (the lint refuses that
/// until allowed); leave tables out of `live` to keep them.
pub fn diff_tables(
    declared: &[Arc<TableDef>],
    live: &[Arc<TableDef>],
    dialect: &dyn Dialect,
    renames: &Renames,
) -> Plan {
    let mut steps = Steps::default();
    let mut changed = Vec::new();
    let live_of = |d: &TableDef| {
        let name = renames.live_table(d.name());
        live.iter().find(|l| l.name() == name)
    };

    let mut created = Vec::new();
    for d in declared {
        match live_of(d) {
            None => created.push(Arc::clone(d)),
            Some(l) => {
                if l.name() != d.name() {
                    steps.rename_tables.push(Op::RenameTable {
                        from: l.name().to_owned(),
                        to: d.name().to_owned(),
                    });
                }
                let before = steps.len();
                diff_table(&mut steps, l, d, dialect, renames);
                if steps.len() != before {
                    changed.push((Arc::clone(l), Arc::clone(d)));
                }
            }
        }
    }
    for t in parents_first(created) {
        steps.create_tables.push(Op::CreateTable { table: t });
    }
    let dropped: Vec<Arc<TableDef>> = live
        .iter()
        .filter(|l| {
            !declared
                .iter()
                .any(|d| renames.live_table(d.name()) == l.name())
        })
        .cloned()
        .collect();
    for t in parents_first(dropped).into_iter().rev() {
        steps.drop_tables.push(Op::DropTable { table: t });
    }
    Plan::new(steps.into_ops(), changed)
}

/// The steps by kind; [`Steps::into_ops`] puts them in the foreign-key-safe order.
#[derive(Default)]
struct Steps {
    drop_fks: Vec<Op>,
    drop_indexes: Vec<Op>,
    rename_tables: Vec<Op>,
    rename_columns: Vec<Op>,
    create_tables: Vec<Op>,
    add_columns: Vec<Op>,
    alter_columns: Vec<Op>,
    drop_columns: Vec<Op>,
    drop_tables: Vec<Op>,
    add_indexes: Vec<Op>,
    add_fks: Vec<Op>,
}

impl Steps {
    fn len(&self) -> usize {
        self.drop_fks.len()
            + self.drop_indexes.len()
            + self.rename_tables.len()
            + self.rename_columns.len()
            + self.add_columns.len()
            + self.alter_columns.len()
            + self.drop_columns.len()
            + self.add_indexes.len()
            + self.add_fks.len()
    }
    fn into_ops(self) -> Vec<Op> {
        [
            self.drop_fks,
            self.drop_indexes,
            self.rename_tables,
            self.rename_columns,
            self.create_tables,
            self.add_columns,
            self.alter_columns,
            self.drop_columns,
            self.drop_tables,
            self.add_indexes,
            self.add_fks,
        ]
        .concat()
    }
}

fn diff_table(
    steps: &mut Steps,
    live: &TableDef,
    declared: &TableDef,
    dialect: &dyn Dialect,
    renames: &Renames,
) {
    let (l_name, d_name) = (live.name().to_owned(), declared.name().to_owned());
    let live_col = |c: &ColumnDef| live.column(renames.live_column(d_name.as_str(), c.name()));

    for d in declared.columns() {
        let Some(l) = live_col(d) else {
            steps.add_columns.push(Op::AddColumn {
                table: d_name.clone(),
                column: d.clone().without_foreign_key(),
            });
            add_column_extras(steps, declared, d, dialect);
            continue;
        };
        if l.name() != d.name() {
            steps.rename_columns.push(Op::RenameColumn {
                table: d_name.clone(),
                from: l.name().to_owned(),
                to: d.name().to_owned(),
            });
        }
        let changes = column_changes(live, l, declared, d, dialect);
        if !changes.is_empty() {
            steps.alter_columns.push(Op::AlterColumn {
                table: d_name.clone(),
                from: l.clone(),
                to: d.clone(),
                changes,
            });
        }
        if !same_foreign_key(l, d, dialect) {
            if l.references_table().is_some() {
                steps.drop_fks.push(Op::DropForeignKey {
                    table: l_name.clone(),
                    column: l.clone(),
                    name: l.foreign_key_name_value().map(str::to_owned),
                });
            }
            if d.references_table().is_some() {
                steps.add_fks.push(Op::AddForeignKey {
                    table: d_name.clone(),
                    column: d.clone(),
                });
            }
        }
        let (l_ix, d_ix) = (
            column_indexes(live, l, dialect),
            column_indexes(declared, d, dialect),
        );
        for ix in &l_ix {
            if !d_ix.iter().any(|x| same_index(x, ix)) {
                steps.drop_indexes.push(Op::DropIndex {
                    table: l_name.clone(),
                    index: ix.clone(),
                });
            }
        }
        for ix in &d_ix {
            if !l_ix.iter().any(|x| same_index(x, ix)) {
                steps.add_indexes.push(Op::AddIndex {
                    table: d_name.clone(),
                    index: ix.clone(),
                });
            }
        }
    }
    let live_key: Vec<String> = live.primary_key().map(|c| c.name().to_owned()).collect();
    let declared_key: Vec<String> = declared
        .primary_key()
        .map(|c| c.name().to_owned())
        .collect();
    let renamed_key: Vec<String> = declared
        .primary_key()
        .map(|c| renames.live_column(&d_name, c.name()).to_owned())
        .collect();
    if live_key != renamed_key {
        steps.alter_columns.push(Op::AlterPrimaryKey {
            table: d_name.clone(),
            from: live_key,
            to: declared_key,
        });
    }
    for l in live.columns() {
        let kept = declared
            .columns()
            .iter()
            .any(|d| renames.live_column(&d_name, d.name()) == l.name());
        if !kept {
            if l.references_table().is_some() {
                steps.drop_fks.push(Op::DropForeignKey {
                    table: l_name.clone(),
                    column: l.clone(),
                    name: l.foreign_key_name_value().map(str::to_owned),
                });
            }
            for index in column_indexes(live, l, dialect) {
                steps.drop_indexes.push(Op::DropIndex {
                    table: l_name.clone(),
                    index,
                });
            }
            steps.drop_columns.push(Op::DropColumn {
                table: d_name.clone(),
                column: l.clone(),
            });
        }
    }
    for ix in live.indexes() {
        if !declared.indexes().iter().any(|d| same_index(d, ix)) {
            steps.drop_indexes.push(Op::DropIndex {
                table: l_name.clone(),
                index: ix.clone(),
            });
        }
    }
    for ix in declared.indexes() {
        if !live.indexes().iter().any(|l| same_index(l, ix)) {
            steps.add_indexes.push(Op::AddIndex {
                table: d_name.clone(),
                index: ix.clone(),
            });
        }
    }
}

/// The index, unique constraint and foreign key of a column being added.
fn add_column_extras(steps: &mut Steps, table: &TableDef, col: &ColumnDef, dialect: &dyn Dialect) {
    for index in column_indexes(table, col, dialect) {
        steps.add_indexes.push(Op::AddIndex {
            table: table.name().to_owned(),
            index,
        });
    }
    if col.references_table().is_some() {
        steps.add_fks.push(Op::AddForeignKey {
            table: table.name().to_owned(),
            column: col.clone(),
        });
    }
}

/// A column's own index (`ix_<table>_<column>`) and unique constraint, as [`IndexDef`]s named
/// as the database names them by default.
pub(crate) fn column_indexes(
    table: &TableDef,
    col: &ColumnDef,
    dialect: &dyn Dialect,
) -> Vec<IndexDef> {
    let mut out = Vec::new();
    if col.has_index() {
        let ix = IndexDef::new(index_name(table, col), [col.name().to_owned()]);
        out.push(if col.is_unique() { ix.unique() } else { ix });
    } else if col.is_unique() {
        let name = unique_constraint_name(dialect, table.name(), col.name());
        out.push(IndexDef::new(name, [col.name().to_owned()]).constraint());
    }
    out
}

/// The name a database gives `UNIQUE (column)` in `CREATE TABLE`.
pub(crate) fn unique_constraint_name(dialect: &dyn Dialect, table: &str, column: &str) -> String {
    match dialect.name() {
        "mysql" => column.to_owned(),
        "sqlite" => format!("uq_{table}_{column}"),
        _ => format!("{table}_{column}_key"),
    }
}

/// Indexes compare by columns and kind; a unique constraint's name is the database's choice.
fn same_index(a: &IndexDef, b: &IndexDef) -> bool {
    a.columns() == b.columns()
        && a.is_unique() == b.is_unique()
        && a.is_constraint() == b.is_constraint()
        && (a.is_constraint() || a.name() == b.name())
}

fn same_foreign_key(live: &ColumnDef, declared: &ColumnDef, dialect: &dyn Dialect) -> bool {
    let action = |a: Option<FkAction>| match a {
        None | Some(FkAction::NoAction) => FkAction::NoAction,
        Some(FkAction::Restrict) if dialect.name() == "mysql" => FkAction::NoAction,
        Some(a) => a,
    };
    live.references_table() == declared.references_table()
        && action(live.on_delete_action()) == action(declared.on_delete_action())
        && action(live.on_update_action()) == action(declared.on_update_action())
}

/// The DDL type of a column, upper case without spaces, for comparison: both sides are
/// spelled by the same dialect, so `int(11)` read back and `i32` declared agree.
pub(crate) fn type_key(dialect: &dyn Dialect, table: &TableDef, col: &ColumnDef) -> String {
    let spelled = dialect
        .column_type(table, col)
        .map(|t| t.into_owned())
        .unwrap_or_else(|_| crate::dialect::ansi_type(col).into_owned());
    spelled
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

fn column_changes(
    live_table: &TableDef,
    live: &ColumnDef,
    declared_table: &TableDef,
    declared: &ColumnDef,
    dialect: &dyn Dialect,
) -> Vec<Change> {
    let mut changes = Vec::new();
    if type_key(dialect, live_table, live) != type_key(dialect, declared_table, declared) {
        changes.push(Change::Type);
    }
    if live.is_nullable() != declared.is_nullable() && !declared.is_primary_key() {
        changes.push(Change::Nullability);
    }
    let auto = live.is_autoincrement() || declared.is_autoincrement();
    let same_default = match (column_default(live), column_default(declared)) {
        (None, None) => true,
        (Some(a), Some(b)) => a.same(&b),
        _ => false,
    };
    if !same_default && !auto {
        changes.push(Change::Default);
    }
    if live.is_autoincrement() != declared.is_autoincrement() {
        changes.push(Change::Key);
    }
    changes
}

/// Tables ordered parents before the children that reference them (by name, among `tables`),
/// ties and cycles by name.
fn parents_first(mut tables: Vec<Arc<TableDef>>) -> Vec<Arc<TableDef>> {
    tables.sort_by(|a, b| a.name().cmp(b.name()));
    let mut out: Vec<Arc<TableDef>> = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let ready = tables.iter().position(|t| {
            t.columns().iter().all(|c| match c.references_table() {
                Some((parent, _)) => {
                    parent == t.name() || !tables.iter().any(|r| r.name() == parent)
                }
                None => true,
            })
        });
        match ready {
            Some(i) => out.push(tables.remove(i)),
            None => out.append(&mut tables),
        }
    }
    out
}
