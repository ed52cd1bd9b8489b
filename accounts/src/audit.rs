//! The audit log: one JSON line per security-relevant action (login, logout, lockout, upload,
//! release of a held drop, export, account change), with who, what, when and the warehouse
//! version. Appended, never rewritten; never holds a password, hash, token or cookie.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

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
    /// `liberation`, `export`, `manifeste`, `compte`, `jeton`, `projet`.
    pub action: String,
    /// Details: export kind, format, filters, versions, rows, checksum; file of an upload;
    /// territory, file and outcome of a release.
    pub details: Value,
}

/// The log file.
#[derive(Debug)]
pub struct Audit {
    path: PathBuf,
    lock: Mutex<()>,
    /// Whether the file's mode was set to 0600 by this process.
    private: std::sync::atomic::AtomicBool,
}

impl Audit {
    /// The log at `path` (created at the first entry).
    pub fn new(path: &Path) -> Audit {
        Audit {
            path: path.to_path_buf(),
            lock: Mutex::new(()),
            private: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends `entry` and flushes it to disk. An export whose entry cannot be written is not
    /// served, so the error is returned.
    pub fn record(&self, entry: &Entry) -> Result<()> {
        let failed = |e: &dyn std::fmt::Display| Error::AuditLog(e.to_string());
        let mut line = serde_json::to_string(entry).map_err(|e| failed(&e))?;
        line.push('\n');
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| failed(&e))?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Readable by its owner only (issue 13: it was 0644).
            options.mode(0o600);
        }
        let mut f = options
            .open(&self.path)
            .map_err(|e| failed(&format!("journal d'audit {}: {e}", self.path.display())))?;
        #[cfg(unix)]
        if !self.private.swap(true, std::sync::atomic::Ordering::SeqCst) {
            // A log created before this version keeps its mode: tightened once per process.
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| failed(&format!("journal d'audit {}: {e}", self.path.display())))?;
        }
        f.write_all(line.as_bytes())
            .and_then(|()| f.sync_data())
            .map_err(|e| failed(&format!("journal d'audit {}: {e}", self.path.display())))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: the audit log is readable by its owner only, even one created 0644 before.
    #[cfg(unix)]
    #[test]
    fn issue_13_the_audit_log_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let entry = Entry {
            horodatage: "2025-07-01T00:00:00+00:00".into(),
            compte: "pilotage".into(),
            role: "national".into(),
            action: "connexion".into(),
            details: serde_json::json!({}),
        };
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("journal").join("audit.jsonl");
        Audit::new(&fresh).record(&entry).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&fresh), 0o600);
        let old = dir.path().join("ancien.jsonl");
        std::fs::write(&old, "").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let audit = Audit::new(&old);
        audit.record(&entry).unwrap();
        assert_eq!(mode(&old), 0o600);
        assert_eq!(audit.entries().len(), 1);
    }
}
