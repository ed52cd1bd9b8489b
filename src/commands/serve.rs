//! `copil servir` and `copil demo`: the dashboard, the scheduled ingestion and the demo set-up.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use copil_ingest::{KeyFileStatus, SecretKey};
use copil_sample::{Destination, Options};
use copil_warehouse::{Clock, Departments, SystemClock, Warehouse};

use crate::config::{Config, Loaded};
use crate::pipeline::*;

pub async fn serve(config: Config) -> Result<()> {
    // Copil's own events at info; the libraries' only when they warn (RUST_LOG overrides).
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,copil=info,copil_ingest=info,copil_queries=info,copil_dashboards=info",
        )
    });
    let _ = tracing_subscriber::fmt()
        .with_target(false)
        .with_env_filter(filter)
        .try_init();
    copil_ingest::schedule::check(&config.schedule.ingest)?;
    let departments = Departments::builtin();
    let reg = register(&config, &departments)?;
    let warehouse = Warehouse::open(&config.warehouse_location())
        .await
        .context("ouverture de l'entrepôt")?;
    let state = copil_dashboards::AppState::new(
        warehouse,
        reg,
        departments,
        dashboard_settings(&config)?,
        Arc::new(SystemClock),
    )
    .await
    .context("lecture des indicateurs publiés et des comptes")?;
    {
        // An upload may ask for an immediate run: the same job as the schedule's. A national
        // or admin account may release a held drop: the same job as `ingest --liberer`.
        let config = Arc::new(config.clone());
        state.set_ingest_now(Arc::new(move |release: Option<PathBuf>| {
            let config = Arc::clone(&config);
            Box::pin(async move {
                ingest(&config, None, false, release.as_deref())
                    .await
                    .map(|run| run.summary())
                    .map_err(|e| format!("{e:#}"))
            })
        }));
    }
    let listener = tokio::net::TcpListener::bind(&config.server.bind)
        .await
        .with_context(|| format!("écoute sur {} (clé server.bind)", config.server.bind))?;
    let address = listener.local_addr().context("adresse d'écoute")?;
    let shared = Arc::new(config);
    let job_config = Arc::clone(&shared);
    let job_state = state.clone();
    let _scheduler = copil_ingest::schedule::start(&shared.schedule.ingest, move || {
        let config = Arc::clone(&job_config);
        let state = job_state.clone();
        async move {
            tracing::info!("ingestion planifiée : début");
            match ingest(&config, None, false, None).await {
                Ok(run) => tracing::info!(
                    refused = run.refused(),
                    held = run.held(),
                    failed = run.failed(),
                    "ingestion planifiée : fin"
                ),
                Err(e) => tracing::error!("ingestion planifiée en échec : {e:#}"),
            }
            if let Err(e) = state.reload().await {
                tracing::error!("rechargement des indicateurs en échec : {e:#}");
            }
        }
    })
    .await?;
    println!("Tableau de bord : http://{address}/  (Ctrl-C pour arrêter)");
    tracing::info!(schedule = %shared.schedule.ingest, %address, "Copil en service");
    copil_dashboards::serve(listener, state, std::time::Duration::from_secs(30), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("service HTTP")?;
    Ok(())
}

/// The dashboard's settings from the configuration; creates the export pseudonym key when
/// missing (mode 0600, never overwritten).
pub fn dashboard_settings(config: &Config) -> Result<copil_dashboards::Settings> {
    let key_path = config.export_key_path();
    if SecretKey::create_file(&key_path)? == KeyFileStatus::Created {
        tracing::info!(fichier = %key_path.display(), "clé des pseudonymes d'export créée");
    }
    let key = SecretKey::read_file(&key_path)
        .with_context(|| format!("clé des pseudonymes d'export {}", key_path.display()))?;
    let mut settings = copil_dashboards::Settings::under(
        &config.data_dir,
        i64::from(config.secrecy.threshold),
        copil_dashboards::ExportKey(*key.as_bytes()),
    );
    settings.accounts_file = config.accounts_path();
    settings.projects_file = config.projects_path();
    settings.inbox = config.inbox_dir();
    // Where the ingestor keeps drops held for review (see `ingestor`).
    settings.held_dir = config.data_dir.join("en_attente");
    settings.secure_cookies = config.server.secure_cookies;
    settings.max_password_checks = config.server.max_password_checks as usize;
    settings.state_service = config.server.service_de_l_etat;
    settings.upload_max_bytes = config.upload.max_bytes;
    settings.coverage_percent = config.publication.coverage;
    settings.passwords = config.proconnect.passwords;
    settings.proconnect = proconnect_settings(config)?;
    Ok(settings)
}

