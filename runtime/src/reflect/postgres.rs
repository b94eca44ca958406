//! PostgreSQL: `information_schema.columns` for columns, `pg_catalog` for keys, indexes,
//! checks and enum types. Every catalog value is cast to `text`/`int` in SQL, so the driver
//! decodes plain types.

use super::sqlite::{conventional_index, flag, with_fk};
use super::{REFLECTED, bool_at, req_text, rows, text_at, u32_at};
use crate::connection::Connection;
use crate::error::Result;
use crate::schema::TableDef;
use quarry_core::migrate::postgres_type;
use quarry_core::{CheckDef, IndexDef};

type Enums = Vec<(String, Vec<String>)>;

pub(super) fn read(
    conn: &mut Connection,
    schema: Option<&str>,
    only: Option<&str>,
) -> Result<(Vec<TableDef>, Enums)> {
    let schema = match schema {
        Some(s) => s.to_owned(),
        None => {
            let row = rows(conn, "SELECT current_schema()::text", &[])?;
            match row.first() {
                Some(r) => req_text(r, 0)?,
                None => "public".to_owned(),
            }
        }
    };
    let names = rows(
        conn,
        "SELECT c.relname::text FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname::text = :schema AND c.relkind IN ('r', 'p') ORDER BY 1",
        &[("schema", &schema)],
    )?;
    let mut tables = Vec::new();
    for row in names {
        let name = req_text(&row, 0)?;
        if only.is_some_and(|o| o != name) {
            continue;
        }
        tables.push(table(conn, &schema, &name)?);
    }
    let mut enums: Enums = Vec::new();
    for row in rows(
        conn,
        "SELECT t.typname::text, e.enumlabel::text FROM pg_catalog.pg_type t \
         JOIN pg_catalog.pg_enum e ON e.enumtypid = t.oid \
         JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
         WHERE n.nspname::text = :schema ORDER BY t.typname, e.enumsortorder",
        &[("schema", &schema)],
    )? {
        let (name, label) = (req_text(&row, 0)?, req_text(&row, 1)?);
        match enums.last_mut() {
            Some((last, labels)) if *last == name => labels.push(label),
            _ => enums.push((name, vec![label])),
        }
    }
    Ok((tables, enums))
}

