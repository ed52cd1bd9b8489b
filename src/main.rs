//! `copil`: the command line of Copil. It parses the command line, loads the configuration
//! and dispatches to the application layer (the `copil` library).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use copil::cli::{Cli, Command, IndicatorsAction};
use copil::commands::{accounts, entrepot, indicators, serve, setup};
use copil::config::{Config, Loaded, Overrides};
use copil::pipeline::{ingest, refresh, register, run_lock, runtime};
use copil_ingest::Checkpoint;
use copil_queries::{Catalogue, Direction};
use copil_warehouse::{Departments, SystemClock, Warehouse};

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

fn run(cli: &Cli) -> Result<()> {
    let clock = SystemClock;
    match &cli.command {
        Command::Init { dir } => setup::init(dir.as_deref().unwrap_or(Path::new("."))),
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
            setup::generate(&loaded.config, args, &clock)
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
        Command::Refresh { complet } => {
            let loaded = load_config(cli)?;
            runtime()?.block_on(async {
                let warehouse = Warehouse::open(&loaded.config.warehouse_location())
                    .await
                    .context("ouverture de l'entrepôt")?;
                let _run = run_lock(&warehouse).await?;
                refresh(&loaded.config, *complet).await
            })
        }
        Command::Entrepot { action } => {
            let loaded = load_config(cli)?;
            runtime()?.block_on(entrepot::entrepot(&loaded.config, action))
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
                    runtime()?.block_on(indicators::audit(&loaded.config, &catalogue))
                }
                Some(IndicatorsAction::Show {
                    id,
                    territory,
                    month,
                }) => {
                    let loaded = load_config(cli)?;
                    runtime()?.block_on(indicators::show(
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
            accounts::users(&loaded.config, action, &clock)
        }
        Command::Projets { action } => {
            let loaded = load_config(cli)?;
            accounts::projets(&loaded.config, action, &clock)
        }
        Command::Serve => {
            let loaded = load_config(cli)?;
            runtime()?.block_on(serve::serve(loaded.config))
        }
        Command::Demo {
            sans_serveur,
            echelle,
        } => {
            let loaded = load_config(cli)?;
            serve::demo(&loaded.config, &clock, *echelle)?;
            if *sans_serveur {
                return Ok(());
            }
            runtime()?.block_on(serve::serve(serve::demo_server_config(&loaded)))
        }
    }
}
