//! The integrity of the tables' Delta logs (issue 13): a damaged or truncated log file is
//! detected before any run writes, reported in French with the repair step, and no table goes
//! back in time silently.
//!
//! Two checks, both cheap:
//! - every commit file since the last checkpoint is present, non-empty, and made of whole JSON
//!   actions (a file cut by a crash or a full disk ends in a broken line, or is empty);
//! - the warehouse remembers, in `_versions_connues.json`, the latest version it committed for
//!   each table with the size and SHA-256 of that commit file: a table found at an older
//!   version (log files deleted, an old backup restored) or whose latest commit changed since
//!   it was written (truncated at a line boundary) is damaged.
//!
//! [`Warehouse::repair`](crate::Warehouse::repair) sets the damaged versions aside (never
//! deletes them), brings `depots` back to the last drop whose data is whole, and returns the
//! drops to integrate again ([`LostDrop`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The file, in the warehouse root, that remembers each table's latest committed version.
pub(crate) const KNOWN_FILE: &str = "_versions_connues.json";

/// The Delta action names a commit line may hold.
const ACTIONS: [&str; 10] = [
    "commitInfo",
    "add",
    "remove",
    "metaData",
    "protocol",
    "txn",
    "cdc",
    "domainMetadata",
    "checkpointMetadata",
    "sidecar",
];

/// What the warehouse remembers of a table's latest commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KnownVersion {
    pub version: u64,
    pub octets: u64,
    pub sha256: String,
}

/// The versions remembered for every table.
pub(crate) type Known = BTreeMap<String, KnownVersion>;

/// A damaged table log: from `version` on, the table cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogDamage {
    /// The table.
    pub table: String,
    /// The first version that cannot be trusted; the table can go back to the one before.
    pub version: u64,
    /// What is wrong, in French.
    pub what: String,
}

impl LogDamage {
    /// The error that stops a run, with the repair step.
    pub(crate) fn into_error(self) -> Error {
        Error::DamagedLog {
            table: self.table,
            version: self.version,
            what: self.what,
        }
    }
}

/// The files of one table's `_delta_log`.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// Commit files by version.
    pub commits: BTreeMap<u64, PathBuf>,
    /// The checkpoint named by `_last_checkpoint`, if any.
    pub checkpoint: Option<u64>,
    /// Checkpoint files by version.
    pub checkpoint_files: BTreeMap<u64, Vec<PathBuf>>,
    /// Checksum files by version.
    pub crc_files: BTreeMap<u64, PathBuf>,
}

impl Scan {
    /// The latest version present.
    pub fn latest(&self) -> Option<u64> {
        let commit = self.commits.keys().next_back().copied();
        let checkpoint = self.checkpoint_files.keys().next_back().copied();
        commit.max(checkpoint)
    }
}

/// The name of the commit file of `version`.
pub(crate) fn commit_name(version: u64) -> String {
    format!("{version:020}.json")
}

fn read_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Lists the files of a table's log.
pub(crate) fn scan(log_dir: &Path) -> Result<Scan> {
    let mut scan = Scan::default();
    for entry in std::fs::read_dir(log_dir).map_err(read_err(log_dir))? {
        let entry = entry.map_err(read_err(log_dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((number, rest)) = name.split_once('.') else {
            continue;
        };
        if number.len() != 20 {
            continue;
        }
        let Ok(version) = number.parse::<u64>() else {
            continue;
        };
        let path = entry.path();
        if rest == "json" {
            scan.commits.insert(version, path);
        } else if rest.starts_with("checkpoint") && rest.ends_with(".parquet") {
            scan.checkpoint_files.entry(version).or_default().push(path);
        } else if rest == "crc" {
            scan.crc_files.insert(version, path);
        }
    }
    let last = log_dir.join("_last_checkpoint");
    if let Ok(text) = std::fs::read_to_string(&last) {
        scan.checkpoint = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("version").and_then(|v| v.as_u64()));
    }
    Ok(scan)
}

/// Why a commit file cannot be read whole, if it cannot.
pub(crate) fn commit_problem(path: &Path) -> Result<Option<String>> {
    let bytes = std::fs::read(path).map_err(read_err(path))?;
    if bytes.is_empty() {
        return Ok(Some("fichier vide (0 octet)".into()));
    }
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(Some(
            "octets illisibles (le fichier n'est pas du texte UTF-8)".into(),
        ));
    };
    let mut actions = 0usize;
    for (i, line) in text.split('\n').enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let whole = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line)
            .ok()
            .filter(|o| o.len() == 1 && o.keys().all(|k| ACTIONS.contains(&k.as_str())));
        if whole.is_none() {
            return Ok(Some(format!(
                "ligne {} incomplète ou illisible (fichier tronqué ?)",
                i + 1
            )));
        }
        actions += 1;
    }
    if actions == 0 {
        return Ok(Some("aucune action (fichier vidé)".into()));
    }
    Ok(None)
}

