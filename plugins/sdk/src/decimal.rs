//! Decimal strings for money and quantities.
//!
//! The contract carries money and quantities as decimal strings (`"1250.5"`, `"0.3"`), never as
//! floats. PSAs send them as JSON numbers, which `serde_json` reads as doubles; [`from_json`]
//! turns them back into the text a person would have written:
//!
//! - integers are printed exactly (`10000`, `18446744073709551615`);
//! - other numbers print as the shortest text that reads back as the same double (`1250.5`,
//!   `0.1`, never `0.1000000000000000055`), and when that text has more than 15 significant
//!   digits (what a double holds exactly) it is rounded to 15, so a value that arrived one unit
//!   in the last place off prints as written (`0.1 + 0.2` prints `0.3`);
//! - there is never an exponent (`1e-7` prints `0.0000001`), a trailing zero or a `-0`.
//!
//! ```
//! use psa_sdk::decimal;
//! use serde_json::json;
//!
//! assert_eq!(decimal::from_json(&json!(45.10)).as_deref(), Some("45.1"));
//! assert_eq!(decimal::from_json(&json!(0.1 + 0.2)).as_deref(), Some("0.3"));
//! assert_eq!(decimal::from_json(&json!("12.50")).as_deref(), Some("12.5"));
//! assert_eq!(decimal::normalize(" +3. ").as_deref(), Some("3"));
//! assert_eq!(decimal::normalize("1e3"), None);
//! ```
//!
//! (serde_json's `arbitrary_precision` feature would keep the exact text, but it changes
//! `serde_json::Value` for every crate built together with the plugin, so it is not used.)

use serde_json::{Number, Value};

/// The most significant digits a double holds exactly.
const SIGNIFICANT_DIGITS: usize = 15;

/// A decimal string for a JSON number, or for a string holding a decimal number (validated and
/// normalised by [`normalize`]); `None` for anything else (null, booleans, words, exponents).
pub fn from_json(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => from_number(n),
        Value::String(s) => normalize(s),
        _ => None,
    }
}

/// A decimal string for a JSON number: integers exactly, other numbers by [`from_f64`].
pub fn from_number(n: &Number) -> Option<String> {
    if let Some(i) = n.as_i64() {
        Some(i.to_string())
    } else if let Some(u) = n.as_u64() {
        Some(u.to_string())
    } else {
        n.as_f64().and_then(from_f64)
    }
}

/// Validates a decimal text (`-12`, `0.50`, `+3.`, `.5`, surrounding blanks allowed) and returns
/// it in plain form (`-12`, `0.5`, `3`, `0.5`): no sign but a `-`, no leading or trailing zeros,
/// no `-0`. `None` for anything else: exponents, thousands separators, words, a lone `.`.
pub fn normalize(text: &str) -> Option<String> {
    let s = text.trim();
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let body = if frac.is_empty() {
        int.to_string()
    } else {
        format!("{int}.{frac}")
    };
    Some(if negative && body != "0" {
        format!("-{body}")
    } else {
        body
    })
}

