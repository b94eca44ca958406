//! `#[table(…)]` and `#[column(…)]`: keyword constants and parsing into plain structs.

use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, LitBool, LitInt, LitStr, Path};

use crate::ctxt::{Ctxt, hint};

pub(crate) const TABLE: &str = "table";
pub(crate) const COLUMN: &str = "column";

const NAME: &str = "name";
const METADATA: &str = "metadata";
const PRIMARY_KEY: &str = "primary_key";
const UNIQUE: &str = "unique";
const INDEX: &str = "index";
const MAX_LENGTH: &str = "max_length";
const REFERENCES: &str = "references";
const DEFAULT: &str = "default";
const SQL_TYPE: &str = "sql_type";
const AUTOINCREMENT: &str = "autoincrement";
const ON_DELETE: &str = "on_delete";
const ON_UPDATE: &str = "on_update";

/// The foreign key actions `on_delete` / `on_update` accept, and the `FkAction` variant each is.
pub(crate) const FK_ACTIONS: &[(&str, &str)] = &[
    ("cascade", "Cascade"),
    ("set null", "SetNull"),
    ("set default", "SetDefault"),
    ("restrict", "Restrict"),
    ("no action", "NoAction"),
];

const TABLE_KEYS: &[&str] = &[NAME, METADATA, PRIMARY_KEY];
const COLUMN_KEYS: &[&str] = &[
    PRIMARY_KEY,
    NAME,
    UNIQUE,
    INDEX,
    MAX_LENGTH,
    REFERENCES,
    DEFAULT,
    SQL_TYPE,
    AUTOINCREMENT,
    ON_DELETE,
    ON_UPDATE,
];

/// `#[table(name = "…", metadata = PATH, primary_key(a, b))]`
#[derive(Default)]
pub(crate) struct TableAttrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) metadata: Option<Path>,
    pub(crate) primary_key: Option<(Ident, Vec<Ident>)>,
}

