//! The URL parser and the masking of URL text: no input panics; a URL that parses prints
//! (unmasked) to text that parses back to it; the masking of the input hides at least what
//! the parser took as the password.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quarry_core::Url;
use quarry_core::url::mask;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let masked = mask(s);
    match Url::parse(s) {
        Ok(url) => {
            let again = Url::parse(&url.render_as_string(false))
                .unwrap_or_else(|e| panic!("{s:?} printed as text that does not parse: {e}"));
            assert_eq!(again, url, "{s:?} does not round-trip");
            if let Some(pw) = url.password() {
                // The masking hides at least the password: the text shrinks by its length,
                // less the `***` written instead (and what short secret query values grow by).
                let pairs = s.matches(['&', '?']).count() + 1;
                assert!(
                    masked.len() + pw.len() <= s.len() + 3 + 3 * pairs,
                    "{s:?} masks to {masked:?}, hiding less than the password {pw:?}"
                );
                assert!(!url.to_string().contains(&format!(":{pw}@")) || pw.contains("***"));
            }
        }
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
});
