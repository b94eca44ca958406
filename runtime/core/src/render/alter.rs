//! The SQL of a migration plan: `ALTER TABLE` per dialect, and SQLite's table rebuild
//! ("move and copy") for what its `ALTER TABLE` cannot do.

use std::collections::BTreeSet;

use super::Renderer;
use super::ddl::{column_ddl, create_index, create_indexes, create_table, foreign_key};
use crate::constraint::IndexDef;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::migrate::{Change, Op, Plan, REBUILD_PREFIX};
use crate::schema::{ColumnDef, TableDef};

// `Plan::sql` lives with the renderer, so that the migration model never calls it.
impl Plan {
    /// The SQL statements of the plan for `dialect`, in order. On SQLite, what `ALTER TABLE`
    /// cannot do (change a column, add or drop a constraint) rebuilds the table: create the
    /// new one, copy the rows, drop the old, rename (SQLAlchemy's "move and copy"), keeping
    /// data, foreign keys and indexes.
    ///
    /// # Errors
    /// [`Error::Migration`] listing the destructive steps when the plan has some and
    /// [`Plan::allow_destructive`] was not set; [`Error::Unsupported`] for a step the database
    /// cannot do (a primary key change outside SQLite).
    pub fn sql(&self, dialect: &dyn Dialect) -> Result<Vec<String>> {
        if !self.allow_destructive {
            let hazards = self.hazards();
            if !hazards.is_empty() {
                let list: Vec<String> = hazards.iter().map(|h| format!("  - {h}")).collect();
                return Err(Error::Migration(format!(
                    "refusing a plan with destructive steps:\n{}\nreview them, then call \
                     plan.allow_destructive(true) (or pass --allow-destructive to the CLI)",
                    list.join("\n")
                )));
            }
        }
        plan_sql(self, dialect)
    }
}

pub(crate) fn plan_sql(plan: &Plan, dialect: &dyn Dialect) -> Result<Vec<String>> {
    let sqlite = dialect.name() == "sqlite";
    let rebuilt: BTreeSet<&str> = if sqlite {
        plan.ops()
            .iter()
            .filter(|op| !sqlite_alters(op))
            .map(Op::table)
            .collect()
    } else {
        BTreeSet::new()
    };
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for op in plan.ops() {
        let table = op.table();
        if rebuilt.contains(table) || rebuilt.contains(renamed_to(plan, table)) {
            let declared = renamed_to(plan, table);
            if done.insert(declared.to_owned()) {
                out.extend(sqlite_rebuild(plan, declared, dialect)?);
            }
            continue;
        }
        out.extend(op_sql(op, dialect)?);
    }
    Ok(out)
}

/// The declared name of a table a step names by its live name (steps that run before the
/// renames: dropping foreign keys and indexes).
fn renamed_to<'a>(plan: &'a Plan, live: &'a str) -> &'a str {
    plan.ops()
        .iter()
        .find_map(|op| match op {
            Op::RenameTable { from, to } if from == live => Some(to.as_str()),
            _ => None,
        })
        .unwrap_or(live)
}

/// True for the steps SQLite's own `ALTER TABLE` (3.25+) does; the rest rebuild the table.
fn sqlite_alters(op: &Op) -> bool {
    match op {
        Op::CreateTable { .. }
        | Op::DropTable { .. }
        | Op::RenameTable { .. }
        | Op::RenameColumn { .. } => true,
        Op::AddIndex { index, .. } | Op::DropIndex { index, .. } => !index.is_constraint(),
        Op::AddColumn { column, .. } => {
            !column.is_primary_key()
                && !column.is_unique()
                && (column.is_nullable()
                    || column.default().is_some()
                    || column.server_default_sql().is_some())
        }
        _ => false,
    }
}

