//! Native enum types (PostgreSQL's `CREATE TYPE … AS ENUM`) in a plan: created before the
//! tables, their labels changed in place or by re-creating the type, dropped after the last
//! column using them is gone. Where a dialect stores enums as text there is nothing to do: the
//! column's length is the table diff's business.

use std::sync::Arc;

use super::{Op, Plan, Renames, diff_tables};
use crate::dialect::Dialect;
use crate::render::enum_types;
use crate::schema::TableDef;

/// The whole diff: [`diff_tables`], with the enum steps of [`diff_enums`] around it.
pub fn diff_schema(
    declared: &[Arc<TableDef>],
    live: &[Arc<TableDef>],
    live_enums: &[(String, Vec<String>)],
    dialect: &dyn Dialect,
    renames: &Renames,
) -> Plan {
    let mut plan = diff_tables(declared, live, dialect, renames);
    let (first, last) = diff_enums(declared, live, live_enums, dialect);
    if !first.is_empty() || !last.is_empty() {
        let tables_ops = std::mem::take(&mut plan.ops);
        plan.ops = first.into_iter().chain(tables_ops).chain(last).collect();
    }
    plan
}

/// The enum steps taking `live_enums` (name and labels, as reflected) to the native enum
/// types the declared tables use: those to run before the table steps (create, alter) and
/// those after (drop). A live type is dropped only when a live column uses it and no declared
/// one does; a type no column uses is left alone (not ours to judge).
pub fn diff_enums(
    declared: &[Arc<TableDef>],
    live: &[Arc<TableDef>],
    live_enums: &[(String, Vec<String>)],
    dialect: &dyn Dialect,
) -> (Vec<Op>, Vec<Op>) {
    let mut first = Vec::new();
    let mut last = Vec::new();
    let wanted = enum_types(declared.iter().map(|t| &**t), dialect);
    let live_columns = |name: &str| -> Vec<(String, String)> {
        live.iter()
            .flat_map(|t| {
                t.columns()
                    .iter()
                    .filter(|c| c.custom_type_name().is_some_and(|n| same_name(n, name)))
                    .map(|c| (t.name().to_owned(), c.name().to_owned()))
            })
            .collect()
    };
    for e in &wanted {
        let name = e.native_name().unwrap_or(e.rust_name());
        let labels: Vec<String> = e.labels().iter().map(|l| (*l).to_owned()).collect();
        match live_enums.iter().find(|(n, _)| same_name(n, name)) {
            None => first.push(Op::CreateEnum {
                name: name.to_owned(),
                labels,
            }),
            Some((_, now)) if *now != labels => first.push(Op::AlterEnum {
                name: name.to_owned(),
                from: now.clone(),
                to: labels,
                columns: live_columns(name),
            }),
            Some(_) => {}
        }
    }
    if dialect.has_enum_type_sql().is_some() {
        for (name, labels) in live_enums {
            let declared_too = wanted
                .iter()
                .any(|e| same_name(e.native_name().unwrap_or(e.rust_name()), name));
            if !declared_too && !live_columns(name).is_empty() {
                last.push(Op::DropEnum {
                    name: name.clone(),
                    labels: labels.clone(),
                });
            }
        }
    }
    (first, last)
}

/// Type names as PostgreSQL folds an unquoted one.
fn same_name(a: &str, b: &str) -> bool {
    a.trim_matches('"')
        .eq_ignore_ascii_case(b.trim_matches('"'))
}

/// The labels `to` adds to `from`, each with the label it goes after (`None`: before the
/// first), when `to` only adds — every label of `from` kept, in the same order. `None` when a
/// label is removed or moved (the type must be re-created).
pub(crate) fn added_labels<'a>(
    from: &[String],
    to: &'a [String],
) -> Option<Vec<(&'a str, Option<&'a str>)>> {
    let kept: Vec<&String> = to.iter().filter(|l| from.contains(l)).collect();
    if kept.len() != from.len() || kept.iter().zip(from).any(|(a, b)| *a != b) {
        return None;
    }
    let mut out = Vec::new();
    for (i, label) in to.iter().enumerate() {
        if !from.contains(label) {
            out.push((label.as_str(), i.checked_sub(1).map(|p| to[p].as_str())));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::added_labels;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn labels_only_added_go_in_place_and_anything_else_re_creates() {
        let from = v(&["sad", "fine"]);
        let to = v(&["meh", "sad", "ok", "fine", "happy"]);
        assert_eq!(
            added_labels(&from, &to),
            Some(vec![
                ("meh", None),
                ("ok", Some("sad")),
                ("happy", Some("fine"))
            ])
        );
        assert_eq!(added_labels(&from, &v(&["sad"])), None, "removed");
        assert_eq!(added_labels(&from, &v(&["fine", "sad"])), None, "moved");
        assert_eq!(added_labels(&from, &from), Some(vec![]));
    }
}