/// ProConnect's settings (issue 17), when `proconnect.issuer` is set: the client secret is
/// read from its file, never printed.
fn proconnect_settings(config: &Config) -> Result<Option<copil_accounts::proconnect::Settings>> {
    let pc = &config.proconnect;
    if pc.issuer.trim().is_empty() {
        return Ok(None);
    }
    let secret = std::fs::read_to_string(pc.client_secret_file.trim()).with_context(|| {
        format!(
            "secret client ProConnect {} (clé proconnect.client_secret_file)",
            pc.client_secret_file
        )
    })?;
    let settings = copil_accounts::proconnect::Settings {
        issuer: pc.issuer.trim().to_string(),
        client_id: pc.client_id.trim().to_string(),
        client_secret: secret.trim().to_string(),
        redirect_url: pc.redirect_url.trim().to_string(),
        acr_values: pc
            .acr_values
            .split_whitespace()
            .map(str::to_string)
            .collect(),
    };
    settings
        .check()
        .context("configuration ProConnect (clés proconnect.*)")?;
    Ok(Some(settings))
}

pub fn demo(config: &Config, clock: &dyn Clock, echelle: f64) -> Result<()> {
    println!("Copil — démonstration sur des territoires synthétiques\n");
    let key = config.key_path();
    if SecretKey::create_file(&key)? == KeyFileStatus::Created {
        println!(
            "Clé de pseudonymisation de démonstration créée : {}",
            key.display()
        );
    }
    let mut options = Options::par_defaut(clock.today());
    options.echelle = echelle;
    println!(
        "Génération des dépôts (graine {}, échelle {}, entrées de {} à {}) :",
        options.graine,
        options.echelle,
        options.debut.format("%m/%Y"),
        options.fin.format("%m/%Y")
    );
    crate::commands::setup::run_generator(
        config,
        &options,
        &Destination {
            inbox: config.inbox_dir(),
            manifestes: config.manifests_dir(),
        },
    )?;
    println!(
        "\nIngestion dans l'entrepôt {} :",
        config.warehouse_location()
    );
    runtime()?.block_on(ingest(config, None, true, None))?;
    demo_accounts(config, clock)
}

/// The demo serves plain HTTP on the local machine: its cookies are not `Secure`, unless the
/// configuration sets `server.secure_cookies` itself.
pub fn demo_server_config(loaded: &Loaded) -> Config {
    let mut config = loaded.config.clone();
    if !loaded.sources.contains_key("server.secure_cookies") {
        config.server.secure_cookies = false;
        println!(
            "Démonstration en HTTP local : cookies sans l'attribut Secure (clé server.secure_cookies)."
        );
    }
    config
}

/// One demo account per role, with fresh random passwords printed once.
pub fn demo_accounts(config: &Config, clock: &dyn Clock) -> Result<()> {
    use copil_accounts::{Accounts, Role};
    let departments = Departments::builtin();
    let reg = register(config, &departments)?;
    let territory = reg
        .iter()
        .next()
        .map(|t| t.id.clone())
        .context("registre vide")?;
    let path = config.accounts_path();
    let mut accounts = Accounts::open(&path)?;
    println!("\nComptes de démonstration (mots de passe tirés au hasard à chaque démonstration) :");
    for (login, role, t) in [
        ("pilotage", Role::National, None),
        ("territoire", Role::Territoire, Some(territory.as_str())),
        ("evaluation", Role::Evaluateur, None),
        ("admin", Role::Admin, None),
    ] {
        let password = copil_accounts::random_password()?;
        if accounts.get(login).is_some() {
            accounts.set_password(login, &password)?;
        } else {
            accounts.add(login, role, t, &password, &reg, clock.now())?;
        }
        println!(
            "  {login:<11} {:<11} {:<8} mot de passe : {password}",
            role.code(),
            t.unwrap_or("")
        );
    }
    Ok(())
}
