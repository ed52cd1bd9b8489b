//! The commit protocol: the run lock, the commit lock, and one Delta commit per table and
//! territory, checked against the versions this warehouse last wrote.

use std::collections::HashMap;
use std::fs::File;
use std::path::PathBuf;

use deltalake::kernel::transaction::CommitBuilder;
use deltalake::kernel::{Action, Add};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::{FilterOp, FilterValue};
use futures::TryStreamExt;

use super::{StagedFile, Warehouse, delta_err};
use crate::journal::{self, LogDamage};
use crate::tables::TableDef;
use crate::{Error, Result};

/// What a commit replaces.
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    /// The rows of one territory.
    Partition(&'a str),
    /// The rows of these territories.
    Partitions(&'a [&'a str]),
    /// Every row.
    All,
    /// Nothing: the files are added.
    Append,
}

/// Held while committing: serialises commits within the process and across processes (a lock
/// file in the warehouse root), so that the versions recorded by a drop are consistent.
pub struct CommitGuard<'a> {
    _in_process: tokio::sync::MutexGuard<'a, ()>,
    _file: File,
}

/// Held for a whole ingestion or refresh run: see [`Warehouse::run_lock`]. Released when
/// dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct RunGuard {
    _file: File,
}

/// Opens the lock file at `path` and locks it (blocking): waiting for it when `wait`, else
/// `Ok(None)` if another holder has it.
fn lock_file(path: PathBuf, wait: bool) -> Result<Option<File>> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    if wait {
        file.lock()
            .map_err(|source| Error::Write { path, source })?;
    } else {
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(Error::Write { path, source });
            }
        }
    }
    Ok(Some(file))
}

/// [`lock_file`] off the async threads; `location` names the lock in an error.
async fn lock_file_async(path: PathBuf, wait: bool, location: &str) -> Result<Option<File>> {
    tokio::task::spawn_blocking(move || lock_file(path, wait))
        .await
        .map_err(|e| Error::Location {
            location: location.into(),
            message: e.to_string(),
        })?
}

impl Warehouse {
    /// Takes the run lock: one ingestion or refresh at a time on this warehouse, across
    /// processes (a lock file in the warehouse root) and within one (each call opens the file
    /// anew, so a second caller waits too). `Ok(None)` if another run holds it and `wait` is
    /// false. Never take it twice in one task: the second call would wait for the first.
    ///
    /// Once held, the tables' logs are checked ([`Warehouse::verify`]): a damaged log stops
    /// the run with [`Error::DamagedLog`] before anything is written.
    pub async fn run_lock(&self, wait: bool) -> Result<Option<RunGuard>> {
        let guard = self.run_lock_unchecked(wait).await?;
        if guard.is_some()
            && let Some(damage) = self.verify()?.into_iter().next()
        {
            return Err(damage.into_error());
        }
        Ok(guard)
    }

    pub(super) async fn run_lock_unchecked(&self, wait: bool) -> Result<Option<RunGuard>> {
        let path = self.root.join("_verrou_execution");
        let file = lock_file_async(path, wait, "verrou d'exécution").await?;
        Ok(file.map(|file| RunGuard { _file: file }))
    }

