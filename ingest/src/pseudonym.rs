//! Person pseudonyms: HMAC-SHA-256 under the secret key, of the normalised NIR when a valid one
//! is present, else of `territoire:id_personne`; the first 128 bits, in hexadecimal.

use copil_core::empreinte::Empreinte;

use crate::SecretKey;

/// Computes pseudonyms with one secret key.
#[derive(Clone)]
pub struct Pseudonymiser {
    mac: Empreinte,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser(<clé masquée>)")
    }
}

impl Pseudonymiser {
    /// A pseudonymiser for a key.
    pub fn new(key: &SecretKey) -> Self {
        Self {
            mac: Empreinte::new(key.as_bytes()),
        }
    }

    /// The pseudonym of an input string (32 hex digits).
    pub fn hash(&self, input: &str) -> String {
        self.mac.hex128(&[input.as_bytes()])
    }

    /// A person's pseudonym, and whether it comes from a valid NIR.
    pub fn person(&self, territoire: &str, id: &str, nir: Option<&str>) -> (String, bool) {
        match nir {
            Some(n) => (self.hash(n), true),
            None => (self.hash(&format!("{territoire}:{id}")), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_and_follow_the_nir_across_territories() {
        let dir = tempfile::tempdir().unwrap();
        let (p1, p2) = (dir.path().join("a"), dir.path().join("b"));
        SecretKey::create_file(&p1).unwrap();
        SecretKey::create_file(&p2).unwrap();
        let a = Pseudonymiser::new(&SecretKey::read_file(&p1).unwrap());
        let b = Pseudonymiser::new(&SecretKey::read_file(&p2).unwrap());
        let nir = "184127645108946";
        assert_eq!(
            a.person("dep-44", "1", Some(nir)),
            a.person("dep-59", "77", Some(nir))
        );
        assert_ne!(
            a.person("dep-44", "1", Some(nir)).0,
            b.person("dep-44", "1", Some(nir)).0,
            "another key, another pseudonym"
        );
        assert_ne!(a.person("dep-44", "1", None), a.person("dep-59", "1", None));
        let (p, from_nir) = a.person("dep-44", "1", None);
        assert!(!from_nir && p.len() == 32 && p.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn known_answer_of_rfc_4231_test_case_2() {
        // HMAC-SHA-256 with key "Jefe" and data "what do ya want for nothing?".
        let p = Pseudonymiser {
            mac: Empreinte::new(b"Jefe"),
        };
        assert_eq!(
            p.hash("what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c7"
        );
    }
}
