//! `copil`: the command line of Copil. Glue only: it loads the configuration, then calls the
//! crates (`copil-sample` to generate, and later ingest, queries and dashboards).

mod config;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use copil_ingest::{
    Checkpoint, DropReport, IngestConfig, Ingestor, KeyFileStatus, Progress, RunReport, SecretKey,
    Status,
};
use copil_queries::{Catalogue, Direction};
use copil_sample::{Destination, Options, Variante};
use copil_warehouse::{Clock, Departments, Register, SystemClock, Warehouse};

use crate::config::{Config, Loaded, Overrides};

const HELP_TEMPLATE: &str = "{about-with-newline}\nUtilisation : {usage}\n\n{all-args}{after-help}";

/// Copil : pilotage du Service public de l'insertion et de l'emploi (SPIE).
///
/// Ingère les extractions de parcours des territoires, calcule les indicateurs du SPIE et sert
/// le tableau de bord du comité de pilotage, des territoires et des évaluateurs.
#[derive(Debug, Parser)]
#[command(
    name = "copil",
    version,
    help_template = HELP_TEMPLATE,
    disable_help_subcommand = true,
    subcommand_help_heading = "Commandes",
    next_help_heading = "Options générales"
)]
struct Cli {
    /// Fichier de configuration (défaut : ./copil.toml s'il existe).
    #[arg(long, global = true, value_name = "FICHIER")]
    config: Option<PathBuf>,
    /// Dossier des données (clé data_dir).
    #[arg(
        long = "dossier-donnees",
        alias = "data-dir",
        global = true,
        value_name = "DOSSIER"
    )]
    data_dir: Option<PathBuf>,
    /// Remplace une clé de configuration, par exemple --definir secrecy.threshold=5.
    #[arg(
        long = "definir",
        alias = "set",
        global = true,
        value_name = "CLÉ=VALEUR"
    )]
    set: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Écrit un copil.toml commenté et une nouvelle clé de pseudonymisation (jamais écrasée).
    #[command(help_template = HELP_TEMPLATE)]
    Init {
        /// Dossier où écrire copil.toml (défaut : le dossier courant).
        dir: Option<PathBuf>,
    },
    /// Affiche la configuration effective et l'origine de chaque valeur (secrets masqués).
    #[command(help_template = HELP_TEMPLATE)]
    Config,
    /// Génère des dépôts synthétiques (un par territoire) et leurs manifestes.
    #[command(help_template = HELP_TEMPLATE)]
    Generate(GenerateArgs),
    /// Traite la boîte de dépôt une fois : validation, pseudonymisation, entrepôt.
    ///
    /// Affiche un rapport par dépôt ; code de sortie non nul si un dépôt est refusé.
    #[command(help_template = HELP_TEMPLATE)]
    Ingest {
        /// Réservé aux tests de reprise : s'arrête à ce point et attend d'être tué.
        #[arg(long, hide = true, value_name = "POINT")]
        point_arret: Option<String>,
        /// Intègre un dépôt mis en attente d'examen (dans <data_dir>/en_attente/<territoire>/),
        /// sans les garde-fous (lignes écartées, personnes perdues, date future) ; le contrat
        /// et les limites s'appliquent toujours.
        #[arg(long, value_name = "FICHIER")]
        liberer: Option<PathBuf>,
    },
    /// Recalcule tous les indicateurs depuis l'entrepôt (table indicateurs).
    #[command(help_template = HELP_TEMPLATE)]
    Refresh,
    /// Vérifie ou répare les journaux Delta des tables de l'entrepôt.
    #[command(help_template = HELP_TEMPLATE)]
    Entrepot {
        #[command(subcommand)]
        action: EntrepotAction,
    },
    /// Le catalogue des indicateurs ; « show ID » affiche les résultats d'un indicateur.
    #[command(help_template = HELP_TEMPLATE)]
    Indicators {
        /// Écrit la documentation du catalogue en Markdown (docs/indicateurs.md).
        #[arg(long)]
        markdown: bool,
        #[command(subcommand)]
        action: Option<IndicatorsAction>,
    },
    /// Gère les comptes du tableau de bord (mots de passe hachés en argon2id).
    #[command(help_template = HELP_TEMPLATE)]
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Gère les projets d'évaluation : un compte « evaluateur » n'exporte des microdonnées que
    /// pour un projet qui le nomme, sur ses territoires et pendant sa période.
    #[command(help_template = HELP_TEMPLATE)]
    Projets {
        #[command(subcommand)]
        action: ProjetsAction,
    },
    /// Lance le service : le tableau de bord (clé server.bind) et l'ingestion planifiée
    /// (clé schedule.ingest).
    #[command(help_template = HELP_TEMPLATE)]
    Serve,
    /// Démonstration : génère des dépôts d'exemple, les ingère, calcule les indicateurs et
    /// sert le tableau de bord.
    #[command(help_template = HELP_TEMPLATE)]
    Demo {
        /// S'arrête après le calcul des indicateurs, sans servir le tableau de bord.
        #[arg(long)]
        sans_serveur: bool,
    },
}

