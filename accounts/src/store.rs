//! Small JSON files shared by the server and the command line (accounts, evaluation
//! projects): read whole, changed under an exclusive lock, written atomically with mode 0600.
//!
//! Every writer (the server and `copil comptes` / `copil projets` alike) takes the lock file
//! beside the data file (`comptes.json.lock`), re-reads the file, applies its change and
//! writes a temporary file renamed over the old one, so that no writer puts back a stale copy
//! (issue 13: a `copil comptes desactiver` was undone by the server writing its in-memory copy).
//! Readers need no lock: a rename is atomic.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The lock file of `path`: the same name followed by `.lock`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// An exclusive lock on a data file, held until dropped (closing the file releases it).
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the exclusive lock of `path` (waits for another holder to release it). The lock
    /// file is created with mode 0600 and never removed.
    pub fn acquire(path: &Path) -> std::io::Result<FileLock> {
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(lock_path(path))?;
        file.lock()?;
        Ok(FileLock { _file: file })
    }
}

/// Writes `text` to `path` atomically (a temporary file beside it, synced, then renamed),
/// readable by its owner only.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// The JSON document of `path`, or its default while there is no file; the error says why it
/// cannot be read or parsed.
pub fn read_json<T: serde::de::DeserializeOwned + Default>(path: &Path) -> std::io::Result<T> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(serde_json::from_str(&text)?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::default()),
        Err(e) => Err(e),
    }
}

/// Writes `value` to `path` as indented JSON, atomically and privately ([`write_private`]).
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    write_private(path, &serde_json::to_string_pretty(value)?)
}

/// What identifies one version of a file: its modification time, size and (on Unix) inode.
/// A rename over the file changes the inode, so two quick writes are told apart even when
/// their times and sizes match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

/// The signature of `path` now (`None`: absent or unreadable).
pub fn signature(path: &Path) -> Option<Signature> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = {
        use std::os::unix::fs::MetadataExt;
        m.ino()
    };
    #[cfg(not(unix))]
    let inode = 0;
    Some(Signature {
        modified: m.modified().ok(),
        len: m.len(),
        inode,
    })
}

/// A JSON document held in memory and kept in step with its file: re-read when another
/// writer changed it, changed only under the file's lock from what is on disk, never a stale
/// copy written back (the accounts and the evaluation projects).
#[derive(Debug, Clone)]
pub struct Synced<D> {
    path: PathBuf,
    doc: D,
    /// The version of the file `doc` was read from.
    signature: Option<Signature>,
}

impl<D: serde::Serialize + serde::de::DeserializeOwned + Default> Synced<D> {
    /// Reads `path` (an absent file holds the default document).
    pub fn open(path: &Path) -> std::io::Result<Synced<D>> {
        // Taken before reading: a write racing the read makes the next check read again.
        let signature = signature(path);
        let doc = read_json(path)?;
        Ok(Synced {
            path: path.to_path_buf(),
            doc,
            signature,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The document as last read or written.
    pub fn doc(&self) -> &D {
        &self.doc
    }

    /// Whether the file is still the version read (a cheap `stat`).
    pub fn is_current(&self) -> bool {
        signature(&self.path) == self.signature
    }

    /// Re-reads the file if another process (or another copy) changed it; returns whether it
    /// did. `io` turns a file error (and the file's path) into the caller's.
    pub fn refresh<E>(&mut self, io: impl Fn(&Path, std::io::Error) -> E) -> Result<bool, E> {
        if self.is_current() {
            return Ok(false);
        }
        *self = Synced::open(&self.path).map_err(|e| io(&self.path, e))?;
        Ok(true)
    }

    /// Applies `change` to the document as it is on disk, under the file's exclusive lock, and
    /// writes the file when it succeeds ([`write_json`]); `io` turns a file error (and the
    /// file's path) into the caller's.
    pub fn change<T, E>(
        &mut self,
        io: impl Fn(&Path, std::io::Error) -> E,
        change: impl FnOnce(&mut D) -> Result<T, E>,
    ) -> Result<T, E> {
        let io = |e| io(&self.path, e);
        let _lock = FileLock::acquire(&self.path).map_err(io)?;
        // A change that fails leaves this copy as it was: consistent with its signature.
        let mut fresh = Synced::open(&self.path).map_err(io)?;
        let value = change(&mut fresh.doc)?;
        write_json(&fresh.path, &fresh.doc).map_err(io)?;
        fresh.signature = signature(&fresh.path);
        *self = fresh;
        Ok(value)
    }
}

/// Checks that `path` is readable and writable by its owner only (on Unix).
#[cfg(test)]
pub(crate) fn assert_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", path.display());
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pushes `n` onto the document through [`Synced::change`], or fails with `refusal`.
    fn push(synced: &mut Synced<Vec<u32>>, n: u32, refusal: Option<&str>) -> Result<(), String> {
        synced.change(
            |_, e| e.to_string(),
            |d| {
                d.push(n);
                refusal.map_or(Ok(()), |r| Err(r.to_string()))
            },
        )
    }

    #[test]
    fn writes_are_private_and_renames_change_the_signature() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sous").join("f.json");
        assert_eq!(signature(&path), None);
        let lock = FileLock::acquire(&path).unwrap();
        write_private(&path, "{}").unwrap();
        let first = signature(&path).unwrap();
        write_private(&path, "{}").unwrap();
        assert_ne!(signature(&path).unwrap(), first, "same size, new file");
        drop(lock);
        assert!(lock_path(&path).ends_with("f.json.lock"));
        assert_private(&path);
        assert_private(&lock_path(&path));
    }

    /// Issue 14: the accounts and the projects share one synced file; a change starts from the
    /// file as it is on disk, and a change that fails writes nothing and leaves the copy as it
    /// was.
    #[test]
    fn issue_14_synced_changes_start_from_disk_and_failures_write_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let mut a: Synced<Vec<u32>> = Synced::open(&path).unwrap();
        let mut b: Synced<Vec<u32>> = Synced::open(&path).unwrap();
        assert!(a.doc().is_empty(), "an absent file holds the default");
        push(&mut a, 1, None).unwrap();
        assert!(!b.is_current());
        // `b` is stale, yet its change keeps `a`'s.
        push(&mut b, 2, None).unwrap();
        assert_eq!(b.doc(), &[1, 2]);
        let written = std::fs::read_to_string(&path).unwrap();
        let failed = push(&mut a, 3, Some("refusé"));
        assert_eq!(failed, Err("refusé".to_string()));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), written);
        assert_eq!(a.doc(), &[1], "the copy is the one read, not half changed");
        assert!(a.refresh(|_, e| e.to_string()).unwrap());
        assert_eq!(a.doc(), &[1, 2]);
        assert!(!a.refresh(|_, e| e.to_string()).unwrap(), "nothing new");
    }

    #[test]
    fn the_lock_is_exclusive_between_holders() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let held = FileLock::acquire(&path).unwrap();
        let other = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(lock_path(&path))
            .unwrap();
        assert!(other.try_lock().is_err(), "taken while held");
        drop(held);
        assert!(other.try_lock().is_ok(), "free once released");
    }
}