/// A double as a plain decimal string without float artefacts (see the module documentation);
/// `None` for NaN and the infinities, which have no decimal form.
pub fn from_f64(f: f64) -> Option<String> {
    if !f.is_finite() {
        return None;
    }
    if f == 0.0 {
        return Some("0".to_string());
    }
    // Rust's `Display` of a float is the shortest round-trip text and never uses an exponent.
    let shortest = format!("{f}");
    let significant = shortest
        .bytes()
        .filter(u8::is_ascii_digit)
        .skip_while(|b| *b == b'0')
        .count();
    if significant <= SIGNIFICANT_DIGITS {
        return normalize(&shortest);
    }
    // Round to 15 significant digits, exactly: `-d.dddddddddddddde±x`.
    let sci = format!("{:.*e}", SIGNIFICANT_DIGITS - 1, f.abs());
    let (mantissa, exp) = sci.split_once('e')?;
    let exp: i32 = exp.parse().ok()?;
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // The decimal point sits after `exp + 1` digits.
    let point = exp + 1;
    let plain = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    let sign = if f < 0.0 { "-" } else { "" };
    normalize(&format!("{sign}{plain}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_numbers_have_no_float_artefacts() {
        let cases = [
            (json!(1250.5), "1250.5"),
            (json!(1250.50), "1250.5"),
            (json!(10000), "10000"),
            (json!(10000.0), "10000"),
            (json!(0.1), "0.1"),
            (json!(0.1 + 0.2), "0.3"),
            (json!(-2.5), "-2.5"),
            (json!(19.99), "19.99"),
            (json!(1e-7), "0.0000001"),
            (json!(1e21), "1000000000000000000000"),
            (json!(1.0 / 3.0), "0.333333333333333"),
            (json!(-1.0 / 3.0), "-0.333333333333333"),
            (json!(2.0 / 3.0), "0.666666666666667"),
            (json!(123456789.123), "123456789.123"),
            (json!(-0.0), "0"),
            (json!(0), "0"),
            (json!(7), "7"),
            (json!(-7), "-7"),
            (json!(18446744073709551615u64), "18446744073709551615"),
            (json!(i64::MIN), "-9223372036854775808"),
            (json!("12.50"), "12.5"),
            (json!("-0.00"), "0"),
            (json!("007"), "7"),
        ];
        for (value, expected) in cases {
            assert_eq!(from_json(&value).as_deref(), Some(expected), "{value}");
        }
        // Parsed from text, the way PSA answers arrive.
        let v: Value = serde_json::from_str(
            r#"{"q": 3.3, "p": 0.07, "u": 45.1, "big": 99999999.99, "tiny": 1.5e-10}"#,
        )
        .unwrap();
        assert_eq!(from_json(&v["q"]).unwrap(), "3.3");
        assert_eq!(from_json(&v["p"]).unwrap(), "0.07");
        assert_eq!(from_json(&v["u"]).unwrap(), "45.1");
        assert_eq!(from_json(&v["big"]).unwrap(), "99999999.99");
        assert_eq!(from_json(&v["tiny"]).unwrap(), "0.00000000015");
        for bad in [
            json!(null),
            json!("1e5"),
            json!("1,000"),
            json!("abc"),
            json!(true),
            json!("."),
            json!([1]),
            json!({"value": 1}),
        ] {
            assert_eq!(from_json(&bad), None, "{bad}");
        }
    }

    #[test]
    fn rounds_to_fifteen_significant_digits_exactly() {
        // 16+ significant digits are rounded at the 15th, also above 10^15 (no digit is kept
        // that a double does not hold) and right below a power of ten.
        assert_eq!(from_f64(1234567890123456.7).unwrap(), "1234567890123460");
        assert_eq!(from_f64(999999999999999.94).unwrap(), "1000000000000000");
        assert_eq!(from_f64(9.999999999999998).unwrap(), "10");
        assert_eq!(from_f64(0.30000000000000004).unwrap(), "0.3");
        assert_eq!(
            from_f64(-1e-20 / 3.0).unwrap(),
            "-0.00000000000000000000333333333333333"
        );
        assert_eq!(from_f64(f64::MAX).unwrap().len(), 309);
        assert_eq!(from_f64(f64::NAN), None);
        assert_eq!(from_f64(f64::INFINITY), None);
        assert_eq!(from_f64(f64::NEG_INFINITY), None);
        // Every result reads back as a decimal number.
        for f in [1.1, 2.675, 1e15, 1e16 + 2.0, 5e-324, 123.456e7] {
            let text = from_f64(f).unwrap();
            assert_eq!(normalize(&text).as_deref(), Some(text.as_str()), "{f}");
            assert!(!text.contains('e'), "{text}");
        }
    }

    #[test]
    fn normalizes_decimal_text() {
        for (given, expected) in [
            ("12", "12"),
            ("-12", "-12"),
            ("+12", "12"),
            (" 0.50 ", "0.5"),
            ("3.", "3"),
            (".5", "0.5"),
            ("-.5", "-0.5"),
            ("000", "0"),
            ("-0", "0"),
            ("-0.000", "0"),
            ("0012.3400", "12.34"),
            ("1234567.125", "1234567.125"),
        ] {
            assert_eq!(normalize(given).as_deref(), Some(expected), "{given}");
        }
        for bad in [
            "", " ", ".", "-", "+", "-.", "1e3", "1E3", "1,5", "1 000", "--1", "+-1", "0x10",
            "NaN", "inf", "1.2.3", "١٢",
        ] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }
}