#[derive(Debug, Subcommand)]
enum EntrepotAction {
    /// Vérifie chaque table : journal complet et lisible, aucune table revenue en arrière.
    /// Code de sortie non nul si une table est endommagée.
    #[command(help_template = HELP_TEMPLATE)]
    Verifier,
    /// Ramène chaque table endommagée à sa dernière version saine (les versions endommagées
    /// sont mises de côté, jamais effacées), remet dans la boîte de dépôt les dépôts dont les
    /// données sont perdues, puis les intègre et recalcule les indicateurs.
    #[command(help_template = HELP_TEMPLATE)]
    Reparer,
}

#[derive(Debug, Subcommand)]
enum UsersAction {
    /// Crée un compte. Le mot de passe est lu sur l'entrée standard avec --mot-de-passe-stdin ;
    /// sinon il est tiré au hasard et affiché une seule fois.
    #[command(help_template = HELP_TEMPLATE)]
    Add {
        /// Identifiant de connexion.
        login: String,
        /// Rôle : national, territoire, evaluateur ou admin.
        #[arg(long)]
        role: String,
        /// Territoire d'un compte « territoire » (identifiant du registre).
        #[arg(long = "territoire", alias = "territory")]
        territory: Option<String>,
        /// Lit le mot de passe sur la première ligne de l'entrée standard.
        #[arg(long = "mot-de-passe-stdin", alias = "password-stdin")]
        password_stdin: bool,
    },
    /// Liste les comptes (jamais les mots de passe ni leurs empreintes).
    #[command(help_template = HELP_TEMPLATE)]
    List,
    /// Désactive un compte : il ne peut plus se connecter.
    #[command(help_template = HELP_TEMPLATE)]
    Disable {
        /// Identifiant du compte.
        login: String,
    },
    /// Crée un jeton d'API pour un compte (affiché une seule fois ; seule son empreinte est
    /// gardée).
    #[command(help_template = HELP_TEMPLATE)]
    Token {
        /// Identifiant du compte.
        login: String,
        /// Nom du jeton (par exemple script-mensuel).
        #[arg(long = "nom", alias = "name")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
enum ProjetsAction {
    /// Déclare un projet d'évaluation. Son nom est la clé de ses pseudonymes : il ne sert
    /// qu'une fois.
    #[command(help_template = HELP_TEMPLATE, visible_alias = "add")]
    Ajouter {
        /// Nom du projet (a-z, 0-9, « - », « _ » ; 64 caractères au plus).
        nom: String,
        /// Objet du projet (à quoi servent les exports).
        #[arg(long)]
        objet: String,
        /// Comptes « evaluateur » du projet, séparés par des virgules.
        #[arg(long, value_delimiter = ',', required = true, value_name = "LOGIN,…")]
        evaluateurs: Vec<String>,
        /// Territoires couverts (identifiants du registre), séparés par des virgules.
        #[arg(long, value_delimiter = ',', required = true, value_name = "ID,…")]
        territoires: Vec<String>,
        /// Premier jour des exports.
        #[arg(long, value_name = "AAAA-MM-JJ")]
        debut: String,
        /// Dernier jour des exports.
        #[arg(long, value_name = "AAAA-MM-JJ")]
        fin: String,
    },
    /// Liste les projets d'évaluation.
    #[command(help_template = HELP_TEMPLATE, visible_alias = "list")]
    Liste,
    /// Clôt un projet : plus aucun export sous ce nom.
    #[command(help_template = HELP_TEMPLATE, visible_alias = "close")]
    Clore {
        /// Nom du projet.
        nom: String,
    },
}

#[derive(Debug, Subcommand)]
enum IndicatorsAction {
    /// Affiche les résultats publiés d'un indicateur (secret statistique appliqué).
    #[command(help_template = HELP_TEMPLATE)]
    Show {
        /// Identifiant de l'indicateur (voir « copil indicators »).
        id: String,
        /// Ne garder, parmi les territoires, que celui-ci (les vagues et la France restent).
        #[arg(long = "territoire", alias = "territory", value_name = "ID")]
        territory: Option<String>,
        /// Ne garder que ce mois.
        #[arg(long = "mois", alias = "month", value_name = "AAAA-MM")]
        month: Option<String>,
    },
    /// Attaque la table publiée comme un extérieur : pour chaque case secrète, les valeurs
    /// compatibles avec tout ce qui est publié ; code de sortie non nul si une case secrète
    /// se retrouve à moins du seuil près.
    #[command(help_template = HELP_TEMPLATE)]
    Audit,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Options de génération")]
struct GenerateArgs {
    /// Boîte de dépôt à remplir, un sous-dossier par territoire (défaut : clé inbox).
    #[arg(long = "sortie", alias = "out", value_name = "DOSSIER")]
    out: Option<PathBuf>,
    /// Dossier des manifestes (défaut : « manifests » à côté de --sortie).
    #[arg(long = "manifestes", alias = "manifests", value_name = "DOSSIER")]
    manifests: Option<PathBuf>,
    /// Graine : mêmes graine et options, mêmes octets.
    #[arg(long = "graine", alias = "seed", default_value_t = 1, value_name = "N")]
    seed: u64,
    /// Échelle : à 1, le registre compte environ 1,84 million de personnes.
    #[arg(long, default_value_t = 0.005, value_name = "X")]
    echelle: f64,
    /// Premier mois d'entrée au RSA.
    #[arg(
        long = "depuis",
        alias = "from",
        default_value = "2019-01",
        value_name = "AAAA-MM"
    )]
    from: String,
    /// Dernier mois d'entrée (défaut : le mois courant).
    #[arg(long = "jusqua", alias = "to", value_name = "AAAA-MM")]
    to: Option<String>,
    /// Territoires à générer (identifiants séparés par des virgules ; défaut : tout le registre).
    #[arg(
        long = "territoires",
        alias = "territories",
        value_delimiter = ',',
        value_name = "ID,…"
    )]
    territories: Option<Vec<String>>,
    /// Date d'extraction de référence (défaut : fin du mois --jusqua, au plus aujourd'hui) ;
    /// chaque territoire extrait quelques jours, parfois quelques semaines, avant.
    #[arg(long, value_name = "AAAA-MM-JJ")]
    date_extraction: Option<String>,
    /// Part de lignes défectueuses (identifiant manquant, code inconnu, date impossible, date
    /// future, événement avant la naissance).
    #[arg(long, default_value_t = 0.005, value_name = "TAUX")]
    taux_defauts: f64,
    /// Part de lignes répétées à l'identique.
    #[arg(long, default_value_t = 0.003, value_name = "TAUX")]
    taux_doublons: f64,
    /// Impose une variante à tous les dépôts : utf8-virgule, windows1252-point-virgule,
    /// utf8-bom-point-virgule, xlsx, utf8-tabulation-gz.
    #[arg(long, value_name = "VARIANTE")]
    format: Option<String>,
    /// Dépôts sans défauts (ni lignes cassées, ni doublons, ni retours à la ligne).
    #[arg(long)]
    propre: bool,
    /// Nombre de fils de génération (défaut : les cœurs de la machine).
    #[arg(long, value_name = "N")]
    fils: Option<usize>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("erreur : {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> Result<Loaded> {
    let mut sets = Vec::new();
    if let Some(d) = &cli.data_dir {
        sets.push(("data_dir".to_string(), d.display().to_string()));
    }
    for s in &cli.set {
        let (k, v) = s
            .split_once('=')
            .with_context(|| format!("--definir « {s} » : la forme attendue est clé=valeur"))?;
        sets.push((k.trim().to_string(), v.trim().to_string()));
    }
    let env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("COPIL_"))
        .collect();
    Config::load(
        &Overrides {
            config_file: cli.config.clone(),
            sets,
        },
        &env,
    )
}

