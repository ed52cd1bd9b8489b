//! Full indicator refresh at national scale (issue #4): generation at `--echelle 1` (about
//! 1.84 M people), ingestion of every drop, then the refresh of the sixteen indicators, with its
//! time and peak memory; side by side with DuckDB (its Python package) running the same SQL
//! files over the same Parquet files, in the same run.
//!
//! `cargo bench -p copil-queries --bench refresh -- [--echelle X] [--ecrire]`

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use copil_ingest::{IngestConfig, Ingestor, SecretKey, Silent};
use copil_queries::{Catalogue, refresh};
use copil_sample::{Destination, Options};
use copil_warehouse::{Departments, Register, SystemClock, Warehouse};

fn rss_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets the peak RSS counter (Linux), so each step reports its own peak.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let write = args.iter().any(|a| a == "--ecrire");
    let echelle: f64 = args
        .iter()
        .position(|a| a == "--echelle")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path();

    let mut o = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 10, 31).unwrap());
    o.echelle = echelle;
    let dest = Destination {
        inbox: base.join("inbox"),
        manifestes: base.join("manifests"),
    };
    let t = Instant::now();
    let manifests = copil_sample::generer(&register, &departments, &o, &dest, &|_| {}).unwrap();
    let gen_s = t.elapsed().as_secs_f64();
    let rows: u64 = manifests.iter().map(|m| m.lignes).sum();
    let people: u64 = manifests.iter().map(|m| m.personnes).sum();

    SecretKey::create_file(&base.join("cle")).unwrap();
    let config = IngestConfig {
        inbox: dest.inbox,
        archive: base.join("archive"),
        refused: base.join("refuses"),
        key_file: base.join("cle"),
        parallelism: 2,
        pause_at: None,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let warehouse_dir = base.join("entrepot");
    reset_peak();
    let (ingest_s, ingest_rss) = rt.block_on(async {
        let warehouse = Warehouse::open(warehouse_dir.to_str().unwrap())
            .await
            .unwrap();
        let ingestor = Arc::new(
            Ingestor::new(
                config,
                warehouse,
                register.clone(),
                departments.clone(),
                Arc::new(SystemClock),
            )
            .await
            .unwrap(),
        );
        let t = Instant::now();
        let run = ingestor.run_once(Arc::new(Silent)).await.unwrap();
        assert_eq!(run.refused(), 0);
        (t.elapsed().as_secs_f64(), rss_mib("VmHWM:"))
    });
    reset_peak();
    let (refresh_s, refresh_rss, cells) = rt.block_on(async {
        let warehouse = Warehouse::open(warehouse_dir.to_str().unwrap())
            .await
            .unwrap();
        let t = Instant::now();
        let r = refresh(
            &warehouse,
            &Catalogue::builtin(),
            &register,
            11,
            &SystemClock,
        )
        .await
        .unwrap();
        (t.elapsed().as_secs_f64(), rss_mib("VmHWM:"), r.cells)
    });

    // The peer, on the same Parquet files.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/duckdb_indicateurs.py");
    let out = base.join("duckdb.json");
    let duck = std::process::Command::new("python3")
        .arg(&script)
        .arg(&warehouse_dir)
        .arg("--sortie")
        .arg(&out)
        .output();
    let (duck_s, duck_rss) = match duck {
        Ok(o) if o.status.success() => {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
            (
                v["total_seconds"].as_f64().unwrap_or(f64::NAN),
                v["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
            )
        }
        Ok(o) => {
            eprintln!(
                "DuckDB en échec : {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            (f64::NAN, f64::NAN)
        }
        Err(e) => {
            eprintln!("DuckDB indisponible : {e}");
            (f64::NAN, f64::NAN)
        }
    };
    let ratio = refresh_s / duck_s;
    let table = format!(
        "| échelle | personnes | lignes | génération | ingestion | ingestion : mémoire max | rafraîchissement (16 indicateurs) | rafraîchissement : mémoire max | DuckDB, mêmes SQL | DuckDB : mémoire max | ratio Copil / DuckDB |\n\
         |---|---|---|---|---|---|---|---|---|---|---|\n\
         | {echelle} | {people} | {rows} | {gen_s:.1} s | {ingest_s:.1} s ({:.0} lignes/s) | {ingest_rss:.0} Mio | {refresh_s:.1} s | {refresh_rss:.0} Mio | {duck_s:.1} s | {duck_rss:.0} Mio | {ratio:.2} |\n",
        rows as f64 / ingest_s
    );
    println!("{table}{cells} cases calculées.");
    if write {
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
        let text = std::fs::read_to_string(&doc).unwrap_or_default();
        let (start, end) = (
            "<!-- rafraichissement:debut -->",
            "<!-- rafraichissement:fin -->",
        );
        let row = table.lines().nth(2).unwrap_or("").to_string();
        // Keep one row per scale: replace the row of this scale, keep the others.
        let (head, mut rows_kept) = match (text.find(start), text.find(end)) {
            (Some(a), Some(b)) => {
                let inner = &text[a + start.len()..b];
                let kept: Vec<String> = inner
                    .lines()
                    .filter(|l| {
                        l.starts_with("| ")
                            && !l.starts_with("| échelle")
                            && !l.starts_with(&format!("| {echelle} |"))
                    })
                    .map(str::to_string)
                    .collect();
                ((Some((a, b))), kept)
            }
            _ => (None, Vec::new()),
        };
        rows_kept.push(row);
        rows_kept.sort();
        let header: Vec<&str> = table.lines().take(2).collect();
        let section = format!(
            "{start}\nMesuré le {} :\n\n{}\n{}\n{end}",
            chrono::Utc::now().format("%Y-%m-%d"),
            header.join("\n"),
            rows_kept.join("\n")
        );
        let updated = match head {
            Some((a, b)) => format!("{}{section}{}", &text[..a], &text[b + end.len()..]),
            None => format!("{text}\n{section}\n"),
        };
        std::fs::write(&doc, updated).unwrap();
        println!("docs/benchmarks.md mis à jour");
    }
}
