//! MySQL and MariaDB: `information_schema` (columns, table constraints, key column usage,
//! referential constraints, statistics, check constraints).

use super::sqlite::{conventional_index, flag, with_fk};
use super::{REFLECTED, bool_at, req_text, rows, text_at};
use crate::connection::Connection;
use crate::error::Result;
use crate::schema::TableDef;
use quarry_core::migrate::mysql_type;
use quarry_core::{CheckDef, IndexDef, SqlType};

pub(super) fn tables(
    conn: &mut Connection,
    schema: Option<&str>,
    only: Option<&str>,
) -> Result<Vec<TableDef>> {
    let head = rows(
        conn,
        "SELECT CAST(DATABASE() AS CHAR), CAST(VERSION() AS CHAR)",
        &[],
    )?;
    let (current, version) = match head.first() {
        Some(r) => (text_at(r, 0)?, text_at(r, 1)?.unwrap_or_default()),
        None => (None, String::new()),
    };
    let Some(schema) = schema.map(str::to_owned).or(current) else {
        return Err(crate::Error::config(
            "the MySQL connection has no current database; put one in the URL \
             (mysql://user@host/db) or reflect a named schema",
        ));
    };
    let mariadb = version.contains("MariaDB");
    let names = rows(
        conn,
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
         WHERE table_schema = :schema AND table_type = 'BASE TABLE' ORDER BY 1",
        &[("schema", &schema)],
    )?;
    let mut out = Vec::new();
    for row in names {
        let name = req_text(&row, 0)?;
        if only.is_some_and(|o| o != name) {
            continue;
        }
        out.push(table(conn, &schema, &name, mariadb)?);
    }
    Ok(out)
}

