use super::*;

fn parse(s: &str) -> Url {
    match Url::parse(s) {
        Ok(u) => u,
        Err(e) => panic!("{s}: {e}"),
    }
}

/// Everything a caller may see of `s`: `Display`, `Debug` and the error's texts.
fn shown(s: &str) -> String {
    match Url::parse(s) {
        Ok(u) => format!("{u} {u:?}"),
        Err(e) => format!("{e} {e:?}"),
    }
}

#[test]
fn sqlite_urls_follow_sqlalchemy_slashes() {
    assert_eq!(parse("sqlite://").database(), None);
    assert_eq!(parse("sqlite:///rel.db").database(), Some("rel.db"));
    assert_eq!(parse("sqlite:////abs/x.db").database(), Some("/abs/x.db"));
    assert_eq!(parse("sqlite:///a@b.db").database(), Some("a@b.db"));
}

#[test]
fn full_url_parts_are_decoded() {
    let u = parse("mysql+mysql://us%20er:p%3Aw@db.example:3307/test?charset=utf8mb4");
    assert_eq!(u.dialect_name(), "mysql");
    assert_eq!(u.driver_name(), Some("mysql"));
    assert_eq!(u.username(), Some("us er"));
    assert_eq!(u.password(), Some("p:w"));
    assert_eq!(u.host(), Some("db.example"));
    assert_eq!(u.port(), Some(3307));
    assert_eq!(u.query(), &[("charset".to_owned(), "utf8mb4".to_owned())]);
}

#[test]
fn any_well_formed_dialect_name_parses_and_others_are_named() {
    // Whether "oracle" exists is the registry's question (driver::for_url).
    let u = parse("oracle+cx_oracle://x");
    assert_eq!(
        (u.dialect_name(), u.driver_name()),
        ("oracle", Some("cx_oracle"))
    );
    let e = Url::parse("ora-cle://x").unwrap_err().to_string();
    assert!(e.contains("dialect name \"ora-cle\""), "{e}");
    assert!(e.contains("sqlite, postgresql, mysql, mariadb"), "{e}");
    let e = Url::parse("oracle+cx.oracle://x").unwrap_err().to_string();
    assert!(e.contains("driver name \"cx.oracle\""), "{e}");
}

#[test]
fn password_never_shows_in_errors_or_display() {
    let e = Url::parse("postgresql://u:sekrit@h:99999/db")
        .unwrap_err()
        .to_string();
    assert!(!e.contains("sekrit"), "{e}");
    assert!(e.contains("port \"99999\""), "{e}");
    let u = parse("postgresql://u:sekrit@h/db");
    assert!(!format!("{u} {u:?}").contains("sekrit"));
}

#[test]
fn passwords_with_raw_delimiters_are_parsed_whole_and_masked() {
    // The forms of issue 18: each once leaked "sekrit" through Display, Debug or an error.
    for (url, password) in [
        ("postgresql://u:pa/sekrit@h/db", "pa/sekrit"),
        ("postgresql://u:12/sekrit@h/db", "12/sekrit"),
        ("postgresql://u:pa?sekrit@h/db", "pa?sekrit"),
        ("postgresql://u:p@sekrit@h/db", "p@sekrit"),
        ("postgresql://u:sek:rit@h:5/db?x=1", "sek:rit"),
        ("postgresql://u:sekrit@h/db?a=b@c", "sekrit"),
    ] {
        let u = parse(url);
        assert_eq!(u.password(), Some(password), "{url}");
        assert_eq!(u.host(), Some("h"), "{url}");
        assert!(u.database().is_some_and(|d| d.starts_with("db")), "{url}");
        assert!(!shown(url).contains("sekrit"), "{url}: {}", shown(url));
        assert!(!shown(url).contains("rit"), "{url}: {}", shown(url));
    }
}

#[test]
fn urls_that_fail_to_parse_are_masked_too() {
    for url in [
        "postgresql:/u:sekrit@h/db",
        "postgresql:u:sekrit@h/db",
        "u:sekrit@h/db",
        "postgresql://u:sekrit@h:port/db",
        "postgresql://u:sekrit@h/db?bad",
        "postgresql://u:sekrit@h/d%zzb",
        "postgresql://u:sekrit@h@x/db",
        "post gres://u:sekrit@h/db",
        "mysql://u@h/db?password=sekrit&bad",
        "mysql://u@h/db?PASSWORD=sekrit&bad",
        "mysql://u@h/db?ssl_password=sekrit&x=%zz",
        "mysql://u@h/db?pass%77ord=sekrit&bad",
    ] {
        let shown = shown(url);
        assert!(!shown.contains("sekrit"), "{url}: {shown}");
        let masked = mask(url);
        assert!(!masked.contains("sekrit"), "{url}: {masked}");
        assert!(masked.contains("***"), "{url}: {masked}");
    }
}

