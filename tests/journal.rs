//! A damaged Delta log (issue 13): a commit file emptied, cut mid-line or gone is detected
//! before any run writes, reported in French with the repair step; `copil entrepot reparer`
//! sets the damaged versions aside, integrates again the drops whose data was lost, and the
//! warehouse ends exactly as before the damage. No table goes back in time silently.

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::{DUPLICATED_DROPS, INDICATORS_BUILT_FROM, TERRITORIES, numbers, per_territory, text};

fn copil(config: &Path, args: &[&str]) -> Output {
    support::copil(config).args(args).output().unwrap()
}

/// Rows of `evenements` per territory, duplicated integrated drops, and whether the
/// indicators are built from the latest `evenements`.
fn state(warehouse: &Path) -> (Vec<i64>, i64, bool) {
    let mut queries = per_territory("evenements");
    queries.push(DUPLICATED_DROPS.into());
    queries.push(INDICATORS_BUILT_FROM.into());
    let (n, versions) = numbers(warehouse, &queries);
    let events = n[..3].iter().map(|e| e.unwrap()).collect();
    let built = n[4].map(|v| v as u64);
    (events, n[3].unwrap(), built == Some(versions["evenements"]))
}

fn latest_commit(table_dir: &Path) -> PathBuf {
    let mut commits: Vec<PathBuf> = std::fs::read_dir(table_dir.join("_delta_log"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    commits.sort();
    commits.pop().unwrap()
}

/// A site with three territories ingested; returns (config, warehouse, rows per territory).
fn site(dir: &Path) -> (PathBuf, PathBuf, Vec<i64>) {
    let config = support::init(dir);
    support::generate(&config, "0.01", "2025-06-30", &TERRITORIES.join(","), &[]);
    let ingested = copil(&config, &["ingest"]);
    assert!(ingested.status.success(), "{}", text(&ingested));
    let warehouse = dir.join("copil-data").join("warehouse");
    let (events, duplicates, follows) = state(&warehouse);
    assert!(events.iter().all(|n| *n > 0));
    assert_eq!(duplicates, 0);
    assert!(follows);
    (config, warehouse, events)
}

#[test]
fn issue_13_a_damaged_delta_log_stops_runs_and_the_repair_converges() {
    type Damage = fn(&Path);
    let cases: [(&str, &str, Damage); 4] = [
        ("evenements", "vide", |p| std::fs::write(p, b"").unwrap()),
        ("evenements", "tronqué", |p| {
            let bytes = std::fs::read(p).unwrap();
            std::fs::write(p, &bytes[..bytes.len() * 2 / 3]).unwrap();
        }),
        ("depots", "disparu", |p| std::fs::remove_file(p).unwrap()),
        ("indicateurs", "tronqué", |p| {
            let bytes = std::fs::read(p).unwrap();
            std::fs::write(p, &bytes[..bytes.len() / 2]).unwrap();
        }),
    ];
    for (table, how, damage) in cases {
        let dir = tempfile::tempdir().unwrap();
        let (config, warehouse, before) = site(dir.path());
        let file = latest_commit(&warehouse.join(table));
        damage(&file);

        // Every run refuses to write, saying what is wrong and what to do.
        for args in [&["ingest"][..], &["refresh"], &["entrepot", "verifier"]] {
            let run = copil(&config, args);
            let said = text(&run);
            assert!(!run.status.success(), "{table} {how} {args:?}: {said}");
            assert!(
                said.contains(table) && said.contains("endommag"),
                "{table} {how} {args:?}: {said}"
            );
            if args[0] != "entrepot" {
                assert!(
                    said.contains("copil entrepot reparer"),
                    "{table} {how}: {said}"
                );
            }
        }

        // The repair sets the damaged version aside and converges to the same warehouse.
        let repaired = copil(&config, &["entrepot", "reparer"]);
        let said = text(&repaired);
        assert!(repaired.status.success(), "{table} {how}: {said}");
        assert!(said.contains("ramenée"), "{table} {how}: {said}");
        if how != "disparu" {
            let aside = warehouse.join(table).join("_delta_log_endommage");
            let kept: Vec<_> = std::fs::read_dir(&aside)
                .unwrap()
                .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
                .map(|e| e.unwrap().file_name())
                .collect();
            assert!(
                kept.contains(&file.file_name().unwrap().to_owned()),
                "{table} {how}: the damaged file is kept aside"
            );
        }
        let (events, duplicates, follows) = state(&warehouse);
        assert_eq!(events, before, "{table} {how}: {said}");
        assert_eq!(duplicates, 0, "{table} {how}");
        assert!(follows, "{table} {how}: indicators rebuilt from the events");
        let checked = copil(&config, &["entrepot", "verifier"]);
        assert!(
            checked.status.success(),
            "{table} {how}: {}",
            text(&checked)
        );
        let again = copil(&config, &["ingest"]);
        assert!(again.status.success(), "{table} {how}: {}", text(&again));
    }
}
