//! Checking the tables' Delta logs and bringing damaged tables back to their last sound
//! version.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use super::Warehouse;
use crate::journal::{self, LogDamage, LostDrop, Repair, TableRepair};
use crate::tables::{DEPOTS, EVENEMENTS, PERSONNES, REJETS, TABLES};
use crate::{Error, Result};

/// One row of `depots`, as a repair reads it.
struct DepotRow {
    depot: String,
    territoire: String,
    fichier: String,
    statut: String,
    /// `version_evenements`, `version_personnes`, `version_rejets`.
    versions: [Option<u64>; 3],
}

impl Warehouse {
    /// Checks every table's Delta log: each commit since the last checkpoint present and
    /// whole, and no table behind (or its latest commit different from) what this warehouse
    /// last wrote. The first damage of each table, in table order.
    pub fn verify(&self) -> Result<Vec<LogDamage>> {
        let known = journal::read_known(&self.root)?;
        let mut out = Vec::new();
        for def in TABLES {
            if let Some(d) = journal::inspect(def.name, &self.log_dir(def), known.get(def.name))? {
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Brings damaged tables back to their last sound version, and `depots` back to its last
    /// drop whose data is whole; the versions taken out are moved, never deleted, into
    /// `TABLE/_delta_log_endommage/STAMP/`. Returns what went back and the drops whose data
    /// left the warehouse (to integrate again, in the order of their extractions). Takes the
    /// run lock and the commit lock. Nothing to do on a sound warehouse.
    pub async fn repair(&self, stamp: &str) -> Result<Repair> {
        let _run = self.run_lock_unchecked(true).await?;
        let _commit = self.lock().await?;
        let damages = self.verify()?;
        if damages.is_empty() {
            return Ok(Repair::default());
        }
        let mut cut: BTreeMap<&'static str, (u64, String)> = BTreeMap::new();
        for d in &damages {
            let def = TABLES
                .iter()
                .find(|t| t.name == d.table)
                .expect("damages name tables");
            if d.version == 0 {
                return Err(Error::Unrepairable {
                    table: d.table.clone(),
                    message: format!(
                        "{} ; la toute première version est touchée : restaurez le dossier {}/_delta_log d'une sauvegarde",
                        d.what, d.table
                    ),
                });
            }
            cut.insert(def.name, (d.version, d.what.clone()));
        }
        // `depots` goes back to before the first integrated drop whose data versions are lost.
        let depots_log = self.log_dir(&DEPOTS);
        let scan = journal::scan(&depots_log)?;
        let start = scan.checkpoint.map_or(0, |c| c + 1);
        let end = cut
            .get(DEPOTS.name)
            .map(|c| c.0)
            .unwrap_or_else(|| scan.latest().map_or(0, |l| l + 1));
        let data = [&EVENEMENTS, &PERSONNES, &REJETS];
        for version in start..end {
            let Some(path) = scan.commits.get(&version) else {
                continue;
            };
            let rows = self.depots_rows(path)?;
            let lost = rows.iter().find(|r| {
                r.statut == "integre"
                    && data.iter().zip(r.versions).any(|(def, v)| {
                        v.is_some_and(|v| cut.get(def.name).is_some_and(|c| v >= c.0))
                    })
            });
            if let Some(r) = lost {
                cut.insert(
                    DEPOTS.name,
                    (
                        version,
                        format!(
                            "le dépôt {} ({}) y est inscrit mais ses données sont perdues",
                            r.fichier, r.territoire
                        ),
                    ),
                );
                break;
            }
        }
        // The drops whose commits leave: from the data tables' commit metadata and from the
        // rows of `depots` (with their status).
        let mut lost = Vec::new();
        for def in data {
            if let Some((from, _)) = cut.get(def.name) {
                let scan = journal::scan(&self.log_dir(def))?;
                for path in scan.commits.range(from..).map(|(_, p)| p) {
                    if let Some((depot, territoire, fichier)) = journal::commit_drop(path) {
                        lost.push(LostDrop {
                            depot,
                            territoire,
                            fichier,
                            statut: None,
                        });
                    }
                }
            }
        }
        if let Some((from, _)) = cut.get(DEPOTS.name) {
            for path in scan.commits.range(from..).map(|(_, p)| p) {
                for r in self.depots_rows(path).unwrap_or_default() {
                    lost.push(LostDrop {
                        depot: r.depot,
                        territoire: r.territoire,
                        fichier: r.fichier,
                        statut: Some(r.statut),
                    });
                }
            }
        }
        // One entry per drop, its status when known.
        lost.sort_by(|a, b| b.statut.cmp(&a.statut));
        let mut report = Repair {
            tables: Vec::new(),
            perdus: journal::unique(lost),
        };
        for def in TABLES {
            let Some((from, raison)) = cut.get(def.name) else {
                continue;
            };
            let log = self.log_dir(def);
            let avant = journal::scan(&log)?.latest();
            let aside = self.table_dir(def).join("_delta_log_endommage").join(stamp);
            let moved = journal::set_aside(&log, *from, &aside)?;
            let apres = journal::scan(&log)?.latest();
            report.tables.push(TableRepair {
                table: def.name.into(),
                avant,
                apres,
                raison: raison.clone(),
                mis_de_cote: (moved > 0).then_some(aside),
            });
        }
        // The remembered versions restart from what is on disk now.
        let mut known = journal::Known::new();
        for def in TABLES {
            let log = self.log_dir(def);
            if let Some(latest) = journal::scan(&log)?.commits.keys().next_back() {
                known.insert(def.name.into(), journal::remember(&log, *latest)?);
            }
        }
        journal::write_known(&self.root, &known)?;
        self.cache.lock().await.clear();
        if let Some(d) = self.verify()?.into_iter().next() {
            return Err(d.into_error());
        }
        Ok(report)
    }

    /// The rows of `depots` a commit added (read from its data files).
    fn depots_rows(&self, commit: &Path) -> Result<Vec<DepotRow>> {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::{DataType, Int64Type};
        use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let mut out = Vec::new();
        for relative in journal::commit_adds(commit) {
            let path = self.table_dir(&DEPOTS).join(&relative);
            let file = File::open(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let parquet = |e: datafusion::parquet::errors::ParquetError| Error::Parquet {
                path: path.clone(),
                message: e.to_string(),
            };
            let reader = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(parquet)?
                .build()
                .map_err(parquet)?;
            for batch in reader {
                let batch = batch.map_err(|e| Error::Parquet {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                let column = |name: &str, to: &DataType| {
                    batch
                        .column_by_name(name)
                        .and_then(|c| datafusion::arrow::compute::cast(c, to).ok())
                        .ok_or_else(|| Error::Parquet {
                            path: path.clone(),
                            message: format!("colonne {name} absente"),
                        })
                };
                let texts = ["depot", "territoire", "fichier", "statut"]
                    .map(|n| column(n, &DataType::Utf8));
                let numbers = ["version_evenements", "version_personnes", "version_rejets"]
                    .map(|n| column(n, &DataType::Int64));
                let [depot, territoire, fichier, statut] = texts;
                let (depot, territoire, fichier, statut) = (depot?, territoire?, fichier?, statut?);
                let [e, p, r] = numbers;
                let (e, p, r) = (e?, p?, r?);
                let text = |a: &Arc<dyn Array>, i: usize| a.as_string::<i32>().value(i).to_string();
                let number = |a: &Arc<dyn Array>, i: usize| {
                    let a = a.as_primitive::<Int64Type>();
                    (!a.is_null(i)).then(|| a.value(i).max(0) as u64)
                };
                for i in 0..batch.num_rows() {
                    out.push(DepotRow {
                        depot: text(&depot, i),
                        territoire: text(&territoire, i),
                        fichier: text(&fichier, i),
                        statut: text(&statut, i),
                        versions: [number(&e, i), number(&p, i), number(&r, i)],
                    });
                }
            }
        }
        Ok(out)
    }
}
