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

/// Moves a file, creating the destination folder; never overwrites (a prefix is added).
fn move_into(file: &Path, dir: &Path, prefix: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
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

struct EventBatch {
    personne: StringBuilder,
    date: Date32Builder,
    evenement: StringBuilder,
    attrs: Vec<StringBuilder>,
    motif: StringBuilder,
    ligne: Int64Builder,
    len: usize,
}

impl EventBatch {
    fn new() -> Self {
        Self {
            personne: StringBuilder::new(),
            date: Date32Builder::new(),
            evenement: StringBuilder::new(),
            attrs: (0..9).map(|_| StringBuilder::new()).collect(),
            motif: StringBuilder::new(),
            ligne: Int64Builder::new(),
            len: 0,
        }
    }

    fn push(&mut self, personne: &str, v: &ValidRow, line: u64) {
        self.personne.append_value(personne);
        self.date.append_value(days(v.date));
        self.evenement.append_value(v.evenement);
        for (b, a) in self.attrs.iter_mut().zip(v.attrs.iter()) {
            b.append_option(*a);
        }
        self.motif.append_option(v.motif);
        self.ligne.append_value(line as i64);
        self.len += 1;
    }

    fn finish(&mut self) -> RecordBatch {
        let mut cols: Vec<ArrayRef> = vec![
            Arc::new(self.personne.finish()),
            Arc::new(self.date.finish()),
            Arc::new(self.evenement.finish()),
        ];
        cols.extend(
            self.attrs
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as ArrayRef),
        );
        cols.push(Arc::new(self.motif.finish()));
        cols.push(Arc::new(self.ligne.finish()));
        self.len = 0;
        RecordBatch::try_new(EVENEMENTS.file_schema(), cols).expect("events schema")
    }
}

struct PersonRow {
    annee: i32,
    sexe: Option<&'static str>,
    departement: Option<String>,
    niveau: Option<&'static str>,
    situation: Option<&'static str>,
    cle_nir: bool,
}