fn register(config: &Config, departments: &Departments) -> Result<Register> {
    match &config.register {
        Some(path) => Register::from_path(path, departments).context("registre des territoires"),
        None => Ok(Register::builtin(departments)),
    }
}

fn run(cli: &Cli) -> Result<()> {
    let clock = SystemClock;
    match &cli.command {
        Command::Init { dir } => init(dir.as_deref().unwrap_or(Path::new("."))),
        Command::Config => {
            let loaded = load_config(cli)?;
            let departments = Departments::builtin();
            let reg = register(&loaded.config, &departments)?;
            print!("{}", loaded.render());
            println!(
                "\n# Registre chargé : {} ({} territoires)",
                reg.origin(),
                reg.len()
            );
            Ok(())
        }
        Command::Generate(args) => {
            let loaded = load_config(cli)?;
            generate(&loaded.config, args, &clock)
        }
        Command::Ingest {
            point_arret,
            liberer,
        } => {
            let loaded = load_config(cli)?;
            let pause_at = match point_arret {
                Some(p) => Some(
                    Checkpoint::from_code(p)
                        .with_context(|| format!("point d'arrêt « {p} » inconnu"))?,
                ),
                None => None,
            };
            let run =
                runtime()?.block_on(ingest(&loaded.config, pause_at, true, liberer.as_deref()))?;
            let (refused, held, failed) = (run.refused(), run.held(), run.failed());
            if refused + held + failed > 0 {
                anyhow::bail!(
                    "{refused} dépôt(s) refusé(s), {held} mis en attente d'examen, {failed} non traité(s) sur incident : voir les rapports ci-dessus et les dossiers refuses et en_attente"
                );
            }
            Ok(())
        }
        Command::Refresh => {
            let loaded = load_config(cli)?;
            runtime()?.block_on(async {
                let warehouse = Warehouse::open(&loaded.config.warehouse_location())
                    .await
                    .context("ouverture de l'entrepôt")?;
                let _run = run_lock(&warehouse).await?;
                refresh(&loaded.config).await
            })
        }
        Command::Entrepot { action } => {
            let loaded = load_config(cli)?;
            runtime()?.block_on(entrepot(&loaded.config, action))
        }
        Command::Indicators { markdown, action } => {
            let catalogue = Catalogue::builtin();
            match action {
                None if *markdown => {
                    print!("{}", catalogue.documentation());
                    Ok(())
                }
                None => {
                    for i in catalogue.iter() {
                        let direction = match i.direction {
                            Direction::Hausse => "↑ mieux en hausse",
                            Direction::Baisse => "↓ mieux en baisse",
                            Direction::Neutre => "neutre",
                        };
                        println!(
                            "{:<24} {} ({}, {direction})
{:<24} {}
",
                            i.id, i.titre, i.unite, "", i.definition
                        );
                    }
                    Ok(())
                }
                Some(IndicatorsAction::Audit) => {
                    let loaded = load_config(cli)?;
                    runtime()?.block_on(audit(&loaded.config, &catalogue))
                }
                Some(IndicatorsAction::Show {
                    id,
                    territory,
                    month,
                }) => {
                    let loaded = load_config(cli)?;
                    runtime()?.block_on(show(
                        &loaded.config,
                        &catalogue,
                        id,
                        territory.as_deref(),
                        month.as_deref(),
                    ))
                }
            }
        }
        Command::Users { action } => {
            let loaded = load_config(cli)?;
            users(&loaded.config, action, &clock)
        }
        Command::Projets { action } => {
            let loaded = load_config(cli)?;
            projets(&loaded.config, action, &clock)
        }
        Command::Serve => {
            let loaded = load_config(cli)?;
            runtime()?.block_on(serve(loaded.config))
        }
        Command::Demo { sans_serveur } => {
            let loaded = load_config(cli)?;
            demo(&loaded.config, &clock)?;
            if *sans_serveur {
                return Ok(());
            }
            runtime()?.block_on(serve(demo_server_config(&loaded)))
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("démarrage du moteur asynchrone")
}

fn ingest_config(config: &Config, pause_at: Option<Checkpoint>) -> IngestConfig {
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
async fn ingestor(
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

/// `copil entrepot verifier|reparer` (issue 13): a damaged Delta log is reported with what
/// to do, and repaired explicitly, never silently.
async fn entrepot(config: &Config, action: &EntrepotAction) -> Result<()> {
    let warehouse = Warehouse::open(&config.warehouse_location())
        .await
        .context("ouverture de l'entrepôt")?;
    let damages = warehouse
        .verify()
        .context("vérification des journaux de l'entrepôt")?;
    match action {
        EntrepotAction::Verifier => {
            if damages.is_empty() {
                println!("Entrepôt sain : le journal de chaque table est complet et lisible.");
                return Ok(());
            }
            for d in &damages {
                println!(
                    "Table {} endommagée à partir de la version {} : {}.",
                    d.table, d.version, d.what
                );
            }
            anyhow::bail!(
                "{} table(s) endommagée(s) : restaurez-les d'une sauvegarde, ou lancez « copil entrepot reparer »",
                damages.len()
            )
        }
        EntrepotAction::Reparer => {
            if damages.is_empty() {
                println!("Entrepôt sain : rien à réparer.");
                return Ok(());
            }
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
            let repair = warehouse
                .repair(&stamp)
                .await
                .context("réparation de l'entrepôt")?;
            drop(warehouse);
            for t in &repair.tables {
                let version = |v: Option<u64>| v.map_or("aucune".to_string(), |v| v.to_string());
                println!(
                    "Table {} ramenée de la version {} à la version {} ({}){}.",
                    t.table,
                    version(t.avant),
                    version(t.apres),
                    t.raison,
                    t.mis_de_cote
                        .as_ref()
                        .map(|p| format!(" ; versions mises de côté dans {}", p.display()))
                        .unwrap_or_default()
                );
            }
            let ingestor = ingestor(config, None, Arc::new(AtomicBool::new(false))).await?;
            for (d, outcome) in ingestor.requeue(&repair.perdus) {
                match outcome {
                    Ok(path) => println!(
                        "Dépôt {} ({}) remis dans la boîte de dépôt : {}",
                        d.fichier,
                        d.territoire,
                        path.display()
                    ),
                    Err(why) => println!("Dépôt {} ({}) : {why}", d.fichier, d.territoire),
                }
            }
            drop(ingestor);
            println!("Intégration des dépôts remis en file et recalcul des indicateurs :");
            ingest(config, None, true, None).await?;
            Ok(())
        }
    }
}

/// Takes the warehouse's run lock: one ingestion or refresh at a time, whoever starts it (the
/// command line, the schedule, an upload). Waits, saying so, if another run holds it.
async fn run_lock(warehouse: &Warehouse) -> Result<copil_warehouse::RunGuard> {
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
struct Bar {
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
async fn ingest(
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
        refresh(config).await?;
    }
    Ok(run)
}

async fn refresh(config: &Config) -> Result<()> {
    let departments = Departments::builtin();
    let reg = register(config, &departments)?;
    let warehouse = Warehouse::open(&config.warehouse_location())
        .await
        .context("ouverture de l'entrepôt")?;
    let r = copil_queries::refresh(
        &warehouse,
        &Catalogue::builtin(),
        &reg,
        &config.rules(),
        &SystemClock,
    )
    .await
    .context("calcul des indicateurs")?;
    println!(
        "Indicateurs recalculés : {} cases (dont {} sous secret statistique, seuil {}), depuis la version {} des événements, en {:.1} s.",
        milliers(r.cells as u64),
        milliers(r.secret as u64),
        config.secrecy.threshold,
        r.version_evenements,
        r.duree.as_secs_f64()
    );
    Ok(())
}

async fn show(
    config: &Config,
    catalogue: &Catalogue,
    id: &str,
    territory: Option<&str>,
    month: Option<&str>,
) -> Result<()> {
    let indicator = catalogue.get(id).with_context(|| {
        let ids: Vec<&str> = catalogue.iter().map(|i| i.id.as_str()).collect();
        format!(
            "indicateur « {id} » inconnu (indicateurs : {})",
            ids.join(", ")
        )
    })?;
    let departments = Departments::builtin();
    let reg = register(config, &departments)?;
    if let Some(t) = territory
        && reg.get(t).is_none()
    {
        anyhow::bail!("territoire « {t} » inconnu du registre");
    }
    let month = month.map(|m| parse_month(m, "--mois")).transpose()?;
    let warehouse = Warehouse::open(&config.warehouse_location())
        .await
        .context("ouverture de l'entrepôt")?;
    let cells = copil_queries::read(&warehouse, id, territory, month).await?;
    println!(
        "{} — {}
{}
",
        indicator.id, indicator.titre, indicator.definition
    );
    if cells.is_empty() {
        println!("Aucun résultat : lancez « copil ingest » puis « copil refresh ».");
        return Ok(());
    }
    println!(
        "{:<10} {:<22} {:<8} {:<24} {:>12} {:>28} {:>10}",
        "niveau", "code", "mois", "ventilation", "valeur", "IC 95 % / quartiles", "personnes"
    );
    for c in &cells {
        let case = if c.ventilation.is_empty() {
            "ensemble".to_string()
        } else {
            format!("{} = {}", c.ventilation, c.modalite)
        };
        println!(
            "{:<10} {:<22} {:<8} {:<24} {:>12} {:>28} {:>10}",
            c.niveau.code(),
            c.code,
            c.mois.format("%m/%Y"),
            case,
            if c.provisoire {
                format!("{} (p)", copil_queries::format_value(indicator.sorte, c))
            } else {
                copil_queries::format_value(indicator.sorte, c)
            },
            copil_queries::format_spread(indicator.sorte, c),
            c.personnes
                .map_or("secret".to_string(), |p| milliers(p as u64)),
        );
    }
    println!(
        "
Secret statistique : aucune case publiée ne compte entre 1 et {} personnes ; (p) : case provisoire (un territoire du niveau manque encore pour ce mois).",
        config.secrecy.threshold - 1
    );
    Ok(())
}

async fn audit(config: &Config, catalogue: &Catalogue) -> Result<()> {
    let departments = Departments::builtin();
    let reg = register(config, &departments)?;
    let warehouse = Warehouse::open(&config.warehouse_location())
        .await
        .context("ouverture de l'entrepôt")?;
    let threshold = i64::from(config.secrecy.threshold);
    let report = copil_queries::audit_published(&warehouse, catalogue, &reg, &config.rules())
        .await
        .context("lecture de la table indicateurs")?;
    println!(
        "Audit du secret statistique (seuil {threshold}) : pour chaque case secrète, l'écart entre la plus petite et la plus grande valeur compatibles avec les chiffres publiés.\n"
    );
    println!(
        "{:<24} {:>10} {:>10} {:>16}",
        "indicateur", "cases", "secrètes", "écart minimal"
    );
    for (id, s) in &report.indicateurs {
        println!(
            "{:<24} {:>10} {:>10} {:>16}",
            id,
            milliers(s.cases as u64),
            milliers(s.secretes as u64),
            s.plus_etroite
                .map_or("—".to_string(), |w| format!("{w:.1}"))
        );
    }
    if report.failures.is_empty() {
        println!("\nAucune case secrète ne se retrouve à moins de {threshold} près.");
        return Ok(());
    }
    for f in &report.failures {
        println!(
            "RETROUVABLE  {} {} {} {} {} : entre {:.1} et {}",
            f.indicateur,
            f.niveau.code(),
            f.code,
            f.mois.format("%Y-%m"),
            f.case,
            f.range.min,
            f.range.max.map_or("∞".to_string(), |m| format!("{m:.1}"))
        );
    }
    anyhow::bail!(
        "{} case(s) secrète(s) retrouvable(s) à moins de {threshold} près : relancez « copil refresh »",
        report.failures.len()
    )
}

async fn serve(config: Config) -> Result<()> {
    // Copil's own events at info; the libraries' only when they warn (RUST_LOG overrides).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,copil=info,copil_ingest=info,copil_queries=info,copil_dashboards=info",
        )
    });
    let _ = tracing_subscriber::fmt()
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
    copil_ingest::schedule::check(&config.schedule.ingest)?;
    let departments = Departments::builtin();
    let reg = register(&config, &departments)?;
    let warehouse = Warehouse::open(&config.warehouse_location())
        .await
        .context("ouverture de l'entrepôt")?;
    let state = copil_dashboards::AppState::new(
        warehouse,
        reg,
        departments,
        dashboard_settings(&config)?,
        Arc::new(SystemClock),
    )
    .await
    .context("lecture des indicateurs publiés et des comptes")?;
    {
        // An upload may ask for an immediate run: the same job as the schedule's. A national
        // or admin account may release a held drop: the same job as `ingest --liberer`.
        let config = Arc::new(config.clone());
        state.set_ingest_now(Arc::new(move |release: Option<PathBuf>| {
            let config = Arc::clone(&config);
            Box::pin(async move {
                ingest(&config, None, false, release.as_deref())
                    .await
                    .map(|run| run.summary())
                    .map_err(|e| format!("{e:#}"))
            })
        }));
    }
    let listener = tokio::net::TcpListener::bind(&config.server.bind)
        .await
        .with_context(|| format!("écoute sur {} (clé server.bind)", config.server.bind))?;
    let address = listener.local_addr().context("adresse d'écoute")?;
    let shared = Arc::new(config);
    let job_config = Arc::clone(&shared);
    let job_state = state.clone();
    let _scheduler = copil_ingest::schedule::start(&shared.schedule.ingest, move || {
        let config = Arc::clone(&job_config);
        let state = job_state.clone();
        async move {
            tracing::info!("ingestion planifiée : début");
            match ingest(&config, None, false, None).await {
                Ok(run) => tracing::info!(
                    refused = run.refused(),
                    held = run.held(),
                    failed = run.failed(),
                    "ingestion planifiée : fin"
                ),
                Err(e) => tracing::error!("ingestion planifiée en échec : {e:#}"),
            }
            if let Err(e) = state.reload().await {
                tracing::error!("rechargement des indicateurs en échec : {e:#}");
            }
        }
    })
    .await?;
    println!("Tableau de bord : http://{address}/  (Ctrl-C pour arrêter)");
    tracing::info!(schedule = %shared.schedule.ingest, %address, "Copil en service");
    copil_dashboards::serve(listener, state, std::time::Duration::from_secs(30), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("service HTTP")?;
    Ok(())
}

/// The dashboard's settings from the configuration; creates the export pseudonym key when
/// missing (mode 0600, never overwritten).
fn dashboard_settings(config: &Config) -> Result<copil_dashboards::Settings> {
    let key_path = config.export_key_path();
    if SecretKey::create_file(&key_path)? == KeyFileStatus::Created {
        tracing::info!(fichier = %key_path.display(), "clé des pseudonymes d'export créée");
    }
    let key = SecretKey::read_file(&key_path)
        .with_context(|| format!("clé des pseudonymes d'export {}", key_path.display()))?;
    let mut settings = copil_dashboards::Settings::under(
        &config.data_dir,
        i64::from(config.secrecy.threshold),
        copil_dashboards::ExportKey(*key.as_bytes()),
    );
    settings.accounts_file = config.accounts_path();
    settings.projects_file = config.projects_path();
    settings.inbox = config.inbox_dir();
    // Where the ingestor keeps drops held for review (see `ingestor`).
    settings.held_dir = config.data_dir.join("en_attente");
    settings.secure_cookies = config.server.secure_cookies;
    settings.max_password_checks = config.server.max_password_checks as usize;
    settings.upload_max_bytes = config.upload.max_bytes;
    settings.coverage_percent = config.publication.coverage;
    Ok(settings)
}

fn init(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("création du dossier {}", dir.display()))?;
    let file = dir.join("copil.toml");
    if file.exists() {
        println!("{} existe déjà : conservé tel quel.", file.display());
    } else {
        std::fs::write(&file, config::template())
            .with_context(|| format!("écriture de {}", file.display()))?;
        println!("Configuration écrite : {}", file.display());
    }
    let loaded = Config::load(
        &Overrides {
            config_file: Some(file),
            sets: vec![],
        },
        &[],
    )?;
    let key = loaded.config.key_path();
    match SecretKey::create_file(&key)? {
        KeyFileStatus::Created => println!(
            "Clé de pseudonymisation créée : {} (lisible par son seul propriétaire ; à sauvegarder hors de l'entrepôt).",
            key.display()
        ),
        KeyFileStatus::KeptExisting => println!(
            "Clé de pseudonymisation existante conservée : {}",
            key.display()
        ),
    }
    Ok(())
}

fn parse_month(s: &str, flag: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .with_context(|| format!("{flag} « {s} » : mois attendu sous la forme AAAA-MM"))
}

fn generation_options(args: &GenerateArgs, today: NaiveDate) -> Result<Options> {
    let mut o = Options::par_defaut(today);
    o.graine = args.seed;
    o.echelle = args.echelle;
    o.debut = parse_month(&args.from, "--depuis")?;
    if let Some(to) = &args.to {
        o.fin = parse_month(to, "--jusqua")?;
    }
    o.date_extraction = match &args.date_extraction {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").with_context(|| {
            format!("--date-extraction « {d} » : date attendue sous la forme AAAA-MM-JJ")
        })?,
        None => {
            let end_of_to = o
                .fin
                .checked_add_months(chrono::Months::new(1))
                .context("--jusqua")?
                .pred_opt()
                .context("--jusqua")?;
            end_of_to.min(today)
        }
    };
    o.territoires = args.territories.clone();
    o.taux_defauts = args.taux_defauts;
    o.taux_doublons = args.taux_doublons;
    o.variante = match &args.format {
        Some(code) => Some(Variante::from_code(code).with_context(|| {
            let all: Vec<&str> = Variante::ALL.iter().map(|v| v.code()).collect();
            format!(
                "--format « {code} » inconnu (variantes : {})",
                all.join(", ")
            )
        })?),
        None => None,
    };
    o.propre = args.propre;
    if let Some(n) = args.fils {
        o.fils = n;
    }
    Ok(o)
}

