//! The national-scale scenario (issue #7), end to end in one process, with DuckDB beside it:
//!
//! 1. generation of every registered territory's drop (`--echelle`, 1 = about 1.8 M people);
//! 2. ingestion of every CSV-family drop, and DuckDB reading the same files into Parquet;
//! 3. ingestion of the XLSX drops (DuckDB cannot read them offline);
//! 4. the full indicator refresh, and DuckDB running the same SQL files over the same Parquet;
//! 5. the incremental refresh (issue 16): the largest territory sends a later drop, which is
//!    ingested, then only that territory is recomputed from its events;
//! 6. the dashboard under load: 32 concurrent clients on each page kind (national, indicator,
//!    territory, quality), p50 / p99.
//!
//! Each step runs in a child process of its own (this program, with `--etape`) and reports its
//! time, rows per second and peak resident memory (VmHWM). DuckDB runs as a Python child
//! process measuring itself (`benches/duckdb_depots.py`,
//! `benches/duckdb_indicateurs.py`).
//!
//! ```sh
//! cargo bench --bench scenario -- --echelle 1 [--ecrire] [--requetes 100] [--garder DIR]
//! ```
//!
//! `--ecrire` puts the figures into `docs/benchmarks.md` (one block per scale, with the date and
//! the commit measured), keeps them in `docs/mesures/scenario.json` and redraws the plots of
//! time and memory against rows (`docs/mesures/scenario-*.svg`) with the dashboard's own chart
//! code; `--dessiner` only redraws the plots from the stored figures.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use chrono::NaiveDate;
use copil_ingest::{IngestConfig, Ingestor, SecretKey};
use copil_queries::{Catalogue, Scope};
use copil_sample::{Destination, Options};
use copil_warehouse::{Departments, Register, SystemClock, Warehouse};
use serde_json::{Value, json};

#[path = "scenario/load.rs"]
mod load;
#[path = "scenario/plot.rs"]
mod plot;

use load::{CLIENTS, load};

fn rss_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

/// What a step's child process prints: its time, rows, peak memory and details.
fn report(seconds: f64, rows: u64, extra: Value) -> ! {
    let mut v = json!({ "seconds": seconds, "rows": rows, "peak_mib": rss_mib("VmHWM:") });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    println!("{v}");
    std::process::exit(0)
}

/// Runs one step in its own process (so its peak memory is its own) and reads its report.
fn step(name: &str, base: &Path, args: &[String]) -> Value {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--etape", name, "--base"])
        .arg(base)
        .args(args)
        .stderr(std::process::Stdio::inherit())
        .output()
        .unwrap();
    assert!(out.status.success(), "étape {name} en échec");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = text
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("étape {name} : pas de rapport ({text})"));
    eprintln!(
        "{name} : {:.1} s, {:.0} lignes/s, {:.0} Mio au plus",
        v["seconds"].as_f64().unwrap_or(f64::NAN),
        v["rows"].as_f64().unwrap_or(f64::NAN) / v["seconds"].as_f64().unwrap_or(f64::NAN),
        v["peak_mib"].as_f64().unwrap_or(f64::NAN)
    );
    v
}

