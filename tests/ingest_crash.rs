//! A real `copil integrer` killed (SIGKILL) at each point of a drop's landing leaves every table
//! readable at its previous or its new version, and the next run converges to exactly one copy
//! of the data (issue #3).

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use support::{
    DUPLICATED_DROPS, INDICATORS_BUILT_FROM, TERRITORIES, copil, numbers, per_territory,
    spawn_lines, wait_for,
};

/// Rows of `evenements` and `personnes` per territory, and integrated `depots` rows beyond one
/// per drop.
fn state(warehouse: &Path) -> (Vec<i64>, Vec<i64>, i64) {
    let mut queries = per_territory("evenements");
    queries.extend(per_territory("personnes"));
    queries.push(DUPLICATED_DROPS.into());
    let (n, _) = numbers(warehouse, &queries);
    let n: Vec<i64> = n.into_iter().map(Option::unwrap).collect();
    (n[..3].to_vec(), n[3..6].to_vec(), n[6])
}

/// Whether the indicators are built from the latest `evenements` version (issue 13: killed
/// after its `depots` commit, a rerun said « déjà intégré » and never refreshed).
fn indicators_follow_the_events(warehouse: &Path) -> bool {
    let (built, versions) = numbers(warehouse, &[INDICATORS_BUILT_FROM.into()]);
    built[0] == Some(versions["evenements"] as i64)
}

#[test]
fn killed_at_any_point_the_warehouse_stays_intact_and_a_rerun_converges() {
    for point in ["fichiers", "evenements", "personnes", "rejets", "depots"] {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path();
        let config = support::init(site);
        support::generate(&config, "0.01", "2025-06-30", &TERRITORIES.join(","), &[]);
        let data = site.join("copil-data");
        let manifests: Vec<copil_sample::Manifeste> = TERRITORIES
            .iter()
            .map(|t| {
                let d = std::fs::read_dir(data.join("manifests").join(t))
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap()
                    .path();
                serde_json::from_str(&std::fs::read_to_string(d).unwrap()).unwrap()
            })
            .collect();
        let expected: Vec<i64> = manifests.iter().map(|m| m.lignes_valides as i64).collect();

        // Kill the process when it reports the point.
        let mut ingest = copil(&config);
        ingest
            .args(["ingest", "--point-arret", point])
            .stdout(Stdio::null());
        let (mut child, rx) = spawn_lines(ingest);
        let wanted = format!("POINT_ARRET {point}");
        wait_for(&rx, &wanted, Duration::from_secs(120), &mut vec![]);
        child.kill().unwrap();
        child.wait().unwrap();

        // Every table is readable, at its previous or its new version: never half a drop.
        let (events, _, duplicates) = state(&data.join("warehouse"));
        for (n, e) in events.iter().zip(&expected) {
            assert!(*n == 0 || n == e, "{point}: {n} rows, expected 0 or {e}");
        }
        assert_eq!(duplicates, 0);

        // The next run finishes the work: exactly one copy of everything.
        let rerun = copil(&config).arg("ingest").output().unwrap();
        assert!(rerun.status.success(), "{point}: {}", support::text(&rerun));
        let (events, people, duplicates) = state(&data.join("warehouse"));
        assert_eq!(events, expected, "{point}: events after the rerun");
        let expected_people: Vec<i64> = manifests.iter().map(|m| m.personnes as i64).collect();
        assert_eq!(people, expected_people, "{point}: people after the rerun");
        assert_eq!(duplicates, 0, "{point}: one depots row per drop");
        assert!(
            indicators_follow_the_events(&data.join("warehouse")),
            "{point}: the rerun refreshed the indicators (issue 13)"
        );
        let left: Vec<_> = TERRITORIES
            .iter()
            .flat_map(|t| std::fs::read_dir(data.join("inbox").join(t)).unwrap())
            .collect();
        assert!(left.is_empty(), "{point}: every drop archived");
    }
}