/// French thousands separators: 1234567 → « 1 234 567 » (narrow no-break spaces).
fn milliers(n: u64) -> String {
    copil_core::nombres::entier(n)
}

fn run_generator(config: &Config, options: &Options, dest: &Destination) -> Result<()> {
    let departments = Departments::builtin();
    let reg = register(config, &departments)?;
    let started = Instant::now();
    let rows = AtomicU64::new(0);
    let manifests = copil_sample::generer(&reg, &departments, options, dest, &|m| {
        rows.fetch_add(m.lignes, Ordering::Relaxed);
        println!(
            "  {:<16} {:<26} {:>9} lignes {:>7} personnes  {:>5} rejets attendus  {}",
            m.territoire,
            m.variante,
            milliers(m.lignes),
            milliers(m.personnes),
            milliers(m.lignes_rejetees()),
            m.fichier
        );
    })?;
    let seconds = started.elapsed().as_secs_f64();
    let rows = rows.into_inner();
    let people: u64 = manifests.iter().map(|m| m.personnes).sum();
    println!(
        "{} dépôts, {} lignes, {} personnes en {:.1} s ({} lignes/s).",
        manifests.len(),
        milliers(rows),
        milliers(people),
        seconds,
        milliers((rows as f64 / seconds.max(1e-9)) as u64)
    );
    println!(
        "Dépôts : {}\nManifestes : {}",
        dest.inbox.display(),
        dest.manifestes.display()
    );
    Ok(())
}