fn table(conn: &mut Connection, schema: &str, name: &str) -> Result<TableDef> {
    let binds = [("schema", schema), ("table", name)];
    let mut columns = Vec::new();
    for row in rows(
        conn,
        "SELECT column_name::text, data_type::text, udt_name::text, is_nullable::text, \
         column_default::text, character_maximum_length::int, numeric_precision::int, \
         numeric_scale::int, is_identity::text \
         FROM information_schema.columns \
         WHERE table_schema::text = :schema AND table_name::text = :table \
         ORDER BY ordinal_position",
        &binds,
    )? {
        let col_name = req_text(&row, 0)?;
        let data_type = req_text(&row, 1)?;
        let udt = text_at(&row, 2)?.unwrap_or_default();
        let numeric = data_type == "numeric";
        let read = postgres_type(
            &data_type,
            &udt,
            u32_at(&row, 5)?,
            if numeric { u32_at(&row, 6)? } else { None },
            if numeric { u32_at(&row, 7)? } else { None },
        );
        let nullable = text_at(&row, 3)?.as_deref() == Some("YES");
        let raw = if data_type == "USER-DEFINED" {
            udt.clone()
        } else {
            data_type.clone()
        };
        let mut col = read.column(&col_name, nullable).raw_type(raw);
        let default = text_at(&row, 4)?;
        let serial = default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        if serial || text_at(&row, 8)?.as_deref() == Some("YES") {
            col = col.autoincrement();
        } else if let Some(default) = default {
            col = col.server_default(default);
        }
        columns.push(col);
    }

    // Primary key and unique constraints, column by column in key order.
    let mut uniques: Vec<(String, Vec<String>)> = Vec::new();
    for row in rows(
        conn,
        "SELECT con.conname::text, con.contype::text, a.attname::text \
         FROM pg_catalog.pg_constraint con \
         JOIN pg_catalog.pg_class c ON c.oid = con.conrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
         WHERE n.nspname::text = :schema AND c.relname::text = :table \
         AND con.contype IN ('p', 'u') ORDER BY con.conname, k.ord",
        &binds,
    )? {
        let (con, kind, col) = (req_text(&row, 0)?, req_text(&row, 1)?, req_text(&row, 2)?);
        if kind == "p" {
            flag(&mut columns, &col, |c| c.primary_key());
        } else {
            match uniques.last_mut() {
                Some((last, cols)) if *last == con => cols.push(col),
                _ => uniques.push((con, vec![col])),
            }
        }
    }
    let mut extra = Vec::new();
    for (con, cols) in uniques {
        match cols.as_slice() {
            [only] => flag(&mut columns, only, |c| c.unique()),
            _ => extra.push(IndexDef::new(con, cols).constraint()),
        }
    }
    // Single-column primary keys that are not serial stay plain (a text key, say).

    for row in rows(
        conn,
        "SELECT con.conname::text, a.attname::text, pc.relname::text, pa.attname::text, \
         con.confdeltype::text, con.confupdtype::text \
         FROM pg_catalog.pg_constraint con \
         JOIN pg_catalog.pg_class c ON c.oid = con.conrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_catalog.pg_class pc ON pc.oid = con.confrelid \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1] \
         JOIN pg_catalog.pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = con.confkey[1] \
         WHERE n.nspname::text = :schema AND c.relname::text = :table AND con.contype = 'f' \
         AND cardinality(con.conkey) = 1 ORDER BY con.conname",
        &binds,
    )? {
        let (con, col, parent, to) = (
            req_text(&row, 0)?,
            req_text(&row, 1)?,
            req_text(&row, 2)?,
            req_text(&row, 3)?,
        );
        let action = |code: Option<String>| {
            code.map(|c| {
                match c.as_str() {
                    "r" => "RESTRICT",
                    "c" => "CASCADE",
                    "n" => "SET NULL",
                    "d" => "SET DEFAULT",
                    _ => "NO ACTION",
                }
                .to_owned()
            })
        };
        let (on_delete, on_update) = (action(text_at(&row, 4)?), action(text_at(&row, 5)?));
        flag(&mut columns, &col, |c| {
            with_fk(c, &parent, &to, on_delete.clone(), on_update.clone())
                .foreign_key_name(con.clone())
        });
    }

    // Indexes that no constraint owns, on plain columns.
    for row in rows(
        conn,
        "SELECT ic.relname::text, i.indisunique, \
         (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) \
          FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
          JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum) \
         FROM pg_catalog.pg_index i \
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
         JOIN pg_catalog.pg_class c ON c.oid = i.indrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname::text = :schema AND c.relname::text = :table \
         AND NOT i.indisprimary AND i.indexprs IS NULL AND i.indpred IS NULL \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint con WHERE con.conindid = i.indexrelid) \
         ORDER BY 1",
        &binds,
    )? {
        let (ix_name, unique) = (req_text(&row, 0)?, bool_at(&row, 1)?);
        let cols: Vec<String> = text_at(&row, 2)?
            .unwrap_or_default()
            .split(',')
            .map(str::to_owned)
            .collect();
        match cols.as_slice() {
            [only] if ix_name == conventional_index(name, only) => {
                flag(&mut columns, only, |c| {
                    if unique {
                        c.unique().index()
                    } else {
                        c.index()
                    }
                });
            }
            _ => {
                let ix = IndexDef::new(ix_name, cols);
                extra.push(if unique { ix.unique() } else { ix });
            }
        }
    }

    let mut table = TableDef::build(name, columns, &REFLECTED);
    for ix in extra {
        table = table.with_index(ix);
    }
    for row in rows(
        conn,
        "SELECT con.conname::text, pg_catalog.pg_get_constraintdef(con.oid)::text \
         FROM pg_catalog.pg_constraint con \
         JOIN pg_catalog.pg_class c ON c.oid = con.conrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname::text = :schema AND c.relname::text = :table AND con.contype = 'c' \
         ORDER BY 1",
        &binds,
    )? {
        let def = req_text(&row, 1)?;
        let expr = def
            .strip_prefix("CHECK ")
            .map_or(def.as_str(), str::trim)
            .to_owned();
        table = table.with_check(CheckDef::new(text_at(&row, 0)?, expr));
    }
    Ok(table)
}