fn table(conn: &mut Connection, schema: &str, name: &str, mariadb: bool) -> Result<TableDef> {
    let binds = [("schema", schema), ("table", name)];
    let checks = rows(
        conn,
        "SELECT CAST(constraint_name AS CHAR), CAST(check_clause AS CHAR) \
         FROM information_schema.check_constraints \
         WHERE constraint_schema = :schema AND table_name = :table ORDER BY 1",
        &binds,
    )
    .unwrap_or_default();
    let mut json_columns = Vec::new();
    let mut table_checks = Vec::new();
    for row in &checks {
        let (con, clause) = (text_at(row, 0)?, req_text(row, 1)?);
        // MariaDB's JSON is LONGTEXT with CHECK (json_valid(`col`)), named after the column.
        match &con {
            Some(col) if clause == format!("json_valid(`{col}`)") => json_columns.push(col.clone()),
            _ => table_checks.push(CheckDef::new(con, clause)),
        }
    }

    let mut columns = Vec::new();
    for row in rows(
        conn,
        "SELECT CAST(column_name AS CHAR), CAST(column_type AS CHAR), CAST(is_nullable AS CHAR), \
         CAST(column_default AS CHAR), CAST(extra AS CHAR) FROM information_schema.columns \
         WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position",
        &binds,
    )? {
        let col_name = req_text(&row, 0)?;
        let raw = req_text(&row, 1)?;
        let mut read = mysql_type(&raw);
        if json_columns.contains(&col_name) {
            read = quarry_core::migrate::ReadType {
                sql_type: SqlType::Json,
                max_length: None,
                spelled: None,
            };
        }
        let nullable = text_at(&row, 2)?.as_deref() == Some("YES");
        let extra = text_at(&row, 4)?.unwrap_or_default().to_ascii_lowercase();
        let mut col = read.column(&col_name, nullable).raw_type(raw);
        if extra.contains("auto_increment") {
            col = col.autoincrement();
        }
        if let Some(default) = text_at(&row, 3)? {
            let sql = if mariadb || extra.contains("default_generated") {
                // MariaDB reports SQL: 'en', 5, NULL, current_timestamp().
                default
            } else if default.parse::<f64>().is_ok() {
                default
            } else {
                // MySQL reports a literal's text unquoted.
                format!("'{}'", default.replace('\'', "''"))
            };
            if !sql.eq_ignore_ascii_case("NULL") {
                col = col.server_default(sql);
            }
        }
        columns.push(col);
    }

    let mut fk_names = Vec::new();
    for row in rows(
        conn,
        "SELECT CAST(k.constraint_name AS CHAR), CAST(k.column_name AS CHAR), \
         CAST(k.referenced_table_name AS CHAR), CAST(k.referenced_column_name AS CHAR), \
         CAST(r.delete_rule AS CHAR), CAST(r.update_rule AS CHAR), \
         (SELECT COUNT(*) FROM information_schema.key_column_usage k2 \
          WHERE k2.constraint_schema = k.constraint_schema AND k2.table_name = k.table_name \
          AND k2.constraint_name = k.constraint_name) \
         FROM information_schema.key_column_usage k \
         JOIN information_schema.referential_constraints r \
         ON r.constraint_schema = k.constraint_schema AND r.constraint_name = k.constraint_name \
         AND r.table_name = k.table_name \
         WHERE k.table_schema = :schema AND k.table_name = :table ORDER BY 1",
        &binds,
    )? {
        let con = req_text(&row, 0)?;
        fk_names.push(con.clone());
        if super::int_at(&row, 6)? != Some(1) {
            continue;
        }
        let (col, parent, to) = (req_text(&row, 1)?, req_text(&row, 2)?, req_text(&row, 3)?);
        // RESTRICT is MySQL's NO ACTION, and what it reports when none was given.
        let action = |a: Option<String>| a.filter(|a| a != "RESTRICT");
        let (on_delete, on_update) = (action(text_at(&row, 4)?), action(text_at(&row, 5)?));
        flag(&mut columns, &col, |c| {
            with_fk(c, &parent, &to, on_delete.clone(), on_update.clone())
                .foreign_key_name(con.clone())
        });
    }

    let mut uniques: Vec<(String, Vec<String>)> = Vec::new();
    let mut plain: Vec<(String, bool, Vec<String>)> = Vec::new();
    let constraint_names: Vec<String> = rows(
        conn,
        "SELECT CAST(constraint_name AS CHAR) FROM information_schema.table_constraints \
         WHERE table_schema = :schema AND table_name = :table AND constraint_type = 'UNIQUE'",
        &binds,
    )?
    .iter()
    .map(|r| req_text(r, 0))
    .collect::<Result<_>>()?;
    for row in rows(
        conn,
        "SELECT CAST(index_name AS CHAR), CAST(non_unique AS SIGNED), CAST(column_name AS CHAR) \
         FROM information_schema.statistics \
         WHERE table_schema = :schema AND table_name = :table ORDER BY index_name, seq_in_index",
        &binds,
    )? {
        let (ix, col) = (req_text(&row, 0)?, req_text(&row, 2)?);
        let unique = !bool_at(&row, 1)?;
        if ix == "PRIMARY" {
            flag(&mut columns, &col, |c| c.primary_key());
            continue;
        }
        // The index MySQL made for a foreign key is the key's, not the schema's.
        // (named after the key, or after the column when the key had no name).
        let fk_column = columns
            .iter()
            .any(|c| c.name() == col && c.references_table().is_some());
        if (fk_names.contains(&ix) || (fk_column && ix == col)) && !constraint_names.contains(&ix) {
            continue;
        }
        // MySQL lists every unique index as a UNIQUE constraint; `ix_<table>_<column>` is
        // the column's own index all the same.
        let conventional = ix == conventional_index(name, &col);
        if constraint_names.contains(&ix) && !conventional {
            match uniques.last_mut() {
                Some((last, cols)) if *last == ix => cols.push(col),
                _ => uniques.push((ix, vec![col])),
            }
        } else {
            match plain.last_mut() {
                Some((last, _, cols)) if *last == ix => cols.push(col),
                _ => plain.push((ix, unique, vec![col])),
            }
        }
    }
    let mut extra = Vec::new();
    for (ix, cols) in uniques {
        match cols.as_slice() {
            [only] => flag(&mut columns, only, |c| c.unique()),
            _ => extra.push(IndexDef::new(ix, cols).constraint()),
        }
    }
    for (ix, unique, cols) in plain {
        match cols.as_slice() {
            [only] if ix == conventional_index(name, only) => {
                flag(&mut columns, only, |c| {
                    if unique {
                        c.unique().index()
                    } else {
                        c.index()
                    }
                });
            }
            _ => {
                let def = IndexDef::new(ix, cols);
                extra.push(if unique { def.unique() } else { def });
            }
        }
    }
    let mut table = TableDef::build(name, columns, &REFLECTED);
    for ix in extra {
        table = table.with_index(ix);
    }
    for check in table_checks {
        table = table.with_check(check);
    }
    Ok(table)
}
