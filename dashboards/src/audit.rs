//! The audit log: one JSON line per security-relevant action (login, logout, lockout, upload,
//! export, account change), with who, what, when and the warehouse version. Appended, never
//! rewritten; never holds a password, hash, token or cookie.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use crate::error::HttpError;

/// One entry.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// When (RFC 3339, UTC).
    pub horodatage: String,
    /// Login of the account acting (or attempted).
    pub compte: String,
    /// Its role code (empty when unknown).
    pub role: String,
    /// What happened: `connexion`, `echec_connexion`, `verrouillage`, `deconnexion`, `depot`,
    /// `export`, `compte`.
    pub action: String,
    /// Details: export kind, format, filters, versions, rows, checksum; file of an upload.
    pub details: Value,
}

/// The log file.
#[derive(Debug)]
pub struct Audit {
    path: PathBuf,
    lock: Mutex<()>,
}

impl Audit {
    /// The log at `path` (created at the first entry).
    pub fn new(path: &Path) -> Audit {
        Audit {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry` and flushes it to disk. An export whose entry cannot be written is not
    /// served, so the error is returned.
    pub fn record(&self, entry: &Entry) -> Result<(), HttpError> {
        let mut line = serde_json::to_string(entry).map_err(|e| HttpError::internal(&e))?;
        line.push('\n');
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| HttpError::internal(&e))?;
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| {
                HttpError::internal(&format!("journal d'audit {}: {e}", self.path.display()))
            })?;
        f.write_all(line.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| {
                HttpError::internal(&format!("journal d'audit {}: {e}", self.path.display()))
            })
    }

    /// Every entry, oldest first (for tests and the admin page).
    pub fn entries(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}
