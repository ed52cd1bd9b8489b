//! The build cache: each export is built once into the exports folder under its plan's key,
//! reused while it is there, and the folder keeps only the most recently used exports.

use std::fs::File;
use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::plan::{MANIFEST_SUFFIX, Plan};

/// Data files kept in the exports folder (each with its manifest: about 50 files).
const KEEP_EXPORTS: usize = 25;

/// Keeps the [`KEEP_EXPORTS`] most recently used exports (data file and manifest), and removes
/// temporary files older than an hour.
pub(crate) fn prune(dir: &Path, keep_key: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    let mut data = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        let modified = e
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        if name.contains(".tmp-") {
            if now.duration_since(modified).unwrap_or_default().as_secs() > 3600 {
                let _ = std::fs::remove_file(e.path());
            }
        } else if name.ends_with(MANIFEST_SUFFIX) {
            let data_name = name.trim_end_matches(MANIFEST_SUFFIX);
            if !dir.join(data_name).exists() {
                let _ = std::fs::remove_file(e.path());
            }
        } else {
            data.push((modified, name));
        }
    }
    data.sort_by(|a, b| b.cmp(a));
    for (_, name) in data.iter().skip(KEEP_EXPORTS) {
        if name.starts_with(keep_key) {
            continue;
        }
        let _ = std::fs::remove_file(dir.join(format!("{name}{MANIFEST_SUFFIX}")));
        let _ = std::fs::remove_file(dir.join(name));
    }
}

/// An export ready to serve: its file (opened) and its manifest.
#[derive(Debug)]
pub struct Built {
    /// The data file, open for reading.
    pub file: File,
    /// Its manifest.
    pub manifest: Value,
}

/// The export already built for this plan, if any (marked as just used).
pub(crate) fn existing(dir: &Path, plan: &Plan) -> Option<Built> {
    let file = File::open(plan.data_path(dir)).ok()?;
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(plan.manifest_path(dir)).ok()?).ok()?;
    if let Ok(f) = File::options().write(true).open(plan.data_path(dir)) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
    Some(Built { file, manifest })
}

/// The export just built for `plan` (then the folder is pruned, keeping it).
pub(crate) fn open_built(dir: &Path, plan: &Plan, manifest: Value) -> Result<Built> {
    let path = plan.data_path(dir);
    let file = File::open(&path).map_err(|source| Error::Open { file: path, source })?;
    prune(dir, &plan.key);
    Ok(Built { file, manifest })
}

/// Creates the exports folder if needed.
pub(crate) fn ensure_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Folder {
        dir: dir.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn pruning_keeps_the_most_recent_exports_and_their_manifests() {
        let dir = tempfile::tempdir().unwrap();
        let start = std::time::SystemTime::now() - std::time::Duration::from_secs(10_000);
        for i in 0..40u64 {
            let data = dir.path().join(format!("{i:02}.csv"));
            std::fs::write(&data, b"x").unwrap();
            std::fs::write(
                dir.path().join(format!("{i:02}.csv{MANIFEST_SUFFIX}")),
                b"{}",
            )
            .unwrap();
            let f = File::options().write(true).open(&data).unwrap();
            f.set_modified(start + std::time::Duration::from_secs(i * 10))
                .unwrap();
        }
        std::fs::write(
            dir.path().join(format!("orphelin.csv{MANIFEST_SUFFIX}")),
            b"{}",
        )
        .unwrap();
        prune(dir.path(), "00");
        let left: BTreeSet<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        // The 25 newest (15 to 39), and 00 being served; each with its manifest.
        assert_eq!(left.len(), 2 * (KEEP_EXPORTS + 1), "{left:?}");
        assert!(left.contains("39.csv") && left.contains("15.csv") && left.contains("00.csv"));
        assert!(!left.contains("14.csv") && !left.contains(&format!("14.csv{MANIFEST_SUFFIX}")));
        assert!(!left.contains(&format!("orphelin.csv{MANIFEST_SUFFIX}")));
    }
}
