//! The incremental refresh (issue 16): accumulators kept per territory give the table of a
//! full refresh, and how large the demo must be for its pages not to look empty.

use chrono::NaiveDate;
use copil_queries::{Catalogue, Cell, Niveau, Refreshed, Rules, Scope, read, refresh};
use copil_warehouse::{Departments, FixedClock, Register, Warehouse};

use copil_test_support::Landing;

use super::{echelle_from_env, landed};

/// dep-59 sends a drop extracted on 30 September 2025, landed in `dir` (deployed `register`).
async fn later_drop(dir: &std::path::Path, echelle: f64, register: &Register) -> Warehouse {
    let landing = Landing {
        territoires: Some(vec!["dep-59".into()]),
        register: Some(register.clone()),
        ..Landing::new(echelle, NaiveDate::from_ymd_opt(2025, 9, 30).unwrap())
    };
    copil_test_support::land(dir, &landing).await.0
}

/// A deployment of six territories, two per wave, dep-59 among them: the incremental test
/// refreshes four times, on a register small enough for CI.
fn six_territories() -> Register {
    let full = Register::builtin(&Departments::builtin());
    let mut ids: Vec<&str> = vec!["dep-59"];
    for w in copil_warehouse::Wave::ALL {
        ids.extend(
            full.iter()
                .filter(|t| t.vague == w && t.id != "dep-59")
                .take(if full.get("dep-59").is_some_and(|t| t.vague == w) {
                    1
                } else {
                    2
                })
                .map(|t| t.id.as_str()),
        );
    }
    full.only(&ids)
}

/// Every published cell, in a stable order.
async fn published(warehouse: &Warehouse, catalogue: &Catalogue) -> Vec<Cell> {
    let mut cells = Vec::new();
    for ind in catalogue.iter() {
        cells.extend(read(warehouse, &ind.id, None, None).await.unwrap());
    }
    cells.sort_by(|a, b| a.key().cmp(&b.key()));
    cells
}

/// Refreshes `warehouse` (deployed `register`, builtin catalogue and rules) on `scope`, as of
/// `today`.
async fn refreshed(
    warehouse: &Warehouse,
    register: &Register,
    today: NaiveDate,
    scope: Scope,
) -> Refreshed {
    let clock = FixedClock::at_date(today);
    refresh(
        warehouse,
        &Catalogue::builtin(),
        register,
        &Rules::default(),
        &clock,
        scope,
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_16_an_incremental_refresh_gives_the_table_of_a_full_one() {
    let dir = tempfile::tempdir().unwrap();
    let register = six_territories();
    let ids: Vec<String> = register.iter().map(|t| t.id.clone()).collect();
    let landing = Landing {
        territoires: Some(ids),
        register: Some(register.clone()),
        ..Landing::new(0.01, NaiveDate::from_ymd_opt(2025, 6, 30).unwrap())
    };
    let (warehouse, _) = copil_test_support::land(dir.path(), &landing).await;
    let territories = register.iter().count();
    assert_eq!(territories, 6);
    let catalogue = Catalogue::builtin();
    let today = NaiveDate::from_ymd_opt(2025, 10, 1).unwrap();
    // Nothing stored yet: every territory is computed from its events.
    let first = refreshed(&warehouse, &register, today, Scope::Changed).await;
    assert_eq!(first.territoires_recalcules, territories);
    let before = published(&warehouse, &catalogue).await;
    // Nothing changed: every territory comes from its accumulators, same table.
    let again = refreshed(&warehouse, &register, today, Scope::Changed).await;
    assert_eq!(again.territoires_recalcules, 0);
    assert!(again.version_indicateurs > first.version_indicateurs);
    assert!(published(&warehouse, &catalogue).await == before);
    // One territory sends a later drop: only it is recomputed.
    let warehouse = later_drop(dir.path(), 0.01, &register).await;
    let incremental = refreshed(&warehouse, &register, today, Scope::Changed).await;
    assert_eq!(incremental.territoires_recalcules, 1);
    let after = published(&warehouse, &catalogue).await;
    assert!(after != before, "the new drop changes published figures");
    let last = |cells: &[Cell]| {
        cells
            .iter()
            .filter(|c| c.code == "dep-59")
            .map(|c| c.mois)
            .max()
    };
    assert!(
        last(&after) > last(&before),
        "the territory's new months are published"
    );
    // The full refresh recomputes everything and gives exactly the same table.
    let full = refreshed(&warehouse, &register, today, Scope::All).await;
    assert_eq!(full.territoires_recalcules, territories);
    assert_eq!(full.cells, incremental.cells);
    let complete = published(&warehouse, &catalogue).await;
    assert_eq!(after.len(), complete.len());
    for (a, b) in after.iter().zip(&complete) {
        assert_eq!(a, b);
    }
}

/// What share of the territory cells (totals, no breakdown) is secret at a scale: how large the
/// demo must be for its pages not to look empty (issue 16). Run by hand:
/// `COPIL_ISSUE_16_ECHELLE=0.05 cargo test --workspace --test generated secret_share -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, run by hand"]
async fn issue_16_secret_share_of_territory_cells_by_scale() {
    let echelle = echelle_from_env(0.02);
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Instant::now();
    let warehouse = landed(dir.path(), echelle).await;
    let landed_in = t.elapsed();
    let catalogue = Catalogue::builtin();
    let builtin = Register::builtin(&Departments::builtin());
    let today = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
    let t = std::time::Instant::now();
    refreshed(&warehouse, &builtin, today, Scope::Changed).await;
    let refreshed_in = t.elapsed();
    let cells = published(&warehouse, &catalogue).await;
    let recent = NaiveDate::from_ymd_opt(2024, 7, 1).unwrap();
    let share = |f: &dyn Fn(&Cell) -> bool| {
        let all: Vec<&Cell> = cells
            .iter()
            .filter(|c| c.niveau == Niveau::Territoire && c.ventilation.is_empty() && f(c))
            .collect();
        all.iter().filter(|c| c.secret).count() as f64 / all.len().max(1) as f64
    };
    for ind in catalogue.iter() {
        eprintln!(
            "issue 16: scale {echelle}: {:<24} {:>5.1} % secret ({:>5.1} % over the last 12 months)",
            ind.id,
            100.0 * share(&|c| c.indicateur == ind.id),
            100.0 * share(&|c| c.indicateur == ind.id && c.mois >= recent),
        );
    }
    eprintln!(
        "issue 16: scale {echelle}: territory totals {:.1} % secret ({:.1} % over the last 12 months); landed in {:.1} s, refreshed in {:.1} s",
        100.0 * share(&|_| true),
        100.0 * share(&|c| c.mois >= recent),
        landed_in.as_secs_f64(),
        refreshed_in.as_secs_f64()
    );
    // A later drop from one large territory: the incremental refresh against the full one.
    let warehouse = later_drop(dir.path(), echelle, &builtin).await;
    let incremental = refreshed(&warehouse, &builtin, today, Scope::Changed).await;
    let full = refreshed(&warehouse, &builtin, today, Scope::All).await;
    eprintln!(
        "issue 16: scale {echelle}: after dep-59's new drop: incremental refresh {:.1} s ({} territory recomputed), full refresh {:.1} s ({} territories)",
        incremental.duree.as_secs_f64(),
        incremental.territoires_recalcules,
        full.duree.as_secs_f64(),
        full.territoires_recalcules
    );
}
