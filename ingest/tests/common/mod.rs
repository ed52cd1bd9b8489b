//! Shared helpers of the ingestion tests: generated drops, an ingestor on a temporary data
//! folder, and reads of the warehouse through DataFusion.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::NaiveDate;
use copil_ingest::{IngestConfig, Ingestor, RunReport, SecretKey, Silent};
use copil_sample::{Destination, Manifeste, Options, Variante};
use copil_warehouse::{Departments, FixedClock, Register, Warehouse};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

pub struct Site {
    pub dir: tempfile::TempDir,
}

impl Default for Site {
    fn default() -> Self {
        Self::new()
    }
}

impl Site {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        SecretKey::create_file(&dir.path().join("cle.key")).unwrap();
        Self { dir }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn config(&self, inbox: &str) -> IngestConfig {
        IngestConfig {
            inbox: self.path(inbox),
            archive: self.path("archive"),
            refused: self.path("refuses"),
            key_file: self.path("cle.key"),
            parallelism: 2,
            pause_at: None,
        }
    }

    pub async fn ingestor(&self, inbox: &str) -> Arc<Ingestor> {
        self.ingestor_with(inbox, |_| {}).await
    }

    /// An ingestor set up by `set` (threads, limits…).
    pub async fn ingestor_with(
        &self,
        inbox: &str,
        set: impl FnOnce(&mut Ingestor),
    ) -> Arc<Ingestor> {
        let warehouse = Warehouse::open(self.path("entrepot").to_str().unwrap())
            .await
            .unwrap();
        let departments = Departments::builtin();
        let register = Register::builtin(&departments);
        let clock = Arc::new(FixedClock::at_date(
            NaiveDate::from_ymd_opt(2026, 1, 15).unwrap(),
        ));
        let mut ingestor =
            Ingestor::new(self.config(inbox), warehouse, register, departments, clock)
                .await
                .unwrap();
        set(&mut ingestor);
        Arc::new(ingestor)
    }

    pub async fn ingest(&self, inbox: &str) -> RunReport {
        self.ingestor(inbox)
            .await
            .run_once(Arc::new(Silent))
            .await
            .unwrap()
    }

    /// Generates drops into `<site>/<inbox>`, manifests beside it.
    pub fn generate(&self, inbox: &str, options: &Options) -> Vec<Manifeste> {
        let departments = Departments::builtin();
        let register = Register::builtin(&departments);
        let dest = Destination {
            inbox: self.path(inbox),
            manifestes: self.path(&format!("{inbox}-manifestes")),
        };
        copil_sample::generer(&register, &departments, options, &dest, &|_| {}).unwrap()
    }

    /// Generates one territory's drop into `<site>/<inbox>` at `echelle`: its manifest.
    pub fn generate_one(&self, inbox: &str, territory: &str, echelle: f64) -> Manifeste {
        self.generate(inbox, &options(&[territory], echelle))
            .remove(0)
    }

    pub async fn warehouse(&self) -> Warehouse {
        Warehouse::open(self.path("entrepot").to_str().unwrap())
            .await
            .unwrap()
    }

    pub async fn query(&self, sql: &str, params: Vec<ScalarValue>) -> Vec<RecordBatch> {
        let ctx = SessionContext::new();
        self.warehouse().await.register(&ctx).await.unwrap();
        ctx.sql(sql)
            .await
            .unwrap()
            .with_param_values(params)
            .unwrap()
            .collect()
            .await
            .unwrap()
    }

    pub async fn count(&self, table: &str, territoire: &str) -> i64 {
        let sql = format!("SELECT count(*) FROM {table} WHERE territoire = $1");
        let b = self.query(&sql, vec![territoire.into()]).await;
        b[0].column(0).as_primitive::<Int64Type>().value(0)
    }

    /// Every row of a table for a territory, as strings, sorted (for comparisons).
    pub async fn rows(&self, table: &str, columns: &str, territoire: &str) -> Vec<Vec<String>> {
        let sql = format!("SELECT {columns} FROM {table} WHERE territoire = $1");
        let batches = self.query(&sql, vec![territoire.into()]).await;
        let mut out = Vec::new();
        for b in &batches {
            for i in 0..b.num_rows() {
                out.push(
                    b.columns()
                        .iter()
                        .map(|c| {
                            if c.is_null(i) {
                                "∅".to_string()
                            } else {
                                datafusion::arrow::util::display::array_value_to_string(c, i)
                                    .unwrap()
                            }
                        })
                        .collect(),
                );
            }
        }
        out.sort();
        out
    }
}

pub fn options(territories: &[&str], echelle: f64) -> Options {
    let mut o = Options::par_defaut(NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
    o.territoires = Some(territories.iter().map(|s| s.to_string()).collect());
    o.echelle = echelle;
    o.fils = 2;
    o
}

/// Five territories that take the five file variants with the default seed.
pub const FIVE: [&str; 5] = ["dep-11", "dep-30", "dep-45", "dep-51", "dep-72"];

pub fn variants() -> [Variante; 5] {
    Variante::ALL
}

pub fn by_territory(manifests: &[Manifeste]) -> BTreeMap<String, Manifeste> {
    manifests
        .iter()
        .map(|m| (m.territoire.clone(), m.clone()))
        .collect()
}

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
