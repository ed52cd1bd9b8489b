//! The Delta Lake warehouse on disk: tables, data files, atomic commits, versions, and their
//! registration in a DataFusion session.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::prelude::SessionContext;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::kernel::{Action, Add};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::{DeltaTable, FilterOp, FilterValue};
use futures::TryStreamExt;
use url::Url;

use crate::journal::{self, LogDamage, LostDrop, Repair, TableRepair};
use crate::tables::{DEPOTS, EVENEMENTS, PERSONNES, REJETS, TABLES, TableDef};
use crate::{Error, Result};

/// The warehouse: a folder of Delta tables (`evenements`, `personnes`, `rejets`, `depots`).
#[derive(Debug)]
pub struct Warehouse {
    root: PathBuf,
    commit_lock: tokio::sync::Mutex<()>,
    /// Tables loaded once and brought up to date before each commit.
    cache: tokio::sync::Mutex<HashMap<&'static str, DeltaTable>>,
}

/// A data file written into a table's folder, not yet part of the table.
#[derive(Debug, Clone)]
pub struct StagedFile {
    /// Path relative to the table root.
    pub path: String,
    /// Partition values (`territoire`).
    pub partition_values: HashMap<String, Option<String>>,
    /// Size in bytes.
    pub size: i64,
    /// Rows.
    pub rows: u64,
}

/// One row of `depots`, as a repair reads it.
struct DepotRow {
    depot: String,
    territoire: String,
    fichier: String,
    statut: String,
    /// `version_evenements`, `version_personnes`, `version_rejets`.
    versions: [Option<u64>; 3],
}

/// What a commit replaces.
#[derive(Debug, Clone, Copy)]
enum Scope<'a> {
    /// The rows of one territory.
    Partition(&'a str),
    /// Every row.
    All,
    /// Nothing: the files are added.
    Append,
}

/// Streams record batches into one Parquet data file of a table (bounded memory: row groups of
/// 128 Ki rows). Dropped without [`PartWriter::finish`] (a drop refused or held midway), it
/// deletes its file: nothing uncommitted is left behind in the table's folder.
pub struct PartWriter {
    /// `None` once finished.
    writer: Option<ArrowWriter<File>>,
    absolute: PathBuf,
    staged: StagedFile,
}

impl Drop for PartWriter {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.absolute);
        }
    }
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

impl PartWriter {
    /// Appends a batch (it must have the table's file schema).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.staged.rows += batch.num_rows() as u64;
        let path = &self.absolute;
        self.writer
            .as_mut()
            .expect("a writer is used until finished")
            .write(batch)
            .map_err(|e| Error::Parquet {
                path: path.clone(),
                message: e.to_string(),
            })
    }

    /// Rows written so far.
    pub fn rows(&self) -> u64 {
        self.staged.rows
    }

    /// Closes the file; `None` (and no file) if no row was written.
    pub fn finish(mut self) -> Result<Option<StagedFile>> {
        let writer = self.writer.take().expect("finished once");
        let absolute = self.absolute.clone();
        let closed = writer.close().map_err(|e| Error::Parquet {
            path: absolute.clone(),
            message: e.to_string(),
        });
        if closed.is_err() || self.staged.rows == 0 {
            let _ = std::fs::remove_file(&absolute);
            closed?;
            return Ok(None);
        }
        let mut staged = self.staged.clone();
        staged.size = std::fs::metadata(&absolute)
            .map_err(|source| Error::Write {
                path: absolute.clone(),
                source,
            })?
            .len() as i64;
        Ok(Some(staged))
    }
}

fn delta_err(table: &str) -> impl Fn(deltalake::DeltaTableError) -> Error + '_ {
    move |e| Error::Delta {
        table: table.to_string(),
        message: e.to_string(),
    }
}

