//! `copil init` and `copil generer`.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use copil_ingest::{KeyFileStatus, SecretKey};
use copil_sample::{Destination, Options, Variante};
use copil_warehouse::{Clock, Departments};

use crate::cli::*;
use crate::config::{self, Config, Overrides};
use crate::pipeline::*;

pub fn init(dir: &Path) -> Result<()> {
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

pub fn parse_month(s: &str, flag: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
        .with_context(|| format!("{flag} « {s} » : mois attendu sous la forme AAAA-MM"))
}

pub fn generation_options(args: &GenerateArgs, today: NaiveDate) -> Result<Options> {
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

pub fn run_generator(config: &Config, options: &Options, dest: &Destination) -> Result<()> {
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

pub fn generate(config: &Config, args: &GenerateArgs, clock: &dyn Clock) -> Result<()> {
    let options = generation_options(args, clock.today())?;
    let inbox = args.out.clone().unwrap_or_else(|| config.inbox_dir());
    let manifestes = args
        .manifests
        .clone()
        .unwrap_or_else(|| config::manifests_beside(&inbox));
    run_generator(config, &options, &Destination { inbox, manifestes })
}
