//! The pipeline, once for every caller (the command line, the schedule, uploads and
//! releases from the web): ingest under the warehouse's run lock, then refresh the indicators
//! when anything landed or when an earlier run left them behind.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use copil_ingest::{Checkpoint, DropReport, IngestConfig, Ingestor, Progress, RunReport, Status};
use copil_queries::{Catalogue, Scope};
use copil_warehouse::{Departments, Register, SystemClock, Warehouse};

use crate::config::Config;

pub fn register(config: &Config, departments: &Departments) -> Result<Register> {
    match &config.register {
        Some(path) => Register::from_path(path, departments).context("registre des territoires"),
        None => Ok(Register::builtin(departments)),
    }
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("démarrage du moteur asynchrone")
}

pub fn ingest_config(config: &Config, pause_at: Option<Checkpoint>) -> IngestConfig {
    IngestConfig {
        inbox: config.inbox_dir(),
        archive: config.data_dir.join("archive"),
        refused: config.data_dir.join("refuses"),
        key_file: config.key_path(),
        parallelism: std::thread::available_parallelism().map_or(2, |n| n.get()),
        pause_at,
    }
}

/// The ingestor of the configuration; `committed` is set by its commit hook, so that the
/// indicators are refreshed once the run's commits are done.
pub async fn ingestor(
    config: &Config,
    pause_at: Option<Checkpoint>,
    committed: Arc<AtomicBool>,
) -> Result<Arc<Ingestor>> {
    let departments = Departments::builtin();
    let reg = register(config, &departments)?;
    let warehouse = Warehouse::open(&config.warehouse_location())
        .await
        .context("ouverture de l'entrepôt")?;
    let mut ingestor = Ingestor::new(
        ingest_config(config, pause_at),
        warehouse,
        reg,
        departments,
        Arc::new(SystemClock),
    )
    .await?;
    ingestor.set_limits(config.ingest.limits());
    ingestor.set_safeguards(config.ingest.safeguards());
    ingestor.set_held_dir(config.data_dir.join("en_attente"));
    ingestor.on_commit(move |_| committed.store(true, Ordering::Relaxed));
    Ok(Arc::new(ingestor))
}

/// Takes the warehouse's run lock: one ingestion or refresh at a time, whoever starts it (the
/// command line, the schedule, an upload). Waits, saying so, if another run holds it.
pub async fn run_lock(warehouse: &Warehouse) -> Result<copil_warehouse::RunGuard> {
    if let Some(guard) = warehouse
        .run_lock(false)
        .await
        .context("verrou d'exécution de l'entrepôt")?
    {
        return Ok(guard);
    }
    eprintln!(
        "Une ingestion ou un recalcul est déjà en cours sur cet entrepôt : attente de sa fin…"
    );
    tracing::info!("entrepôt occupé par une autre exécution : attente");
    warehouse
        .run_lock(true)
        .await
        .context("verrou d'exécution de l'entrepôt")?
        .context("verrou d'exécution de l'entrepôt")
}

/// A progress bar on a terminal (files, rows, rows per second); plain reports otherwise.
pub struct Bar {
    bar: Option<indicatif::ProgressBar>,
    rows: AtomicU64,
}

impl Progress for Bar {
    fn start(&self, files: usize) {
        if let Some(b) = &self.bar {
            b.set_length(files as u64);
        }
    }
    fn rows(&self, rows: u64) {
        let total = self.rows.fetch_add(rows, Ordering::Relaxed) + rows;
        if let Some(b) = &self.bar {
            let per_second = total as f64 / b.elapsed().as_secs_f64().max(1e-3);
            b.set_message(format!(
                "{} lignes · {} lignes/s",
                milliers(total),
                milliers(per_second as u64)
            ));
        }
    }
    fn drop_done(&self, report: &DropReport) {
        match &self.bar {
            Some(b) => {
                b.inc(1);
                b.println(report.render().trim_end());
            }
            None => println!("{}", report.render().trim_end()),
        }
    }
}

