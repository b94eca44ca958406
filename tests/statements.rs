//! Compiled SQL and parameters of each statement form, on every dialect, as insta snapshots.

mod common;

use common::check_each_dialect;
use quarry::prelude::*;
use quarry::{Compile, dialect};

pub static META: MetaData = MetaData::new();

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "users", metadata = META)]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(max_length = 50)]
    pub name: String,
    pub hair_color: Option<String>,
}

#[derive(Table, Debug, Clone, PartialEq)]
#[table(name = "user", metadata = META)]
pub struct Reserved {
    #[column(primary_key)]
    pub id: i64,
    #[column(name = "order")]
    pub order: i32,
}

#[track_caller]
fn check(name: &str, stmt: impl Compile) {
    check_each_dialect(name, |d| match stmt.compile(d) {
        Ok(compiled) => compiled.to_string(),
        Err(e) => format!("error: {e}"),
    });
}

#[test]
fn select_table() {
    check("select_table", select!(User));
}

#[test]
fn select_where_binds_variable() {
    let name = "john";
    check("select_where", select!(User WHERE User::name == name));
}

#[test]
fn select_where_and_or_not_with_precedence() {
    check(
        "select_where_logic",
        select!(User WHERE (User::name == "a" || User::name == "b") && !(User::id > 5)
            && User::hair_color != None),
    );
}

#[test]
fn not_negates_comparisons_and_wraps_the_rest() {
    check(
        "select_not",
        select!(User WHERE !(User::id > 5) && !(User::hair_color == None)
            && !(User::name == "a" || User::name == "b") && !!(User::id == 1)),
    );
}

#[test]
fn like_in_between_and_their_negations() {
    check(
        "select_like_in_between",
        select!(User WHERE User::name.like("j%") && User::name.not_like("x%")
            && User::id.in_([1, 2, 3]) && User::id.not_in([4, 5]) && User::id.between(1, 9)
            && !User::hair_color.like("b%") && !User::id.between(10, 20)),
    );
}

#[test]
fn empty_in_is_false_and_empty_not_in_is_true() {
    let none: Vec<i64> = Vec::new();
    check(
        "select_empty_in",
        select!(User WHERE User::id.in_(&none) || User::id.not_in(&none)),
    );
}

#[test]
fn value_methods_work_without_the_prelude() {
    // Only the macro is imported: `like` is called through `::quarry::Expression`.
    mod bare {
        use quarry::Compile;
        pub fn stmt() -> quarry::Select<super::User> {
            quarry::select!(super::User WHERE super::User::name.like("a%"))
        }
        pub fn sql() -> String {
            stmt()
                .compile(&quarry::dialect::Sqlite)
                .unwrap()
                .sql()
                .to_owned()
        }
    }
    assert!(
        bare::sql().ends_with("WHERE users.name LIKE ?"),
        "{}",
        bare::sql()
    );
}

#[test]
fn select_value_on_the_left_is_flipped() {
    check("select_flipped", select!(User WHERE 5 < User::id));
}

#[test]
fn select_order_limit_offset() {
    check(
        "select_order_limit_offset",
        select!(User WHERE User::id >= 1 ORDER BY User::name DESC, User::id LIMIT 10 OFFSET 20),
    );
    check("select_limit", select!(User LIMIT 10));
    check("select_offset", select!(User OFFSET 20));
}

#[test]
fn lower_case_keywords_are_accepted() {
    let upper = select!(User WHERE User::id == 1 ORDER BY User::id LIMIT 2);
    let lower = select!(User where User::id == 1 order by User::id limit 2);
    for d in dialect::ALL {
        assert_eq!(upper.compile(*d).unwrap(), lower.compile(*d).unwrap());
    }
}

#[test]
fn builders_say_the_same_as_macros() {
    let built = User::select()
        .filter(User::name.eq("ed").and(User::hair_color.is_null()))
        .order_by(User::id.desc())
        .limit(3);
    let macro_form = select!(User WHERE User::name == "ed" && User::hair_color == None
        ORDER BY User::id DESC LIMIT 3);
    for d in dialect::ALL {
        assert_eq!(built.compile(*d).unwrap(), macro_form.compile(*d).unwrap());
    }
}