/// Size and SHA-256 of a file.
pub(crate) fn fingerprint(path: &Path) -> Result<(u64, String)> {
    let bytes = std::fs::read(path).map_err(read_err(path))?;
    let digest = Sha256::digest(&bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok((bytes.len() as u64, hex))
}

/// Reads the remembered versions (none for a warehouse written before they were kept).
pub(crate) fn read_known(root: &Path) -> Result<Known> {
    let path = root.join(KNOWN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| Error::Location {
            location: path.display().to_string(),
            message: format!(
                "fichier des versions connues illisible ({e}) : supprimez-le pour repartir des versions présentes"
            ),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Known::new()),
        Err(source) => Err(Error::Io { path, source }),
    }
}

/// Writes the remembered versions atomically (a temporary file renamed over the old one).
pub(crate) fn write_known(root: &Path, known: &Known) -> Result<()> {
    use std::io::Write;
    let path = root.join(KNOWN_FILE);
    let tmp = root.join(format!("{KNOWN_FILE}.tmp"));
    let write = |source| Error::Write {
        path: tmp.clone(),
        source,
    };
    let text = serde_json::to_string_pretty(known).expect("plain values");
    let mut file = std::fs::File::create(&tmp).map_err(write)?;
    file.write_all(text.as_bytes()).map_err(write)?;
    file.sync_all().map_err(write)?;
    std::fs::rename(&tmp, &path).map_err(|source| Error::Write { path, source })
}

/// The remembered state of a table's latest commit, as found on disk now.
pub(crate) fn remember(log_dir: &Path, version: u64) -> Result<KnownVersion> {
    let (octets, sha256) = fingerprint(&log_dir.join(commit_name(version)))?;
    Ok(KnownVersion {
        version,
        octets,
        sha256,
    })
}

/// The first damage in a table's log, if any.
pub(crate) fn inspect(
    table: &str,
    log_dir: &Path,
    known: Option<&KnownVersion>,
) -> Result<Option<LogDamage>> {
    let scan = scan(log_dir)?;
    let damage = |version: u64, what: String| {
        Ok(Some(LogDamage {
            table: table.to_string(),
            version,
            what,
        }))
    };
    let Some(latest) = scan.latest() else {
        return match known {
            Some(k) => damage(
                0,
                format!(
                    "journal vide alors que la version {} a été écrite",
                    k.version
                ),
            ),
            None => Ok(None),
        };
    };
    if let Some(c) = scan.checkpoint
        && !scan.checkpoint_files.contains_key(&c)
    {
        return damage(
            c,
            format!("point de contrôle de la version {c} annoncé mais absent"),
        );
    }
    let start = scan.checkpoint.map_or(0, |c| c + 1);
    for version in start..=latest {
        match scan.commits.get(&version) {
            None => {
                return damage(
                    version,
                    format!(
                        "fichier {} absent (versions {}..{} présentes)",
                        commit_name(version),
                        start,
                        latest
                    ),
                );
            }
            Some(path) => {
                if let Some(what) = commit_problem(path)? {
                    return damage(
                        version,
                        format!("fichier {} : {what}", commit_name(version)),
                    );
                }
            }
        }
    }
    if let Some(k) = known {
        if latest < k.version {
            return damage(
                latest + 1,
                format!(
                    "la table est revenue de la version {} à la version {latest} : fichiers du journal disparus ou sauvegarde ancienne restaurée",
                    k.version
                ),
            );
        }
        if let Some(path) = scan.commits.get(&k.version) {
            let (octets, sha256) = fingerprint(path)?;
            if octets != k.octets || sha256 != k.sha256 {
                return damage(
                    k.version,
                    format!(
                        "fichier {} modifié depuis son écriture ({octets} octets au lieu de {})",
                        commit_name(k.version),
                        k.octets
                    ),
                );
            }
        }
    }
    Ok(None)
}

/// The `copil.*` application metadata of a commit (drop, territory, file), if readable.
pub(crate) fn commit_drop(path: &Path) -> Option<(String, String, String)> {
    let text = std::fs::read_to_string(path).ok()?;
    for line in text.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if let Some(info) = value.get("commitInfo") {
            let get = |k: &str| info.get(k).and_then(|v| v.as_str()).map(str::to_string);
            return Some((
                get("copil.depot")?,
                get("copil.territoire")?,
                get("copil.fichier")?,
            ));
        }
    }
    None
}

