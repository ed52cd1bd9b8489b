//! The dashboard under load (step 6 of the scenario): the real application on a real port,
//! 32 concurrent HTTP clients on each page kind, p50 / p99, once without compression and once
//! asking for gzip as browsers do.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use copil_dashboards::{Accounts, AppState, ExportKey, Role, Settings};
use copil_warehouse::{Departments, FixedClock, Register, Warehouse};

/// Concurrent clients.
pub const CLIENTS: usize = 32;

/// One page under load: path, requests, p50 ms, p99 ms, requests per second.
pub type PageRow = (String, usize, f64, f64, f64);

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// 32 clients × `requests` on each page; (page, requests, p50 ms, p99 ms, req/s).
pub async fn load(
    base: &Path,
    register: &Register,
    departments: &Departments,
    requests: usize,
    territory: &str,
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
    let territory_page = format!("/territoires/{territory}");
    let pages = [
        "/",
        "/indicateurs/orientes_30j",
        territory_page.as_str(),
        "/qualite",
    ];
    for p in pages {
        let r = client.get(format!("{url}{p}")).send().await.unwrap();
        assert!(r.status().is_success(), "{p}");
        r.bytes().await.unwrap();
    }
    let mut rows = Vec::new();
    for (p, gzip) in pages.iter().flat_map(|p| [(p, false), (p, true)]) {
        let started = Instant::now();
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|_| {
                let client = client.clone();
                let url = format!("{url}{p}");
                tokio::spawn(async move {
                    let mut times = Vec::with_capacity(requests);
                    for _ in 0..requests {
                        let t = Instant::now();
                        let mut q = client.get(&url);
                        if gzip {
                            q = q.header(reqwest::header::ACCEPT_ENCODING, "gzip");
                        }
                        let r = q.send().await.unwrap();
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
            if gzip {
                format!("{p} (gzip)")
            } else {
                p.to_string()
            },
            all.len(),
            percentile(&all, 0.5),
            percentile(&all, 0.99),
            all.len() as f64 / wall,
        ));
    }
    (rows, cells)
}