/// `#[column(…)]`
#[derive(Default)]
pub(crate) struct ColumnAttrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) primary_key: Option<Ident>,
    pub(crate) unique: Option<Ident>,
    pub(crate) index: Option<Ident>,
    pub(crate) max_length: Option<LitInt>,
    pub(crate) references: Option<Path>,
    pub(crate) default: Option<Expr>,
    pub(crate) sql_type: Option<LitStr>,
    pub(crate) autoincrement: Option<LitBool>,
    /// `on_delete = "cascade"`: the literal and the `FkAction` variant it names.
    pub(crate) on_delete: Option<(LitStr, &'static str)>,
    /// `on_update = "…"`, as `on_delete`.
    pub(crate) on_update: Option<(LitStr, &'static str)>,
}

/// `"set null"` → `SetNull`, or an error showing the accepted words.
fn fk_action(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<(LitStr, &'static str)> {
    let form = format!(
        "the correct format looks like #[column(references = User::id, {key} = \"cascade\")]"
    );
    let v: LitStr = meta
        .value()
        .and_then(|v| v.parse())
        .map_err(|e| syn::Error::new(e.span(), &form))?;
    let words = v.value().trim().to_ascii_lowercase().replace('_', " ");
    match FK_ACTIONS.iter().find(|(w, _)| *w == words) {
        Some((_, variant)) => Ok((v, variant)),
        None => {
            let accepted: Vec<&str> = FK_ACTIONS.iter().map(|(w, _)| *w).collect();
            Err(syn::Error::new(
                v.span(),
                format!(
                    "unknown foreign key action {:?}: expected one of \"{}\"",
                    v.value(),
                    accepted.join("\", \"")
                ),
            ))
        }
    }
}

fn unknown(meta: &ParseNestedMeta<'_>, attr: &str, keys: &[&str]) -> syn::Error {
    let key = meta
        .path
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default();
    meta.error(format!(
        "unknown #[{attr}] attribute `{key}`: expected one of {}{}",
        keys.join(", "),
        hint(&key, keys.iter().copied())
    ))
}

/// Store `value` in `slot`, or report the second occurrence.
fn set<T>(cx: &mut Ctxt, meta: &ParseNestedMeta<'_>, slot: &mut Option<T>, value: T, key: &str) {
    if slot.is_some() {
        cx.error_spanned_by(&meta.path, format!("duplicate attribute `{key}`"));
    } else {
        *slot = Some(value);
    }
}

fn flag(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<Ident> {
    if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
        return Err(meta.error(format!("`{key}` takes no value: write #[column({key})]")));
    }
    Ok(Ident::new(key, meta.path.span()))
}

fn string_value(meta: &ParseNestedMeta<'_>, attr: &str, key: &str) -> syn::Result<LitStr> {
    let form = format!("the correct format looks like #[{attr}({key} = \"...\")]");
    let value = meta.value().map_err(|_| meta.error(&form))?;
    value
        .parse::<LitStr>()
        .map_err(|e| syn::Error::new(e.span(), form))
}

pub(crate) fn parse_table(cx: &mut Ctxt, attrs: &[Attribute]) -> TableAttrs {
    let mut out = TableAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident(TABLE)) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(NAME) {
                let v = string_value(&meta, TABLE, NAME)?;
                set(cx, &meta, &mut out.name, v, NAME);
            } else if meta.path.is_ident(METADATA) {
                let form = "the correct format looks like #[table(metadata = META)], naming a `static META: MetaData`";
                let v: Path = meta
                    .value()
                    .and_then(|v| v.parse())
                    .map_err(|e| syn::Error::new(e.span(), form))?;
                set(cx, &meta, &mut out.metadata, v, METADATA);
            } else if meta.path.is_ident(PRIMARY_KEY) {
                let key = Ident::new(PRIMARY_KEY, meta.path.span());
                let mut cols = Vec::new();
                meta.parse_nested_meta(|inner| {
                    match inner.path.get_ident() {
                        Some(id) => cols.push(id.clone()),
                        None => return Err(inner.error("expected a field name")),
                    }
                    Ok(())
                })
                .map_err(|e| {
                    syn::Error::new(e.span(), format!("{e}; the correct format looks like #[table(primary_key(user_id, group_id))]"))
                })?;
                set(cx, &meta, &mut out.primary_key, (key, cols), PRIMARY_KEY);
            } else {
                return Err(unknown(&meta, TABLE, TABLE_KEYS));
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    out
}

pub(crate) fn parse_column(cx: &mut Ctxt, attrs: &[Attribute]) -> ColumnAttrs {
    let mut out = ColumnAttrs::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident(COLUMN)) {
        let result = attr.parse_nested_meta(|meta| {
            let p = &meta.path;
            if p.is_ident(NAME) {
                let v = string_value(&meta, COLUMN, NAME)?;
                set(cx, &meta, &mut out.name, v, NAME);
            } else if p.is_ident(PRIMARY_KEY) {
                let v = flag(&meta, PRIMARY_KEY)?;
                set(cx, &meta, &mut out.primary_key, v, PRIMARY_KEY);
            } else if p.is_ident(UNIQUE) {
                let v = flag(&meta, UNIQUE)?;
                set(cx, &meta, &mut out.unique, v, UNIQUE);
            } else if p.is_ident(INDEX) {
                let v = flag(&meta, INDEX)?;
                set(cx, &meta, &mut out.index, v, INDEX);
            } else if p.is_ident(MAX_LENGTH) {
                let form = "the correct format looks like #[column(max_length = 50)]";
                let v: LitInt = meta
                    .value()
                    .and_then(|v| v.parse())
                    .map_err(|e| syn::Error::new(e.span(), form))?;
                match v.base10_parse::<u32>() {
                    Ok(0) | Err(_) => {
                        return Err(syn::Error::new(v.span(), "max_length must be a whole number from 1 to 4294967295"));
                    }
                    Ok(_) => set(cx, &meta, &mut out.max_length, v, MAX_LENGTH),
                }
            } else if p.is_ident(REFERENCES) {
                let form = "the correct format looks like #[column(references = User::id)]";
                let v: Path = meta
                    .value()
                    .and_then(|v| v.parse())
                    .map_err(|e| syn::Error::new(e.span(), form))?;
                if v.segments.len() < 2 {
                    return Err(syn::Error::new_spanned(&v, format!("`references` names a column as Table::column; {form}")));
                }
                set(cx, &meta, &mut out.references, v, REFERENCES);
            } else if p.is_ident(DEFAULT) {
                let form = "the correct format looks like #[column(default = 0)] or #[column(default = \"text\")]";
                let v: Expr = meta
                    .value()
                    .and_then(|v| v.parse())
                    .map_err(|e| syn::Error::new(e.span(), form))?;
                set(cx, &meta, &mut out.default, v, DEFAULT);
            } else if p.is_ident(SQL_TYPE) {
                let v = string_value(&meta, COLUMN, SQL_TYPE)?;
                if v.value().trim().is_empty() {
                    return Err(syn::Error::new(v.span(), "sql_type cannot be empty; e.g. #[column(sql_type = \"NUMERIC(10, 2)\")]"));
                }
                set(cx, &meta, &mut out.sql_type, v, SQL_TYPE);
            } else if p.is_ident(AUTOINCREMENT) {
                let form = "the correct format looks like #[column(autoincrement = false)]";
                let v: LitBool = meta
                    .value()
                    .and_then(|v| v.parse())
                    .map_err(|e| syn::Error::new(e.span(), form))?;
                set(cx, &meta, &mut out.autoincrement, v, AUTOINCREMENT);
            } else if p.is_ident(ON_DELETE) {
                let v = fk_action(&meta, ON_DELETE)?;
                set(cx, &meta, &mut out.on_delete, v, ON_DELETE);
            } else if p.is_ident(ON_UPDATE) {
                let v = fk_action(&meta, ON_UPDATE)?;
                set(cx, &meta, &mut out.on_update, v, ON_UPDATE);
            } else {
                return Err(unknown(&meta, COLUMN, COLUMN_KEYS));
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    out
}
