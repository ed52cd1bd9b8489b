//! Test and bench support, never shipped: [`land`] generates synthetic drops and ingests them
//! into a real Delta warehouse, as the README's first command does, described by a [`Landing`].
//! The generated tests of `copil-queries`, the dashboard's site fixture and the benches use it
//! instead of writing the generate → key → ingest set-up again.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use copil_ingest::{IngestConfig, Ingestor, RunReport, SecretKey};
use copil_sample::{Destination, Options};
use copil_warehouse::{Departments, FixedClock, Register, Warehouse};

/// What to generate and land.
#[derive(Debug, Clone)]
pub struct Landing {
    /// Share of the national population (1 = about 1.8 million people).
    pub echelle: f64,
    /// The extraction date of the drops; the ingestion clock stands at the next day.
    pub extraction: NaiveDate,
    /// The territories to generate (all of the register if `None`).
    pub territoires: Option<Vec<String>>,
    /// The deployment the drops are ingested into (the builtin register if `None`). Drops are
    /// always generated against the builtin register, so each territory keeps its national size.
    pub register: Option<Register>,
}

impl Landing {
    /// Every territory of the builtin register at `echelle`, extracted on `extraction`.
    pub fn new(echelle: f64, extraction: NaiveDate) -> Landing {
        Landing {
            echelle,
            extraction,
            territoires: None,
            register: None,
        }
    }
}

/// Generates the drops `landing` describes into `dir/inbox-{extraction}` and ingests them into
/// the warehouse `dir/entrepot` (created with its key `dir/cle` if missing), on two threads.
/// Panics on any failure: it is for tests and benches.
pub async fn land(dir: &Path, landing: &Landing) -> (Warehouse, RunReport) {
    let departments = Departments::builtin();
    let builtin = Register::builtin(&departments);
    let mut o = Options::par_defaut(landing.extraction);
    o.echelle = landing.echelle;
    o.fils = 2;
    o.territoires = landing.territoires.clone();
    let inbox = dir.join(format!("inbox-{}", landing.extraction));
    let dest = Destination {
        inbox: inbox.clone(),
        manifestes: dir.join("manifests"),
    };
    copil_sample::generer(&builtin, &departments, &o, &dest, &|_| {}).expect("generation");
    let key = dir.join("cle");
    if !key.exists() {
        SecretKey::create_file(&key).expect("pseudonymisation key");
    }
    let config = IngestConfig::in_folder(dir, inbox, 2);
    let clock = Arc::new(FixedClock::at_date(
        landing.extraction + chrono::Days::new(1),
    ));
    let register = landing.register.clone().unwrap_or(builtin);
    let run = Ingestor::run_folder(dir, config, register, departments, clock)
        .await
        .expect("ingestion");
    let warehouse = Warehouse::open(dir.join("entrepot").to_str().expect("UTF-8 path"))
        .await
        .expect("warehouse");
    (warehouse, run)
}
