//! The shared fixture: twelve territories (four per wave) generated at scale 0.02, ingested and
//! refreshed into a real warehouse, once, with one account (and API token) per role; each test
//! then serves it on its own port.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use copil_dashboards::{Accounts, AppState, ExportKey, Role, Settings};
use copil_ingest::{IngestConfig, Ingestor, Silent};
use copil_queries::Catalogue;
use copil_test_support::Landing;
use copil_warehouse::{Clock, Departments, FixedClock, Register, Warehouse, Wave};

/// The day the fixture's data is extracted and the clock is stopped at the next day.
pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 7, 1).unwrap()
}

/// The fixture's deployment: the register restricted to [`territories`] (a national figure is
/// published when its territories cover the nation).
pub fn register(departments: &Departments) -> Register {
    let full = Register::builtin(departments);
    let ids = territories(&full);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    full.only(&ids)
}

/// The fixture's deployment over the built-in départements.
pub fn builtin_register() -> Register {
    register(&Departments::builtin())
}

/// The ids of the fixture's territories.
pub fn territory_ids() -> Vec<String> {
    territories(&builtin_register())
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
        let register = register(&departments);
        let landing = Landing {
            territoires: Some(territories(&register)),
            register: Some(register.clone()),
            ..Landing::new(0.02, NaiveDate::from_ymd_opt(2025, 6, 30).unwrap())
        };
        copil_test_support::land(&dir, &landing).await;
        let clock = Arc::new(FixedClock::at_date(today()));
        let mut accounts = Accounts::open(&dir.join("secrets").join("comptes.json")).unwrap();
        let ids = territories(&register);
        let mut tokens = BTreeMap::new();
        for (login, role, territory) in ACCOUNTS {
            let t = territory.map(|i| ids[i].as_str());
            accounts
                .add(login, role, t, PASSWORD, &register, clock.now())
                .unwrap();
            let token = accounts.add_token(login, "tests", clock.now()).unwrap();
            tokens.insert(login.to_string(), token);
        }
        // The evaluation projects the export tests name (issue 13), open to the evaluator on
        // every territory.
        let mut projects =
            copil_dashboards::Projects::open(&dir.join("secrets").join("projets.json")).unwrap();
        for nom in PROJECTS {
            projects
                .add(
                    copil_dashboards::NewProject {
                        nom,
                        objet: "Tests du tableau de bord",
                        evaluateurs: vec!["evaluation".to_string()],
                        territoires: register.iter().map(|t| t.id.clone()).collect(),
                        debut: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
                        fin: NaiveDate::from_ymd_opt(2030, 12, 31).unwrap(),
                    },
                    &accounts,
                    &register,
                    clock.now(),
                )
                .unwrap();
        }
        std::fs::write(
            dir.join("jetons.json"),
            serde_json::to_string(&tokens).unwrap(),
        )
        .unwrap();
        refresh(
            dir.join("entrepot").to_str().unwrap(),
            &register,
            clock.as_ref(),
        )
        .await
        .unwrap();
    });
    dir
}

/// Refreshes the indicators of the warehouse at `location` (builtin catalogue and rules).
async fn refresh(location: &str, register: &Register, clock: &dyn Clock) -> Result<(), String> {
    let warehouse = Warehouse::open(location).await.map_err(|e| e.to_string())?;
    copil_queries::refresh(
        &warehouse,
        &Catalogue::builtin(),
        register,
        &copil_queries::Rules::default(),
        clock,
        copil_queries::Scope::Changed,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(())
}

/// The evaluation projects declared for the `evaluation` account.
pub const PROJECTS: [&str; 6] = ["p", "p1", "reproductible", "alpha", "beta", "dico"];

/// The password of every fixture account.
pub const PASSWORD: &str = "mot de passe de test";

/// The fixture's accounts: login, role, index of its territory in [`territories`].
pub const ACCOUNTS: [(&str, Role, Option<usize>); 5] = [
    ("pilotage", Role::National, None),
    ("territoire-a", Role::Territoire, Some(0)),
    ("territoire-b", Role::Territoire, Some(1)),
    ("evaluation", Role::Evaluateur, None),
    ("administration", Role::Admin, None),
];

/// The login of the first account with `role` (`territoire-a` for a territory).
pub fn login_of(role: Role) -> &'static str {
    ACCOUNTS.iter().find(|a| a.1 == role).unwrap().0
}

/// The API token of the first account with `role`.
pub fn token(role: Role) -> String {
    token_of(login_of(role))
}

/// The API token of the account `login`.
pub fn token_of(login: &str) -> String {
    let text = std::fs::read_to_string(dir().join("jetons.json")).unwrap();
    let tokens: BTreeMap<String, String> = serde_json::from_str(&text).unwrap();
    tokens[login].clone()
}

/// An HTTP client sending `role`'s API token.
pub fn client(role: Role) -> reqwest::Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {}", token(role)).parse().unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(h)
        .build()
        .unwrap()
}

/// A client of the national account (every page).
pub fn national() -> reqwest::Client {
    static C: OnceLock<reqwest::Client> = OnceLock::new();
    C.get_or_init(|| client(Role::National)).clone()
}

/// The body of a GET of `url` by `client`, as JSON.
pub async fn get_json(client: &reqwest::Client, url: String) -> serde_json::Value {
    client.get(url).send().await.unwrap().json().await.unwrap()
}