impl Warehouse {
    /// Opens the warehouse at `location` (a path or a `file://` URL), creating its folder and
    /// tables when missing.
    pub async fn open(location: &str) -> Result<Self> {
        let root = if let Some(rest) = location.strip_prefix("file://") {
            PathBuf::from(rest)
        } else if location.contains("://") {
            return Err(Error::Location {
                location: location.to_string(),
                message:
                    "seul le système de fichiers local (chemin ou URL file://) est pris en charge"
                        .into(),
            });
        } else {
            PathBuf::from(location)
        };
        std::fs::create_dir_all(&root).map_err(|source| Error::Write {
            path: root.clone(),
            source,
        })?;
        let root = root.canonicalize().map_err(|source| Error::Io {
            path: root.clone(),
            source,
        })?;
        let warehouse = Self {
            root,
            commit_lock: tokio::sync::Mutex::new(()),
            cache: tokio::sync::Mutex::new(HashMap::new()),
        };
        for def in TABLES {
            warehouse.create_if_missing(def).await?;
        }
        Ok(warehouse)
    }

    /// The warehouse's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of a table.
    pub fn table_dir(&self, def: &TableDef) -> PathBuf {
        self.root.join(def.name)
    }

    fn log_dir(&self, def: &TableDef) -> PathBuf {
        self.table_dir(def).join("_delta_log")
    }