fn generate(config: &Config, args: &GenerateArgs, clock: &dyn Clock) -> Result<()> {
    let options = generation_options(args, clock.today())?;
    let inbox = args.out.clone().unwrap_or_else(|| config.inbox_dir());
    let manifestes = args
        .manifests
        .clone()
        .unwrap_or_else(|| config::manifests_beside(&inbox));
    run_generator(config, &options, &Destination { inbox, manifestes })
}

fn users(config: &Config, action: &UsersAction, clock: &dyn Clock) -> Result<()> {
    use copil_accounts::{Accounts, Role};
    let path = config.accounts_path();
    let mut accounts = Accounts::open(&path)?;
    match action {
        UsersAction::Add {
            login,
            role,
            territory,
            password_stdin,
        } => {
            let role = Role::from_code(role)?;
            let departments = Departments::builtin();
            let reg = register(config, &departments)?;
            let (password, generated) = if *password_stdin {
                let mut line = String::new();
                std::io::stdin()
                    .read_line(&mut line)
                    .context("lecture du mot de passe sur l'entrée standard")?;
                (line.trim_end_matches(['\r', '\n']).to_string(), false)
            } else {
                (copil_accounts::random_password()?, true)
            };
            let a = accounts.add(
                login,
                role,
                territory.as_deref(),
                &password,
                &reg,
                clock.now(),
            )?;
            println!(
                "Compte créé : {} ({}{}) dans {}",
                a.login,
                a.role.code(),
                a.territoire
                    .as_deref()
                    .map(|t| format!(", {t}"))
                    .unwrap_or_default(),
                path.display()
            );
            if generated {
                println!("Mot de passe (affiché une seule fois) : {password}");
            }
        }
        UsersAction::List => {
            if accounts.list().is_empty() {
                println!("Aucun compte dans {}.", path.display());
            }
            for a in accounts.list() {
                println!(
                    "{:<24} {:<11} {:<14} {:<9} créé le {}",
                    a.login,
                    a.role.code(),
                    a.territoire.as_deref().unwrap_or("—"),
                    if a.actif { "actif" } else { "désactivé" },
                    a.cree_le.format("%d/%m/%Y")
                );
            }
        }
        UsersAction::Disable { login } => {
            accounts.disable(login)?;
            println!("Compte désactivé : {login}");
        }
        UsersAction::Token { login, name } => {
            let token = accounts.add_token(login, name, clock.now())?;
            println!("Jeton « {name} » créé pour {login} (affiché une seule fois) :\n{token}");
        }
    }
    Ok(())
}

