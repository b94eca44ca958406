//! The `text()` scanner: no statement panics on any dialect's lexical rules; one without binds
//! compiles to itself, less its `\:` escapes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_core::dialect::ALL;
use quarry_core::{Compile, text};

fuzz_target!(|data: &[u8]| {
    let Ok(sql) = std::str::from_utf8(data) else {
        return;
    };
    for dialect in ALL {
        // Unbound names are an error naming them, never a panic.
        if let Ok(compiled) = text(sql.to_owned()).compile(*dialect) {
            assert!(compiled.params().is_empty());
            if !sql.contains('\\') {
                assert_eq!(compiled.sql(), sql);
            }
        }
    }
});