#[test]
fn reserved_names_are_quoted_per_dialect() {
    check(
        "select_reserved",
        select!(Reserved WHERE Reserved::order == 3),
    );
}

#[test]
fn insert_listed_columns() {
    check(
        "insert",
        insert!(User {
            name: "john",
            hair_color: None
        }),
    );
}

#[test]
fn insert_row_omits_unset_autoincrement_key() {
    let user = User {
        id: 0,
        name: "ed".into(),
        hair_color: Some("red".into()),
    };
    check("insert_row", User::insert(&user));
    let explicit = User { id: 7, ..user };
    check("insert_row_with_key", User::insert(&explicit));
}

#[test]
fn insert_many_is_one_multi_row_values() {
    let users: Vec<User> = (1..=3)
        .map(|i| User {
            id: 0,
            name: format!("u{i}"),
            hair_color: None,
        })
        .collect();
    check("insert_many", User::insert_many(&users));
}

#[test]
fn insert_many_with_mixed_keys_is_an_error_naming_the_row() {
    let users = [
        User {
            id: 0,
            name: "a".into(),
            hair_color: None,
        },
        User {
            id: 9,
            name: "b".into(),
            hair_color: None,
        },
    ];
    let err = User::insert_many(&users)
        .compile(&dialect::Sqlite)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("row 1 sets columns (id, name, hair_color)"),
        "{err}"
    );
    let none: [User; 0] = [];
    let err = User::insert_many(&none)
        .compile(&dialect::Sqlite)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "insert_many into \"users\" got no rows");
}

#[test]
fn compiled_displays_sql_then_params() {
    let c = select!(User WHERE User::name == "x")
        .compile(&dialect::Postgres)
        .unwrap();
    assert_eq!(
        c.to_string(),
        "SELECT users.id, users.name, users.hair_color FROM users WHERE users.name = $1\n-- params: [\"x\"]"
    );
    assert_eq!(
        c.sql(),
        "SELECT users.id, users.name, users.hair_color FROM users WHERE users.name = $1"
    );
    assert_eq!(c.params(), &[quarry::Value::Text("x".into())]);
}

#[test]
fn update_sets_unqualified_columns_then_filters() {
    check(
        "update",
        update!(User SET name = "ed", hair_color = None WHERE User::id == 5),
    );
    check(
        "update_reserved",
        update!(Reserved SET order = 2 WHERE Reserved::id > 1),
    );
    check(
        "update_all_rows",
        User::update().set(User::name, User::name),
    );
}

#[test]
fn update_builder_matches_macro_and_last_set_wins() {
    let built = User::update()
        .set(User::name, "x")
        .set(User::hair_color, None::<String>)
        .set(User::name, "ed")
        .filter(User::id.eq(5));
    let written = update!(User SET name = "ed", hair_color = None WHERE User::id == 5);
    for d in dialect::ALL {
        assert_eq!(built.compile(*d).unwrap(), written.compile(*d).unwrap());
    }
}

#[test]
fn update_without_set_is_an_error_naming_the_table() {
    let err = User::update()
        .filter(User::id.eq(1))
        .compile(&dialect::Sqlite)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "UPDATE of \"users\" sets no column; add .set(column, value)"
    );
}

#[test]
fn delete_with_and_without_where() {
    check(
        "delete",
        delete!(User WHERE User::id == 5 || User::name.like("tmp%")),
    );
    check("delete_all_rows", delete!(User));
    let built = User::delete()
        .filter(User::id.eq(5))
        .filter(User::name.eq("x"));
    let written = delete!(User WHERE User::id == 5 && User::name == "x");
    assert_eq!(
        built.compile(&dialect::Postgres).unwrap(),
        written.compile(&dialect::Postgres).unwrap()
    );
}
