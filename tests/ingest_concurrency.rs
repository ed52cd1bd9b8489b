//! Issue 13: one writer at a time, and convergence. Two `copil ingest` at once both failed
//! (« No such file or directory ») and recorded drops twice; two `copil refresh` overlapping
//! let the slower commit indicators built from older events; a run killed after its `depots`
//! commit left indicators that a rerun never refreshed. Real processes of the binary here.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use copil_warehouse::{EVENEMENTS, Warehouse};
use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;

const TERRITORIES: &str = "dep-04,dep-05,dep-15";

fn copil(config: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_copil"));
    cmd.arg("--config").arg(config);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("COPIL_")) {
        cmd.env_remove(k);
    }
    cmd
}

fn generate(config: &Path, extraction: &str, seed: &str) {
    let o = copil(config)
        .args([
            "generate",
            "--echelle",
            "0.005",
            "--seed",
            seed,
            "--to",
            &extraction[..7],
            "--date-extraction",
            extraction,
            "--territories",
            TERRITORIES,
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Spawns with stderr read line by line on a thread.
fn spawn(mut cmd: Command) -> (Child, mpsc::Receiver<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

fn wait_for(rx: &mpsc::Receiver<String>, wanted: &str, seen: &mut Vec<String>) {
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(180))
            .unwrap_or_else(|_| panic!("never said « {wanted} »: {seen:?}"));
        let found = line.contains(wanted);
        seen.push(line);
        if found {
            return;
        }
    }
}

fn finish(child: Child, rx: &mpsc::Receiver<String>, mut seen: Vec<String>) -> (Output, String) {
    let out = child.wait_with_output().unwrap();
    seen.extend(rx.try_iter());
    (out, seen.join("\n"))
}

/// Integrated `depots` rows, distinct drops among them, the latest `evenements` version and
/// the `evenements` version the indicators were built from.
fn state(warehouse: &Path) -> (i64, i64, u64, Option<i64>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let w = Warehouse::open(warehouse.to_str().unwrap()).await.unwrap();
        let ctx = SessionContext::new();
        w.register(&ctx).await.unwrap();
        let one = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let b = ctx.sql(sql).await.unwrap().collect().await.unwrap();
                let a = b[0].column(0).as_primitive::<Int64Type>().clone();
                (!a.is_null(0)).then(|| a.value(0))
            }
        };
        let rows = one("SELECT count(*) FROM depots WHERE statut = 'integre'").await;
        let distinct =
            one("SELECT count(DISTINCT depot) FROM depots WHERE statut = 'integre'").await;
        let built = one("SELECT CAST(max(version_evenements) AS BIGINT) FROM indicateurs").await;
        let events = w.load(&EVENEMENTS).await.unwrap().version().unwrap_or(0) as u64;
        (rows.unwrap(), distinct.unwrap(), events, built)
    })
}

#[test]
fn issue_13_runs_wait_for_each_other_and_always_converge() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path();
    let o = Command::new(env!("CARGO_BIN_EXE_copil"))
        .arg("init")
        .arg(site)
        .output()
        .unwrap();
    assert!(o.status.success());
    let config = site.join("copil.toml");
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
    for t in TERRITORIES.split(',') {
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
