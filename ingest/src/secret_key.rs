use std::fmt;
use std::io::Write;
use std::path::Path;

use crate::{Error, Result};

/// The secret pseudonymisation key (256 bits). Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<masquée>)")
    }
}

/// What [`SecretKey::create_file`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFileStatus {
    /// A new key was written.
    Created,
    /// A key file was already there: it was left untouched.
    KeptExisting,
}

impl SecretKey {
    /// The key's bytes, for keyed hashing.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Writes a new random key to `path` (64 hex digits), readable by its owner only. Never
    /// overwrites an existing file.
    pub fn create_file(path: &Path) -> Result<KeyFileStatus> {
        let err = |message: String| Error::Key {
            path: path.to_path_buf(),
            message,
        };
        if path.exists() {
            return Ok(KeyFileStatus::KeptExisting);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(format!("dossier impossible à créer : {e}")))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
            }
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| err(format!("aléa du système indisponible : {e}")))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = match options.open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Ok(KeyFileStatus::KeptExisting);
            }
            Err(e) => return Err(err(format!("écriture impossible : {e}"))),
        };
        writeln!(file, "{}", hex::encode(bytes))
            .map_err(|e| err(format!("écriture impossible : {e}")))?;
        file.sync_all()
            .map_err(|e| err(format!("écriture impossible : {e}")))?;
        Ok(KeyFileStatus::Created)
    }

    /// Reads the key file. A missing file gets a message saying how to create one.
    pub fn read_file(path: &Path) -> Result<Self> {
        let err = |message: String| Error::Key {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                err(
                    "fichier absent : sans clé, rien n'est ingéré (créez-la avec « copil init »)"
                        .into(),
                )
            } else {
                err(format!("lecture impossible : {e}"))
            }
        })?;
        let bytes = hex::decode(text.trim())
            .map_err(|_| err("contenu invalide : 64 chiffres hexadécimaux attendus".into()))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| err("contenu invalide : 64 chiffres hexadécimaux attendus".into()))?;
        Ok(Self(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets/cle.key");
        assert_eq!(
            SecretKey::create_file(&path).unwrap(),
            KeyFileStatus::Created
        );
        let first = std::fs::read(&path).unwrap();
        assert_eq!(first.len(), 65);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            SecretKey::create_file(&path).unwrap(),
            KeyFileStatus::KeptExisting
        );
        assert_eq!(std::fs::read(&path).unwrap(), first, "never overwritten");
        let key = SecretKey::read_file(&path).unwrap();
        assert_eq!(
            hex::encode(key.as_bytes()),
            String::from_utf8(first).unwrap().trim()
        );
        assert_eq!(format!("{key:?}"), "SecretKey(<masquée>)");
    }

    #[test]
    fn missing_or_malformed_keys_say_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let missing = SecretKey::read_file(&dir.path().join("absente.key"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("copil init"), "{missing}");
        let bad = dir.path().join("mauvaise.key");
        std::fs::write(&bad, "pas une clé").unwrap();
        let m = SecretKey::read_file(&bad).unwrap_err().to_string();
        assert!(m.contains("64 chiffres hexadécimaux"), "{m}");
        assert!(!m.contains("pas une clé"), "never echo the file's content");
    }
}
