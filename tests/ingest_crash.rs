//! A real `copil ingest` killed (SIGKILL) at each point of a drop's landing leaves every table
//! readable at its previous or its new version, and the next run converges to exactly one copy
//! of the data (issue #3).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use copil_warehouse::Warehouse;
use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;

const TERRITORIES: [&str; 3] = ["dep-04", "dep-05", "dep-15"];

fn copil(config: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_copil"));
    cmd.arg("--config").arg(config);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("COPIL_")) {
        cmd.env_remove(k);
    }
    cmd
}

/// Rows of `table` per territory, and integrated `depots` rows per drop hash.
fn state(warehouse: &Path) -> (Vec<i64>, Vec<i64>, i64) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let w = Warehouse::open(warehouse.to_str().unwrap()).await.unwrap();
        let ctx = SessionContext::new();
        w.register(&ctx).await.unwrap();
        let mut events = vec![];
        let mut people = vec![];
        for t in TERRITORIES {
            for (table, out) in [("evenements", &mut events), ("personnes", &mut people)] {
                let df = ctx
                    .sql(&format!(
                        "SELECT count(*) FROM {table} WHERE territoire = $1"
                    ))
                    .await
                    .unwrap();
                let b = df
                    .with_param_values(vec![datafusion::scalar::ScalarValue::from(t)])
                    .unwrap()
                    .collect()
                    .await
                    .unwrap();
                out.push(b[0].column(0).as_primitive::<Int64Type>().value(0));
            }
        }
        let b = ctx
            .sql("SELECT count(*) - count(DISTINCT depot) FROM depots WHERE statut = 'integre'")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        (
            events,
            people,
            b[0].column(0).as_primitive::<Int64Type>().value(0),
        )
    })
}

/// Whether the indicators are built from the latest `evenements` version (issue 13: killed
/// after its `depots` commit, a rerun said « déjà intégré » and never refreshed).
fn indicators_follow_the_events(warehouse: &Path) -> bool {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let w = Warehouse::open(warehouse.to_str().unwrap()).await.unwrap();
        let ctx = SessionContext::new();
        w.register(&ctx).await.unwrap();
        let b = ctx
            .sql("SELECT CAST(max(version_evenements) AS BIGINT) FROM indicateurs")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let built = b[0].column(0).as_primitive::<Int64Type>();
        let events = w
            .load(&copil_warehouse::EVENEMENTS)
            .await
            .unwrap()
            .version()
            .unwrap_or(0);
        !datafusion::arrow::array::Array::is_null(built, 0) && built.value(0) == events as i64
    })
}

#[test]
fn killed_at_any_point_the_warehouse_stays_intact_and_a_rerun_converges() {
    for point in ["fichiers", "evenements", "personnes", "rejets", "depots"] {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path();
        assert!(
            Command::new(env!("CARGO_BIN_EXE_copil"))
                .arg("init")
                .arg(site)
                .output()
                .unwrap()
                .status
                .success()
        );
        let config = site.join("copil.toml");
        let generated = copil(&config)
            .args([
                "generate",
                "--echelle",
                "0.01",
                "--to",
                "2025-06",
                "--date-extraction",
                "2025-06-30",
                "--territories",
            ])
            .arg(TERRITORIES.join(","))
            .output()
            .unwrap();
        assert!(
            generated.status.success(),
            "{}",
            String::from_utf8_lossy(&generated.stderr)
        );
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
        let mut child = copil(&config)
            .args(["ingest", "--point-arret", point])
            .stdout(Stdio::null())
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
        let wanted = format!("POINT_ARRET {point}");
        loop {
            let line = rx
                .recv_timeout(Duration::from_secs(120))
                .unwrap_or_else(|_| panic!("{point}: never reached"));
            if line == wanted {
                break;
            }
        }
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
        assert!(
            rerun.status.success(),
            "{point}: {}",
            String::from_utf8_lossy(&rerun.stderr)
        );
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