#[test]
fn secret_like_query_arguments_are_masked_in_any_case() {
    let u = parse("mysql://u@h/db?PASSWORD=a1&ssl_password=a2&Auth_Token=a3&sslkey=a4&x=shown");
    for text in [u.to_string(), format!("{u:?}")] {
        for secret in ["a1", "a2", "a3", "a4"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("x=shown"), "{text}");
    }
    assert!(is_secret_key("PassWord") && is_secret_key("pwd") && !is_secret_key("charset"));
}

#[test]
fn arg_errors_mask_secret_values() {
    let u = parse("mysql://u@h/db");
    let e = u
        .arg_error("ssl_password", "sekrit", "is not allowed")
        .to_string();
    assert!(
        !e.contains("sekrit") && e.contains("ssl_password=***"),
        "{e}"
    );
    let e = u
        .arg_error("charset", "latin1", "is not allowed")
        .to_string();
    assert!(e.contains("charset=latin1"), "{e}");
}

#[test]
fn display_round_trips_through_percent_encoding() {
    for url in [
        "postgresql://u%40x:p%2Fw@h%40st:5432/d%3Fb?application_name=a%26b&options=-c%20x%3D1",
        "postgresql://[::1]:5432/db",
        "postgresql://:pw@h/db",
        "postgresql://u:@h/db",
        "sqlite:////abs/dir with space/x.db",
        "sqlite:///C:/x.db?mode=ro",
        "sqlite:///:memory:",
        "sqlite://",
        "mysql+mysql://u@h/db?init_command=SET%20a%3D1&init_command=SET%20b%3D2",
        "oracle://u@h%2Fx/service%20name",
    ] {
        let u = parse(url);
        let again = parse(&u.render_as_string(false));
        assert_eq!(again, u, "{url} -> {}", u.render_as_string(false));
        if u.password().is_none() {
            assert_eq!(parse(&u.to_string()), u, "{url} -> {u}");
        }
    }
}

#[test]
fn hosts_holding_an_at_sign_are_refused() {
    let e = Url::parse("postgresql://u@h@x/db").unwrap_err().to_string();
    assert!(e.contains("%40"), "{e}");
}

