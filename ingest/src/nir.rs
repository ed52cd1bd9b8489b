//! The NIR (numéro d'inscription au répertoire): 13 characters and a 2-digit key,
//! key = 97 − (number mod 97), Corsica's `2A` / `2B` read as `19` / `18` for the check.

/// Removes spaces, dots and dashes and upper-cases the NIR; `None` unless 15 characters remain.
pub fn normalise(raw: &str) -> Option<String> {
    let s: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '\u{a0}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (s.len() == 15 && s.is_ascii()).then_some(s)
}

/// The key of the 13 first characters of a NIR, if they are well formed.
pub fn key(body: &str) -> Option<u32> {
    if body.len() != 13 || !body.is_ascii() {
        return None;
    }
    let digits: String = match &body[5..7] {
        "2A" => format!("{}19{}", &body[..5], &body[7..]),
        "2B" => format!("{}18{}", &body[..5], &body[7..]),
        _ => body.to_string(),
    };
    if !digits.bytes().all(|b| b.is_ascii_digit())
        || !matches!(&digits[..1], "1" | "2" | "3" | "4" | "7" | "8")
    {
        return None;
    }
    let number: u64 = digits.parse().ok()?;
    Some(97 - (number % 97) as u32)
}

/// Whether `raw` is a well-formed NIR whose key matches.
pub fn is_valid(raw: &str) -> bool {
    normalise(raw).is_some_and(|n| {
        let given: Option<u32> = n[13..].parse().ok();
        given.is_some() && key(&n[..13]) == given
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        // 1 84 12 76 451 089 → 97 - (1841276451089 mod 97) = 46.
        assert_eq!(key("1841276451089"), Some(46));
        assert!(is_valid("184127645108946"));
        assert!(is_valid("1 84 12 76 451 089 46"));
        assert!(!is_valid("184127645108947"));
        assert!(!is_valid("18412764510894"));
        assert!(!is_valid("ABCDEFGHIJKLMNO"));
    }

    #[test]
    fn corsica_is_read_as_19_and_18() {
        let body_a = "185032A004012";
        let k = key(body_a).unwrap();
        let expected = 97 - (1_850_319_004_012_u64 % 97) as u32;
        assert_eq!(k, expected);
        assert!(is_valid(&format!("{body_a}{k:02}")));
        let body_b = "290082B033120";
        let kb = key(body_b).unwrap();
        assert_eq!(kb, 97 - (2_900_818_033_120_u64 % 97) as u32);
    }
}