/// The body of a GET of `url` by `client`, as text.
pub async fn get_text(client: &reqwest::Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
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
    /// The state it serves (its exports and audit log are in a folder of its own).
    pub state: AppState,
    /// That folder, removed with the server.
    _own: tempfile::TempDir,
}

/// Serves the fixture on port 0 in the current runtime.
pub async fn serve() -> Server {
    serve_with(|_| {}).await
}

/// Serves the fixture with settings changed by `change`.
pub async fn serve_with(change: impl FnOnce(&mut Settings)) -> Server {
    let own = tempfile::Builder::new()
        .prefix("copil-serveur-")
        .tempdir()
        .unwrap();
    serve_dir(dir(), own, |s, _| change(s), false).await
}

/// Serves the fixture with settings changed by `change`, which is given the server's base URL
/// (ProConnect's redirect URL names it: issue 17).
pub async fn serve_at(change: impl FnOnce(&mut Settings, &str)) -> Server {
    let own = tempfile::Builder::new()
        .prefix("copil-serveur-")
        .tempdir()
        .unwrap();
    serve_dir(dir(), own, change, false).await
}

/// Serves the fixture with a private copy of its secret file `name` (in the returned folder),
/// which `set` puts in the settings: for tests that change accounts or projects.
pub async fn serve_own_secret(
    name: &str,
    set: impl FnOnce(&mut Settings, PathBuf),
) -> (Server, tempfile::TempDir) {
    let own = tempfile::tempdir().unwrap();
    let path = own.path().join(name);
    std::fs::copy(dir().join("secrets").join(name), &path).unwrap();
    let s = serve_with(|settings| set(settings, path)).await;
    (s, own)
}

/// Serves the fixture with a private copy of its accounts file (`comptes.json` in the returned
/// folder), for tests that change accounts.
pub async fn serve_own_accounts() -> (Server, tempfile::TempDir) {
    serve_own_secret("comptes.json", |s, path| s.accounts_file = path).await
}

/// Serves a private copy of the fixture (uploads and ingestion write to it), with an
/// immediate ingestion run wired as the binary does.
pub async fn serve_copy(change: impl FnOnce(&mut Settings)) -> Server {
    let own = tempfile::Builder::new()
        .prefix("copil-copie-")
        .tempdir()
        .unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", dir().display()))
        .arg(own.path())
        .status()
        .unwrap();
    assert!(status.success());
    let data = own.path().to_path_buf();
    serve_dir(&data, own, |s, _| change(s), true).await
}

async fn serve_dir(
    data: &Path,
    own: tempfile::TempDir,
    change: impl FnOnce(&mut Settings, &str),
    with_ingestion: bool,
) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let departments = Departments::builtin();
    let register = register(&departments);
    let location = data.join("entrepot").to_str().unwrap().to_string();
    let warehouse = Warehouse::open(&location).await.unwrap();
    let mut settings = Settings::under(own.path(), 11, ExportKey([7; 32]));
    settings.accounts_file = data.join("secrets").join("comptes.json");
    settings.projects_file = data.join("secrets").join("projets.json");
    settings.inbox = data.join("inbox");
    settings.held_dir = data.join("en_attente");
    // Plain HTTP on 127.0.0.1: cookies without `Secure` (on by default, issue 13).
    settings.secure_cookies = false;
    change(&mut settings, &base);
    let clock = Arc::new(FixedClock::at_date(today()));
    let state = AppState::new(
        warehouse,
        register.clone(),
        departments.clone(),
        settings,
        clock.clone(),
    )
    .await
    .unwrap();
    if with_ingestion {
        let data = data.to_path_buf();
        state.set_ingest_now(Arc::new(move |release: Option<PathBuf>| {
            let (data, register, departments, clock, location) = (
                data.clone(),
                register.clone(),
                departments.clone(),
                clock.clone(),
                location.clone(),
            );
            Box::pin(async move {
                let config = IngestConfig::in_folder(&data, data.join("inbox"), 2);
                let warehouse = Warehouse::open(&location)
                    .await
                    .map_err(|e| e.to_string())?;
                // A release comes an hour after the hold, as a review would: the stopped
                // clock would give both reports the same instant, and so no order.
                let clock: Arc<dyn Clock> = match release {
                    Some(_) => Arc::new(FixedClock(clock.now() + chrono::Duration::hours(1))),
                    None => clock,
                };
                let ingestor = Arc::new(
                    Ingestor::new(
                        config,
                        warehouse,
                        register.clone(),
                        departments,
                        clock.clone(),
                    )
                    .await
                    .map_err(|e| e.to_string())?,
                );
                let drops = match release {
                    Some(file) => vec![
                        ingestor
                            .release(&file, Arc::new(Silent))
                            .await
                            .map_err(|e| e.to_string())?,
                    ],
                    None => {
                        ingestor
                            .run_once(Arc::new(Silent))
                            .await
                            .map_err(|e| e.to_string())?
                            .drops
                    }
                };
                if drops.iter().any(|d| d.versions.is_some()) {
                    refresh(&location, &register, clock.as_ref()).await?;
                }
                Ok(copil_ingest::RunReport {
                    drops,
                    ..Default::default()
                }
                .summary())
            })
        }));
    }
    let app = copil_dashboards::app(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        base,
        state,
        _own: own,
    }
}