/// Runs one ingestion (or releases one held drop) under the warehouse's run lock, then
/// refreshes the indicators if anything landed, or if a previous run landed drops without
/// refreshing (a crash between the two): the indicators always end built from the latest
/// events.
pub async fn ingest(
    config: &Config,
    pause_at: Option<Checkpoint>,
    interactive: bool,
    release: Option<&Path>,
) -> Result<RunReport> {
    let committed = Arc::new(AtomicBool::new(false));
    let ingestor = ingestor(config, pause_at, Arc::clone(&committed)).await?;
    let _run = run_lock(ingestor.warehouse()).await?;
    let behind = ingestor
        .warehouse()
        .indicators_behind()
        .await
        .context("lecture des versions de l'entrepôt")?;
    let bar = if interactive && std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} dépôts {pos}/{len} · {msg} · {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        Some(b)
    } else {
        None
    };
    let progress = Arc::new(Bar {
        bar,
        rows: AtomicU64::new(0),
    });
    let started = Instant::now();
    let run = match release {
        Some(file) => {
            let report = ingestor
                .release(file, progress.clone())
                .await
                .with_context(|| format!("libération de {}", file.display()))?;
            RunReport {
                drops: vec![report],
                ..RunReport::default()
            }
        }
        None => ingestor.run_once(progress.clone()).await?,
    };
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    let rows: u64 = run.drops.iter().map(|d| d.lignes_lues).sum();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} dépôt(s) traité(s) : {} intégré(s), {} déjà intégré(s), {} refusé(s), {} en attente d'examen, {} non traité(s) sur incident ; {} lignes lues en {:.1} s ({} lignes/s).",
        run.drops.len(),
        run.drops
            .iter()
            .filter(|d| d.statut == Status::Integre)
            .count(),
        run.drops
            .iter()
            .filter(|d| d.statut == Status::DejaIntegre)
            .count(),
        run.refused(),
        run.held(),
        run.failed(),
        milliers(rows),
        seconds,
        milliers((rows as f64 / seconds.max(1e-9)) as u64)
    );
    for p in &run.en_cours {
        println!(
            "En cours de dépôt, laissé pour le prochain passage : {}",
            p.display()
        );
    }
    for (p, why) in &run.ignores {
        println!("Ignoré dans la boîte de dépôt : {} — {why}", p.display());
    }
    if committed.load(Ordering::Relaxed) || behind {
        if behind && !committed.load(Ordering::Relaxed) {
            println!(
                "Les indicateurs ne suivent pas la dernière version des événements (exécution précédente interrompue) : recalcul."
            );
        }
        // The indicators follow the commits of this run, under the same run lock.
        refresh(config, false).await?;
    }
    Ok(run)
}

/// Refreshes the indicators: only the territories whose data changed (all with `complet`).
pub async fn refresh(config: &Config, complet: bool) -> Result<()> {
    let departments = Departments::builtin();
    let reg = register(config, &departments)?;
    let warehouse = Warehouse::open(&config.warehouse_location())
        .await
        .context("ouverture de l'entrepôt")?;
    let (catalogue, rules) = (Catalogue::builtin(), config.rules());
    let scope = if complet { Scope::All } else { Scope::Changed };
    let r = copil_queries::refresh(&warehouse, &catalogue, &reg, &rules, &SystemClock, scope)
        .await
        .context("calcul des indicateurs")?;
    println!(
        "Indicateurs recalculés : {} cases (dont {} sous secret statistique, seuil {}), depuis la version {} des événements ({} territoire(s) recalculé(s) depuis leurs événements, les autres repris de leurs comptes), en {:.1} s, dont {:.1} s d'agrégation et de secret statistique.",
        milliers(r.cells as u64),
        milliers(r.secret as u64),
        config.secrecy.threshold,
        r.version_evenements,
        r.territoires_recalcules,
        r.duree.as_secs_f64(),
        r.duree_secret.as_secs_f64()
    );
    Ok(())
}

/// French thousands separators: 1234567 → « 1 234 567 » (narrow no-break spaces).
pub fn milliers(n: u64) -> String {
    copil_core::nombres::entier(n)
}
