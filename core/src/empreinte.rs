//! Keyed hashing (HMAC-SHA-256), set up once: person pseudonyms at ingestion, export
//! pseudonyms and project keys, signed session cookies.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA-256 under one key; cloned for each message (the key schedule is done once).
#[derive(Clone)]
pub struct Empreinte {
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for Empreinte {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Empreinte(<clé masquée>)")
    }
}

impl Empreinte {
    /// A keyed hash under `key` (any length).
    pub fn new(key: &[u8]) -> Self {
        Self {
            mac: Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length"),
        }
    }

    /// The 32-byte digest of the concatenation of `parts`.
    pub fn digest(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }

    /// The first 128 bits of the digest, in lowercase hexadecimal (32 digits).
    pub fn hex128(&self, parts: &[&[u8]]) -> String {
        hex(&self.digest(parts)[..16])
    }

    /// Whether `tag` is the digest of `parts`, compared in constant time.
    pub fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        let mut mac = self.mac.clone();
        for p in parts {
            mac.update(p);
        }
        mac.verify_slice(tag).is_ok()
    }
}

/// Bytes in lowercase hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231, test case 2.
    #[test]
    fn hmac_sha256_of_the_rfc() {
        let e = Empreinte::new(b"Jefe");
        assert_eq!(
            hex(&e.digest(&[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            e.hex128(&[b"what do ya want for nothing?"]),
            "5bdcc146bf60754e6a042426089575c7"
        );
        let tag = e.digest(&[b"x"]);
        assert!(e.verify(&[b"x"], &tag) && !e.verify(&[b"y"], &tag));
    }
}
