//! The scenario's figures kept per scale (`docs/mesures/scenario.json`) and drawn against rows
//! with the dashboard's own chart code (`docs/mesures/scenario-temps.svg`,
//! `scenario-memoire.svg`).

use std::path::Path;

use copil_dashboards::chart::{self, Caption, RelativeSeries, Scaling, Tone, Unit};
use serde_json::{Map, Value, json};

/// Each series' colour, in the order the steps are given.
const TONES: [Tone; 6] = [
    Tone::Territory,
    Tone::France,
    Tone::Wave(0),
    Tone::Wave(1),
    Tone::Wave(2),
    Tone::Other,
];

/// The steps drawn, in legend order (the names [`record`] is given).
pub const STEPS: [&str; 6] = [
    "Copil : ingestion CSV",
    "DuckDB : CSV vers Parquet",
    "Copil : ingestion XLSX",
    "Copil : rafraîchissement complet",
    "DuckDB : même SQL",
    "Copil : rafraîchissement incrémental",
];

/// Stores one scale's measures (step → (seconds, peak MiB)) beside the other scales', then
/// redraws both plots from every stored scale.
pub fn record(dir: &Path, echelle: f64, rows: f64, steps: &[(&str, (f64, f64))]) {
    std::fs::create_dir_all(dir).unwrap();
    let file = dir.join("scenario.json");
    let mut all: Map<String, Value> = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let measures: Map<String, Value> = steps
        .iter()
        .map(|(name, (s, mib))| {
            let finite = |v: f64| if v.is_finite() { json!(v) } else { Value::Null };
            (
                (*name).to_string(),
                json!({ "secondes": finite(*s), "mio": finite(*mib) }),
            )
        })
        .collect();
    all.insert(
        echelle.to_string(),
        json!({ "lignes": rows, "mesures": measures }),
    );
    std::fs::write(&file, serde_json::to_string_pretty(&all).unwrap() + "\n").unwrap();
    draw(dir, &all);
}

/// Redraws both plots from the stored scales (`--dessiner`), with the steps of the first one.
pub fn redraw(dir: &Path) {
    let file = dir.join("scenario.json");
    let all: Map<String, Value> =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    draw(dir, &all);
}

/// Draws time and memory against rows, one line per step of [`STEPS`].
fn draw(dir: &Path, all: &Map<String, Value>) {
    let series = |key: &str| -> Vec<RelativeSeries> {
        STEPS
            .iter()
            .zip(TONES.iter().cycle())
            .map(|(name, tone)| RelativeSeries {
                label: (*name).to_string(),
                points: all
                    .values()
                    .map(|scale| {
                        let thousands = (scale["lignes"].as_f64().unwrap_or(0.0) / 1000.0).round();
                        (thousands as i32, scale["mesures"][*name][key].as_f64())
                    })
                    .collect(),
                tone: *tone,
            })
            .collect()
    };
    let scales = all.keys().cloned().collect::<Vec<_>>().join(", ");
    let time = Scaling {
        caption: Caption {
            title: "Temps de chaque étape selon le nombre de lignes".into(),
            desc: format!(
                "Scénario national aux échelles {scales} : temps en secondes de l'ingestion et du rafraîchissement, Copil et DuckDB, selon le nombre de lignes des dépôts."
            ),
        },
        unit: Unit::Seconds,
        series: series("secondes"),
    };
    let memory = Scaling {
        caption: Caption {
            title: "Mémoire maximale de chaque étape selon le nombre de lignes".into(),
            desc: format!(
                "Scénario national aux échelles {scales} : mémoire résidente maximale en Mio de chaque étape, Copil et DuckDB, selon le nombre de lignes des dépôts."
            ),
        },
        unit: Unit::Mebibytes,
        series: series("mio"),
    };
    std::fs::write(
        dir.join("scenario-temps.svg"),
        chart::scaling(&time, chart::WIDE),
    )
    .unwrap();
    std::fs::write(
        dir.join("scenario-memoire.svg"),
        chart::scaling(&memory, chart::WIDE),
    )
    .unwrap();
}