fn projets(config: &Config, action: &ProjetsAction, clock: &dyn Clock) -> Result<()> {
    use copil_accounts::{Accounts, NewProject, Projects};
    let path = config.projects_path();
    let mut projects = Projects::open(&path)?;
    match action {
        ProjetsAction::Ajouter {
            nom,
            objet,
            evaluateurs,
            territoires,
            debut,
            fin,
        } => {
            let day = |s: &str, flag: &str| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| {
                    format!("{flag} « {s} » : date attendue sous la forme AAAA-MM-JJ")
                })
            };
            let accounts = Accounts::open(&config.accounts_path())?;
            let departments = Departments::builtin();
            let reg = register(config, &departments)?;
            let p = projects.add(
                NewProject {
                    nom,
                    objet,
                    evaluateurs: evaluateurs.clone(),
                    territoires: territoires.clone(),
                    debut: day(debut, "--debut")?,
                    fin: day(fin, "--fin")?,
                },
                &accounts,
                &reg,
                clock.now(),
            )?;
            println!(
                "Projet déclaré : {} ({} ; évaluateurs : {} ; territoires : {} ; du {} au {}) dans {}",
                p.nom,
                p.objet,
                p.evaluateurs.join(", "),
                p.territoires.join(", "),
                p.debut.format("%d/%m/%Y"),
                p.fin.format("%d/%m/%Y"),
                path.display()
            );
        }
        ProjetsAction::Liste => {
            if projects.list().is_empty() {
                println!("Aucun projet dans {}.", path.display());
            }
            for p in projects.list() {
                println!(
                    "{:<24} {:<6} du {} au {}  évaluateurs : {}  territoires : {}\n{:<24} {}",
                    p.nom,
                    if p.actif { "ouvert" } else { "clos" },
                    p.debut.format("%d/%m/%Y"),
                    p.fin.format("%d/%m/%Y"),
                    p.evaluateurs.join(", "),
                    p.territoires.join(", "),
                    "",
                    p.objet
                );
            }
        }
        ProjetsAction::Clore { nom } => {
            projects.close(nom)?;
            println!("Projet clos : {nom}");
        }
    }
    Ok(())
}