fn op_sql(op: &Op, dialect: &dyn Dialect) -> Result<Vec<String>> {
    let mysql = dialect.name() == "mysql";
    let mut r = Renderer::new(dialect);
    match op {
        Op::CreateTable { table } => {
            let mut out = vec![create_table(table, dialect)?];
            out.extend(create_indexes(table, dialect));
            return Ok(out);
        }
        Op::DropTable { table } => {
            r.push("DROP TABLE ");
            r.ident(table.name());
        }
        Op::RenameTable { from, to } => {
            alter(&mut r, from);
            r.push("RENAME TO ");
            r.ident(to);
        }
        Op::AddColumn { table, column } => {
            alter(&mut r, table);
            r.push("ADD COLUMN ");
            let owner =
                TableDef::build(table.clone(), Vec::new(), &crate::schema::DEFAULT_METADATA);
            column_ddl(&mut r, &owner, column)?;
        }
        Op::DropColumn { table, column } => {
            alter(&mut r, table);
            r.push("DROP COLUMN ");
            r.ident(column.name());
        }
        Op::RenameColumn { table, from, to } => {
            alter(&mut r, table);
            r.push("RENAME COLUMN ");
            r.ident(from);
            r.push(" TO ");
            r.ident(to);
        }
        Op::AlterColumn {
            table,
            from,
            to,
            changes,
        } => return alter_column(table, from, to, changes, dialect),
        Op::AlterPrimaryKey { table, from, to } => {
            alter(&mut r, table);
            let mut parts = 0;
            if !from.is_empty() {
                if mysql {
                    r.push("DROP PRIMARY KEY");
                } else {
                    // The name PostgreSQL gives the key of CREATE TABLE.
                    r.push("DROP CONSTRAINT ");
                    r.ident(&format!("{table}_pkey"));
                }
                parts += 1;
            }
            if !to.is_empty() {
                if parts > 0 {
                    r.push(", ");
                }
                r.push("ADD PRIMARY KEY (");
                for (i, c) in to.iter().enumerate() {
                    if i > 0 {
                        r.push(", ");
                    }
                    r.ident(c);
                }
                r.push(")");
            }
        }
        Op::AddIndex { table, index } if index.is_constraint() => {
            alter(&mut r, table);
            r.push("ADD CONSTRAINT ");
            r.ident(index.name());
            r.push(" UNIQUE (");
            idents(&mut r, index);
            r.push(")");
        }
        Op::AddIndex { table, index } => return Ok(vec![create_index(table, index, dialect)]),
        Op::DropIndex { table, index } if index.is_constraint() => {
            alter(&mut r, table);
            r.push(if mysql {
                "DROP INDEX "
            } else {
                "DROP CONSTRAINT "
            });
            r.ident(index.name());
        }
        Op::DropIndex { table, index } => {
            r.push("DROP INDEX ");
            r.ident(index.name());
            if mysql {
                r.push(" ON ");
                r.ident(table);
            }
        }
        Op::AddForeignKey { table, column } => {
            alter(&mut r, table);
            r.push("ADD CONSTRAINT ");
            r.ident(&fk_name(table, column));
            r.push(" ");
            foreign_key(&mut r, column);
        }
        Op::DropForeignKey {
            table,
            column,
            name,
        } => {
            alter(&mut r, table);
            r.push(if mysql {
                "DROP FOREIGN KEY "
            } else {
                "DROP CONSTRAINT "
            });
            let name = name.clone().unwrap_or_else(|| fk_name(table, column));
            r.ident(&name);
        }
        Op::CreateEnum { .. } | Op::AlterEnum { .. } | Op::DropEnum { .. } => {
            return enum_sql(op, dialect);
        }
    }
    Ok(vec![r.into_sql()])
}

