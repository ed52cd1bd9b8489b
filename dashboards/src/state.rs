//! What every handler shares: the reference data, the settings and the materialised results
//! of the current warehouse version, swapped in when a new version lands.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use futures::future::BoxFuture;

use copil_accounts::{
    AccessRequest, Account, Accounts, Audit, ProConnect, Project, Projects, Requests, Sessions,
};
use copil_queries::{Catalogue, Results};
use copil_warehouse::{Clock, DEPOTS, Departments, INDICATEURS, Register, Warehouse};

use crate::packed::CachedBody;

/// The key of export pseudonyms: each export project's key is derived from it, so two
/// projects' exports share no identifier (event sequences can still link them: issue 13).
/// Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct ExportKey(pub [u8; 32]);

impl std::fmt::Debug for ExportKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ExportKey(***)")
    }
}

/// Excel's last row, header excluded: an XLSX export stops there.
pub const XLSX_MAX_ROWS: usize = 1_048_575;

/// The dashboard's settings (from the configuration).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Statistical secrecy threshold (shown on every page; the cells are already under it).
    pub threshold: i64,
    /// The accounts file.
    pub accounts_file: PathBuf,
    /// The evaluation projects file.
    pub projects_file: PathBuf,
    /// The inbox (one folder per territory) where uploads are written.
    pub inbox: PathBuf,
    /// The folder of drops held for review (one folder per territory), as ingestion uses it.
    pub held_dir: PathBuf,
    /// Where exports are built and kept (per warehouse version and filters).
    pub exports_dir: PathBuf,
    /// The audit log (JSON lines).
    pub audit_log: PathBuf,
    /// The key of export pseudonyms.
    pub export_key: ExportKey,
    /// Adds `Secure` to cookies (behind HTTPS).
    pub secure_cookies: bool,
    /// Largest upload accepted, in bytes.
    pub upload_max_bytes: u64,
    /// Most data rows in an XLSX export ([`XLSX_MAX_ROWS`] but in tests).
    pub xlsx_max_rows: usize,
    /// Least coverage of a published wave or national cell, in per cent (as the refresh used).
    pub coverage_percent: u32,
    /// Most password checks (argon2id, 19 MiB each) run at once (issue 13).
    pub max_password_checks: usize,
    /// How long a login waits for a free password check before a 503.
    pub password_check_wait: Duration,
    /// A State service: the header carries the « République française » block (issue 15);
    /// otherwise a neutral Copil header.
    pub state_service: bool,
    /// Sign-in with ProConnect (issue 17), when configured.
    pub proconnect: Option<copil_accounts::proconnect::Settings>,
    /// Whether local accounts sign in with a password (`proconnect.passwords`, issue 17).
    pub passwords: bool,
}

/// Password checks run at once by default.
pub const MAX_PASSWORD_CHECKS: usize = 4;

impl Settings {
    /// Settings with every file under `data_dir` (`secrets/comptes.json`,
    /// `secrets/projets.json`, `inbox`, `en_attente`, `exports`,
    /// `journal/audit.jsonl`), `Secure` cookies, a 512 MiB upload limit and at most
    /// [`MAX_PASSWORD_CHECKS`] password checks at once (a login waits 2 s for one).
    pub fn under(data_dir: &Path, threshold: i64, export_key: ExportKey) -> Settings {
        Settings {
            threshold,
            accounts_file: data_dir.join("secrets").join("comptes.json"),
            projects_file: data_dir.join("secrets").join("projets.json"),
            inbox: data_dir.join("inbox"),
            held_dir: data_dir.join("en_attente"),
            exports_dir: data_dir.join("exports"),
            audit_log: data_dir.join("journal").join("audit.jsonl"),
            export_key,
            secure_cookies: true,
            upload_max_bytes: 512 * 1024 * 1024,
            xlsx_max_rows: XLSX_MAX_ROWS,
            coverage_percent: 90,
            max_password_checks: MAX_PASSWORD_CHECKS,
            password_check_wait: Duration::from_secs(2),
            state_service: false,
            proconnect: None,
            passwords: true,
        }
    }
}

/// Runs ingestion now, then refreshes the indicators: with `None`, the inbox (for an upload
/// asking it); with `Some(file)`, the release of that drop held for review (issue 13, as
/// `copil integrer --liberer`). The binary provides it, as the dashboard does not depend on the
/// ingestion crate. Returns a short French summary of the drops' outcomes (one line each), or
/// a French error message on failure.
pub type IngestNow =
    Arc<dyn Fn(Option<PathBuf>) -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