/// The demo's share of the national population (about 37,000 people).
const DEMO_SCALE: f64 = 0.02;

fn demo(config: &Config, clock: &dyn Clock) -> Result<()> {
    println!("Copil — démonstration sur des territoires synthétiques\n");
    let key = config.key_path();
    if SecretKey::create_file(&key)? == KeyFileStatus::Created {
        println!(
            "Clé de pseudonymisation de démonstration créée : {}",
            key.display()
        );
    }
    let mut options = Options::par_defaut(clock.today());
    // Large enough for most territory figures to clear statistical secrecy on the pages.
    options.echelle = DEMO_SCALE;
    println!(
        "Génération des dépôts (graine {}, échelle {}, entrées de {} à {}) :",
        options.graine,
        options.echelle,
        options.debut.format("%m/%Y"),
        options.fin.format("%m/%Y")
    );
    run_generator(
        config,
        &options,
        &Destination {
            inbox: config.inbox_dir(),
            manifestes: config.manifests_dir(),
        },
    )?;
    println!(
        "\nIngestion dans l'entrepôt {} :",
        config.warehouse_location()
    );
    runtime()?.block_on(ingest(config, None, true, None))?;
    demo_accounts(config, clock)
}

/// The demo serves plain HTTP on the local machine: its cookies are not `Secure`, unless the
/// configuration sets `server.secure_cookies` itself.
fn demo_server_config(loaded: &Loaded) -> Config {
    let mut config = loaded.config.clone();
    if !loaded.sources.contains_key("server.secure_cookies") {
        config.server.secure_cookies = false;
        println!(
            "Démonstration en HTTP local : cookies sans l'attribut Secure (clé server.secure_cookies)."
        );
    }
    config
}

