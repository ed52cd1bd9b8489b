//! The national-scale scenario (issue #7), end to end in one process, with DuckDB beside it:
//!
//! 1. generation of every registered territory's drop (`--echelle`, 1 = about 1.8 M people);
//! 2. ingestion of every CSV-family drop, and DuckDB reading the same files into Parquet;
//! 3. ingestion of the XLSX drops (DuckDB cannot read them offline);
//! 4. the full indicator refresh, and DuckDB running the same SQL files over the same Parquet;
//! 5. the dashboard under load: 32 concurrent clients on the national page and on an indicator
//!    page, p50 / p99.
//!
//! Each step reports its time, rows per second and the process's peak resident memory during
//! that step (the peak is reset between steps through `/proc/self/clear_refs`). DuckDB runs as a
//! Python child process measuring itself (`benches/duckdb_depots.py`,
//! `benches/duckdb_indicateurs.py`).
//!
//! ```sh
//! cargo bench --bench scenario -- --echelle 1 [--ecrire] [--requetes 100] [--garder DIR]
//! ```
//!
//! `--ecrire` puts the figures into `docs/benchmarks.md` (one row per scale, with the date and
//! the commit measured).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use copil_dashboards::{Accounts, AppState, ExportKey, Role, Settings};
use copil_ingest::{IngestConfig, Ingestor, SecretKey, Silent};
use copil_queries::Catalogue;
use copil_sample::{Destination, Options};
use copil_warehouse::{Departments, FixedClock, Register, SystemClock, Warehouse};
use serde_json::{Value, json};

const CLIENTS: usize = 32;

/// One page under load: path, requests, p50 ms, p99 ms, requests per second.
type PageRow = (&'static str, usize, f64, f64, f64);

fn rss_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Resets the peak resident memory (VmHWM) to the current one.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str) -> Option<T> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
}

/// One measured step.
#[derive(Debug, Clone)]
struct Step {
    seconds: f64,
    rows: u64,
    peak_mib: f64,
}

impl Step {
    fn run<T>(
        name: &'static str,
        rows: impl FnOnce(&T) -> u64,
        f: impl FnOnce() -> T,
    ) -> (Step, T) {
        reset_peak();
        let t = Instant::now();
        let out = f();
        let seconds = t.elapsed().as_secs_f64();
        let step = Step {
            seconds,
            rows: rows(&out),
            peak_mib: rss_mib("VmHWM:"),
        };
        eprintln!(
            "{name} : {seconds:.1} s, {:.0} lignes/s, {:.0} Mio au plus",
            step.rows as f64 / seconds,
            step.peak_mib
        );
        (step, out)
    }
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
    let config = IngestConfig {
        inbox,
        archive: base.join("archive"),
        refused: base.join("refuses"),
        key_file: base.join("cle"),
        parallelism: std::thread::available_parallelism().map_or(2, |n| n.get()),
        pause_at: None,
    };
    let warehouse = Warehouse::open(base.join("entrepot").to_str().unwrap())
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
    let run = ingestor.run_once(Arc::new(Silent)).await.unwrap();
    assert_eq!(run.refused(), 0, "every generated drop lands");
    run.drops.iter().map(|d| d.lignes_lues).sum()
}