    /// Takes the commit lock (in this process and across processes sharing the warehouse).
    pub async fn lock(&self) -> Result<CommitGuard<'_>> {
        let in_process = self.commit_lock.lock().await;
        let path = self.root.join("_verrou_commit");
        let file = lock_file_async(path, true, "verrou")
            .await?
            .expect("a lock waited for is held");
        Ok(CommitGuard {
            _in_process: in_process,
            _file: file,
        })
    }

    /// Replaces, in ONE commit, the rows of `territoire` in `def` by the staged files (or, for
    /// a table without partition, appends them). Returns the new version.
    pub async fn commit(
        &self,
        guard: &CommitGuard<'_>,
        def: &TableDef,
        territoire: Option<&str>,
        files: Vec<StagedFile>,
        metadata: HashMap<String, serde_json::Value>,
    ) -> Result<u64> {
        let scope = match territoire {
            Some(t) if def.partition.is_some() => Scope::Partition(t),
            _ => Scope::Append,
        };
        self.commit_scoped(guard, def, scope, files, metadata).await
    }

    /// Replaces, in ONE commit, the rows of each of `territoires` in the partitioned table
    /// `def` by the staged files (which belong to those territories). Returns the new version.
    pub async fn replace_partitions(
        &self,
        guard: &CommitGuard<'_>,
        def: &TableDef,
        territoires: &[&str],
        files: Vec<StagedFile>,
        metadata: HashMap<String, serde_json::Value>,
    ) -> Result<u64> {
        self.commit_scoped(guard, def, Scope::Partitions(territoires), files, metadata)
            .await
    }

    /// Replaces, in ONE commit, every row of `def` by the staged files. Returns the new version.
    pub async fn replace_all(
        &self,
        guard: &CommitGuard<'_>,
        def: &TableDef,
        files: Vec<StagedFile>,
        metadata: HashMap<String, serde_json::Value>,
    ) -> Result<u64> {
        self.commit_scoped(guard, def, Scope::All, files, metadata)
            .await
    }

    async fn commit_scoped(
        &self,
        _guard: &CommitGuard<'_>,
        def: &TableDef,
        scope: Scope<'_>,
        files: Vec<StagedFile>,
        metadata: HashMap<String, serde_json::Value>,
    ) -> Result<u64> {
        let mut cache = self.cache.lock().await;
        let table = match cache.remove(def.name) {
            Some(mut t) => {
                t.update_incremental(None)
                    .await
                    .map_err(delta_err(def.name))?;
                t
            }
            None => self.load(def).await?,
        };
        let found = table.version().unwrap_or(0) as u64;
        let mut known = journal::read_known(&self.root)?;
        if let Some(k) = known.get(def.name)
            && found < k.version
        {
            return Err(LogDamage {
                table: def.name.into(),
                version: found + 1,
                what: format!(
                    "la table est revenue de la version {} à la version {found} : fichiers du journal disparus ou sauvegarde ancienne restaurée",
                    k.version
                ),
            }
            .into_error());
        }
        // The files replaced (every file, or those of the partition), and the operation.
        let (filters, mode, predicate) = match (def.partition, scope) {
            (_, Scope::All) => (vec![vec![]], SaveMode::Overwrite, None),
            (Some(col), Scope::Partition(t)) => (
                vec![vec![(col, FilterOp::Eq, FilterValue::Scalar(t))]],
                SaveMode::Overwrite,
                Some(format!("{col} = '{t}'")),
            ),
            (Some(col), Scope::Partitions(ts)) => (
                ts.iter()
                    .map(|t| vec![(col, FilterOp::Eq, FilterValue::Scalar(t))])
                    .collect(),
                SaveMode::Overwrite,
                Some(format!(
                    "{col} IN ({})",
                    ts.iter()
                        .map(|t| format!("'{t}'"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            ),
            _ => (vec![], SaveMode::Append, None),
        };
        let mut actions = Vec::new();
        for filter in filters {
            let current: Vec<_> = table
                .get_active_add_actions_by_partitions(&filter)
                .try_collect()
                .await
                .map_err(delta_err(def.name))?;
            actions.extend(
                current
                    .iter()
                    .map(|f| Action::Remove(f.remove_action(true))),
            );
        }
        let now = chrono::Utc::now().timestamp_millis();
        actions.extend(files.into_iter().map(|f| {
            Action::Add(Add {
                path: f.path,
                partition_values: f.partition_values,
                size: f.size,
                modification_time: now,
                data_change: true,
                stats: Some(format!("{{\"numRecords\":{}}}", f.rows)),
                tags: None,
                deletion_vector: None,
                base_row_id: None,
                default_row_commit_version: None,
                clustering_provider: None,
            })
        }));
        let operation = DeltaOperation::Write {
            mode,
            partition_by: def.partition.map(|p| vec![p.to_string()]),
            predicate,
        };
        let snapshot = table.snapshot().map_err(delta_err(def.name))?;
        let commit = CommitBuilder::default()
            .with_actions(actions)
            .with_app_metadata(metadata)
            .build(Some(snapshot), table.log_store(), operation)
            .await
            .map_err(delta_err(def.name))?;
        cache.insert(def.name, table);
        let version = commit.version() as u64;
        known.insert(
            def.name.to_string(),
            journal::remember(&self.log_dir(def), version)?,
        );
        journal::write_known(&self.root, &known)?;
        Ok(version)
    }
}
