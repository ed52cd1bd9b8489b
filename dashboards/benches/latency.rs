//! Dashboard latency under load (issue #5): the national page and an indicator page served by
//! the real app on a real port, 32 concurrent clients, p50 / p99 per page and the server's
//! peak memory while serving. The warehouse is either built here (generation, ingestion and
//! refresh at `--echelle X`, default 1) or an existing one (`--entrepot DIR`); `--garder DIR`
//! keeps the one built.
//!
//! `cargo bench -p copil-dashboards --bench latency -- [--echelle X | --entrepot DIR]
//!  [--garder DIR] [--requetes N] [--ecrire]`

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use copil_dashboards::{Accounts, AppState, ExportKey, Role, Settings};
use copil_ingest::{IngestConfig, Ingestor, SecretKey, Silent};
use copil_queries::Catalogue;
use copil_sample::{Destination, Options};
use copil_warehouse::{Departments, FixedClock, Register, SystemClock, Warehouse};

const CLIENTS: usize = 32;

fn rss_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
}

async fn build(base: &Path, echelle: f64, register: &Register, departments: &Departments) {
    let mut o = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 10, 31).unwrap());
    o.echelle = echelle;
    let dest = Destination {
        inbox: base.join("inbox"),
        manifestes: base.join("manifests"),
    };
    copil_sample::generer(register, departments, &o, &dest, &|_| {}).unwrap();
    SecretKey::create_file(&base.join("cle")).unwrap();
    let config = IngestConfig {
        inbox: dest.inbox,
        archive: base.join("archive"),
        refused: base.join("refuses"),
        key_file: base.join("cle"),
        parallelism: 2,
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
    ingestor.run_once(Arc::new(Silent)).await.unwrap();
    let warehouse = Warehouse::open(base.join("entrepot").to_str().unwrap())
        .await
        .unwrap();
    copil_queries::refresh(
        &warehouse,
        &Catalogue::builtin(),
        register,
        11,
        &SystemClock,
    )
    .await
    .unwrap();
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let echelle: f64 = arg(&args, "--echelle")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let requests: usize = arg(&args, "--requetes")
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let _temp;
    let (root, label): (PathBuf, String) = match arg(&args, "--entrepot") {
        Some(dir) => (PathBuf::from(dir), format!("entrepôt {dir}")),
        None => {
            let dir = match arg(&args, "--garder") {
                Some(d) => {
                    std::fs::create_dir_all(d).unwrap();
                    PathBuf::from(d)
                }
                None => {
                    _temp = tempfile::tempdir().unwrap();
                    _temp.path().to_path_buf()
                }
            };
            let t = Instant::now();
            rt.block_on(build(&dir, echelle, &register, &departments));
            println!(
                "entrepôt construit à l'échelle {echelle} en {:.1} s",
                t.elapsed().as_secs_f64()
            );
            (dir, format!("échelle {echelle}"))
        }
    };
    reset_peak();
    let before = rss_mib("VmRSS:");
    let (rows, load_s) = rt.block_on(async {
        let warehouse = Warehouse::open(root.join("entrepot").to_str().unwrap())
            .await
            .unwrap();
        let t = Instant::now();
        // The clients are one national account, authenticated by an API token.
        let own = tempfile::tempdir().unwrap();
        let mut settings = Settings::under(own.path(), 11, ExportKey([7; 32]));
        settings.inbox = root.join("inbox");
        let mut accounts = Accounts::open(&settings.accounts_file).unwrap();
        let now = chrono::Utc::now();
        accounts
            .add(
                "pilotage",
                Role::National,
                None,
                "banc de mesure de latence",
                &register,
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
        let load_s = t.elapsed().as_secs_f64();
        let cells = state.results().len();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
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
        // Warm-up.
        for p in pages {
            let r = client.get(format!("{base}{p}")).send().await.unwrap();
            assert!(r.status().is_success(), "{p}");
            r.bytes().await.unwrap();
        }
        let mut rows = Vec::new();
        for p in pages {
            let started = Instant::now();
            let tasks: Vec<_> = (0..CLIENTS)
                .map(|_| {
                    let client = client.clone();
                    let url = format!("{base}{p}");
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
        ((rows, cells), load_s)
    });
    let peak = rss_mib("VmHWM:");
    let (rows, cells) = rows;
    let mut table = format!(
        "Mesuré le {} ({label}, {cells} cases publiées ; chargement des résultats {load_s:.2} s ; mémoire avant chargement {before:.0} Mio, maximum pendant le service {peak:.0} Mio ; {CLIENTS} clients simultanés, client et serveur dans le même processus sur 2 cœurs) :\n\n| page | requêtes | p50 | p99 | débit |\n|---|---|---|---|---|\n",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    for (p, n, p50, p99, rps) in &rows {
        table.push_str(&format!(
            "| `{p}` | {n} | {p50:.1} ms | {p99:.1} ms | {rps:.0} req/s |\n"
        ));
    }
    println!("{table}");
    if args.iter().any(|a| a == "--ecrire") {
        let doc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
        let text = std::fs::read_to_string(&doc).unwrap();
        let (start, end) = ("<!-- latence:debut -->", "<!-- latence:fin -->");
        let new = format!("{start}\n{table}{end}");
        let text = match (text.find(start), text.find(end)) {
            (Some(a), Some(b)) => format!("{}{new}{}", &text[..a], &text[b + end.len()..]),
            _ => format!(
                "{text}\n## Tableau de bord : latence sous charge\n\n`cargo bench -p copil-dashboards --bench latency -- --echelle 1 --ecrire`\n\n{new}\n"
            ),
        };
        std::fs::write(&doc, text).unwrap();
        println!("docs/benchmarks.md mis à jour");
    }
}
