//! French number (and month) formatting: decimal comma, thousands grouped by a narrow no-break space
//! (U+202F, as `Intl.NumberFormat("fr-FR")` writes them), and the minus sign U+2212 (never a
//! hyphen, never « −0 »).

/// The narrow no-break space (U+202F): thousands separator, and space before « % » or « j ».
pub const NNBSP: char = '\u{202F}';

/// The minus sign (U+2212).
pub const MINUS: char = '\u{2212}';

/// `v` with `decimals` decimals, a decimal comma and grouped thousands; `None` if not finite.
///
/// ```
/// use copil_core::nombres::decimal;
/// assert_eq!(decimal(45.25, 1).unwrap(), "45,2");
/// assert_eq!(decimal(-0.01, 1).unwrap(), "0,0");
/// assert_eq!(decimal(f64::NAN, 1), None);
/// ```
pub fn decimal(v: f64, decimals: usize) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    let digits = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match digits.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (digits.as_str(), None),
    };
    let mut out = String::with_capacity(digits.len() + 8);
    // No « −0 »: the sign is written only when a non-zero digit is.
    if v < 0.0 && digits.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        out.push(MINUS);
    }
    out.push_str(&grouped(int));
    if let Some(frac) = frac {
        out.push(',');
        out.push_str(frac);
    }
    Some(out)
}

/// A whole number with its thousands grouped: `16367` → « 16 367 ».
pub fn entier(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    if n < 0 {
        format!("{MINUS}{}", grouped(&digits))
    } else {
        grouped(&digits)
    }
}

/// ASCII digits grouped by three from the right.
fn grouped(digits: &str) -> String {
    let len = digits.len();
    let mut out = String::with_capacity(len + len / 3 * 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(NNBSP);
        }
        out.push(c);
    }
    out
}

/// « juin 2024 ».
pub fn month_label(m: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    const NAMES: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    format!("{} {}", NAMES[m.month0() as usize], m.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(s: &str) -> String {
        s.replace(NNBSP, " ")
    }

    #[test]
    fn decimals_commas_groups_and_the_minus_sign() {
        assert_eq!(plain(&decimal(1234567.0, 0).unwrap()), "1 234 567");
        assert_eq!(decimal(45.25, 1).unwrap(), "45,2");
        assert_eq!(decimal(-3.5, 1).unwrap(), "\u{2212}3,5");
        assert_eq!(decimal(-0.04, 1).unwrap(), "0,0");
        assert_eq!(decimal(999.0, 0).unwrap(), "999");
        assert_eq!(decimal(f64::INFINITY, 0), None);
    }

    #[test]
    fn months() {
        let m = chrono::NaiveDate::from_ymd_opt(2025, 8, 1).unwrap();
        assert_eq!(month_label(m), "août 2025");
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(plain(&entier(0u64)), "0");
        assert_eq!(plain(&entier(1000u64)), "1 000");
        assert_eq!(plain(&entier(548_723u64)), "548 723");
        assert_eq!(plain(&entier(-12_345i64)), "\u{2212}12 345");
    }
}