/// The enum steps (PostgreSQL; other dialects store enums as text and get none).
fn enum_sql(op: &Op, dialect: &dyn Dialect) -> Result<Vec<String>> {
    if dialect.has_enum_type_sql().is_none() {
        return Ok(Vec::new());
    }
    let ident = |name: &str| {
        let mut out = String::new();
        dialect.quote_ident(name, &mut out);
        out
    };
    let literal = |label: &str| -> Result<String> {
        let mut out = String::new();
        dialect.string_literal(label, &mut out)?;
        Ok(out)
    };
    let create = |name: &str, labels: &[String]| -> Result<String> {
        let labels: Result<Vec<String>> = labels.iter().map(|l| literal(l)).collect();
        Ok(format!(
            "CREATE TYPE {} AS ENUM ({})",
            ident(name),
            labels?.join(", ")
        ))
    };
    Ok(match op {
        Op::CreateEnum { name, labels } => vec![create(name, labels)?],
        Op::DropEnum { name, .. } => vec![format!("DROP TYPE {}", ident(name))],
        Op::AlterEnum {
            name,
            from,
            to,
            columns,
        } => match crate::migrate::added_labels(from, to) {
            Some(added) => added
                .into_iter()
                .map(|(label, after)| {
                    let place = match (after, from.first()) {
                        (Some(after), _) => format!(" AFTER {}", literal(after)?),
                        (None, Some(first)) => format!(" BEFORE {}", literal(first)?),
                        (None, None) => String::new(),
                    };
                    Ok(format!(
                        "ALTER TYPE {} ADD VALUE {}{place}",
                        ident(name),
                        literal(label)?
                    ))
                })
                .collect::<Result<Vec<_>>>()?,
            // A label removed or moved: a new type, the columns converted through text (a
            // row holding a removed label fails the conversion), the old type dropped.
            None => {
                let old = format!("{REBUILD_PREFIX}{name}");
                let mut out = vec![
                    format!("ALTER TYPE {} RENAME TO {}", ident(name), ident(&old)),
                    create(name, to)?,
                ];
                for (table, column) in columns {
                    out.push(format!(
                        "ALTER TABLE {} ALTER COLUMN {} TYPE {} USING {}::text::{}",
                        ident(table),
                        ident(column),
                        ident(name),
                        ident(column),
                        ident(name)
                    ));
                }
                out.push(format!("DROP TYPE {}", ident(&old)));
                out
            }
        },
        _ => Vec::new(),
    })
}

/// The name Quarry gives a foreign key it adds by `ALTER TABLE`: the column's own when it was
/// reflected with one, else `fk_<table>_<column>`.
fn fk_name(table: &str, column: &ColumnDef) -> String {
    match column.foreign_key_name_value() {
        Some(name) => name.to_owned(),
        None => format!("fk_{table}_{}", column.name()),
    }
}

fn alter(r: &mut Renderer<'_>, table: &str) {
    r.push("ALTER TABLE ");
    r.ident(table);
    r.push(" ");
}

fn idents(r: &mut Renderer<'_>, index: &IndexDef) {
    for (i, c) in index.columns().into_iter().enumerate() {
        if i > 0 {
            r.push(", ");
        }
        r.ident(c);
    }
}

fn alter_column(
    table: &str,
    from: &ColumnDef,
    to: &ColumnDef,
    changes: &[Change],
    dialect: &dyn Dialect,
) -> Result<Vec<String>> {
    if changes.contains(&Change::Key) && dialect.name() != "mysql" {
        return Err(Error::Unsupported {
            feature: format!(
                "changing whether column \"{table}.{}\" autoincrements in place (write the \
                 migration by hand: CREATE SEQUENCE and SET DEFAULT nextval(…), or DROP DEFAULT)",
                to.name()
            ),
            dialect: dialect.name(),
        });
    }
    let owner = TableDef::build(
        table.to_owned(),
        Vec::new(),
        &crate::schema::DEFAULT_METADATA,
    );
    if dialect.name() == "mysql" {
        // MODIFY restates the whole column: type, nullability and default at once.
        let mut r = Renderer::new(dialect);
        alter(&mut r, table);
        r.push("MODIFY ");
        column_ddl(&mut r, &owner, to)?;
        return Ok(vec![r.into_sql()]);
    }
    let _ = from;
    let mut out = Vec::new();
    let mut stmt = |f: &mut dyn FnMut(&mut Renderer<'_>)| {
        let mut r = Renderer::new(dialect);
        alter(&mut r, table);
        r.push("ALTER COLUMN ");
        r.ident(to.name());
        r.push(" ");
        f(&mut r);
        out.push(r.into_sql());
    };
    for change in changes {
        match change {
            Change::Type => {
                let plain = to.clone().with_autoincrement(false);
                let ty = dialect.column_type(&owner, &plain)?;
                stmt(&mut |r| {
                    r.push("TYPE ");
                    r.push(&ty);
                    r.push(" USING ");
                    r.ident(to.name());
                    r.push("::");
                    r.push(&ty);
                });
            }
            Change::Nullability => stmt(&mut |r| {
                r.push(if to.is_nullable() {
                    "DROP NOT NULL"
                } else {
                    "SET NOT NULL"
                })
            }),
            Change::Default => {
                let mut with_default = Renderer::new(dialect);
                super::ddl::column_default(&mut with_default, table, to)?;
                let default = with_default.into_sql();
                stmt(&mut |r| match default.strip_prefix(" DEFAULT ") {
                    Some(value) => {
                        r.push("SET DEFAULT ");
                        r.push(value);
                    }
                    None => r.push("DROP DEFAULT"),
                });
            }
            Change::Key => {}
        }
    }
    Ok(out)
}

