//! The shared fixture: twelve territories (four per wave) generated at scale 0.02, ingested and
//! refreshed into a real warehouse, once; each test then serves it on its own port.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use copil_dashboards::{AppState, Settings};
use copil_ingest::{IngestConfig, Ingestor, SecretKey, Silent};
use copil_queries::Catalogue;
use copil_sample::{Destination, Options};
use copil_warehouse::{Departments, FixedClock, Register, Warehouse, Wave};

/// The day the fixture's data is extracted and the clock is stopped at the next day.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
}

/// The territories of the fixture.
pub fn territories(register: &Register) -> Vec<String> {
    Wave::ALL
        .iter()
        .flat_map(|w| {
            register
                .iter()
                .filter(move |t| t.vague == *w)
                .take(4)
                .map(|t| t.id.clone())
        })
        .collect()
}

fn build() -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix("copil-site-")
        .tempdir()
        .unwrap()
        .keep();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let departments = Departments::builtin();
        let register = Register::builtin(&departments);
        let mut o = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
        o.echelle = 0.02;
        o.fils = 2;
        o.territoires = Some(territories(&register));
        let dest = Destination {
            inbox: dir.join("inbox"),
            manifestes: dir.join("manifests"),
        };
        copil_sample::generer(&register, &departments, &o, &dest, &|_| {}).unwrap();
        SecretKey::create_file(&dir.join("cle")).unwrap();
        let config = IngestConfig {
            inbox: dest.inbox,
            archive: dir.join("archive"),
            refused: dir.join("refuses"),
            key_file: dir.join("cle"),
            parallelism: 2,
            pause_at: None,
        };
        let warehouse = Warehouse::open(dir.join("entrepot").to_str().unwrap())
            .await
            .unwrap();
        let clock = Arc::new(FixedClock::at_date(today()));
        let ingestor = Arc::new(
            Ingestor::new(
                config,
                warehouse,
                register.clone(),
                departments,
                clock.clone(),
            )
            .await
            .unwrap(),
        );
        ingestor.run_once(Arc::new(Silent)).await.unwrap();
        let warehouse = Warehouse::open(dir.join("entrepot").to_str().unwrap())
            .await
            .unwrap();
        copil_queries::refresh(
            &warehouse,
            &Catalogue::builtin(),
            &register,
            11,
            clock.as_ref(),
        )
        .await
        .unwrap();
    });
    dir
}

/// The fixture's directory (built on first use).
pub fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    // Built on its own thread: tests call this from inside their runtime.
    DIR.get_or_init(|| std::thread::spawn(build).join().unwrap())
}

/// A running server over the fixture.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The state it serves.
    pub state: AppState,
}

/// Serves the fixture on port 0 in the current runtime.
pub async fn serve() -> Server {
    let dir = dir();
    let departments = Departments::builtin();
    let register = Register::builtin(&departments);
    let warehouse = Warehouse::open(dir.join("entrepot").to_str().unwrap())
        .await
        .unwrap();
    let state = AppState::new(
        warehouse,
        register,
        departments,
        Settings { threshold: 11 },
        Arc::new(FixedClock::at_date(today())),
    )
    .await
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = copil_dashboards::app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { base, state }
}