    /// Checks every table's Delta log: each commit since the last checkpoint present and
    /// whole, and no table behind (or its latest commit different from) what this warehouse
    /// last wrote. The first damage of each table, in table order.
    pub fn verify(&self) -> Result<Vec<LogDamage>> {
        let known = journal::read_known(&self.root)?;
        let mut out = Vec::new();
        for def in TABLES {
            if let Some(d) = journal::inspect(def.name, &self.log_dir(def), known.get(def.name))? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Brings damaged tables back to their last sound version, and `depots` back to its last
    /// drop whose data is whole; the versions taken out are moved, never deleted, into
    /// `TABLE/_delta_log_endommage/STAMP/`. Returns what went back and the drops whose data
    /// left the warehouse (to integrate again, in the order of their extractions). Takes the
    /// run lock and the commit lock. Nothing to do on a sound warehouse.
    pub async fn repair(&self, stamp: &str) -> Result<Repair> {
        let _run = self.run_lock_unchecked(true).await?;
        let _commit = self.lock().await?;
        let damages = self.verify()?;
        if damages.is_empty() {
            return Ok(Repair::default());
        }
        let mut cut: BTreeMap<&'static str, (u64, String)> = BTreeMap::new();
        for d in &damages {
            let def = TABLES
                .iter()
                .find(|t| t.name == d.table)
                .expect("damages name tables");
            if d.version == 0 {
                return Err(Error::Unrepairable {
                    table: d.table.clone(),
                    message: format!(
                        "{} ; la toute première version est touchée : restaurez le dossier {}/_delta_log d'une sauvegarde",
                        d.what, d.table
                    ),
                });
            }
            cut.insert(def.name, (d.version, d.what.clone()));
        }
        // `depots` goes back to before the first integrated drop whose data versions are lost.
        let depots_log = self.log_dir(&DEPOTS);
        let scan = journal::scan(&depots_log)?;
        let start = scan.checkpoint.map_or(0, |c| c + 1);
        let end = cut
            .get(DEPOTS.name)
            .map(|c| c.0)
            .unwrap_or_else(|| scan.latest().map_or(0, |l| l + 1));
        let data = [&EVENEMENTS, &PERSONNES, &REJETS];
        for version in start..end {
            let Some(path) = scan.commits.get(&version) else {
                continue;
            };
            let rows = self.depots_rows(path)?;
            let lost = rows.iter().find(|r| {
                r.statut == "integre"
                    && data.iter().zip(r.versions).any(|(def, v)| {
                        v.is_some_and(|v| cut.get(def.name).is_some_and(|c| v >= c.0))
                    })
            });
            if let Some(r) = lost {
                cut.insert(
                    DEPOTS.name,
                    (
                        version,
                        format!(
                            "le dépôt {} ({}) y est inscrit mais ses données sont perdues",
                            r.fichier, r.territoire
                        ),
                    ),
                );
                break;
            }
        }
        // The drops whose commits leave: from the data tables' commit metadata and from the
        // rows of `depots` (with their status).
        let mut lost = Vec::new();
        for def in data {
            if let Some((from, _)) = cut.get(def.name) {
                let scan = journal::scan(&self.log_dir(def))?;
                for path in scan.commits.range(from..).map(|(_, p)| p) {
                    if let Some((depot, territoire, fichier)) = journal::commit_drop(path) {
                        lost.push(LostDrop {
                            depot,
                            territoire,
                            fichier,
                            statut: None,
                        });
                    }
                }
            }
        }
        if let Some((from, _)) = cut.get(DEPOTS.name) {
            for path in scan.commits.range(from..).map(|(_, p)| p) {
                for r in self.depots_rows(path).unwrap_or_default() {
                    lost.push(LostDrop {
                        depot: r.depot,
                        territoire: r.territoire,
                        fichier: r.fichier,
                        statut: Some(r.statut),
                    });
                }
            }
        }
        // One entry per drop, its status when known.
        lost.sort_by(|a, b| b.statut.cmp(&a.statut));
        let mut report = Repair {
            tables: Vec::new(),
            perdus: journal::unique(lost),
        };
        for def in TABLES {
            let Some((from, raison)) = cut.get(def.name) else {
                continue;
            };
            let log = self.log_dir(def);
            let avant = journal::scan(&log)?.latest();
            let aside = self.table_dir(def).join("_delta_log_endommage").join(stamp);
            let moved = journal::set_aside(&log, *from, &aside)?;
            let apres = journal::scan(&log)?.latest();
            report.tables.push(TableRepair {
                table: def.name.into(),
                avant,
                apres,
                raison: raison.clone(),
                mis_de_cote: (moved > 0).then_some(aside),
            });
        }
        // The remembered versions restart from what is on disk now.
        let mut known = journal::Known::new();
        for def in TABLES {
            let log = self.log_dir(def);
            if let Some(latest) = journal::scan(&log)?.commits.keys().next_back() {
                known.insert(def.name.into(), journal::remember(&log, *latest)?);
            }
        }
        journal::write_known(&self.root, &known)?;
        self.cache.lock().await.clear();
        if let Some(d) = self.verify()?.into_iter().next() {
            return Err(d.into_error());
        }
        Ok(report)
    }

    /// The rows of `depots` a commit added (read from its data files).
    fn depots_rows(&self, commit: &Path) -> Result<Vec<DepotRow>> {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::{DataType, Int64Type};
        use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let mut out = Vec::new();
        for relative in journal::commit_adds(commit) {
            let path = self.table_dir(&DEPOTS).join(&relative);
            let file = File::open(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let parquet = |e: datafusion::parquet::errors::ParquetError| Error::Parquet {
                path: path.clone(),
                message: e.to_string(),
            };
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(parquet)?
                .build()
                .map_err(parquet)?;
            for batch in reader {
                let batch = batch.map_err(|e| Error::Parquet {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                let column = |name: &str, to: &DataType| {
                    batch
                        .column_by_name(name)
                        .and_then(|c| datafusion::arrow::compute::cast(c, to).ok())
                        .ok_or_else(|| Error::Parquet {
                            path: path.clone(),
                            message: format!("colonne {name} absente"),
                        })
                };
                let texts = ["depot", "territoire", "fichier", "statut"]
                    .map(|n| column(n, &DataType::Utf8));
                let numbers = ["version_evenements", "version_personnes", "version_rejets"]
                    .map(|n| column(n, &DataType::Int64));
                let [depot, territoire, fichier, statut] = texts;
                let (depot, territoire, fichier, statut) = (depot?, territoire?, fichier?, statut?);
                let [e, p, r] = numbers;
                let (e, p, r) = (e?, p?, r?);
                let text = |a: &Arc<dyn Array>, i: usize| a.as_string::<i32>().value(i).to_string();
                let number = |a: &Arc<dyn Array>, i: usize| {
                    let a = a.as_primitive::<Int64Type>();
                    (!a.is_null(i)).then(|| a.value(i).max(0) as u64)
                };
                for i in 0..batch.num_rows() {
                    out.push(DepotRow {
                        depot: text(&depot, i),
                        territoire: text(&territoire, i),
                        fichier: text(&fichier, i),
                        statut: text(&statut, i),
                        versions: [number(&e, i), number(&p, i), number(&r, i)],
                    });
                }
            }
        }
        Ok(out)
    }

    fn table_url(&self, def: &TableDef) -> Result<Url> {
        let dir = self.table_dir(def);
        Url::from_directory_path(&dir).map_err(|()| Error::Location {
            location: dir.display().to_string(),
            message: "chemin impossible à convertir en URL".into(),
        })
    }

    async fn create_if_missing(&self, def: &TableDef) -> Result<()> {
        if self.table_dir(def).join("_delta_log").is_dir() {
            return Ok(());
        }
        let dir = self.table_dir(def);
        std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
            path: dir.clone(),
            source,
        })?;
        let table = DeltaTable::try_from_url(self.table_url(def)?)
            .await
            .map_err(delta_err(def.name))?;
        let mut create = table
            .create()
            .with_table_name(def.name)
            .with_comment(def.description)
            .with_columns(def.delta_columns())
            .with_save_mode(SaveMode::Ignore);
        if let Some(p) = def.partition {
            create = create.with_partition_columns([p]);
        }
        create.await.map_err(delta_err(def.name))?;
        Ok(())
    }

    /// The table at its latest version.
    pub async fn load(&self, def: &TableDef) -> Result<DeltaTable> {
        deltalake::open_table(self.table_url(def)?)
            .await
            .map_err(delta_err(def.name))
    }

    /// The table at a given version.
    pub async fn load_version(&self, def: &TableDef, version: u64) -> Result<DeltaTable> {
        deltalake::open_table_with_version(self.table_url(def)?, version as _)
            .await
            .map_err(delta_err(def.name))
    }

    /// The latest version of every table.
    pub async fn versions(&self) -> Result<BTreeMap<&'static str, u64>> {
        let mut out = BTreeMap::new();
        for def in TABLES {
            let t = self.load(def).await?;
            out.insert(def.name, t.version().unwrap_or(0) as u64);
        }
        Ok(out)
    }

    /// A writer for a new data file of `def`, in the partition of `territoire` if the table is
    /// partitioned. The file is not part of the table until a commit adds it.
    pub fn part_writer(&self, def: &TableDef, territoire: Option<&str>) -> Result<PartWriter> {
        let mut relative = String::new();
        let mut partition_values = HashMap::new();
        if let (Some(col), Some(value)) = (def.partition, territoire) {
            relative.push_str(&format!("{col}={value}/"));
            partition_values.insert(col.to_string(), Some(value.to_string()));
        }
        relative.push_str(&format!(
            "part-00000-{}-c000.snappy.parquet",
            uuid::Uuid::new_v4()
        ));
        let absolute = self.table_dir(def).join(&relative);
        if let Some(dir) = absolute.parent() {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let file = File::create(&absolute).map_err(|source| Error::Write {
            path: absolute.clone(),
            source,
        })?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(128 * 1024))
            .set_created_by("copil".into())
            .build();
        let writer = ArrowWriter::try_new(file, def.file_schema(), Some(props)).map_err(|e| {
            Error::Parquet {
                path: absolute.clone(),
                message: e.to_string(),
            }
        })?;
        Ok(PartWriter {
            writer: Some(writer),
            absolute,
            staged: StagedFile {
                path: relative,
                partition_values,
                size: 0,
                rows: 0,
            },
        })
    }

    /// Whether the `indicateurs` table was built from another version of `evenements` than
    /// the latest (a run landed drops, then stopped before its refresh; or a repair took
    /// `evenements` back): then a refresh is due. False while nothing has landed.
    pub async fn indicators_behind(&self) -> Result<bool> {
        use datafusion::arrow::array::{Array, AsArray};
        let events = self
            .load(&crate::tables::EVENEMENTS)
            .await?
            .version()
            .unwrap_or(0) as u64;
        if events == 0 {
            return Ok(false);
        }
        let def = &crate::tables::INDICATEURS;
        let table = self.load(def).await?;
        let ctx = SessionContext::new();
        self.register_table(&ctx, def, &table).await?;
        let err = |e: datafusion::error::DataFusionError| Error::Delta {
            table: def.name.into(),
            message: e.to_string(),
        };
        let batches = ctx
            .sql("SELECT CAST(max(version_evenements) AS BIGINT) FROM indicateurs")
            .await
            .map_err(err)?
            .collect()
            .await
            .map_err(err)?;
        let built = batches
            .first()
            .filter(|b| b.num_rows() > 0)
            .map(|b| {
                b.column(0)
                    .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
            })
            .filter(|a| !a.is_null(0))
            .map(|a| a.value(0) as u64);
        Ok(built.is_none_or(|v| v != events))
    }

    /// Deletes staged files that will never be committed (a drop held for review).
    pub fn discard(&self, def: &TableDef, files: &[StagedFile]) {
        for f in files {
            let _ = std::fs::remove_file(self.table_dir(def).join(&f.path));
        }
    }

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

    async fn run_lock_unchecked(&self, wait: bool) -> Result<Option<RunGuard>> {
        let path = self.root.join("_verrou_execution");
        tokio::task::spawn_blocking(move || -> Result<Option<RunGuard>> {
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
                file.lock().map_err(|source| Error::Write {
                    path: path.clone(),
                    source,
                })?;
            } else {
                match file.try_lock() {
                    Ok(()) => {}
                    Err(std::fs::TryLockError::WouldBlock) => return Ok(None),
                    Err(std::fs::TryLockError::Error(source)) => {
                        return Err(Error::Write { path, source });
                    }
                }
            }
            Ok(Some(RunGuard { _file: file }))
        })
        .await
        .map_err(|e| Error::Location {
            location: "verrou d'exécution".into(),
            message: e.to_string(),
        })?
    }

    /// Takes the commit lock (in this process and across processes sharing the warehouse).
    pub async fn lock(&self) -> Result<CommitGuard<'_>> {
        let in_process = self.commit_lock.lock().await;
        let path = self.root.join("_verrou_commit");
        let file = tokio::task::spawn_blocking(move || -> Result<File> {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|source| Error::Write {
                    path: path.clone(),
                    source,
                })?;
            file.lock().map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
            Ok(file)
        })
        .await
        .map_err(|e| Error::Location {
            location: "verrou".into(),
            message: e.to_string(),
        })??;
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
        let mut actions = Vec::new();
        let (mode, predicate) = match (def.partition, scope) {
            (_, Scope::All) => {
                let current: Vec<_> = table
                    .get_active_add_actions_by_partitions(&[])
                    .try_collect()
                    .await
                    .map_err(delta_err(def.name))?;
                actions.extend(
                    current
                        .iter()
                        .map(|f| Action::Remove(f.remove_action(true))),
                );
                (SaveMode::Overwrite, None)
            }
            (Some(col), Scope::Partition(t)) => {
                let current: Vec<_> = table
                    .get_active_add_actions_by_partitions(&[(
                        col,
                        FilterOp::Eq,
                        FilterValue::Scalar(t),
                    )])
                    .try_collect()
                    .await
                    .map_err(delta_err(def.name))?;
                actions.extend(
                    current
                        .iter()
                        .map(|f| Action::Remove(f.remove_action(true))),
                );
                (SaveMode::Overwrite, Some(format!("{col} = '{t}'")))
            }
            _ => (SaveMode::Append, None),
        };
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

    /// Registers every table in `ctx` at its latest version, through fresh versioned providers
    /// (never a cached file listing); call again after each commit.
    pub async fn register(&self, ctx: &SessionContext) -> Result<BTreeMap<&'static str, u64>> {
        let mut versions = BTreeMap::new();
        for def in TABLES {
            let table = self.load(def).await?;
            versions.insert(def.name, table.version().unwrap_or(0) as u64);
            self.register_table(ctx, def, &table).await?;
        }
        Ok(versions)
    }

    /// Registers `table` under the name of `def` (replacing an earlier registration).
    pub async fn register_table(
        &self,
        ctx: &SessionContext,
        def: &TableDef,
        table: &DeltaTable,
    ) -> Result<()> {
        let provider: Arc<dyn datafusion::catalog::TableProvider> =
            table.table_provider().await.map_err(|e| Error::Delta {
                table: def.name.into(),
                message: e.to_string(),
            })?;
        let _ = ctx.deregister_table(def.name);
        ctx.register_table(def.name, provider)
            .map_err(|e| Error::Delta {
                table: def.name.into(),
                message: e.to_string(),
            })?;
        Ok(())
    }
}