/// SQLite's "move and copy": create the declared table under a temporary name, copy the rows
/// of the columns both have, drop the old table, rename the new one and create its indexes.
/// Foreign keys are kept: they are part of the new table's `CREATE TABLE`, and the children
/// of the table name it, not the dropped copy.
fn sqlite_rebuild(plan: &Plan, declared_name: &str, dialect: &dyn Dialect) -> Result<Vec<String>> {
    let Some((live, declared)) = plan.table_defs(declared_name) else {
        return Err(Error::Migration(format!(
            "no definitions of table \"{declared_name}\" to rebuild it on SQLite"
        )));
    };
    let renamed: Vec<(String, String)> = plan
        .ops()
        .iter()
        .filter_map(|op| match op {
            Op::RenameColumn { table, from, to } if table == declared_name => {
                Some((from.clone(), to.clone()))
            }
            _ => None,
        })
        .collect();
    let live_name_of = |declared_col: &str| {
        renamed
            .iter()
            .find(|(_, to)| to == declared_col)
            .map_or(declared_col.to_owned(), |(from, _)| from.clone())
    };
    let tmp_name = format!("{REBUILD_PREFIX}{declared_name}");
    let tmp = declared.clone_as(tmp_name.clone());
    let mut out = vec![create_table(&tmp, dialect)?];

    let copied: Vec<(&str, String)> = declared
        .columns()
        .iter()
        .filter_map(|c| {
            let from = live_name_of(c.name());
            live.column(&from).map(|_| (c.name(), from))
        })
        .collect();
    let mut r = Renderer::new(dialect);
    r.push("INSERT INTO ");
    r.ident(&tmp_name);
    r.push(" (");
    for (i, (to, _)) in copied.iter().enumerate() {
        if i > 0 {
            r.push(", ");
        }
        r.ident(to);
    }
    r.push(") SELECT ");
    for (i, (_, from)) in copied.iter().enumerate() {
        if i > 0 {
            r.push(", ");
        }
        r.ident(from);
    }
    r.push(" FROM ");
    r.ident(live.name());
    out.push(r.into_sql());

    let mut r = Renderer::new(dialect);
    r.push("DROP TABLE ");
    r.ident(live.name());
    out.push(r.into_sql());

    let mut r = Renderer::new(dialect);
    alter(&mut r, &tmp_name);
    r.push("RENAME TO ");
    r.ident(declared.name());
    out.push(r.into_sql());
    out.extend(create_indexes(declared, dialect));
    Ok(out)
}

/// `SELECT count(*) FROM table`: what the lint's row counts run.
pub fn count_rows_sql(table: &str, dialect: &dyn Dialect) -> String {
    let mut r = Renderer::new(dialect);
    r.push("SELECT count(*) FROM ");
    r.ident(table);
    r.into_sql()
}