const BATCH: usize = 64 * 1024;

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
            config,
            warehouse,
            register,
            departments,
            clock,
            on_commit: Vec::new(),
        })
    }

    /// Adds a hook called after each drop's commit (the indicator layer refreshes there).
    pub fn on_commit(&mut self, hook: impl Fn(&DropReport) + Send + Sync + 'static) {
        self.on_commit.push(Box::new(hook));
    }

    /// Sets the bounds on every input (default: [`Limits::default`]).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
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

    /// What the `depots` table knows: drops integrated (by hash) and each territory's latest
    /// extraction date.
    async fn known_drops(&self) -> Result<Known> {
        let ctx = SessionContext::new();
        self.warehouse.register(&ctx).await?;
        let batches = ctx
            .sql(include_str!("../sql/depots.sql"))
            .await
            .map_err(|e| Error::Query {
                message: e.to_string(),
            })?
            .collect()
            .await
            .map_err(|e| Error::Query {
                message: e.to_string(),
            })?;
        let mut known = Known::default();
        // The drop in place: the latest extraction, then the latest processed.
        let mut in_place: HashMap<String, ((i32, i64), u64)> = HashMap::new();
        for b in &batches {
            let text = |i: usize| {
                datafusion::arrow::compute::cast(
                    b.column(i),
                    &datafusion::arrow::datatypes::DataType::Utf8,
                )
                .map_err(|e| Error::Query {
                    message: e.to_string(),
                })
            };
            let (depot, territoire, statut) = (text(0)?, text(1)?, text(2)?);
            let (depot, territoire, statut) = (
                depot.as_string::<i32>(),
                territoire.as_string::<i32>(),
                statut.as_string::<i32>(),
            );
            let dates = b.column(3).as_primitive::<Date32Type>();
            let people = datafusion::arrow::compute::cast(
                b.column(4),
                &datafusion::arrow::datatypes::DataType::Int64,
            )
            .map_err(|e| Error::Query {
                message: e.to_string(),
            })?;
            let people = people.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            let when = datafusion::arrow::compute::cast(
                b.column(5),
                &datafusion::arrow::datatypes::DataType::Int64,
            )
            .map_err(|e| Error::Query {
                message: e.to_string(),
            })?;
            let when = when.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
            for i in 0..b.num_rows() {
                if statut.value(i) != "integre" {
                    continue;
                }
                let t = territoire.value(i).to_string();
                known
                    .integrated
                    .entry(depot.value(i).to_string())
                    .or_default()
                    .push(t.clone());
                if !dates.is_null(i) {
                    let d = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
                        + chrono::Days::new(dates.value(i) as u64);
                    let e = known.latest.entry(t.clone()).or_insert(d);
                    *e = (*e).max(d);
                }
                let order = (
                    if dates.is_null(i) {
                        i32::MIN
                    } else {
                        dates.value(i)
                    },
                    if when.is_null(i) {
                        i64::MIN
                    } else {
                        when.value(i)
                    },
                );
                let n = if people.is_null(i) {
                    0
                } else {
                    people.value(i).max(0) as u64
                };
                let e = in_place.entry(t).or_insert((order, n));
                if order >= e.0 {
                    *e = (order, n);
                }
            }
        }
        known.people = in_place.into_iter().map(|(t, (_, n))| (t, n)).collect();
        Ok(known)
    }

    /// Processes the inbox once.
    pub async fn run_once(self: &Arc<Self>, progress: Arc<dyn Progress>) -> Result<RunReport> {
        let mut run = RunReport::default();
        let mut groups: BTreeMap<String, Vec<(DropName, PathBuf)>> = BTreeMap::new();
        let mut refusals: Vec<(String, PathBuf, String)> = Vec::new();
        let inbox = &self.config.inbox;
        std::fs::create_dir_all(inbox).map_err(io(inbox))?;
        let mut entries: Vec<PathBuf> = std::fs::read_dir(inbox)
            .map_err(io(inbox))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let name = entry
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            // One stray entry (a broken link, a pipe, a socket) never stops the others: it is
            // reported and left in place.
            let kind = std::fs::metadata(&entry).map(|m| m.file_type());
            if !kind.as_ref().is_ok_and(|k| k.is_dir()) {
                if kind.as_ref().is_ok_and(|k| k.is_file()) {
                    if name.starts_with('.') || name.ends_with(".part") {
                        run.en_cours.push(entry);
                    } else {
                        refusals.push(("(racine)".into(), entry, "fichier déposé à la racine de la boîte : placez-le dans le dossier de son territoire".into()));
                    }
                } else {
                    run.ignores.push((entry, stray(kind.as_ref().ok())));
                }
                continue;
            }
            let known = self.register.get(&name).is_some();
            let listing = match std::fs::read_dir(&entry) {
                Ok(l) => l,
                Err(e) => {
                    run.ignores.push((
                        entry.clone(),
                        format!("dossier illisible ({})", describe_io(&e)),
                    ));
                    continue;
                }
            };
            let mut files: Vec<PathBuf> = Vec::new();
            for path in listing.filter_map(|e| e.ok().map(|e| e.path())) {
                match std::fs::metadata(&path).map(|m| m.file_type()) {
                    Ok(k) if k.is_file() => files.push(path),
                    Ok(k) if k.is_dir() => run.ignores.push((
                        path,
                        "sous-dossier ignoré : déposez les fichiers directement dans le dossier du territoire".into(),
                    )),
                    other => {
                        let message = stray(other.as_ref().ok());
                        run.ignores.push((path, message));
                    }
                }
            }
            files.sort();
            for file in files {
                let fname = file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if fname.starts_with('.') || fname.ends_with(".part") {
                    run.en_cours.push(file);
                    continue;
                }
                if !known {
                    refusals.push((
                        name.clone(),
                        file,
                        format!("dossier « {name} » : territoire inconnu du registre"),
                    ));
                    continue;
                }
                match DropName::parse(&fname) {
                    Ok(n) => groups.entry(name.clone()).or_default().push((n, file)),
                    Err(e) => refusals.push((name.clone(), file, e.to_string())),
                }
            }
        }
        for drops in groups.values_mut() {
            drops.sort_by(|a, b| (a.0.extraction, &a.1).cmp(&(b.0.extraction, &b.1)));
        }
        progress.start(groups.values().map(Vec::len).sum::<usize>() + refusals.len());

        let known = self.known_drops().await?;
        let integrated = Arc::new(known.integrated);
        let latest = known.latest;
        let people = known.people;
        for (territoire, path, message) in refusals {
            let fname = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut report = DropReport::new(&territoire, &fname);
            report.depot = file_hash(&path).unwrap_or_default();
            report.date_extraction = DropName::parse(&fname).ok().map(|n| n.extraction);
            let report = self.refuse(report, &path, message).await?;
            progress.drop_done(&report);
            run.drops.push(report);
        }

        let parallelism = self.config.parallelism.max(1);
        // The largest territories first, so that the parallel run does not end with one big
        // drop processed alone on one core (longest processing time first).
        let mut groups: Vec<(String, Vec<(DropName, PathBuf)>)> = groups.into_iter().collect();
        let size = |drops: &[(DropName, PathBuf)]| -> u64 {
            drops
                .iter()
                .filter_map(|(_, p)| std::fs::metadata(p).ok())
                .map(|m| m.len())
                .sum()
        };
        groups.sort_by_cached_key(|(t, drops)| (std::cmp::Reverse(size(drops)), t.clone()));
        let results: Vec<Result<Vec<DropReport>>> =
            futures::stream::iter(groups.into_iter().map(|(territoire, drops)| {
                let this = Arc::clone(self);
                let progress = Arc::clone(&progress);
                let integrated = Arc::clone(&integrated);
                let mut current = latest.get(&territoire).copied();
                let mut in_place = people.get(&territoire).copied();
                async move {
                    let mut reports = Vec::new();
                    for (name, path) in drops {
                        let report = this
                            .process(
                                &territoire,
                                name,
                                &path,
                                &integrated,
                                (&mut current, &mut in_place),
                                &progress,
                                false,
                            )
                            .await?;
                        progress.drop_done(&report);
                        reports.push(report);
                    }
                    Ok(reports)
                }
            }))
            .buffer_unordered(parallelism)
            .collect()
            .await;
        for r in results {
            run.drops.extend(r?);
        }
        run.drops.sort_by(|a, b| {
            (&a.territoire, a.date_extraction, &a.fichier).cmp(&(
                &b.territoire,
                b.date_extraction,
                &b.fichier,
            ))
        });
        Ok(run)
    }

    /// Puts back in the inbox the drops a warehouse repair took out
    /// ([`Warehouse::repair`](copil_warehouse::Warehouse::repair)), found in the archive (or,
    /// for a held drop, in the held folder) by name and SHA-256, so that the next run
    /// integrates them again in the order of their extractions. Returns, per drop, where it
    /// went or why it could not be found (then it must be dropped again).
    pub fn requeue(
        &self,
        lost: &[LostDrop],
    ) -> Vec<(LostDrop, std::result::Result<PathBuf, String>)> {
        lost.iter()
            .map(|d| (d.clone(), self.requeue_one(d)))
            .collect()
    }

    fn requeue_one(&self, d: &LostDrop) -> std::result::Result<PathBuf, String> {
        if d.statut.as_deref() == Some("refuse") {
            return Err("dépôt refusé : rien à réintégrer".into());
        }
        let safe = |s: &str| {
            !s.is_empty()
                && !s.contains(['/', '\\'])
                && s != "."
                && s != ".."
                && !s.starts_with('.')
        };
        if !safe(&d.territoire) || !safe(&d.fichier) {
            return Err("nom de territoire ou de fichier inattendu".into());
        }
        let dest_dir = self.config.inbox.join(&d.territoire);
        let dest = dest_dir.join(&d.fichier);
        if dest.exists() {
            return match file_hash(&dest) {
                Ok(h) if h == d.depot => Ok(dest),
                _ => Err(format!(
                    "un autre fichier {} attend déjà dans la boîte de dépôt",
                    d.fichier
                )),
            };
        }
        let prefix = d.depot.get(..12).unwrap_or_default();
        for dir in [&self.config.archive, &self.held] {
            let dir = dir.join(&d.territoire);
            for name in [d.fichier.clone(), format!("{prefix}_{}", d.fichier)] {
                let candidate = dir.join(name);
                if candidate.is_file() && file_hash(&candidate).is_ok_and(|h| h == d.depot) {
                    std::fs::create_dir_all(&dest_dir).map_err(|e| describe_io(&e))?;
                    std::fs::rename(&candidate, &dest).map_err(|e| describe_io(&e))?;
                    let mut rapport = candidate.into_os_string();
                    rapport.push(".rapport.txt");
                    let _ = std::fs::remove_file(rapport);
                    return Ok(dest);
                }
            }
        }
        Err("fichier introuvable dans l'archive : à déposer de nouveau".into())
    }

    /// Integrates a drop held for review (`copil ingest --liberer`): the safeguards of
    /// [`Safeguards`] and the extraction date's check against today are waived; the contract,
    /// the limits and the order of extractions still apply. The drop's territory is the name
    /// of its folder.
    pub async fn release(
        self: &Arc<Self>,
        file: &Path,
        progress: Arc<dyn Progress>,
    ) -> Result<DropReport> {
        let fname = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let territoire = file
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if self.register.get(&territoire).is_none() {
            return Err(Error::DropName {
                file: fname,
                message: format!(
                    "dossier « {territoire} » : territoire inconnu du registre (le fichier à libérer doit rester dans le dossier de son territoire)"
                ),
            });
        }
        if !file.is_file() {
            return Err(Error::DropName {
                file: file.display().to_string(),
                message: "fichier introuvable".into(),
            });
        }
        // A held drop may carry the hash of the file in its name: the date is at its end.
        let name = DropName::parse(&fname)?;
        let known = self.known_drops().await?;
        let mut current = known.latest.get(&territoire).copied();
        let mut in_place = known.people.get(&territoire).copied();
        let report = self
            .process(
                &territoire,
                name,
                file,
                &known.integrated,
                (&mut current, &mut in_place),
                &progress,
                true,
            )
            .await?;
        let mut rapport = file.as_os_str().to_owned();
        rapport.push(".rapport.txt");
        if !file.exists() {
            let _ = std::fs::remove_file(&rapport);
        }
        progress.drop_done(&report);
        Ok(report)
    }

    /// Why a valid drop should not replace its territory's data, if it should not.
    fn hold_reason(&self, r: &DropReport, in_place: Option<u64>) -> Option<String> {
        if r.lignes_integrees == 0 {
            return Some(format!(
                "aucune ligne valide ({} ligne(s) lue(s)) : intégré, ce dépôt viderait les données du territoire",
                r.lignes_lues
            ));
        }
        let rejected = r.lignes_rejetees() as f64 / r.lignes_lues.max(1) as f64;
        if rejected > self.safeguards.max_rejets {
            return Some(format!(
                "{} des lignes écartées ({} sur {}), au-delà du seuil de {} (clé ingest.max_rejets)",
                percent(rejected),
                r.lignes_rejetees(),
                r.lignes_lues,
                percent(self.safeguards.max_rejets)
            ));
        }
        if let Some(before) = in_place.filter(|b| *b > 0) {
            let lost = before.saturating_sub(r.personnes) as f64 / before as f64;
            if lost > self.safeguards.max_perte_personnes {
                return Some(format!(
                    "{} personnes contre {} dans les données en place : perte de {}, au-delà du seuil de {} (clé ingest.max_perte_personnes)",
                    r.personnes,
                    before,
                    percent(lost),
                    percent(self.safeguards.max_perte_personnes)
                ));
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    async fn process(
        self: &Arc<Self>,
        territoire: &str,
        name: DropName,
        path: &Path,
        integrated: &HashMap<String, Vec<String>>,
        (current, in_place): (&mut Option<NaiveDate>, &mut Option<u64>),
        progress: &Arc<dyn Progress>,
        force: bool,
    ) -> Result<DropReport> {
        let started = Instant::now();
        let fname = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut report = DropReport::new(territoire, &fname);
        report.date_extraction = Some(name.extraction);
        report.depot = match file_hash(path) {
            Ok(h) => h,
            Err(e) => return Ok(failed(report, &e)),
        };
        if integrated
            .get(&report.depot)
            .is_some_and(|ts| ts.iter().any(|t| t == territoire))
        {
            report.statut = Status::DejaIntegre;
            move_into(
                path,
                &self.config.archive.join(territoire),
                &report.depot[..12],
            )?;
            return Ok(report);
        }
        if let Some(c) = *current
            && name.extraction < c
        {
            let message = format!(
                "extraction du {} antérieure aux données en place (au {}) : déposez une extraction plus récente",
                name.extraction.format("%d/%m/%Y"),
                c.format("%d/%m/%Y")
            );
            return self.refuse(report, path, message).await;
        }
        let today = self.clock.today();
        if !force && name.extraction > today {
            let message = format!(
                "date d'extraction du {} postérieure à aujourd'hui ({}) : vérifiez le nom du fichier ; intégré, ce dépôt bloquerait toute extraction réelle plus ancienne",
                name.extraction.format("%d/%m/%Y"),
                today.format("%d/%m/%Y")
            );
            return self.hold(report, path, message).await;
        }

        let this = Arc::clone(self);
        let (t, p, progress2) = (
            territoire.to_string(),
            path.to_path_buf(),
            Arc::clone(progress),
        );
        let extraction = name.extraction;
        let staged = tokio::task::spawn_blocking(move || {
            this.stage(&t, &name, &p, report, progress2.as_ref())
        })
        .await
        .map_err(|e| Error::Query {
            message: e.to_string(),
        })?;
        let mut staged = match staged {
            Ok(s) => s,
            Err(Stop::Refuse(refusal)) => {
                let (report, message) = *refusal;
                return self.refuse(report, path, message).await;
            }
            Err(Stop::Fault(fault)) => {
                let (report, e) = *fault;
                return Ok(failed(report, &e));
            }
        };
        if !force && let Some(reason) = self.hold_reason(&staged.report, *in_place) {
            let [ev, pe, re] = &staged.files;
            self.warehouse.discard(&EVENEMENTS, ev);
            self.warehouse.discard(&PERSONNES, pe);
            self.warehouse.discard(&REJETS, re);
            let mut report = staged.report;
            report.duree = started.elapsed();
            return self.hold(report, path, reason).await;
        }
        self.checkpoint(Checkpoint::Fichiers).await;

        let meta: HashMap<String, serde_json::Value> = [
            (
                "copil.depot".to_string(),
                staged.report.depot.clone().into(),
            ),
            ("copil.territoire".to_string(), territoire.into()),
            (
                "copil.fichier".to_string(),
                staged.report.fichier.clone().into(),
            ),
        ]
        .into();
        let guard = self.warehouse.lock().await?;
        let [ev, pe, re] = std::mem::take(&mut staged.files);
        let v_ev = self
            .warehouse
            .commit(&guard, &EVENEMENTS, Some(territoire), ev, meta.clone())
            .await?;
        self.checkpoint(Checkpoint::Evenements).await;
        let v_pe = self
            .warehouse
            .commit(&guard, &PERSONNES, Some(territoire), pe, meta.clone())
            .await?;
        self.checkpoint(Checkpoint::Personnes).await;
        let v_re = self
            .warehouse
            .commit(&guard, &REJETS, Some(territoire), re, meta.clone())
            .await?;
        self.checkpoint(Checkpoint::Rejets).await;
        let mut report = staged.report;
        report.versions = Some([v_ev, v_pe, v_re]);
        report.duree = started.elapsed();
        self.append_depot(&guard, &report, meta).await?;
        drop(guard);
        self.checkpoint(Checkpoint::Depots).await;
        move_into(
            path,
            &self.config.archive.join(territoire),
            &report.depot[..12],
        )?;
        *current = Some(extraction);
        *in_place = Some(report.personnes);
        tracing::info!(territoire, fichier = %report.fichier, lignes = report.lignes_lues, "dépôt intégré");
        for hook in &self.on_commit {
            hook(&report);
        }
        Ok(report)
    }

    /// Reads, validates and pseudonymises a drop into new data files. `Err` carries the
    /// reason to refuse the drop whole.
    fn stage(
        &self,
        territoire: &str,
        name: &DropName,
        path: &Path,
        mut report: DropReport,
        progress: &dyn Progress,
    ) -> std::result::Result<Staged, Stop> {
        let started = Instant::now();
        // The drop's content is refused; a fault of the machine leaves it for the next run.
        let fail = |report: DropReport, e: Error| {
            Err(if e.is_fault() {
                Stop::Fault(Box::new((report, e)))
            } else {
                Stop::Refuse(Box::new((report, e.to_string())))
            })
        };
        let limits = self.limits;
        let (header, detected, mut records) = match Records::open(path, name.format, &limits) {
            Ok(x) => x,
            Err(e) => return fail(report, e),
        };
        report.encodage = Some(detected.encodage.to_string());
        report.separateur = detected.separateur;
        let layout = match Layout::from_header(&header) {
            Ok(l) => l,
            Err(missing) => {
                let msg = format!(
                    "colonnes obligatoires absentes de l'en-tête : {}",
                    missing.join(", ")
                );
                return Err(Stop::Refuse(Box::new((report, msg))));
            }
        };
        report.colonnes_ignorees = layout.ignored.clone();
        report.identifiants_ignores = layout.identifiers.clone();

        let wh = &self.warehouse;
        let open = |def, report: &DropReport| {
            wh.part_writer(def, Some(territoire))
                .map_err(|e| Stop::Fault(Box::new((report.clone(), e.into()))))
        };
        let mut ev_writer = open(&EVENEMENTS, &report)?;
        let mut re_writer = open(&REJETS, &report)?;
        let mut events = EventBatch::new();
        let (mut re_depot, mut re_fichier, mut re_ligne, mut re_col, mut re_motif) = (
            StringBuilder::new(),
            StringBuilder::new(),
            Int64Builder::new(),
            StringBuilder::new(),
            StringBuilder::new(),
        );
        let mut re_len = 0usize;
        let mut seen: std::collections::HashSet<u128> = std::collections::HashSet::new();
        let mut people: HashMap<String, PersonRow> = HashMap::new();
        let mut cache: HashMap<String, (Option<String>, String, bool)> = HashMap::new();
        let mut row = Vec::new();
        let mut unreported = 0u64;
        let flush_rejects = |writer: &mut copil_warehouse::PartWriter,
                             b: (
            &mut StringBuilder,
            &mut StringBuilder,
            &mut Int64Builder,
            &mut StringBuilder,
            &mut StringBuilder,
        )|
         -> Result<()> {
            let cols: Vec<ArrayRef> = vec![
                Arc::new(b.0.finish()),
                Arc::new(b.1.finish()),
                Arc::new(b.2.finish()),
                Arc::new(b.3.finish()),
                Arc::new(b.4.finish()),
            ];
            let batch = RecordBatch::try_new(REJETS.file_schema(), cols).expect("rejects schema");
            writer.write(&batch).map_err(Error::from)
        };
        loop {
            let line = match records.next_row(&mut row) {
                Ok(Some(l)) => l,
                Ok(None) => break,
                Err(e) => return fail(report, e),
            };
            report.lignes_lues += 1;
            unreported += 1;
            let limit = |limit: Limit| Error::Limit {
                path: path.to_path_buf(),
                limit,
                value: limits.value(limit),
                line: Some(line),
            };
            if report.lignes_lues > limits.max_rows {
                return fail(report, limit(Limit::Rows));
            }
            if unreported == 16_384 {
                progress.rows(unreported);
                unreported = 0;
                if started.elapsed().as_secs() >= limits.max_parse_seconds {
                    return fail(report, limit(Limit::ParseSeconds));
                }
            }
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            for f in &row {
                h.update(f.as_bytes());
                h.update(&[0x1f]);
            }
            let outcome = if !seen.insert(h.digest128()) {
                Err((RejectReason::Doublon, None))
            } else {
                validate(&layout, &row, name.extraction, &self.departments)
                    .map_err(|r| (r.reason, r.column))
            };
            match outcome {
                Ok(v) => {
                    let key = match cache.get(&v.id) {
                        Some((nir, key, from_nir)) if *nir == v.nir => (key.clone(), *from_nir),
                        _ => {
                            let (key, from_nir) =
                                self.pseudonymiser
                                    .person(territoire, &v.id, v.nir.as_deref());
                            cache.insert(v.id.clone(), (v.nir.clone(), key.clone(), from_nir));
                            (key, from_nir)
                        }
                    };
                    events.push(&key.0, &v, line);
                    people.entry(key.0).or_insert_with(|| PersonRow {
                        annee: v.annee_naissance,
                        sexe: v.sexe,
                        departement: v.departement.clone(),
                        niveau: v.niveau_formation,
                        situation: v.situation_familiale,
                        cle_nir: key.1,
                    });
                    report.lignes_integrees += 1;
                    if events.len >= BATCH
                        && let Err(e) = ev_writer.write(&events.finish())
                    {
                        return fail(report, e.into());
                    }
                }
                Err((reason, column)) => {
                    *report.rejets.entry(reason).or_default() += 1;
                    re_depot.append_value(&report.depot);
                    re_fichier.append_value(&report.fichier);
                    re_ligne.append_value(line as i64);
                    re_col.append_option(column);
                    re_motif.append_value(reason.code());
                    re_len += 1;
                    if re_len >= BATCH {
                        if let Err(e) = flush_rejects(
                            &mut re_writer,
                            (
                                &mut re_depot,
                                &mut re_fichier,
                                &mut re_ligne,
                                &mut re_col,
                                &mut re_motif,
                            ),
                        ) {
                            return fail(report, e);
                        }
                        re_len = 0;
                    }
                }
            }
        }
        progress.rows(unreported);
        let finish = || -> Result<[Vec<StagedFile>; 3]> {
            if events.len > 0 {
                ev_writer.write(&events.finish())?;
            }
            if re_len > 0 {
                flush_rejects(
                    &mut re_writer,
                    (
                        &mut re_depot,
                        &mut re_fichier,
                        &mut re_ligne,
                        &mut re_col,
                        &mut re_motif,
                    ),
                )?;
            }
            let mut pe_writer = self.warehouse.part_writer(&PERSONNES, Some(territoire))?;
            let mut keys: Vec<&String> = people.keys().collect();
            keys.sort();
            for chunk in keys.chunks(BATCH) {
                let (mut k, mut a, mut s, mut d, mut n, mut si, mut c) = (
                    StringBuilder::new(),
                    Int32Builder::new(),
                    StringBuilder::new(),
                    StringBuilder::new(),
                    StringBuilder::new(),
                    StringBuilder::new(),
                    BooleanBuilder::new(),
                );
                for key in chunk {
                    let p = &people[*key];
                    k.append_value(key);
                    a.append_value(p.annee);
                    s.append_option(p.sexe);
                    d.append_option(p.departement.as_deref());
                    n.append_option(p.niveau);
                    si.append_option(p.situation);
                    c.append_value(p.cle_nir);
                }
                let cols: Vec<ArrayRef> = vec![
                    Arc::new(k.finish()),
                    Arc::new(a.finish()),
                    Arc::new(s.finish()),
                    Arc::new(d.finish()),
                    Arc::new(n.finish()),
                    Arc::new(si.finish()),
                    Arc::new(c.finish()),
                ];
                pe_writer.write(
                    &RecordBatch::try_new(PERSONNES.file_schema(), cols).expect("people schema"),
                )?;
            }
            let ev = ev_writer.finish()?.into_iter().collect();
            let pe = pe_writer.finish()?.into_iter().collect();
            let re = re_writer.finish()?.into_iter().collect();
            Ok([ev, pe, re])
        };
        let files = match finish() {
            Ok(f) => f,
            Err(e) => return fail(report, e),
        };
        report.personnes = people.len() as u64;
        Ok(Staged { files, report })
    }

    async fn append_depot(
        &self,
        guard: &copil_warehouse::CommitGuard<'_>,
        r: &DropReport,
        meta: HashMap<String, serde_json::Value>,
    ) -> Result<()> {
        let (statut, message) = match &r.statut {
            Status::Refuse(m) => ("refuse", Some(m.as_str())),
            Status::EnAttente(m) => ("en_attente", Some(m.as_str())),
            _ => ("integre", None),
        };
        let text = |v: Option<&str>| -> ArrayRef {
            let mut b = StringBuilder::new();
            b.append_option(v);
            Arc::new(b.finish())
        };
        let long = |v: Option<i64>| -> ArrayRef {
            let mut b = Int64Builder::new();
            b.append_option(v);
            Arc::new(b.finish())
        };
        let mut date = Date32Builder::new();
        date.append_option(r.date_extraction.map(days));
        let mut ts = TimestampMicrosecondBuilder::new().with_timezone("UTC");
        ts.append_value(self.clock.now().timestamp_micros());
        let sep = r.separateur.map(|c| c.to_string());
        let ignored = (!r.colonnes_ignorees.is_empty()).then(|| r.colonnes_ignorees.join(", "));
        let mut cols: Vec<ArrayRef> = vec![
            text(Some(&r.depot)),
            text(Some(&r.territoire)),
            text(Some(&r.fichier)),
            Arc::new(date.finish()),
            Arc::new(ts.finish()),
            text(Some(statut)),
            text(message),
            long(Some(r.lignes_lues as i64)),
            long(Some(r.lignes_integrees as i64)),
            long(Some(r.lignes_rejetees() as i64)),
        ];
        for reason in RejectReason::ALL {
            cols.push(long(Some(r.rejets_pour(reason) as i64)));
        }
        cols.extend([
            long(Some(r.personnes as i64)),
            text(r.encodage.as_deref()),
            text(sep.as_deref()),
            text(ignored.as_deref()),
            long(Some(r.duree.as_millis() as i64)),
        ]);
        let v = r.versions;
        cols.extend([
            long(v.map(|v| v[0] as i64)),
            long(v.map(|v| v[1] as i64)),
            long(v.map(|v| v[2] as i64)),
        ]);
        let batch = RecordBatch::try_new(DEPOTS.file_schema(), cols).expect("depots schema");
        let mut writer = self.warehouse.part_writer(&DEPOTS, None)?;
        writer.write(&batch)?;
        let staged = writer.finish()?.into_iter().collect();
        self.warehouse
            .commit(guard, &DEPOTS, None, staged, meta)
            .await?;
        Ok(())
    }

    /// Holds a valid drop for review: recorded in `depots` as `en_attente`, moved to the held
    /// folder with its report; the territory's data in place is untouched.
    async fn hold(
        &self,
        mut report: DropReport,
        path: &Path,
        message: String,
    ) -> Result<DropReport> {
        report.statut = Status::EnAttente(message);
        let meta: HashMap<String, serde_json::Value> = [
            ("copil.depot".to_string(), report.depot.clone().into()),
            ("copil.statut".to_string(), "en_attente".into()),
        ]
        .into();
        {
            let guard = self.warehouse.lock().await?;
            self.append_depot(&guard, &report, meta).await?;
        }
        let prefix = report.depot.get(..12).unwrap_or("attente").to_string();
        let dest = move_into(path, &self.held.join(&report.territoire), &prefix)?;
        let mut rapport = dest.into_os_string();
        rapport.push(".rapport.txt");
        std::fs::write(&rapport, report.render()).map_err(io(Path::new(&rapport)))?;
        tracing::warn!(territoire = %report.territoire, fichier = %report.fichier, "dépôt mis en attente");
        Ok(report)
    }

    async fn refuse(
        &self,
        mut report: DropReport,
        path: &Path,
        message: String,
    ) -> Result<DropReport> {
        report.statut = Status::Refuse(message);
        let meta: HashMap<String, serde_json::Value> = [
            ("copil.depot".to_string(), report.depot.clone().into()),
            ("copil.statut".to_string(), "refuse".into()),
        ]
        .into();
        {
            let guard = self.warehouse.lock().await?;
            self.append_depot(&guard, &report, meta).await?;
        }
        let prefix = report.depot.get(..12).unwrap_or("refuse").to_string();
        let dest = move_into(path, &self.config.refused.join(&report.territoire), &prefix)?;
        let mut rapport = dest.into_os_string();
        rapport.push(".rapport.txt");
        std::fs::write(&rapport, report.render()).map_err(io(Path::new(&rapport)))?;
        tracing::warn!(territoire = %report.territoire, fichier = %report.fichier, "dépôt refusé");
        Ok(report)
    }
}
