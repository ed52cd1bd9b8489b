//! `copil indicateurs afficher|audit`.

use anyhow::{Context, Result};
use copil_queries::Catalogue;
use copil_warehouse::{Departments, Warehouse};

use crate::config::Config;
use crate::pipeline::*;

pub async fn show(
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
    let month = month
        .map(|m| crate::commands::setup::parse_month(m, "--mois"))
        .transpose()?;
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
        println!("Aucun résultat : lancez « copil integrer » puis « copil calculer ».");
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

pub async fn audit(config: &Config, catalogue: &Catalogue) -> Result<()> {
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
        "{} case(s) secrète(s) retrouvable(s) à moins de {threshold} près : relancez « copil calculer »",
        report.failures.len()
    )
}
