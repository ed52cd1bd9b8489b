//! The whole catalogue on generated, ingested data (issue #4): every indicator runs through
//! DataFusion over the real Delta tables, and the national figures land near the brief's.

use std::sync::Arc;

use chrono::NaiveDate;
use copil_ingest::{IngestConfig, Ingestor, SecretKey, Silent};
use copil_queries::{Catalogue, Cell, Niveau, read, refresh};
use copil_sample::{Destination, Options};
use copil_warehouse::{Departments, FixedClock, Register, Warehouse};

async fn landed(dir: &std::path::Path, echelle: f64) -> Warehouse {
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    let mut o = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
    o.echelle = echelle;
    o.fils = 2;
    let dest = Destination {
        inbox: dir.join("inbox"),
        manifestes: dir.join("manifests"),
    };
    copil_sample::generer(&register, &departments, &o, &dest, &|_| {}).unwrap();
    SecretKey::create_file(&dir.join("cle")).unwrap();
    let config = IngestConfig {
        inbox: dest.inbox,
        archive: dir.join("archive"),
        refused: dir.join("refuses"),
        key_file: dir.join("cle"),
        parallelism: 2,
        pause_at: None,
    };
    let warehouse = Warehouse::open(dir.join("entrepot").to_str().unwrap())
        .await
        .unwrap();
    let clock = Arc::new(FixedClock::at_date(
        NaiveDate::from_ymd_opt(2025, 7, 1).unwrap(),
    ));
    let ingestor = Arc::new(
        Ingestor::new(config, warehouse, register, departments, clock)
            .await
            .unwrap(),
    );
    ingestor.run_once(Arc::new(Silent)).await.unwrap();
    Warehouse::open(dir.join("entrepot").to_str().unwrap())
        .await
        .unwrap()
}

fn national(cells: &[Cell], ind: &str, mois: &str) -> Option<f64> {
    let m = NaiveDate::parse_from_str(mois, "%Y-%m-%d").unwrap();
    cells
        .iter()
        .find(|c| {
            c.indicateur == ind
                && c.niveau == Niveau::National
                && c.mois == m
                && c.ventilation.is_empty()
        })
        .and_then(|c| c.valeur)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_indicator_runs_on_the_warehouse_and_lands_near_the_brief() {
    let dir = tempfile::tempdir().unwrap();
    let warehouse = landed(dir.path(), 0.005).await;
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    let catalogue = Catalogue::builtin();
    let clock = FixedClock::at_date(NaiveDate::from_ymd_opt(2025, 7, 1).unwrap());
    let refreshed = refresh(&warehouse, &catalogue, &register, 11, &clock)
        .await
        .unwrap();
    assert!(refreshed.cells > 1000 && refreshed.secret > 0);
    // What pages will read: the materialised table, read back through DataFusion.
    let mut cells: Vec<Cell> = Vec::new();
    for ind in catalogue.iter() {
        let read = read(&warehouse, &ind.id, None, None).await.unwrap();
        assert!(
            read.iter().any(|c| !c.secret),
            "{}: nothing published",
            ind.id
        );
        cells.extend(read);
    }
    assert_eq!(
        cells.len(),
        refreshed.cells,
        "every computed cell was materialised"
    );
    // One territory and one month only: the territory's cells, plus waves and the nation.
    let january = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let one = read(&warehouse, "entrants", Some("dep-59"), Some(january))
        .await
        .unwrap();
    assert!(one.iter().all(|c| c.mois == january));
    assert!(
        one.iter()
            .all(|c| c.niveau != Niveau::Territoire || c.code == "dep-59")
    );
    assert_eq!(
        one.iter().filter(|c| c.niveau == Niveau::National).count(),
        1
    );
    let figures: Vec<(&str, Option<f64>)> = [
        "entrants",
        "beneficiaires_dd",
        "delai_orientation",
        "orientes_30j",
        "taux_orientation_stock",
        "part_france_travail",
        "couverture_cer",
        "taux_absenteisme",
        "sorties_emploi",
    ]
    .iter()
    .map(|i| (*i, national(&cells, i, "2024-12-01")))
    .collect();
    println!("{figures:?}");
    let get = |i: &str| figures.iter().find(|(k, _)| *k == i).unwrap().1.unwrap();
    assert!(
        (get("taux_orientation_stock") - 0.86).abs() < 0.06,
        "{figures:?}"
    );
    assert!(
        (get("part_france_travail") - 0.40).abs() < 0.06,
        "{figures:?}"
    );
    assert!((get("couverture_cer") - 0.49).abs() < 0.10, "{figures:?}");
    // Nothing published covers fewer than eleven people.
    assert!(
        cells
            .iter()
            .filter(|c| !c.secret)
            .all(|c| c.personnes.unwrap() >= 11)
    );
}