/// The data files a commit adds (paths relative to the table root).
pub(crate) fn commit_adds(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|v| {
            v.get("add")
                .and_then(|a| a.get("path"))
                .and_then(|p| p.as_str())
                .map(str::to_string)
        })
        .collect()
}

/// Moves every log file of version `from` or later aside, into `aside`, and drops
/// `_last_checkpoint` if it names one of them. Returns how many files moved.
pub(crate) fn set_aside(log_dir: &Path, from: u64, aside: &Path) -> Result<usize> {
    let scan = scan(log_dir)?;
    let mut files: Vec<&PathBuf> = Vec::new();
    files.extend(scan.commits.range(from..).map(|(_, p)| p));
    files.extend(scan.checkpoint_files.range(from..).flat_map(|(_, p)| p));
    files.extend(scan.crc_files.range(from..).map(|(_, p)| p));
    let last = log_dir.join("_last_checkpoint");
    let drop_last = scan.checkpoint.is_some_and(|c| c >= from);
    if files.is_empty() && !drop_last {
        return Ok(0);
    }
    std::fs::create_dir_all(aside).map_err(|source| Error::Write {
        path: aside.to_path_buf(),
        source,
    })?;
    let mut moved = 0;
    let mut all: Vec<PathBuf> = files.into_iter().cloned().collect();
    if drop_last {
        all.push(last);
    }
    for path in all {
        let dest = aside.join(path.file_name().expect("a log file has a name"));
        std::fs::rename(&path, &dest).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        moved += 1;
    }
    Ok(moved)
}

/// A drop whose data a repair took out of the warehouse: it must be integrated again.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LostDrop {
    /// SHA-256 of the file.
    pub depot: String,
    /// The territory.
    pub territoire: String,
    /// The file name.
    pub fichier: String,
    /// Its status in `depots` when known (`integre`, `en_attente`, `refuse`).
    pub statut: Option<String>,
}

/// What a repair did to one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRepair {
    /// The table.
    pub table: String,
    /// Its latest version before the repair.
    pub avant: Option<u64>,
    /// Its latest version after.
    pub apres: Option<u64>,
    /// Why it went back, in French.
    pub raison: String,
    /// Where its set-aside log files are.
    pub mis_de_cote: Option<PathBuf>,
}

/// What [`Warehouse::repair`](crate::Warehouse::repair) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repair {
    /// The tables brought back, each with its versions before and after.
    pub tables: Vec<TableRepair>,
    /// The drops whose data left the warehouse, to integrate again.
    pub perdus: Vec<LostDrop>,
}

/// Unique drops, in a stable order.
pub(crate) fn unique(drops: Vec<LostDrop>) -> Vec<LostDrop> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for d in drops {
        if seen.insert((d.depot.clone(), d.territoire.clone())) {
            out.push(d);
        }
    }
    out.sort();
    out
}
