//! `copil entrepot verifier|reparer`.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result};
use copil_warehouse::Warehouse;

use crate::cli::*;
use crate::config::Config;
use crate::pipeline::*;

/// `copil entrepot verifier|reparer` (issue 13): a damaged Delta log is reported with what
/// to do, and repaired explicitly, never silently.
pub async fn entrepot(config: &Config, action: &EntrepotAction) -> Result<()> {
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