/// Runs a Python peer script; its JSON result, or why it could not run.
fn python(script: &str, args: &[&std::ffi::OsStr], result: &Path) -> Result<Value, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("benches")
        .join(script);
    let out = std::process::Command::new("python3")
        .arg(&script)
        .args(args)
        .arg(if script.ends_with("duckdb_indicateurs.py") {
            "--sortie"
        } else {
            "--resultat"
        })
        .arg(result)
        .output()
        .map_err(|e| format!("python3 indisponible : {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_string());
    }
    let text = std::fs::read_to_string(result).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

fn moves_xlsx_aside(inbox: &Path, aside: &Path) -> usize {
    let mut n = 0;
    for t in std::fs::read_dir(inbox).unwrap().flatten() {
        for f in std::fs::read_dir(t.path()).unwrap().flatten() {
            if f.path().extension().is_some_and(|e| e == "xlsx") {
                let dir = aside.join(t.file_name());
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::rename(f.path(), dir.join(f.file_name())).unwrap();
                n += 1;
            }
        }
    }
    n
}

async fn ingest(
    base: &Path,
    inbox: PathBuf,
    register: &Register,
    departments: &Departments,
) -> u64 {
    let parallelism = std::thread::available_parallelism().map_or(2, |n| n.get());
    let config = IngestConfig::in_folder(base, inbox, parallelism);
    let run = Ingestor::run_folder(
        base,
        config,
        register.clone(),
        departments.clone(),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    assert_eq!(run.refused(), 0, "every generated drop lands");
    run.drops.iter().map(|d| d.lignes_lues).sum()
}

/// The refresh of the warehouse under `base`: every territory (`full`) or only those whose
/// drops changed.
async fn refresh(base: &Path, register: &Register, full: bool) -> copil_queries::Refreshed {
    let warehouse = Warehouse::open(base.join("entrepot").to_str().unwrap())
        .await
        .unwrap();
    copil_queries::refresh(
        &warehouse,
        &Catalogue::builtin(),
        register,
        &copil_queries::Rules::default(),
        &SystemClock,
        if full { Scope::All } else { Scope::Changed },
    )
    .await
    .unwrap()
}

/// The share of secret cells among the territory totals (no breakdown) of every indicator: all
/// months, and the last 12 months of data (issue 16: how large the demo must be).
async fn secret_shares(base: &Path) -> (f64, f64) {
    let warehouse = Warehouse::open(base.join("entrepot").to_str().unwrap())
        .await
        .unwrap();
    let mut cells = Vec::new();
    for ind in Catalogue::builtin().iter() {
        cells.extend(
            copil_queries::read(&warehouse, &ind.id, None, None)
                .await
                .unwrap()
                .into_iter()
                .filter(|c| {
                    c.niveau == copil_queries::Niveau::Territoire && c.ventilation.is_empty()
                }),
        );
    }
    let last = cells.iter().map(|c| c.mois).max();
    let recent = last.and_then(|m| m.checked_sub_months(chrono::Months::new(12)));
    let share = |f: &dyn Fn(&copil_queries::Cell) -> bool| {
        let (n, s) = cells
            .iter()
            .filter(|c| f(c))
            .fold((0, 0), |(n, s), c| (n + 1, s + usize::from(c.secret)));
        s as f64 / f64::from(n.max(1))
    };
    (share(&|_| true), share(&|c| Some(c.mois) > recent))
}

/// The body of one step, in a child process.
fn child(name: &str, base: &Path, args: &[String]) -> ! {
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = Instant::now();
    match name {
        "generation" => {
            let mut o = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 10, 31).unwrap());
            o.echelle = arg(args, "--echelle").unwrap_or(1.0);
            let dest = Destination {
                inbox: base.join("inbox"),
                manifestes: base.join("manifests"),
            };
            let manifests =
                copil_sample::generer(&register, &departments, &o, &dest, &|_| {}).unwrap();
            let seconds = t.elapsed().as_secs_f64();
            let rows = manifests.iter().map(|m| m.lignes).sum();
            let people: u64 = manifests.iter().map(|m| m.personnes).sum();
            let largest = manifests
                .iter()
                .max_by_key(|m| (m.lignes, std::cmp::Reverse(m.territoire.clone())))
                .map(|m| m.territoire.clone())
                .unwrap_or_default();
            let csv: Vec<Value> = manifests
                .iter()
                .filter(|m| m.format != "xlsx")
                .map(|m| {
                    json!({
                        "chemin": dest.inbox.join(&m.territoire).join(&m.fichier),
                        "separateur": m.separateur.clone().map(|s| if s == "tab" || s == "\\t" { "\t".to_string() } else { s }),
                        "encodage": m.encodage,
                    })
                })
                .collect();
            std::fs::write(
                base.join("depots-csv.json"),
                serde_json::to_string(&csv).unwrap(),
            )
            .unwrap();
            report(
                seconds,
                rows,
                json!({ "personnes": people, "depots": manifests.len(), "depots_csv": csv.len(), "plus_grand": largest }),
            )
        }
        "ingestion-csv" | "ingestion-xlsx" => {
            let inbox = base.join(if name == "ingestion-csv" {
                "inbox"
            } else {
                "inbox-xlsx"
            });
            let rows = rt.block_on(ingest(base, inbox, &register, &departments));
            report(t.elapsed().as_secs_f64(), rows, json!({}))
        }
        "rafraichissement" => {
            let done = rt.block_on(refresh(base, &register, true));
            let (cells, secret_s) = (done.cells, done.duree_secret.as_secs_f64());
            let seconds = t.elapsed().as_secs_f64();
            let rows: u64 = arg(args, "--lignes").unwrap_or(0);
            let (secret, recent) = rt.block_on(secret_shares(base));
            report(
                seconds,
                rows,
                json!({ "cases": cells, "secret_territoires": secret, "secret_12_mois": recent, "secret_s": secret_s }),
            )
        }
        "incremental" => {
            let territory: String = arg(args, "--territoire").expect("--territoire");
            let mut o = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 11, 30).unwrap());
            o.echelle = arg(args, "--echelle").unwrap_or(1.0);
            o.territoires = Some(vec![territory]);
            let dest = Destination {
                inbox: base.join("inbox-incremental"),
                manifestes: base.join("manifests-incremental"),
            };
            copil_sample::generer(&register, &departments, &o, &dest, &|_| {}).unwrap();
            let t = Instant::now();
            let rows = rt.block_on(ingest(base, dest.inbox, &register, &departments));
            let ingested = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let done = rt.block_on(refresh(base, &register, false));
            report(
                t.elapsed().as_secs_f64(),
                rows,
                json!({ "ingestion_s": ingested, "recalcules": done.territoires_recalcules, "cases": done.cells, "secret_s": done.duree_secret.as_secs_f64() }),
            )
        }
        "tableau" => {
            let requests = arg(args, "--requetes").unwrap_or(100);
            let territory: String = arg(args, "--territoire").expect("--territoire");
            let (pages, cells) =
                rt.block_on(load(base, &register, &departments, requests, &territory));
            let rows = pages.iter().map(|p| p.1 as u64).sum();
            let pages: Vec<Value> = pages
                .iter()
                .map(|(p, n, p50, p99, rps)| json!({ "page": p, "requetes": n, "p50": p50, "p99": p99, "debit": rps }))
                .collect();
            report(
                t.elapsed().as_secs_f64(),
                rows,
                json!({ "pages": pages, "cases": cells }),
            )
        }
        other => panic!("étape inconnue : {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(name) = arg::<String>(&args, "--etape") {
        let base: PathBuf = arg(&args, "--base").expect("--base");
        child(&name, &base, &args);
    }
    if args.iter().any(|a| a == "--dessiner") {
        plot::redraw(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mesures"));
        return;
    }
    let echelle: f64 = arg(&args, "--echelle").unwrap_or(1.0);
    let requests: usize = arg(&args, "--requetes").unwrap_or(100);
    let keep: Option<PathBuf> = arg(&args, "--garder");
    let tmp = tempfile::Builder::new()
        .prefix("copil-scenario-")
        .tempdir()
        .unwrap();
    let base = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&base).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let memory_gib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0 / 1024.0);

    // 1. Generation.
    let generation = step(
        "generation",
        &base,
        &["--echelle".into(), echelle.to_string()],
    );
    let people = generation["personnes"].as_u64().unwrap_or(0);
    let drops = generation["depots"].as_u64().unwrap_or(0);
    let csv_drops = generation["depots_csv"].as_u64().unwrap_or(0);
    SecretKey::create_file(&base.join("cle")).unwrap();

    // 2. Ingestion of the CSV-family drops, and DuckDB on the same files (first: Copil's
    // ingestion moves the files to the archive). 3. The XLSX drops.
    let xlsx = moves_xlsx_aside(&base.join("inbox"), &base.join("inbox-xlsx"));
    let list = base.join("depots-csv.json");
    let parquet_dir = base.join("duckdb-parquet");
    let duck_in = python(
        "duckdb_depots.py",
        &[list.as_os_str(), parquet_dir.as_os_str()],
        &base.join("duckdb-depots.json"),
    );
    let _ = std::fs::remove_dir_all(&parquet_dir);
    let ingest_csv = step("ingestion-csv", &base, &[]);
    let ingest_xlsx = step("ingestion-xlsx", &base, &[]);

    // 4. Refresh; DuckDB twice on the same Parquet files: the SQL as is (each query recomputes
    // the views), and with Copil's strategy (events and each view computed once, as temporary
    // tables).
    let event_rows =
        ingest_csv["rows"].as_u64().unwrap_or(0) + ingest_xlsx["rows"].as_u64().unwrap_or(0);
    let refresh = step(
        "rafraichissement",
        &base,
        &["--lignes".into(), event_rows.to_string()],
    );
    let warehouse_dir = base.join("entrepot");
    let duck_sql = python(
        "duckdb_indicateurs.py",
        &[warehouse_dir.as_os_str()],
        &base.join("duckdb-indicateurs.json"),
    );
    let duck_sql_tables = python(
        "duckdb_indicateurs.py",
        &[
            warehouse_dir.as_os_str(),
            "--vues".as_ref(),
            "tables".as_ref(),
        ],
        &base.join("duckdb-indicateurs-tables.json"),
    );

    // 5. The incremental refresh after the largest territory's later drop.
    let largest = generation["plus_grand"]
        .as_str()
        .unwrap_or("dep-59")
        .to_string();
    let incremental = step(
        "incremental",
        &base,
        &[
            "--territoire".into(),
            largest.clone(),
            "--echelle".into(),
            echelle.to_string(),
        ],
    );

    // 6. The dashboard under load.
    let board = step(
        "tableau",
        &base,
        &[
            "--requetes".into(),
            requests.to_string(),
            "--territoire".into(),
            largest.clone(),
        ],
    );

    // The report.
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let num = |v: &Value, key: &str| v[key].as_f64().unwrap_or(f64::NAN);
    let duck = |v: &Result<Value, String>, key: &str| -> f64 {
        v.as_ref().ok().map_or(f64::NAN, |v| num(v, key))
    };
    let line = |label: String, v: &Value, peer: String, peer_mib: f64, peer_s: f64| {
        let (s, rows, mib) = (num(v, "seconds"), num(v, "rows"), num(v, "peak_mib"));
        let (peer_mib, ratio) = if peer_s.is_nan() {
            ("—".to_string(), "—".to_string())
        } else {
            (format!("{peer_mib:.0} Mio"), format!("{:.2}", s / peer_s))
        };
        format!(
            "| {echelle} | {label} | {s:.1} s | {:.0} | {mib:.0} Mio | {peer} | {peer_mib} | {ratio} |",
            rows / s
        )
    };
    let (din_s, din_mib, din_tr) = (
        duck(&duck_in, "seconds"),
        duck(&duck_in, "peak_rss_mib"),
        duck(&duck_in, "transcode_seconds"),
    );
    let (dsql_s, dtab_s) = (
        duck(&duck_sql, "total_seconds"),
        duck(&duck_sql_tables, "total_seconds"),
    );
    let mut rows = vec![
        line(
            format!(
                "génération : {drops} dépôts, {people} personnes, {} lignes",
                num(&generation, "rows")
            ),
            &generation,
            "—".into(),
            f64::NAN,
            f64::NAN,
        ),
        line(
            format!(
                "ingestion : {csv_drops} dépôts CSV, {} lignes",
                num(&ingest_csv, "rows")
            ),
            &ingest_csv,
            format!("{din_s:.1} s (dont transcodage Windows-1252 par Python {din_tr:.1} s)"),
            din_mib,
            din_s,
        ),
        line(
            format!(
                "ingestion : {xlsx} dépôts XLSX, {} lignes",
                num(&ingest_xlsx, "rows")
            ),
            &ingest_xlsx,
            "— (pas de lecteur XLSX hors ligne)".into(),
            f64::NAN,
            f64::NAN,
        ),
        line(
            format!(
                "rafraîchissement : 16 indicateurs, {} cases, dont {:.1} s d'agrégation et de secret statistique (totaux des territoires secrets : {:.1} %, {:.1} % sur les 12 derniers mois)",
                num(&refresh, "cases"),
                num(&refresh, "secret_s"),
                100.0 * num(&refresh, "secret_territoires"),
                100.0 * num(&refresh, "secret_12_mois"),
            ),
            &refresh,
            format!("{dsql_s:.1} s (SQL tel quel, vues recalculées par requête)"),
            duck(&duck_sql, "peak_rss_mib"),
            dsql_s,
        ),
        line(
            "rafraîchissement, face à DuckDB avec la stratégie de Copil".into(),
            &refresh,
            format!("{dtab_s:.1} s (événements et vues en tables temporaires)"),
            duck(&duck_sql_tables, "peak_rss_mib"),
            dtab_s,
        ),
        line(
            format!(
                "rafraîchissement incrémental après un nouveau dépôt de {largest} ({} lignes, ingéré en {:.1} s) : {} territoire(s) recalculé(s), dont {:.1} s d'agrégation et de secret statistique",
                num(&incremental, "rows"),
                num(&incremental, "ingestion_s"),
                num(&incremental, "recalcules"),
                num(&incremental, "secret_s"),
            ),
            &incremental,
            "—".into(),
            f64::NAN,
            f64::NAN,
        ),
    ];
    for p in board["pages"].as_array().into_iter().flatten() {
        rows.push(format!(
            "| {echelle} | tableau de bord, {CLIENTS} clients × {requests} requêtes : `{}` ({} cases), p50 / p99 | {:.1} / {:.1} ms | {:.0} req/s | {:.0} Mio | — | — | — |",
            p["page"].as_str().unwrap_or(""),
            num(&board, "cases"),
            num(p, "p50"),
            num(p, "p99"),
            num(p, "debit"),
            num(&board, "peak_mib"),
        ));
    }
    if let Err(e) = &duck_in {
        eprintln!("DuckDB (dépôts) en échec : {e}");
    }
    for (what, r) in [("vues", &duck_sql), ("tables", &duck_sql_tables)] {
        if let Err(e) = r {
            eprintln!("DuckDB (indicateurs, {what}) en échec : {e}");
        }
    }
    let header = "| échelle | étape | Copil | lignes/s | mémoire max | DuckDB | DuckDB : mémoire max | ratio Copil / DuckDB |\n|---|---|---|---|---|---|---|---|";
    let date = chrono::Utc::now().format("%Y-%m-%d");
    let text = format!(
        "Mesuré le {date}, commit {commit}, {cores} cœurs, {memory_gib:.0} Gio :\n\n{header}\n{}\n",
        rows.join("\n")
    );
    println!("{text}");
    if args.iter().any(|a| a == "--ecrire") {
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/benchmarks.md");
        let old = std::fs::read_to_string(&doc).unwrap_or_default();
        let (start, end) = ("<!-- scenario:debut -->", "<!-- scenario:fin -->");
        // One block per scale, each with its date and commit.
        let mut blocks: Vec<(String, String)> = match (old.find(start), old.find(end)) {
            (Some(a), Some(b)) => old[a + start.len()..b]
                .split("<!-- echelle ")
                .filter_map(|b| {
                    let (scale, rest) = b.split_once(" -->")?;
                    Some((scale.to_string(), rest.trim().to_string()))
                })
                .filter(|(s, _)| *s != echelle.to_string())
                .collect(),
            _ => Vec::new(),
        };
        blocks.push((echelle.to_string(), text.trim().to_string()));
        blocks.sort_by(|a, b| {
            a.0.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.0.parse::<f64>().unwrap_or(0.0))
        });
        let section = format!(
            "{start}\n{}\n{end}",
            blocks
                .iter()
                .map(|(s, t)| format!("<!-- echelle {s} -->\n{t}\n"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        let new = match (old.find(start), old.find(end)) {
            (Some(a), Some(b)) => format!("{}{section}{}", &old[..a], &old[b + end.len()..]),
            _ => format!("{old}\n{section}\n"),
        };
        std::fs::write(&doc, new).unwrap();
        let total_rows = num(&generation, "rows");
        let measure = |v: &Value| (num(v, "seconds"), num(v, "peak_mib"));
        let duck_measure =
            |v: &Result<Value, String>, key: &str| (duck(v, key), duck(v, "peak_rss_mib"));
        plot::record(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mesures"),
            echelle,
            total_rows,
            &plot::STEPS
                .into_iter()
                .zip([
                    measure(&ingest_csv),
                    duck_measure(&duck_in, "seconds"),
                    measure(&ingest_xlsx),
                    measure(&refresh),
                    duck_measure(&duck_sql, "total_seconds"),
                    measure(&incremental),
                ])
                .collect::<Vec<_>>(),
        );
        println!("docs/benchmarks.md et docs/mesures/ mis à jour");
    }
    if keep.is_none() {
        drop(tmp);
    }
}
