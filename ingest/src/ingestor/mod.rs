//! The ingestion job: from the inbox to the warehouse, drop by drop, territories in parallel.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use copil_warehouse::vocabulary::RejectReason;
use copil_warehouse::{
    Clock, DEPOTS, Departments, EVENEMENTS, LostDrop, PERSONNES, REJETS, Register, StagedFile,
    Warehouse, describe_io,
};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Date32Builder, Int32Builder, Int64Builder,
    RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::datatypes::Date32Type;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use crate::limits::{Limit, Limits};
use crate::pseudonym::Pseudonymiser;
use crate::report::{DropReport, Status};
use crate::source::Records;
use crate::validation::{Layout, ValidRow, validate};
use crate::{DropName, Error, Result, SecretKey};

/// Where ingestion reads and writes.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    /// The inbox: one folder per territory id.
    pub inbox: PathBuf,
    /// Where drops go once landed.
    pub archive: PathBuf,
    /// Where drops refused whole go, with a report.
    pub refused: PathBuf,
    /// The pseudonymisation key file.
    pub key_file: PathBuf,
    /// Territories ingested at once.
    pub parallelism: usize,
    /// For crash tests only: stop (and wait to be killed) at this point.
    pub pause_at: Option<Checkpoint>,
}

impl IngestConfig {
    /// The layout of a working folder `dir` (tests, benchmarks): drops read from `inbox`,
    /// archived in `dir/archive`, refused in `dir/refuses`, pseudonymised with the key
    /// `dir/cle`.
    pub fn in_folder(dir: &Path, inbox: PathBuf, parallelism: usize) -> Self {
        Self {
            inbox,
            archive: dir.join("archive"),
            refused: dir.join("refuses"),
            key_file: dir.join("cle"),
            parallelism,
            pause_at: None,
        }
    }
}

/// Points of a drop's landing where a crash test can stop the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checkpoint {
    /// Data files written, nothing committed.
    Fichiers,
    /// `evenements` committed.
    Evenements,
    /// `personnes` committed.
    Personnes,
    /// `rejets` committed.
    Rejets,
    /// `depots` committed, the file not yet archived.
    Depots,
}

impl Checkpoint {
    /// Every checkpoint, in order.
    pub const ALL: [Checkpoint; 5] = [
        Checkpoint::Fichiers,
        Checkpoint::Evenements,
        Checkpoint::Personnes,
        Checkpoint::Rejets,
        Checkpoint::Depots,
    ];

