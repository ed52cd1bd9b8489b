//! Ingestion throughput on a 1 M-row drop (issue #3), side by side with DuckDB (its Python
//! package) reading the same CSV into Parquet in the same run.
//!
//! `cargo bench -p copil-ingest --bench ingestion` prints the figures; add `-- --ecrire` to
//! update the section of `docs/benchmarks.md`. DuckDB: `pip install duckdb==2.0.1`.
//! `--personnes N` sets the drop's size (71 000 people, about 1 M rows, by default),
//! `--fils N` the threads that read one CSV drop (issue 16; by default the ingestor's: the drop
//! is alone in its run, so every core; `--fils 1` reads row by row).
//! The workbook (XLSX) variant is measured too, Copil alone. `--variante CODE` (for example
//! `xlsx`) measures that variant only, for profiling.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use copil_ingest::{IngestConfig, Ingestor, SecretKey, Silent};
use copil_sample::{Destination, Options, Variante};
use copil_warehouse::{Departments, Register, SystemClock, Warehouse};

struct Peer {
    seconds: f64,
    rss: f64,
    rows: u64,
}

fn duckdb(csv: &Path, out: &Path, sep: &str, encoding: &str) -> Result<Peer, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/duckdb_csv_to_parquet.py");
    let o = std::process::Command::new("python3")
        .arg(script)
        .arg(csv)
        .arg(out)
        .args(["--sep", sep, "--encoding", encoding])
        .output()
        .map_err(|e| e.to_string())?;
    if !o.status.success() {
        return Err(String::from_utf8_lossy(&o.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_string());
    }
    let line = String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .unwrap_or("")
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&line).map_err(|e| format!("{e}: {line}"))?;
    Ok(Peer {
        seconds: v["seconds"].as_f64().unwrap_or(f64::NAN),
        rss: v["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
        rows: v["rows"].as_u64().unwrap_or(0),
    })
}

/// The value after `--name`, if given.
fn arg(name: &str) -> Option<f64> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).and_then(|v| v.parse().ok())
}

fn main() {
    let write = std::env::args().any(|a| a == "--ecrire");
    let people = arg("--personnes").unwrap_or(71_000.0);
    let threads = arg("--fils").map(|n| n as usize);
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--variante")
        .and_then(|i| args.get(i + 1).cloned());
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    let dir = tempfile::tempdir().unwrap();
    let territory = "dep-59";
    let per_unit = copil_sample::personnes_par_territoire(&register, &departments, 1.0)
        .into_iter()
        .find(|(id, _)| id == territory)
        .unwrap()
        .1 as f64;
    let mut rows_table = String::new();
    let mut variants_done = Vec::new();
    for variant in [
        Variante::Utf8Virgule,
        Variante::Windows1252PointVirgule,
        Variante::Xlsx,
    ]
    .into_iter()
    .filter(|v| only.as_deref().is_none_or(|code| code == v.code()))
    {
        let mut options = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 10, 31).unwrap());
        options.territoires = Some(vec![territory.into()]);
        // The generator writes a workbook only up to `MAX_PERSONNES_XLSX` people (a CSV
        // otherwise): the XLSX drop is measured at that size.
        let people = match variant {
            Variante::Xlsx => people.min(copil_sample::MAX_PERSONNES_XLSX as f64),
            _ => people,
        };
        options.echelle = people / per_unit;
        options.variante = Some(variant);
        let base = dir.path().join(variant.code());
        let dest = Destination {
            inbox: base.join("inbox"),
            manifestes: base.join("manifests"),
        };
        let m = copil_sample::generer(&register, &departments, &options, &dest, &|_| {})
            .unwrap()
            .remove(0);
        assert_eq!(
            m.variante,
            variant.code(),
            "the drop has the variant measured"
        );
        let csv = dest.inbox.join(territory).join(&m.fichier);
        let bytes = std::fs::metadata(&csv).unwrap().len();
        // DuckDB reads a copy of the drop first (ingestion moves the original to the archive).
        let copy = base.join(&m.fichier);
        std::fs::copy(&csv, &copy).unwrap();
        let peer = match variant {
            Variante::Xlsx => Err("pas de lecteur XLSX hors ligne".to_string()),
            Variante::Windows1252PointVirgule => {
                duckdb(&copy, &base.join("duckdb.parquet"), ";", "windows-1252")
            }
            _ => duckdb(&copy, &base.join("duckdb.parquet"), ",", "utf-8"),
        };

        let config = IngestConfig::in_folder(&base, dest.inbox.clone(), 2);
        SecretKey::create_file(&config.key_file).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let (seconds, report) = rt.block_on(async {
            let warehouse = Warehouse::open(base.join("entrepot").to_str().unwrap())
                .await
                .unwrap();
            let mut ingestor = Ingestor::new(
                config,
                warehouse,
                register.clone(),
                departments.clone(),
                Arc::new(SystemClock),
            )
            .await
            .unwrap();
            if let Some(n) = threads {
                ingestor.set_threads_per_drop(n);
            }
            let ingestor = Arc::new(ingestor);
            let started = Instant::now();
            let run = ingestor.run_once(Arc::new(Silent)).await.unwrap();
            (
                started.elapsed().as_secs_f64(),
                run.drops.into_iter().next().unwrap(),
            )
        });
        assert_eq!(report.lignes_lues, m.lignes);
        let rss = copil_sample::memoire::peak_rss_mib();
        let rows = report.lignes_lues;
        let (peer_s, peer_rss, ratio) = match &peer {
            Ok(p) => {
                assert_eq!(p.rows, rows, "DuckDB read the same rows");
                (
                    format!("{:.2} s", p.seconds),
                    format!("{:.0} Mio", p.rss),
                    format!("{:.2}", seconds / p.seconds),
                )
            }
            Err(e) => {
                eprintln!("DuckDB indisponible : {e}");
                ("—".into(), "—".into(), "—".into())
            }
        };
        rows_table.push_str(&format!(
            "| {} | {rows} | {:.0} Mio | {seconds:.2} s | {:.0} | {rss:.0} Mio | {peer_s} | {peer_rss} | {ratio} |\n",
            variant.code(),
            bytes as f64 / 1048576.0,
            rows as f64 / seconds,
        ));
        variants_done.push(variant.code());
    }
    let table = format!(
        "| dépôt | lignes | taille | Copil : durée | Copil : lignes/s | Copil : mémoire max | DuckDB : durée | DuckDB : mémoire max | ratio Copil / DuckDB |\n\
         |---|---|---|---|---|---|---|---|---|\n{rows_table}"
    );
    println!("{table}");
    if write && only.is_none() {
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
        let text = std::fs::read_to_string(&doc).unwrap_or_default();
        let (start, end) = ("<!-- ingestion:debut -->", "<!-- ingestion:fin -->");
        let section = format!(
            "{start}\nMesuré le {} :\n\n{table}{end}",
            chrono::Utc::now().format("%Y-%m-%d")
        );
        let updated = match (text.find(start), text.find(end)) {
            (Some(a), Some(b)) => format!("{}{section}{}", &text[..a], &text[b + end.len()..]),
            _ => format!("{text}\n{section}\n"),
        };
        std::fs::write(&doc, updated).unwrap();
        println!("docs/benchmarks.md mis à jour");
    }
}
