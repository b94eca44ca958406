//! PostgreSQL's binary NUMERIC: `ndigits, weight, sign, dscale` (i16/i16/u16/u16), then
//! `ndigits` base-10000 digits; the value is Σ digit[i] · 10000^(weight − i).

use bytes::{BufMut, BytesMut};

use super::BoxError;

const NEG: u16 = 0x4000;
const NAN: u16 = 0xC000;

/// Decimal text of a binary NUMERIC, e.g. `-12.340`, keeping the display scale.
pub(super) fn decode(raw: &[u8]) -> Option<String> {
    let word = |i: usize| -> Option<u16> {
        Some(u16::from_be_bytes(
            raw.get(i * 2..i * 2 + 2)?.try_into().ok()?,
        ))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i32::from(word(1)? as i16);
    let sign = word(2)?;
    let dscale = usize::from(word(3)?);
    match sign {
        NAN => return Some("NaN".into()),
        0xD000 => return Some("Infinity".into()),
        0xF000 => return Some("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<Option<_>>()?;
    let mut out = String::new();
    if sign == NEG {
        out.push('-');
    }
    // Integer part: groups with index 0..=weight.
    if weight < 0 {
        out.push('0');
    } else {
        for i in 0..=weight {
            let d = digits.get(i as usize).copied().unwrap_or(0);
            if i == 0 {
                out.push_str(&d.to_string());
            } else {
                out.push_str(&format!("{d:04}"));
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let mut frac = String::new();
        let mut i = weight + 1;
        while frac.len() < dscale {
            let d = if i < 0 {
                0
            } else {
                digits.get(i as usize).copied().unwrap_or(0)
            };
            frac.push_str(&format!("{d:04}"));
            i += 1;
        }
        frac.truncate(dscale);
        out.push_str(&frac);
    }
    Some(out)
}

/// Binary NUMERIC of decimal text (`-?digits[.digits]`, or an exponent form from floats).
pub(super) fn encode(text: &str, out: &mut BytesMut) -> Result<(), BoxError> {
    let text = text.trim();
    if text == "NaN" {
        out.put_slice(&[0, 0, 0, 0, 0xC0, 0, 0, 0]);
        return Ok(());
    }
    let plain;
    let text = if text.contains(['e', 'E']) {
        let v: f64 = text
            .parse()
            .map_err(|_| format!("{text:?} is not a decimal number"))?;
        plain = format!("{v:.}");
        plain.as_str()
    } else {
        text
    };
    if !crate::value::temporal::is_decimal_text(text) {
        return Err(format!("{text:?} is not a decimal number").into());
    }
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let int = int.trim_start_matches('0');
    // Pad the integer part on the left and the fraction on the right to whole groups.
    let int_pad = (4 - int.len() % 4) % 4;
    let frac_pad = (4 - frac.len() % 4) % 4;
    let digits_text = format!("{}{int}{frac}{}", "0".repeat(int_pad), "0".repeat(frac_pad));
    let mut groups: Vec<i16> = digits_text
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0')))
        .collect();
    let int_groups = (int.len() + int_pad) / 4;
    let mut weight = int_groups as i32 - 1;
    // Strip leading zero groups (adjusting the weight) and trailing zero groups.
    while groups.first() == Some(&0) {
        groups.remove(0);
        weight -= 1;
    }
    while groups.last() == Some(&0) {
        groups.pop();
    }
    if groups.is_empty() {
        weight = 0;
    }
    let too_big = || -> BoxError { format!("{text} has too many digits for NUMERIC").into() };
    out.put_i16(i16::try_from(groups.len()).map_err(|_| too_big())?);
    out.put_i16(i16::try_from(weight).map_err(|_| too_big())?);
    out.put_u16(if neg && !groups.is_empty() { NEG } else { 0 });
    out.put_u16(u16::try_from(frac.len()).map_err(|_| too_big())?);
    for g in groups {
        out.put_i16(g);
    }
    Ok(())
}

/// An integral decimal (`42`, `42.000`) as `i64`.
pub(super) fn to_i64(text: &str) -> Option<i64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if !frac.bytes().all(|b| b == b'0') {
        return None;
    }
    int.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(text: &str) -> String {
        let mut buf = BytesMut::new();
        encode(text, &mut buf).unwrap();
        decode(&buf).unwrap()
    }

    #[test]
    fn numeric_text_survives_the_binary_format() {
        for t in [
            "0",
            "1",
            "-1",
            "12.340",
            "10000",
            "123456789.000001",
            "0.0001",
            "-0.5",
            "99999999999999999999.99",
        ] {
            assert_eq!(round_trip(t), t);
        }
        assert_eq!(round_trip("007.50"), "7.50");
        assert_eq!(to_i64("42.000"), Some(42));
        assert_eq!(to_i64("42.5"), None);
    }

    fn encoded(text: &str) -> Vec<u8> {
        let mut buf = BytesMut::new();
        encode(text, &mut buf).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        buf.to_vec()
    }

    /// `numeric_send(x)` as PostgreSQL 15 answers it, as words: ndigits, weight, sign, dscale,
    /// then the base-10000 digits.
    fn wire(words: &[u16]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_be_bytes()).collect()
    }

    #[test]
    fn numeric_encodes_as_postgresql_sends_it() {
        for (text, words) in [
            ("12.340", &[2, 0, 0, 3, 12, 3400][..]),
            ("0", &[0, 0, 0, 0]),
            ("0.00", &[0, 0, 0, 2]),
            ("-5", &[1, 0, NEG, 0, 5]),
            ("10000", &[1, 1, 0, 0, 1]),
            ("-0.0001", &[1, 0xffff, NEG, 4, 1]),
            ("100000000000000000000", &[1, 5, 0, 0, 1]),
            ("123456789.000001", &[5, 2, 0, 6, 1, 2345, 6789, 0, 100]),
            ("NaN", &[0, 0, NAN, 0]),
        ] {
            assert_eq!(encoded(text), wire(words), "{text}");
            assert_eq!(decode(&wire(words)).as_deref(), Some(text), "{text}");
        }
    }

    #[test]
    fn negative_zero_encodes_without_its_sign() {
        assert_eq!(encoded("-0"), encoded("0"));
        assert_eq!(round_trip("-0.00"), "0.00");
    }

    #[test]
    fn small_fractions_keep_their_leading_zero_groups_as_weight() {
        assert_eq!(encoded("0.00012345"), wire(&[2, 0xffff, 0, 8, 1, 2345]));
        assert_eq!(round_trip("0.00012345"), "0.00012345");
        assert_eq!(round_trip("-0.000000001"), "-0.000000001");
        assert_eq!(round_trip("1.00000001"), "1.00000001");
    }

    #[test]
    fn infinities_and_nan_decode_to_their_names() {
        assert_eq!(
            decode(&wire(&[0, 0, 0xD000, 32])).as_deref(),
            Some("Infinity")
        );
        assert_eq!(
            decode(&wire(&[0, 0, 0xF000, 32])).as_deref(),
            Some("-Infinity")
        );
        assert_eq!(decode(&wire(&[0, 0, NAN, 0])).as_deref(), Some("NaN"));
    }

    #[test]
    fn the_display_scale_cuts_or_pads_the_fraction() {
        // 1.2345 sent with scale 2 (never by the server, but the scale governs) and 1 with 6.
        assert_eq!(
            decode(&wire(&[2, 0, 0, 2, 1, 2345])).as_deref(),
            Some("1.23")
        );
        assert_eq!(decode(&wire(&[1, 0, 0, 6, 1])).as_deref(), Some("1.000000"));
    }

    #[test]
    fn exponents_from_floats_become_plain_decimals() {
        assert_eq!(round_trip("1e3"), "1000");
        assert_eq!(round_trip("1.5E-3"), "0.0015");
        assert_eq!(round_trip("-2.5e2"), "-250");
        assert_eq!(round_trip(" 1.5 "), "1.5");
    }

    #[test]
    fn text_that_is_not_a_decimal_is_refused() {
        for text in [
            "", "abc", "1.2.3", "1.", ".5", "+1", "--1", "1e", "Infinity", "inf",
        ] {
            let mut buf = BytesMut::new();
            let err = encode(text, &mut buf).expect_err(text).to_string();
            assert!(err.ends_with("is not a decimal number"), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_weight_beyond_numeric_range_is_refused() {
        let huge = format!("1{}", "0".repeat(4 * 40_000));
        let mut buf = BytesMut::new();
        let err = encode(&huge, &mut buf).unwrap_err().to_string();
        assert!(
            err.ends_with("has too many digits for NUMERIC"),
            "{err:.40}"
        );
    }

    #[test]
    fn truncated_bytes_decode_to_nothing() {
        assert_eq!(decode(&[]), None);
        assert_eq!(decode(&[0, 1, 0, 0, 0, 0]), None);
        // Two digits announced, one sent.
        assert_eq!(decode(&wire(&[2, 0, 0, 0, 1])), None);
    }

    #[test]
    fn only_integral_decimals_in_range_are_integers() {
        assert_eq!(to_i64("-0.000"), Some(0));
        assert_eq!(to_i64("9223372036854775807"), Some(i64::MAX));
        assert_eq!(to_i64("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(to_i64("9223372036854775808"), None);
        assert_eq!(to_i64("1.0001"), None);
        assert_eq!(to_i64("NaN"), None);
        assert_eq!(to_i64("Infinity"), None);
    }
}