/// One demo account per role, with fresh random passwords printed once.
fn demo_accounts(config: &Config, clock: &dyn Clock) -> Result<()> {
    use copil_accounts::{Accounts, Role};
    let departments = Departments::builtin();
    let reg = register(config, &departments)?;
    let territory = reg
        .iter()
        .next()
        .map(|t| t.id.clone())
        .context("registre vide")?;
    let path = config.accounts_path();
    let mut accounts = Accounts::open(&path)?;
    println!("\nComptes de démonstration (mots de passe tirés au hasard à chaque démonstration) :");
    for (login, role, t) in [
        ("pilotage", Role::National, None),
        ("territoire", Role::Territoire, Some(territory.as_str())),
        ("evaluation", Role::Evaluateur, None),
        ("admin", Role::Admin, None),
    ] {
        let password = copil_accounts::random_password()?;
        if accounts.get(login).is_some() {
            accounts.set_password(login, &password)?;
        } else {
            accounts.add(login, role, t, &password, &reg, clock.now())?;
        }
        println!(
            "  {login:<11} {:<11} {:<8} mot de passe : {password}",
            role.code(),
            t.unwrap_or("")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated_the_french_way() {
        assert_eq!(milliers(0), "0");
        assert_eq!(milliers(999), "999");
        assert_eq!(milliers(1_234_567), "1\u{202f}234\u{202f}567");
    }

    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