    /// Its code.
    pub fn code(self) -> &'static str {
        match self {
            Checkpoint::Fichiers => "fichiers",
            Checkpoint::Evenements => "evenements",
            Checkpoint::Personnes => "personnes",
            Checkpoint::Rejets => "rejets",
            Checkpoint::Depots => "depots",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// Told of the progress of a run (a terminal draws a bar with it).
pub trait Progress: Send + Sync {
    /// The run found `files` drops to process.
    fn start(&self, _files: usize) {}
    /// `rows` more rows were read.
    fn rows(&self, _rows: u64) {}
    /// A drop is done.
    fn drop_done(&self, _report: &DropReport) {}
}

/// A progress sink that ignores everything.
pub struct Silent;
impl Progress for Silent {}

/// Everything one run did.
#[derive(Debug, Default)]
pub struct RunReport {
    /// One report per drop, by territory then extraction date.
    pub drops: Vec<DropReport>,
    /// Files being uploaded (`.part`, hidden), left for the next run.
    pub en_cours: Vec<PathBuf>,
    /// Inbox entries that are not drops (sub-folders, broken links, pipes), with why, in
    /// French: left in place, reported.
    pub ignores: Vec<(PathBuf, String)>,
}

impl RunReport {
    /// One line in French per drop (its territory, file and outcome, no path), for a caller
    /// that shows the outcome in a sentence (the dashboard's release of a held drop).
    pub fn summary(&self) -> String {
        if self.drops.is_empty() {
            return "aucun dépôt à traiter".to_string();
        }
        self.drops
            .iter()
            .map(|d| d.render().lines().next().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Drops refused whole.
    pub fn refused(&self) -> usize {
        self.drops
            .iter()
            .filter(|d| matches!(d.statut, Status::Refuse(_)))
            .count()
    }

    /// Drops held for review.
    pub fn held(&self) -> usize {
        self.drops
            .iter()
            .filter(|d| matches!(d.statut, Status::EnAttente(_)))
            .count()
    }

    /// Drops left in the inbox after a fault of the machine, to retry.
    pub fn failed(&self) -> usize {
        self.drops
            .iter()
            .filter(|d| matches!(d.statut, Status::Echec(_)))
            .count()
    }
}

/// When a drop that follows the contract is still held for review rather than replacing its
/// territory's data (issue 13).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Safeguards {
    /// Largest share of rejected rows (`ingest.max_rejets`, 0.20 by default).
    pub max_rejets: f64,
    /// Largest share of the people in place a drop may lose (`ingest.max_perte_personnes`,
    /// 0.5 by default).
    pub max_perte_personnes: f64,
}

impl Default for Safeguards {
    fn default() -> Self {
        Self {
            max_rejets: 0.20,
            max_perte_personnes: 0.5,
        }
    }
}

/// A share as a French percentage (« 12,5 % »).
fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0).replace('.', ",")
}

type CommitHook = Box<dyn Fn(&DropReport) + Send + Sync>;

/// Lands drops into the warehouse.
pub struct Ingestor {
    config: IngestConfig,
    warehouse: Warehouse,
    pseudonymiser: Pseudonymiser,
    register: Register,
    departments: Departments,
    clock: Arc<dyn Clock>,
    on_commit: Vec<CommitHook>,
    limits: Limits,
    safeguards: Safeguards,
    held: PathBuf,
    /// Threads that read one CSV drop (issue 16), when set; 1 reads it row by row.
    threads_per_drop: Option<usize>,
    /// Otherwise, the run's spare threads: its parallelism shared among the territories it
    /// has to process (one drop alone, a corrected drop say, is read on every core).
    spare_threads: std::sync::atomic::AtomicUsize,
}

/// Why staging a drop stopped.
enum Stop {
    /// The drop's content: it is refused whole, with the reason.
    Refuse(Box<(DropReport, String)>),
    /// A fault of the machine (disk, warehouse): the drop stays in the inbox for the next run.
    Fault(Box<(DropReport, Error)>),
}

/// What the `depots` table knows before a run.
#[derive(Debug, Default)]
struct Known {
    /// Drops integrated, by content hash: their territories.
    integrated: HashMap<String, Vec<String>>,
    /// Each territory's latest extraction date.
    latest: HashMap<String, NaiveDate>,
    /// People of each territory's drop in place.
    people: HashMap<String, u64>,
}

/// What staging a drop produced.
struct Staged {
    files: [Vec<StagedFile>; 3],
    report: DropReport,
}

/// A failed query (DataFusion, Arrow, a task that did not finish).
fn query_error(e: impl std::fmt::Display) -> Error {
    Error::Query {
        message: e.to_string(),
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn file_hash(path: &Path) -> Result<String> {
    let mut file = std::fs::File::open(path).map_err(io(path))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The report of a drop left in the inbox after a fault of the machine.
fn failed(mut report: DropReport, e: &Error) -> DropReport {
    tracing::error!(territoire = %report.territoire, fichier = %report.fichier, "dépôt non traité : {e}");
    report.statut = Status::Echec(e.to_string());
    report
}

/// What a stray inbox entry is, in French.
fn stray(kind: Option<&std::fs::FileType>) -> String {
    use std::os::unix::fs::FileTypeExt;
    match kind {
        None => "lien cassé ou entrée illisible : ignoré".into(),
        Some(k) if k.is_fifo() => "tube nommé (FIFO), pas un fichier : ignoré".into(),
        Some(k) if k.is_socket() => "socket, pas un fichier : ignoré".into(),
        Some(_) => "ni fichier ni dossier : ignoré".into(),
    }
}

fn days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// The last component of `path`, as text (empty if there is none).
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Moves a file, creating the destination folder; never overwrites (a prefix is added).
fn move_into(file: &Path, dir: &Path, prefix: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let name = file_name(file);
    let mut dest = dir.join(&name);
    if dest.exists() {
        dest = dir.join(format!("{prefix}_{name}"));
    }
    if std::fs::rename(file, &dest).is_err() {
        std::fs::copy(file, &dest).map_err(io(file))?;
        std::fs::remove_file(file).map_err(io(file))?;
    }
    Ok(dest)
}

mod land;
mod parallel;
mod rows;
mod scan;
mod stage;

impl Ingestor {
    /// Prepares a run: reads the key (no key, no ingestion) and opens the warehouse.
    pub async fn new(
        config: IngestConfig,
        warehouse: Warehouse,
        register: Register,
        departments: Departments,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let key = SecretKey::read_file(&config.key_file)?;
        let held = config.refused.with_file_name("en_attente");
        Ok(Self {
            pseudonymiser: Pseudonymiser::new(&key),
            limits: Limits::default(),
            safeguards: Safeguards::default(),
            held,
            // Measured in release (docs/benchmarks.md, issue 16): a drop of a million rows is
            // read 20 % faster on 2 threads than row by row, when the cores are free.
            threads_per_drop: None,
            spare_threads: std::sync::atomic::AtomicUsize::new(1),
            config,
            warehouse,
            register,
            departments,
            clock,
            on_commit: Vec::new(),
        })
    }

    /// Ingests once, silently, what `config` reads into the warehouse `dir/entrepot` of a working
    /// folder (see [`IngestConfig::in_folder`]; tests, benchmarks).
    pub async fn run_folder(
        dir: &Path,
        config: IngestConfig,
        register: Register,
        departments: Departments,
        clock: Arc<dyn Clock>,
    ) -> Result<RunReport> {
        let warehouse = Warehouse::open(&dir.join("entrepot").to_string_lossy()).await?;
        let ingestor = Self::new(config, warehouse, register, departments, clock).await?;
        Arc::new(ingestor).run_once(Arc::new(Silent)).await
    }

    /// Adds a hook called after each drop's commit (the indicator layer refreshes there).
    pub fn on_commit(&mut self, hook: impl Fn(&DropReport) + Send + Sync + 'static) {
        self.on_commit.push(Box::new(hook));
    }

    /// Sets the bounds on every input (default: [`Limits::default`]).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Sets how many threads read one CSV drop. Any number gives the same rows, rejects and
    /// files; 1 reads row by row on the staging thread. By default a run shares its
    /// parallelism among the territories it processes: a drop alone gets every thread, 1 each
    /// when there are more territories than threads.
    pub fn set_threads_per_drop(&mut self, threads: usize) {
        self.threads_per_drop = Some(threads.max(1));
    }

    /// The threads that read one CSV drop now.
    fn drop_threads(&self) -> usize {
        self.threads_per_drop
            .unwrap_or_else(|| {
                self.spare_threads
                    .load(std::sync::atomic::Ordering::Relaxed)
            })
            .max(1)
    }

    /// Sets when a valid drop is held for review (default: [`Safeguards::default`]).
    pub fn set_safeguards(&mut self, safeguards: Safeguards) {
        self.safeguards = safeguards;
    }

    /// Sets the folder of drops held for review (default: `en_attente` beside the folder of
    /// refused drops).
    pub fn set_held_dir(&mut self, dir: PathBuf) {
        self.held = dir;
    }

    /// The folder of drops held for review.
    pub fn held_dir(&self) -> &Path {
        &self.held
    }

    /// The warehouse this ingestor writes to.
    pub fn warehouse(&self) -> &Warehouse {
        &self.warehouse
    }

    async fn checkpoint(&self, at: Checkpoint) {
        if self.config.pause_at == Some(at) {
            eprintln!("POINT_ARRET {}", at.code());
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            }
        }
    }
}
