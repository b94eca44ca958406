//! `CREATE TYPE … AS ENUM` and `DROP TYPE` for the enums with a PostgreSQL type of their own
//! (`#[sql_enum(postgres_type = …)]`), as SQLAlchemy's `Enum` emits them around `create_all`.

use crate::dialect::Dialect;
use crate::schema::TableDef;
use crate::value::EnumType;

/// The native enum types `tables` use on `dialect`, each once, in the order first used;
/// empty where the dialect stores enums as text.
pub fn enum_types<'t>(
    tables: impl IntoIterator<Item = &'t TableDef>,
    dialect: &dyn Dialect,
) -> Vec<&'static EnumType> {
    let mut out: Vec<&'static EnumType> = Vec::new();
    if dialect.has_enum_type_sql().is_none() {
        return out;
    }
    for table in tables {
        for col in table.columns() {
            if col.custom_type_name().is_some() {
                continue;
            }
            if let Some(e) = col.enum_def().filter(|e| e.native_name().is_some())
                && !out.iter().any(|o| o.native_name() == e.native_name())
            {
                out.push(e);
            }
        }
    }
    out
}

/// `CREATE TYPE loan_status AS ENUM ('active', 'returned', 'lost')`.
pub fn create_enum_type(e: &EnumType, dialect: &dyn Dialect) -> String {
    let mut sql = String::from("CREATE TYPE ");
    dialect.quote_ident(e.native_name().unwrap_or(e.rust_name()), &mut sql);
    sql.push_str(" AS ENUM (");
    for (i, label) in e.labels().iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('\'');
        sql.push_str(&label.replace('\'', "''"));
        sql.push('\'');
    }
    sql.push(')');
    sql
}

/// `DROP TYPE loan_status`.
pub fn drop_enum_type(e: &EnumType, dialect: &dyn Dialect) -> String {
    let mut sql = String::from("DROP TYPE ");
    dialect.quote_ident(e.native_name().unwrap_or(e.rust_name()), &mut sql);
    sql
}
