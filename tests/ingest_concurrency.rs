//! Issue 13: one writer at a time, and convergence. Two `copil integrer` at once both failed
//! (« No such file or directory ») and recorded drops twice; two `copil calculer` overlapping
//! let the slower commit indicators built from older events; a run killed after its `depots`
//! commit left indicators that a rerun never refreshed. Real processes of the binary here.

mod support;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use support::{INDICATORS_BUILT_FROM, TERRITORIES, copil, numbers};

fn generate(config: &Path, extraction: &str, seed: &str) {
    let territories = TERRITORIES.join(",");
    support::generate(config, "0.005", extraction, &territories, &["--seed", seed]);
}

/// Spawns with stderr read line by line on a thread.
fn spawn(mut cmd: Command) -> (Child, mpsc::Receiver<String>) {
    cmd.stdout(Stdio::piped());
    support::spawn_lines(cmd)
}

fn wait_for(rx: &mpsc::Receiver<String>, wanted: &str, seen: &mut Vec<String>) {
    support::wait_for(rx, wanted, Duration::from_secs(180), seen);
}

fn finish(child: Child, rx: &mpsc::Receiver<String>, mut seen: Vec<String>) -> (Output, String) {
    let out = child.wait_with_output().unwrap();
    seen.extend(rx.try_iter());
    (out, seen.join("\n"))
}

/// Integrated `depots` rows, distinct drops among them, the latest `evenements` version and
/// the `evenements` version the indicators were built from.
fn state(warehouse: &Path) -> (i64, i64, u64, Option<i64>) {
    let (n, versions) = numbers(
        warehouse,
        &[
            "SELECT count(*) FROM depots WHERE statut = 'integre'".into(),
            "SELECT count(DISTINCT depot) FROM depots WHERE statut = 'integre'".into(),
            INDICATORS_BUILT_FROM.into(),
        ],
    );
    (n[0].unwrap(), n[1].unwrap(), versions["evenements"], n[2])
}

#[test]
fn issue_13_runs_wait_for_each_other_and_always_converge() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path();
    let config = support::init(site);
    let data = site.join("copil-data");
    generate(&config, "2025-06-30", "1");

    // A run stops (holding the lock) right after a drop's `depots` commit.
    let mut first = copil(&config);
    first.args(["ingest", "--point-arret", "depots"]);
    let (mut first, first_rx) = spawn(first);
    let mut seen = vec![];
    wait_for(&first_rx, "POINT_ARRET depots", &mut seen);

    // Another ingestion and a refresh start meanwhile: both wait, saying why.
    let mut second = copil(&config);
    second.arg("ingest");
    let (second, second_rx) = spawn(second);
    let mut refresh = copil(&config);
    refresh.arg("refresh");
    let (refresh, refresh_rx) = spawn(refresh);
    let (mut seen2, mut seen3) = (vec![], vec![]);
    wait_for(&second_rx, "déjà en cours", &mut seen2);
    wait_for(&refresh_rx, "déjà en cours", &mut seen3);

    // The first run dies; the others go on, one after the other, and finish its work.
    first.kill().unwrap();
    first.wait().unwrap();
    let (o2, err2) = finish(second, &second_rx, seen2);
    let (o3, err3) = finish(refresh, &refresh_rx, seen3);
    assert!(o2.status.success(), "{err2}");
    assert!(o3.status.success(), "{err3}");
    for err in [&err2, &err3] {
        assert!(!err.contains("os error"), "{err}");
    }
    let (rows, distinct, events, built) = state(&data.join("warehouse"));
    assert_eq!((rows, distinct), (3, 3), "each drop recorded once");
    assert_eq!(
        built,
        Some(events as i64),
        "the indicators are built from the latest events"
    );
    for t in TERRITORIES {
        let left = std::fs::read_dir(data.join("inbox").join(t))
            .unwrap()
            .count();
        assert_eq!(left, 0, "{t}: archived");
    }

    // Two ingestions started together: both succeed, each drop lands once.
    generate(&config, "2025-09-30", "2");
    let (a, a_rx) = spawn({
        let mut c = copil(&config);
        c.arg("ingest");
        c
    });
    let (b, b_rx) = spawn({
        let mut c = copil(&config);
        c.arg("ingest");
        c
    });
    let (oa, erra) = finish(a, &a_rx, vec![]);
    let (ob, errb) = finish(b, &b_rx, vec![]);
    assert!(oa.status.success(), "{erra}");
    assert!(ob.status.success(), "{errb}");
    assert!(!erra.contains("os error") && !errb.contains("os error"));
    let (rows, distinct, events, built) = state(&data.join("warehouse"));
    assert_eq!((rows, distinct), (6, 6), "each drop recorded once");
    assert_eq!(built, Some(events as i64));
}