#[test]
fn seconds_arguments_name_the_argument_and_the_range() {
    let u = parse("sqlite://");
    let range = SecondsRange {
        min: 0.0,
        min_inclusive: true,
        max: 100.0,
        whole: false,
    };
    assert_eq!(
        u.seconds_arg("timeout", "1.5", range).ok(),
        Some(Duration::from_millis(1500))
    );
    assert_eq!(
        u.seconds_arg("timeout", "0", range).ok(),
        Some(Duration::ZERO)
    );
    for bad in ["inf", "-inf", "NaN", "-1", "1e300", "101", "x", "", "0x10"] {
        let e = match u.seconds_arg("timeout", bad, range) {
            Ok(d) => panic!("{bad:?} gave {d:?}"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(&format!("timeout={bad} ")), "{e}");
        assert!(e.contains("from 0 to 100"), "{e}");
    }
    let whole = SecondsRange {
        whole: true,
        min_inclusive: false,
        ..range
    };
    let e = u.seconds_arg("t", "1.5", whole).unwrap_err().to_string();
    assert!(
        e.contains("a whole number of seconds greater than 0 and at most 100"),
        "{e}"
    );
    assert!(u.seconds_arg("t", "0", whole).is_err());
}

#[test]
fn missing_scheme_separator_explains_the_form() {
    let e = Url::parse("sqlite:memory").unwrap_err().to_string();
    assert!(e.contains("expected dialect[+driver]://"), "{e}");
}

#[test]
fn lexing_agrees_with_masking_on_the_password() {
    // Where the parser finds a password, the masking hides at least that much.
    for rest in [
        "u:a/b@h/db",
        "u:a?b@h",
        "u:a@b@h/x?y=z@w",
        "h:5432/db@x",
        "u@h",
        "h/db@x",
    ] {
        let parts = lex::split(rest);
        let masked = mask_text(&format!("pg://{rest}"));
        if let Some((_, Some(pw))) = parts.userinfo {
            assert!(!masked.contains(pw), "{rest}: {masked}");
        }
    }
}

mod generated {
    use super::*;
    use proptest::prelude::*;

    fn config() -> ProptestConfig {
        ProptestConfig {
            cases: 512,
            failure_persistence: None,
            rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
            rng_seed: proptest::test_runner::RngSeed::Fixed(18),
            ..ProptestConfig::default()
        }
    }

    /// A password as people type it into a URL, unencoded: it starts with `ZQ`, which nothing
    /// else generated here holds, so that any leak of it is found.
    fn password() -> impl Strategy<Value = String> {
        "[a-z0-9/?:#&=+!~*$,; ]{0,12}".prop_map(|rest| format!("ZQ{rest}"))
    }

    fn query() -> impl Strategy<Value = Vec<(String, String)>> {
        let key = prop::sample::select(vec![
            "application_name",
            "password",
            "PassWord",
            "ssl_password",
            "sslkey",
            "auth_token",
            "charset",
        ]);
        proptest::collection::vec((key, "[a-z0-9]{0,6}"), 0..4)
            .prop_map(|v| v.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn raw_passwords_parse_whole_and_never_show(
            user in "[a-z]{1,6}",
            pw in password(),
            host in "[a-z][a-z0-9.-]{0,10}",
            port in proptest::option::of(any::<u16>()),
            db in proptest::option::of("[a-z0-9_]{1,8}"),
            query in query(),
        ) {
            let mut url = format!("postgresql://{user}:{pw}@{host}");
            if let Some(p) = port {
                url.push_str(&format!(":{p}"));
            }
            if let Some(db) = &db {
                url.push_str(&format!("/{db}"));
            }
            for (i, (k, v)) in query.iter().enumerate() {
                url.push(if i == 0 { '?' } else { '&' });
                url.push_str(&format!("{k}={v}"));
            }
            let parsed = Url::parse(&url).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.password(), Some(pw.as_str()));
            prop_assert_eq!(parsed.host(), Some(host.as_str()));
            prop_assert_eq!(parsed.port(), port);
            prop_assert_eq!(parsed.database(), db.as_deref());
            prop_assert_eq!(parsed.query(), &query[..]);
            for shown in [parsed.to_string(), format!("{parsed:?}"), mask(&url)] {
                prop_assert!(!shown.contains("ZQ"), "{}", shown);
                for (k, v) in &query {
                    if is_secret_key(k) && !v.is_empty() {
                        prop_assert!(shown.contains(&format!("{k}=***")), "{}", shown);
                    }
                }
            }
            let again = Url::parse(&parsed.render_as_string(false))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(again, parsed);
        }

        #[test]
        fn any_text_parses_or_fails_without_panicking_and_round_trips(s in "\\PC{0,40}") {
            if let Ok(url) = Url::parse(&s) {
                let again = Url::parse(&url.render_as_string(false))
                    .map_err(|e| TestCaseError::fail(format!("{s:?}: {e}")))?;
                prop_assert_eq!(again, url);
            }
            let _ = mask(&s);
        }

        #[test]
        fn mutated_urls_never_show_a_password(
            pw in "[a-z0-9/?:#]{0,8}",
            cut in 0usize..40,
            insert in prop::sample::select(vec!["", "/", "?", "@", ":", "%", "//", "%zz", "&x", "[", "]"]),
        ) {
            let original = format!("mysql://app:ZQ{pw}@db.example:3306/shop?password=ZQx&charset=utf8");
            let at = original.char_indices().map(|(i, _)| i).nth(cut).unwrap_or(original.len());
            let mutated = format!("{}{insert}{}", &original[..at], &original[at..]);
            let shown = match Url::parse(&mutated) {
                Ok(u) => {
                    // What the parser took as the password (or a secret argument) is hidden.
                    let mut shown = format!("{u} {u:?}");
                    if let Some(p) = u.password().filter(|p| p.len() > 2) {
                        prop_assert!(!shown.contains(p), "{} -> {}", mutated, shown);
                    }
                    shown.push_str(&mask(&mutated));
                    shown
                }
                Err(e) => format!("{e} {e:?}"),
            };
            // The secret argument, where the mutation left it one, is masked.
            if mutated.contains("password=ZQx") {
                prop_assert!(!shown.contains("ZQx"), "{} -> {}", mutated, shown);
            }
        }
    }
}

#[test]
fn multi_host_urls_list_their_hosts_in_order_and_round_trip() {
    let u = parse("postgresql://app:pw@h1:5432,h2,[::1]:5433/db?target_session_attrs=read-write");
    let hosts: Vec<_> = u.hosts().collect();
    assert_eq!(
        hosts,
        [
            (Some("h1"), Some(5432)),
            (Some("h2"), None),
            (Some("::1"), Some(5433))
        ]
    );
    assert_eq!((u.host(), u.port()), (Some("h1"), Some(5432)));
    assert_eq!(parse(&u.render_as_string(false)), u);
    assert_eq!(
        u.to_string(),
        "postgresql://app:***@h1:5432,h2,[::1]:5433/db?target_session_attrs=read-write"
    );
    // A comma inside a host is encoded, so it stays one host.
    let one = parse("postgresql://a%2Cb/db");
    assert_eq!(one.hosts().count(), 1);
    assert_eq!(parse(&one.to_string()), one);
    let e = Url::parse("postgresql://h1,,h2/db")
        .unwrap_err()
        .to_string();
    assert!(e.contains("empty entry"), "{e}");
    let e = Url::parse("postgresql://h1,h2:x/db")
        .unwrap_err()
        .to_string();
    assert!(e.contains("port \"x\""), "{e}");
}