/// 32 clients × `requests` on each page; (page, requests, p50 ms, p99 ms, req/s).
async fn load(
    base: &Path,
    register: &Register,
    departments: &Departments,
    requests: usize,
) -> (Vec<PageRow>, usize) {
    let warehouse = Warehouse::open(base.join("entrepot").to_str().unwrap())
        .await
        .unwrap();
    let own = base.join("serveur");
    let settings = Settings::under(&own, 11, ExportKey([7; 32]));
    let mut accounts = Accounts::open(&settings.accounts_file).unwrap();
    let now = chrono::Utc::now();
    accounts
        .add(
            "pilotage",
            Role::National,
            None,
            "banc de mesure de latence",
            register,
            now,
        )
        .unwrap();
    let token = accounts.add_token("pilotage", "banc", now).unwrap();
    let state = AppState::new(
        warehouse,
        register.clone(),
        departments.clone(),
        settings,
        Arc::new(FixedClock::at_date(
            NaiveDate::from_ymd_opt(2025, 11, 1).unwrap(),
        )),
    )
    .await
    .unwrap();
    let cells = state.results().len();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, copil_dashboards::app(state))
            .await
            .unwrap()
    });
    let mut auth = reqwest::header::HeaderMap::new();
    auth.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let client = reqwest::Client::builder()
        .default_headers(auth)
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let pages = ["/", "/indicateurs/orientes_30j"];
    for p in pages {
        let r = client.get(format!("{url}{p}")).send().await.unwrap();
        assert!(r.status().is_success(), "{p}");
        r.bytes().await.unwrap();
    }
    let mut rows = Vec::new();
    for p in pages {
        let started = Instant::now();
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let client = client.clone();
                let url = format!("{url}{p}");
                tokio::spawn(async move {
                    let mut times = Vec::with_capacity(requests);
                    for _ in 0..requests {
                        let t = Instant::now();
                        let r = client.get(&url).send().await.unwrap();
                        assert!(r.status().is_success());
                        r.bytes().await.unwrap();
                        times.push(t.elapsed());
                    }
                    times
                })
            })
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let wall = started.elapsed().as_secs_f64();
        all.sort();
        rows.push((
            p,
            all.len(),
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            all.len() as f64 / wall,
        ));
    }
    (rows, cells)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let echelle: f64 = arg(&args, "--echelle").unwrap_or(1.0);
    let requests: usize = arg(&args, "--requetes").unwrap_or(100);
    let keep: Option<PathBuf> = arg(&args, "--garder");
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    let tmp = tempfile::Builder::new()
        .prefix("copil-scenario-")
        .tempdir()
        .unwrap();
    let base = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    std::fs::create_dir_all(&base).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
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
    let mut o = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 10, 31).unwrap());
    o.echelle = echelle;
    let dest = Destination {
        inbox: base.join("inbox"),
        manifestes: base.join("manifests"),
    };
    let (generation, manifests) = Step::run(
        "génération",
        |m: &Vec<copil_sample::Manifeste>| m.iter().map(|m| m.lignes).sum(),
        || copil_sample::generer(&register, &departments, &o, &dest, &|_| {}).unwrap(),
    );
    let people: u64 = manifests.iter().map(|m| m.personnes).sum();
    SecretKey::create_file(&base.join("cle")).unwrap();

    // 2. Ingestion of the CSV-family drops, and DuckDB on the same files.
    let xlsx_inbox = base.join("inbox-xlsx");
    let xlsx = moves_xlsx_aside(&dest.inbox, &xlsx_inbox);
    let csv_drops: Vec<Value> = manifests
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
    let list = base.join("depots-csv.json");
    std::fs::write(&list, serde_json::to_string(&csv_drops).unwrap()).unwrap();
    // DuckDB first: Copil's ingestion moves the files to the archive.
    let parquet_dir = base.join("duckdb-parquet");
    let duck_in = python(
        "duckdb_depots.py",
        &[list.as_os_str(), parquet_dir.as_os_str()],
        &base.join("duckdb-depots.json"),
    );
    let _ = std::fs::remove_dir_all(base.join("duckdb-parquet"));
    let (ingest_csv, _) = Step::run(
        "ingestion (CSV)",
        |rows: &u64| *rows,
        || rt.block_on(ingest(&base, dest.inbox.clone(), &register, &departments)),
    );
    let (ingest_xlsx, _) = Step::run(
        "ingestion (XLSX)",
        |rows: &u64| *rows,
        || rt.block_on(ingest(&base, xlsx_inbox.clone(), &register, &departments)),
    );

    // 4. Refresh, and DuckDB on the same SQL and Parquet files.
    let event_rows = ingest_csv.rows + ingest_xlsx.rows;
    let (refresh, cells) = Step::run(
        "rafraîchissement",
        |_: &usize| event_rows,
        || {
            rt.block_on(async {
                let warehouse = Warehouse::open(base.join("entrepot").to_str().unwrap())
                    .await
                    .unwrap();
                copil_queries::refresh(
                    &warehouse,
                    &Catalogue::builtin(),
                    &register,
                    11,
                    &SystemClock,
                )
                .await
                .unwrap()
                .cells
            })
        },
    );
    // DuckDB twice: the SQL as is (each query recomputes the views), and with Copil's
    // strategy (events and each view computed once, as temporary tables).
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

    // 5. The dashboard under load.
    let ((pages, published), serve_step) = {
        let (step, out) = Step::run(
            "tableau de bord",
            |(p, _): &(Vec<PageRow>, usize)| p.iter().map(|r| r.1 as u64).sum(),
            || rt.block_on(load(&base, &register, &departments, requests)),
        );
        (out, step)
    };

    // The report.
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let duck = |v: &Result<Value, String>, key: &str| -> f64 {
        v.as_ref()
            .ok()
            .and_then(|v| v[key].as_f64())
            .unwrap_or(f64::NAN)
    };
    let fmt_s = |s: f64| format!("{s:.1} s");
    let rate = |s: &Step| format!("{:.0}", s.rows as f64 / s.seconds);
    let (din_s, din_mib, din_tr) = (
        duck(&duck_in, "seconds"),
        duck(&duck_in, "peak_rss_mib"),
        duck(&duck_in, "transcode_seconds"),
    );
    let (dsql_s, dsql_mib) = (
        duck(&duck_sql, "total_seconds"),
        duck(&duck_sql, "peak_rss_mib"),
    );
    let (dtab_s, dtab_mib) = (
        duck(&duck_sql_tables, "total_seconds"),
        duck(&duck_sql_tables, "peak_rss_mib"),
    );
    let national = pages[0];
    let indicator = pages[1];
    let header = "| échelle | personnes | lignes | étape | Copil | lignes/s | mémoire max | DuckDB | DuckDB : mémoire max | ratio Copil / DuckDB |\n|---|---|---|---|---|---|---|---|---|---|";
    let mut rows = vec![
        format!(
            "| {echelle} | {people} | {} | génération ({} dépôts) | {} | {} | {:.0} Mio | — | — | — |",
            generation.rows,
            manifests.len(),
            fmt_s(generation.seconds),
            rate(&generation),
            generation.peak_mib
        ),
        format!(
            "| {echelle} | {people} | {} | ingestion, {} dépôts CSV | {} | {} | {:.0} Mio | {} (dont transcodage Windows-1252 {din_tr:.1} s) | {din_mib:.0} Mio | {:.2} |",
            ingest_csv.rows,
            csv_drops.len(),
            fmt_s(ingest_csv.seconds),
            rate(&ingest_csv),
            ingest_csv.peak_mib,
            fmt_s(din_s),
            ingest_csv.seconds / din_s
        ),
        format!(
            "| {echelle} | {people} | {} | ingestion, {xlsx} dépôts XLSX | {} | {} | {:.0} Mio | — (pas de lecteur XLSX hors ligne) | — | — |",
            ingest_xlsx.rows,
            fmt_s(ingest_xlsx.seconds),
            rate(&ingest_xlsx),
            ingest_xlsx.peak_mib
        ),
        format!(
            "| {echelle} | {people} | {event_rows} | rafraîchissement, 16 indicateurs ({cells} cases) | {} | {} | {:.0} Mio | {} (SQL tel quel, vues recalculées par requête) | {dsql_mib:.0} Mio | {:.2} |",
            fmt_s(refresh.seconds),
            rate(&refresh),
            refresh.peak_mib,
            fmt_s(dsql_s),
            refresh.seconds / dsql_s
        ),
        format!(
            "| {echelle} | {people} | {event_rows} | rafraîchissement, face à DuckDB avec la stratégie de Copil | {} | {} | {:.0} Mio | {} (vues en tables temporaires) | {dtab_mib:.0} Mio | {:.2} |",
            fmt_s(refresh.seconds),
            rate(&refresh),
            refresh.peak_mib,
            fmt_s(dtab_s),
            refresh.seconds / dtab_s
        ),
        format!(
            "| {echelle} | {people} | {published} cases | tableau de bord, {CLIENTS} clients : vue nationale p50 / p99 | {:.1} / {:.1} ms | {:.0} req/s | {:.0} Mio | — | — | — |",
            national.2, national.3, national.4, serve_step.peak_mib
        ),
        format!(
            "| {echelle} | {people} | {published} cases | tableau de bord, {CLIENTS} clients : page d'indicateur p50 / p99 | {:.1} / {:.1} ms | {:.0} req/s | {:.0} Mio | — | — | — |",
            indicator.2, indicator.3, indicator.4, serve_step.peak_mib
        ),
    ];
    if let Err(e) = &duck_in {
        eprintln!("DuckDB (dépôts) en échec : {e}");
    }
    for (what, r) in [("vues", &duck_sql), ("tables", &duck_sql_tables)] {
        if let Err(e) = r {
            eprintln!("DuckDB (indicateurs, {what}) en échec : {e}");
        }
    }
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
        rows.clear();
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
        println!("docs/benchmarks.md mis à jour");
    }
    if keep.is_none() {
        drop(tmp);
    }
}
