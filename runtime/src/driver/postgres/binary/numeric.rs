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
}