struct Inner {
    warehouse: Warehouse,
    catalogue: Catalogue,
    register: Register,
    departments: Departments,
    settings: Settings,
    clock: Arc<dyn Clock>,
    results: RwLock<Arc<Results>>,
    accounts: RwLock<Accounts>,
    projects: RwLock<Projects>,
    sessions: Sessions,
    audit: Audit,
    proconnect: Option<ProConnect>,
    requests: Requests,
    ingest_now: OnceLock<IngestNow>,
    bodies: Mutex<HashMap<String, Arc<CachedBody>>>,
    password_checks: Arc<tokio::sync::Semaphore>,
    checks_in_flight: AtomicUsize,
    checks_peak: AtomicUsize,
}

/// Page bodies kept at most (all of them are dropped when full or at a new version).
const BODIES: usize = 512;

/// The application state, cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    /// Loads the current results of `warehouse`.
    pub async fn new(
        warehouse: Warehouse,
        register: Register,
        departments: Departments,
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> crate::Result<AppState> {
        let results = Results::load(&warehouse)
            .await
            .map_err(|e| crate::Error::Results(e.to_string()))?;
        let accounts = Accounts::open(&settings.accounts_file)?;
        let projects = Projects::open(&settings.projects_file)?;
        let audit = Audit::new(&settings.audit_log);
        let proconnect = settings
            .proconnect
            .clone()
            .map(ProConnect::new)
            .transpose()?;
        let requests = Requests::beside(&settings.accounts_file);
        let password_checks = Arc::new(tokio::sync::Semaphore::new(
            settings.max_password_checks.max(1),
        ));
        Ok(AppState(Arc::new(Inner {
            warehouse,
            catalogue: Catalogue::builtin(),
            register,
            departments,
            settings,
            clock,
            results: RwLock::new(Arc::new(results)),
            accounts: RwLock::new(accounts),
            projects: RwLock::new(projects),
            sessions: Sessions::new(),
            audit,
            proconnect,
            requests,
            ingest_now: OnceLock::new(),
            bodies: Mutex::new(HashMap::new()),
            password_checks,
            checks_in_flight: AtomicUsize::new(0),
            checks_peak: AtomicUsize::new(0),
        })))
    }

    /// The page body `key` of `results`, rendered by `make` the first time only: a body depends
    /// on the results' versions, the day and its own parameters (the key), never on the user.
    pub fn cached_body(
        &self,
        results: &Results,
        key: &str,
        make: impl FnOnce() -> Result<String, crate::HttpError>,
    ) -> Result<Arc<CachedBody>, crate::HttpError> {
        let key = format!(
            "i{}-d{}-{}:{key}",
            results.version,
            results.version_depots,
            self.clock().today()
        );
        if let Some(b) = self
            .0
            .bodies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(Arc::clone(b));
        }
        let body = Arc::new(CachedBody::new(make()?).map_err(|e| crate::HttpError::internal(&e))?);
        let mut bodies = self.0.bodies.lock().unwrap_or_else(|p| p.into_inner());
        if bodies.len() >= BODIES {
            bodies.clear();
        }
        bodies.insert(key, Arc::clone(&body));
        Ok(body)
    }

    /// Lets uploads ask for an immediate ingestion run, and releases of held drops run.
    pub fn set_ingest_now(&self, run: IngestNow) {
        let _ = self.0.ingest_now.set(run);
    }

    /// The immediate ingestion run, when the binary provided one.
    pub fn ingest_now(&self) -> Option<IngestNow> {
        self.0.ingest_now.get().cloned()
    }

    /// Re-reads the accounts file if it changed (by `copil comptes` or another process).
    pub fn reload_accounts(&self) -> copil_accounts::Result<()> {
        let current = self
            .0
            .accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_current();
        if !current {
            self.0
                .accounts
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .refresh()?;
        }
        Ok(())
    }

    /// [`AppState::reload_accounts`], a failure logged (the copy in memory is kept).
    fn fresh_accounts(&self) {
        if let Err(e) = self.reload_accounts() {
            tracing::warn!(error = %e, "relecture du fichier des comptes impossible");
        }
    }

    /// The account with this login (the file is re-read first if it changed).
    pub fn account(&self, login: &str) -> Option<Account> {
        self.fresh_accounts();
        self.0
            .accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(login)
            .cloned()
    }

    /// The active account owning the API token of SHA-256 `digest`.
    pub fn account_by_token(&self, digest: &str) -> Option<Account> {
        self.fresh_accounts();
        self.0
            .accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_token(digest)
            .cloned()
    }

    /// Whether `login` / `password` match an active account (the file is re-read first if it
    /// changed). The hash is checked outside the accounts' lock; the number of checks in
    /// flight is counted.
    pub fn accounts_authenticate(&self, login: &str, password: &str) -> bool {
        let account = self.account(login);
        let in_flight = self.0.checks_in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.0.checks_peak.fetch_max(in_flight, Ordering::SeqCst);
        let ok = copil_accounts::check_password(account.as_ref(), password);
        self.0.checks_in_flight.fetch_sub(1, Ordering::SeqCst);
        ok
    }

    /// ProConnect, when configured (issue 17).
    pub fn proconnect(&self) -> Option<&ProConnect> {
        self.0.proconnect.as_ref()
    }

    /// Who `identity` is among the accounts (the file is re-read first if it changed).
    pub fn admit(&self, identity: &copil_accounts::Identity) -> copil_accounts::Admission {
        self.fresh_accounts();
        let accounts = self.0.accounts.read().unwrap_or_else(|p| p.into_inner());
        copil_accounts::proconnect::admit(&accounts, identity)
    }

    /// The requests for access (issue 17).
    pub fn requests(&self) -> &Requests {
        &self.0.requests
    }

    /// The pending requests for access, a failure to read them logged (none shown).
    pub fn pending_requests(&self) -> Vec<AccessRequest> {
        self.0.requests.list().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "lecture des demandes d'accès impossible");
            Vec::new()
        })
    }

    /// The permits of password checks ([`Settings::max_password_checks`]).
    pub fn password_checks(&self) -> Arc<tokio::sync::Semaphore> {
        Arc::clone(&self.0.password_checks)
    }

    /// The most password checks seen in flight at once (for tests).
    pub fn password_checks_peak(&self) -> usize {
        self.0.checks_peak.load(Ordering::SeqCst)
    }

    /// Changes the accounts (admin page) and saves the file: the change applies to the file
    /// as it is on disk, under its lock, never to a stale copy.
    pub fn update_accounts<T>(
        &self,
        change: impl FnOnce(&mut Accounts) -> copil_accounts::Result<T>,
    ) -> copil_accounts::Result<T> {
        let mut accounts = self.0.accounts.write().unwrap_or_else(|p| p.into_inner());
        change(&mut accounts)
    }

    /// Every account (copies; hashes included, never rendered).
    pub fn accounts(&self) -> Vec<Account> {
        self.fresh_accounts();
        self.0
            .accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .list()
            .to_vec()
    }

    /// Every evaluation project (the file is re-read first if it changed).
    pub fn projects(&self) -> Vec<Project> {
        let mut projects = self.0.projects.write().unwrap_or_else(|p| p.into_inner());
        if let Err(e) = projects.refresh() {
            tracing::warn!(error = %e, "relecture du fichier des projets impossible");
        }
        projects.list().to_vec()
    }

    /// The evaluation project named `nom`.
    pub fn project(&self, nom: &str) -> Option<Project> {
        self.projects().into_iter().find(|p| p.nom == nom)
    }

    /// Changes the projects (admin page) and saves the file, under its lock.
    pub fn update_projects<T>(
        &self,
        change: impl FnOnce(&mut Projects, &Accounts) -> copil_accounts::Result<T>,
    ) -> copil_accounts::Result<T> {
        self.fresh_accounts();
        let accounts = self
            .0
            .accounts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut projects = self.0.projects.write().unwrap_or_else(|p| p.into_inner());
        change(&mut projects, &accounts)
    }

    /// The sessions of this process.
    pub fn sessions(&self) -> &Sessions {
        &self.0.sessions
    }

    /// The audit log.
    pub fn audit(&self) -> &Audit {
        &self.0.audit
    }

    /// The warehouse.
    pub fn warehouse(&self) -> &Warehouse {
        &self.0.warehouse
    }

    /// Reloads the results when `indicateurs` or `depots` has a new version; returns whether
    /// it did. Cheap when nothing changed (two log checks).
    pub async fn reload(&self) -> copil_queries::Result<bool> {
        let current = self.results();
        let i = self.0.warehouse.load(&INDICATEURS).await?;
        let d = self.0.warehouse.load(&DEPOTS).await?;
        let (vi, vd) = (
            i.version().unwrap_or(0) as u64,
            d.version().unwrap_or(0) as u64,
        );
        if vi == current.version && vd == current.version_depots {
            return Ok(false);
        }
        let fresh = Results::load(&self.0.warehouse).await?;
        tracing::info!(
            indicateurs = fresh.version,
            depots = fresh.version_depots,
            cases = fresh.len(),
            "résultats rechargés"
        );
        *self.0.results.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        self.0
            .bodies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        Ok(true)
    }

    /// The results in force (a snapshot: a reload does not change it under a request).
    pub fn results(&self) -> Arc<Results> {
        self.0
            .results
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The indicator catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.0.catalogue
    }

    /// The territory register.
    pub fn register(&self) -> &Register {
        &self.0.register
    }

    /// The départements.
    pub fn departments(&self) -> &Departments {
        &self.0.departments
    }

    /// The header the pages wear (issue 15).
    pub fn brand(&self) -> crate::layout::Brand {
        crate::layout::Brand::of(self.settings().state_service)
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.0.clock.as_ref()
    }
}
